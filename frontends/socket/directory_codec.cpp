// The socket form of the operations on users, groups and the daemon
// (service/directory_requests.hpp): their parameters, decoded into the typed
// requests, and their results, rendered as the response's members
// (docs/protocol.md).
#include "frontends/socket/objects.hpp"
#include "frontends/socket/params.hpp"
#include "frontends/socket/socket_operation.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

}  // namespace

Json render(const PingRequest&, const ServerStatus& status) {
  return {{"version", status.version}, {"uptime_s", status.uptime_s}};
}

void decode(const Json& params, GetUserRequest& request) {
  request.username = protocol::optional_string(params, "username");
  request.email = protocol::optional_string(params, "email");
}
Json render(const GetUserRequest&, const User& user) { return {{"user", protocol::user_object(user)}}; }

void decode(const Json& params, GetGroupRequest& request) {
  request.name = protocol::required_string(params, "name");
}
Json render(const GetGroupRequest&, const Group& group) { return {{"group", protocol::group_object(group)}}; }

const std::vector<SocketOperation>& directory_socket_operations() {
  using enum protocol::ParamType;
  static const std::vector<SocketOperation> operations = {
      socket_operation<PingRequest>({}),
      socket_operation<ReloadRequest>({}),
      socket_operation<GetUserRequest>({{"username", string}, {"email", string}}),
      socket_operation<GetGroupRequest>({{"name", string, true}}),
  };
  return operations;
}

}  // namespace dirproxy
