// How the socket front end carries one operation of the service: the
// parameters its JSON form takes, how they become the typed request
// (`decode`), and how the typed result becomes the response's members
// (`render`). A group of operations defines those in its codec file
// (directory_codec.cpp, ...) and lists its operations with
// socket_operation<Request>({params...}).
//
// The request is decoded where it is used, on the stack of answer_now or in
// the frame of execute's coroutine, so a request costs no allocation of its
// own: a cached get_user is answered in a few microseconds, and a heap
// allocation per request showed in its rate.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/asio.hpp"
#include "frontends/socket/protocol.hpp"
#include "service/service.hpp"

namespace dirproxy {

struct SocketOperation {
  const OperationPolicy* policy = nullptr;  // the service's declaration
  std::vector<protocol::ParamSpec> params;  // besides client_ip and actor
  // Each of these takes parameters that passed check_params against `params`.
  // What the audit line names (Service's audit_target_of).
  std::string (*audit_target)(const protocol::Json& params) = nullptr;
  // Service::answer_now, rendered; nullopt: execute it. Null for operations
  // that the service never answers from memory.
  std::optional<Result<protocol::Json>> (*answer_now)(const protocol::Json& params, Service& service,
                                                      const Caller& caller) = nullptr;
  // Service::call, rendered. `params` and `caller` live until it completes.
  awaitable<Result<protocol::Json>> (*execute)(const protocol::Json& params, Service& service,
                                               const Caller& caller) = nullptr;
};

namespace socket_detail {

template <typename Request>
Request decoded(const protocol::Json& params) {
  Request request;
  if constexpr (!std::is_empty_v<Request>) decode(params, request);
  return request;
}

template <typename Request>
Result<protocol::Json> rendered(const Request& request, const Result<typename Request::Response>& result) {
  if (!result) return result.error();
  if constexpr (std::is_void_v<typename Request::Response>) {
    return protocol::Json::object();
  } else {
    return render(request, *result);
  }
}

template <typename Request>
std::string audit_target(const protocol::Json& params) {
  return audit_target_of(decoded<Request>(params));
}

template <typename Request>
std::optional<Result<protocol::Json>> answer_now(const protocol::Json& params, Service& service, const Caller& caller) {
  const Request request = decoded<Request>(params);
  auto answer = service.answer_now(caller, request);
  if (!answer) return std::nullopt;
  return rendered(request, *answer);
}

template <typename Request>
awaitable<Result<protocol::Json>> execute(const protocol::Json& params, Service& service, const Caller& caller) {
  const Request request = decoded<Request>(params);
  Result<typename Request::Response> result = co_await service.call(caller, request);
  co_return rendered(request, result);
}

}  // namespace socket_detail

// The socket form of the operation `Request`; `decode(params, Request&)`
// (unless the request has no fields) and `render(const Request&, const
// Response&)` (unless the result is void) must be declared before this is
// used.
template <typename Request>
SocketOperation socket_operation(std::vector<protocol::ParamSpec> params) {
  SocketOperation operation{&Request::policy, std::move(params), &socket_detail::audit_target<Request>};
  if constexpr (Service::answers_from_memory<Request>) {
    operation.answer_now = &socket_detail::answer_now<Request>;
  }
  operation.execute = &socket_detail::execute<Request>;
  return operation;
}

// The operation groups' socket forms (one codec file each).
const std::vector<SocketOperation>& directory_socket_operations();
const std::vector<SocketOperation>& signup_socket_operations();
const std::vector<SocketOperation>& invitation_socket_operations();
const std::vector<SocketOperation>& access_request_socket_operations();
const std::vector<SocketOperation>& password_reset_socket_operations();
const std::vector<SocketOperation>& application_socket_operations();

}  // namespace dirproxy
