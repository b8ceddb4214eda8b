// How the socket front end carries one operation of the service: the
// parameters its JSON form takes, how they become the typed request
// (`decode`), and how the typed result becomes the response's members
// (`render`). A group of operations defines those in its codec file
// (directory_codec.cpp, ...) and lists its operations with
// socket_operation<Request>({params...}).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "core/asio.hpp"
#include "frontends/socket/protocol.hpp"
#include "service/service.hpp"

namespace dirproxy {

// A request that passed check_params, decoded and ready to run.
class PreparedCall {
 public:
  virtual ~PreparedCall() = default;
  // What the audit line names (Service's audit_target_of).
  virtual std::string audit_target() const = 0;
  // Service::answer_now, rendered; nullopt: execute() it.
  virtual std::optional<Result<protocol::Json>> answer_now(Service& service, const Caller& caller) = 0;
  // Service::call, rendered. This object and `caller` live until it completes.
  virtual awaitable<Result<protocol::Json>> execute(Service& service, const Caller& caller) = 0;
};

using PreparedCallPtr = std::unique_ptr<PreparedCall>;

struct SocketOperation {
  const OperationPolicy* policy = nullptr;  // the service's declaration
  std::vector<protocol::ParamSpec> params;   // besides client_ip and actor
  // Decodes parameters that passed check_params against `params`.
  PreparedCallPtr (*prepare)(const protocol::Json& params) = nullptr;
};

template <typename Request>
class TypedCall final : public PreparedCall {
 public:
  using Response = typename Request::Response;

  explicit TypedCall(Request request) : request_(std::move(request)) {}

  std::string audit_target() const override { return audit_target_of(request_); }

  std::optional<Result<protocol::Json>> answer_now(Service& service, const Caller& caller) override {
    auto answer = service.answer_now(caller, request_);
    if (!answer) return std::nullopt;
    return rendered(*answer);
  }

  awaitable<Result<protocol::Json>> execute(Service& service, const Caller& caller) override {
    Result<Response> result = co_await service.call(caller, request_);
    co_return rendered(result);
  }

 private:
  Result<protocol::Json> rendered(const Result<Response>& result) const {
    RETURN_IF_ERROR(result);
    if constexpr (std::is_void_v<Response>) {
      return protocol::Json::object();
    } else {
      return render(request_, *result);
    }
  }

  Request request_;
};

// The socket form of the operation `Request`; `decode(params, Request&)`
// (unless the request has no fields) and `render(const Request&, const
// Response&)` (unless the result is void) must be declared before this is
// used.
template <typename Request>
SocketOperation socket_operation(std::vector<protocol::ParamSpec> params) {
  return SocketOperation{&Request::policy, std::move(params), [](const protocol::Json& json) -> PreparedCallPtr {
                           Request request;
                           if constexpr (!std::is_empty_v<Request>) decode(json, request);
                           return std::make_unique<TypedCall<Request>>(std::move(request));
                         }};
}

// The operation groups' socket forms (one codec file each).
const std::vector<SocketOperation>& directory_socket_operations();
const std::vector<SocketOperation>& signup_socket_operations();
const std::vector<SocketOperation>& invitation_socket_operations();
const std::vector<SocketOperation>& access_request_socket_operations();
const std::vector<SocketOperation>& password_reset_socket_operations();

}  // namespace dirproxy
