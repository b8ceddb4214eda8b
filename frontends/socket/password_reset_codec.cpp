// The socket form of password reset and set-password links
// (service/password_reset_requests.hpp): their parameters, decoded into the
// typed requests, and check_password_reset's result (the others answer {}).
#include "frontends/socket/objects.hpp"
#include "frontends/socket/params.hpp"
#include "frontends/socket/socket_operation.hpp"
#include "service/password_reset_requests.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

}  // namespace

void decode(const Json& params, RequestPasswordResetRequest& request) {
  request.username = protocol::optional_string(params, "username");
  request.email = protocol::optional_string(params, "email");
}

void decode(const Json& params, ResetPasswordRequest& request) {
  request.token = protocol::required_string(params, "token");
  request.password = protocol::required_string(params, "password");
}

void decode(const Json& params, CheckPasswordResetRequest& request) {
  request.token = protocol::required_string(params, "token");
}
Json render(const CheckPasswordResetRequest&, const ResetLinkCheck& check) {
  return {{"purpose", to_string(check.purpose)}};
}

void decode(const Json& params, SendPasswordResetRequest& request) {
  request.username = protocol::required_string(params, "username");
}

const std::vector<SocketOperation>& password_reset_socket_operations() {
  using enum protocol::ParamType;
  using enum protocol::Presence;
  static const std::vector<SocketOperation> operations = {
      socket_operation<RequestPasswordResetRequest>({{"username", string}, {"email", string}}),
      socket_operation<ResetPasswordRequest>({{"token", string, required}, {"password", string, required}}),
      socket_operation<SendPasswordResetRequest>({{"username", string, required}}),
      socket_operation<CheckPasswordResetRequest>({{"token", string, required}}),
  };
  return operations;
}

}  // namespace dirproxy
