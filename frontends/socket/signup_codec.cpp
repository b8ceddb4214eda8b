// The socket form of signup and confirm_signup (service/signup_requests.hpp): their parameters, decoded into the typed
// requests, and their results, rendered as the response's members
// (docs/protocol.md).
#include "frontends/socket/objects.hpp"
#include "frontends/socket/params.hpp"
#include "frontends/socket/socket_operation.hpp"
#include "service/signup_requests.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

}  // namespace

void decode(const Json& params, SignupRequest& request) {
  request.username = protocol::required_string(params, "username");
  request.email = protocol::required_string(params, "email");
  request.display_name = protocol::required_string(params, "display_name");
  request.password = protocol::required_string(params, "password");
  request.token = protocol::optional_string(params, "token");
}
Json render(const SignupRequest&, const SignupOutcome& outcome) {
  if (outcome.status == SignupStatus::pending_confirmation) return {{"status", "pending_confirmation"}};
  return {{"status", "created"}, {"user", protocol::user_object(*outcome.user)}};
}

void decode(const Json& params, ConfirmSignupRequest& request) {
  request.token = protocol::required_string(params, "token");
}
Json render(const ConfirmSignupRequest&, const User& user) { return {{"user", protocol::user_object(user)}}; }

const std::vector<SocketOperation>& signup_socket_operations() {
  using enum protocol::ParamType;
  using enum protocol::Presence;
  static const std::vector<SocketOperation> operations = {
      socket_operation<SignupRequest>({{"username", string, required},
                                       {"email", string, required},
                                       {"display_name", string, required},
                                       {"password", string, required},
                                       {"token", string}}),
      socket_operation<ConfirmSignupRequest>({{"token", string, required}}),
  };
  return operations;
}

}  // namespace dirproxy
