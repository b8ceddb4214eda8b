#include "frontends/socket/request_dispatcher.hpp"

#include <exception>

#include "core/logging.hpp"
#include "frontends/socket/request_redaction.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

// Operations the dispatcher answers itself: they need the daemon, not a
// directory, and never block.
constexpr std::string_view kPing = "ping";
constexpr std::string_view kReload = "reload";

// The audit line names the account or group an operation acted on, or the
// file a backup went to.
std::string audit_target(const Json& params) {
  for (const char* key : {"username", "name", "group", "path"}) {
    auto it = params.find(key);
    if (it != params.end() && it->is_string()) {
      std::string target = std::string(key) + "=" + Json(*it).dump();
      if (std::string_view(key) == "group") {
        if (auto user = params.find("username"); user != params.end() && user->is_string()) {
          target += " username=" + Json(*user).dump();
        }
      }
      return target;
    }
  }
  return {};
}

}  // namespace

RequestDispatcher::RequestDispatcher(WorkerPool& pool, std::function<RuntimePtr()> runtime,
                                     ReloadFunction reload)
    : pool_(pool),
      runtime_(std::move(runtime)),
      reload_(std::move(reload)),
      started_(std::chrono::steady_clock::now()) {
  for (const auto* operations : {&directory_operations(), &state_operations(), &signup_operations(),
                                  &invitation_operations(), &access_request_operations(),
                                  &password_reset_operations(), &mail_operations()}) {
    for (const auto& operation : *operations) operations_.emplace(operation.name, operation);
  }
  operations_.emplace(kPing, Operation{kPing, false, {}, nullptr});
  operations_.emplace(kReload, Operation{kReload, true, {}, nullptr, /*writes=*/true});
  // client_ip and actor are accepted by every operation (the contract names
  // client_ip for public and actor for admin ones; an application that always
  // sends both must not be refused for it). Both only go to the logs. Added
  // here once, not per request.
  for (auto& [name, operation] : operations_) {
    operation.params.push_back({"client_ip", protocol::ParamType::string, false});
    operation.params.push_back({"actor", protocol::ParamType::string, false});
  }
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
    log->debug("conn={} id={} {}", peer.connection, req.id.dump(), redacted_request(logged));
  }

  auto found = operations_.find(req.op);
  if (found == operations_.end()) {
    prepared.answer =
        protocol::error_line(req.id, make_error(ErrorCode::unknown_op, "no operation '" + req.op + "'", "op"));
    return prepared;
  }
  const Operation& operation = found->second;
  if (operation.admin && !peer.admin) {
    Error refused = make_error(ErrorCode::forbidden, "'" + req.op + "' is for admins only");
    audit(req, peer, refused);
    prepared.answer = protocol::error_line(req.id, refused);
    return prepared;
  }
  if (auto checked = protocol::check_params(req.params, operation.params); !checked) {
    prepared.answer = protocol::error_line(req.id, checked.error());
    return prepared;
  }
  prepared.operation = &operation;
  prepared.writes = operation.writes;
  return prepared;
}

awaitable<std::string> RequestDispatcher::execute(const PreparedRequest& prepared, const Peer& peer) {
  if (prepared.answer) co_return *prepared.answer;
  const Operation& operation = *prepared.operation;
  const auto& request = prepared.request;

  RuntimePtr runtime = runtime_();
  Result<Json> result = co_await run(operation, request, runtime);
  co_return finish(operation, request, peer, result);
}

std::optional<std::string> RequestDispatcher::answer_now(const PreparedRequest& prepared, const Peer& peer) {
  if (prepared.answer) return *prepared.answer;
  const Operation& operation = *prepared.operation;
  if (operation.answer_from_memory == nullptr) return std::nullopt;
  RuntimePtr runtime = runtime_();
  std::optional<Result<Json>> result;
  try {
    result = operation.answer_from_memory(OperationContext{prepared.request.params, *runtime});
  } catch (const std::exception&) {
    return std::nullopt;  // execute() runs it again and reports the failure
  }
  if (!result) return std::nullopt;
  return finish(operation, prepared.request, peer, *result);
}

std::string RequestDispatcher::finish(const Operation& operation, const protocol::Request& request,
                                      const Peer& peer, const Result<Json>& result) const {
  static const auto log = logging::logger("request");
  // log.audit covers admin operations, signups (a new account is an account
  // change like add_user) and failed authentications.
  const bool signup = operation.name == "signup" || operation.name == "confirm_signup";
  if (operation.admin || signup || (operation.name == "authenticate" && !result)) audit(request, peer, result);
  if (!result) {
    if (result.error().code == ErrorCode::internal_error) {
      log->error("conn={} id={} op={} failed: {}", peer.connection, request.id.dump(), request.op,
                 result.error().message);
      return protocol::error_line(request.id,
                                  make_error(ErrorCode::internal_error, "internal error; see the daemon's log"));
    }
    return protocol::error_line(request.id, result.error());
  }
  return protocol::success_line(request.id, *result);
}

awaitable<std::string> RequestDispatcher::handle(std::string_view line, const Peer& peer) {
  PreparedRequest prepared = prepare(line, peer);
  co_return co_await execute(prepared, peer);
}

awaitable<Result<Json>> RequestDispatcher::run(const Operation& operation, const protocol::Request& request,
                                               const RuntimePtr& runtime) {
  if (operation.name == kPing) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
    co_return Json{{"version", DIRPROXY_VERSION}, {"uptime_s", uptime.count()}};
  }
  if (operation.name == kReload) {
    auto reloaded = co_await reload_();
    CO_RETURN_IF_ERROR(reloaded);
    co_return Json::object();
  }
  try {
    // An operation that runs on the event loop asks the caches itself on
    // the way (get_user's walk starts with them), so answer_from_memory
    // first would only repeat those lookups when they cannot answer.
    if (operation.run_on_event_loop != nullptr) {
      const OperationContext context{request.params, *runtime};
      auto running = operation.run_on_event_loop(context, pool_);
      co_return co_await std::move(running);
    }
    if (operation.answer_from_memory != nullptr) {
      if (auto answer = operation.answer_from_memory(OperationContext{request.params, *runtime})) {
        co_return std::move(*answer);
      }
    }
    auto work = [&]() -> Result<Json> { return operation.run(OperationContext{request.params, *runtime}); };
    co_return co_await pool_.run(work);
  } catch (const std::exception& e) {
    // A bug or an unexpected library failure: one request fails, the daemon
    // and the connection go on.
    co_return make_error(ErrorCode::internal_error, std::string("unexpected exception: ") + e.what());
  }
}

void RequestDispatcher::audit(const protocol::Request& request, const Peer& peer,
                              const Result<Json>& result) const {
  std::string line = "op=" + request.op;
  if (auto actor = request.params.find("actor"); actor != request.params.end() && actor->is_string()) {
    line += " actor=" + actor->dump();
  }
  if (peer.credentials) {
    line += " peer_uid=" + std::to_string(peer.credentials->uid) + " peer_pid=" + std::to_string(peer.credentials->pid);
  }
  if (auto target = audit_target(request.params); !target.empty()) line += " " + target;
  if (auto ip = request.params.find("client_ip"); ip != request.params.end() && ip->is_string()) {
    line += " client_ip=" + ip->dump();
  }
  line += result ? std::string(" result=ok") : " result=" + std::string(to_string(result.error().code));
  logging::audit(line);
}

}  // namespace dirproxy
