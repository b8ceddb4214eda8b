#include "frontends/socket/request_dispatcher.hpp"

#include <exception>

#include "core/logging.hpp"
#include "frontends/socket/request_redaction.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

// client_ip and actor are accepted by every operation (the contract names
// client_ip for public and actor for admin ones; an application that always
// sends both must not be refused for it). They become the Caller's.
void accept_caller_params(std::vector<protocol::ParamSpec>& params) {
  params.push_back({"client_ip", protocol::ParamType::string});
  params.push_back({"actor", protocol::ParamType::string});
}

// Fills in the caller of a request on `peer`'s connection. The application
// is looked up per request, in the configuration in force, so that a reload
// applies to open connections.
void set_caller(Caller& caller, const Service& service, const Peer& peer, const Json& params) {
  caller.front_end = FrontEnd::socket;
  caller.connection = peer.connection;
  if (peer.credentials) {
    caller.peer = PeerProcess{peer.credentials->uid, peer.credentials->pid};
    caller.application = service.socket_application(peer.credentials->uid);
  }
  caller.admin = peer.admin;
  if (auto ip = params.find("client_ip"); ip != params.end() && ip->is_string()) {
    caller.client_address = ip->get<std::string>();
  }
  if (auto actor = params.find("actor"); actor != params.end() && actor->is_string()) {
    caller.actor = actor->get<std::string>();
  }
}

}  // namespace

RequestDispatcher::RequestDispatcher(Service& service) : service_(service) {
  for (const auto* operations :
       {&directory_socket_operations(), &signup_socket_operations(), &invitation_socket_operations(),
        &access_request_socket_operations(), &password_reset_socket_operations(),
        &application_socket_operations()}) {
    for (const auto& operation : *operations) operations_.emplace(operation.policy->name, operation);
  }
  for (auto& [name, operation] : operations_) accept_caller_params(operation.params);
}

PreparedRequest RequestDispatcher::prepare(std::string_view line, const Peer& peer) const {
  static const auto log = logging::logger("request");
  PreparedRequest prepared;
  Json id;
  auto request = protocol::parse_request(line, &id);
  if (!request) {
    // The line may hold a password: log only that it was refused.
    log->debug("conn={} refused a {}-byte line: {}", peer.connection, line.size(), request.error().message);
    prepared.answer = protocol::error_line(id, request.error());
    return prepared;
  }
  prepared.request = std::move(*request);
  const auto& req = prepared.request;
  if (log->should_log(spdlog::level::debug)) {
    Json logged = req.params;
    logged["op"] = req.op;
    log->debug("conn={} id={} {}", peer.connection, logging::shortened(req.id.dump()), redacted_request(logged));
  }
  set_caller(prepared.caller, service_, peer, req.params);

  auto found = operations_.find(req.op);
  if (found == operations_.end()) {
    prepared.answer =
        protocol::error_line(req.id, make_error(ErrorCode::unknown_op, "no operation '" + req.op + "'", "op"));
    return prepared;
  }
  const SocketOperation& operation = found->second;
  if (auto checked = protocol::check_params(req.params, operation.params); !checked) {
    // An admin operation is refused to others whatever its parameters.
    auto allowed = service_.authorize(prepared.caller, *operation.policy);
    if (allowed) service_.count_rejected(prepared.caller, *operation.policy, checked.error());
    prepared.answer = protocol::error_line(req.id, allowed ? checked.error() : allowed.error());
    return prepared;
  }
  // Refused here, not in the service, so that the refusal is answered at
  // once and never waits for the requests before it.
  if (!Service::may_call(prepared.caller, *operation.policy)) {
    auto refused = service_.authorize(prepared.caller, *operation.policy, operation.audit_target(req.params));
    prepared.answer = protocol::error_line(req.id, refused.error());
    return prepared;
  }
  prepared.operation = &operation;
  prepared.writes = operation.policy->writes;
  return prepared;
}

awaitable<std::string> RequestDispatcher::execute(const PreparedRequest& prepared) {
  if (prepared.answer) co_return *prepared.answer;
  Result<Json> result = co_await prepared.operation->execute(prepared.request.params, service_, prepared.caller);
  co_return finish(prepared, result);
}

std::optional<std::string> RequestDispatcher::answer_now(const PreparedRequest& prepared) {
  if (prepared.answer) return *prepared.answer;
  if (prepared.operation->answer_now == nullptr) return std::nullopt;
  auto result = prepared.operation->answer_now(prepared.request.params, service_, prepared.caller);
  if (!result) return std::nullopt;
  return finish(prepared, *result);
}

std::string RequestDispatcher::finish(const PreparedRequest& prepared, const Result<Json>& result) const {
  const auto& request = prepared.request;
  if (!result) return protocol::error_line(request.id, result.error());
  return protocol::success_line(request.id, *result);
}

awaitable<std::string> RequestDispatcher::handle(std::string_view line, const Peer& peer) {
  PreparedRequest prepared = prepare(line, peer);
  co_return co_await execute(prepared);
}

}  // namespace dirproxy
