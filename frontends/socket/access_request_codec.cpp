// The socket form of access requests and the admin's decisions
// (service/access_request_requests.hpp): their parameters, decoded into the
// typed requests, and their results, rendered as the response's members
// (docs/protocol.md).
#include "core/timestamp.hpp"
#include "frontends/socket/objects.hpp"
#include "frontends/socket/params.hpp"
#include "frontends/socket/socket_operation.hpp"
#include "service/access_request_requests.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

// The protocol's access request: id, email, display_name, message,
// created_at, status, decided_at (times in RFC 3339).
Json access_request_object(const AccessRequest& request) {
  return {{"id", request.id},
          {"email", request.email},
          {"display_name", request.display_name},
          {"message", protocol::nullable(request.message)},
          {"created_at", rfc3339(request.created_at)},
          {"status", request.status},
          {"decided_at", protocol::nullable_time(request.decided_at)}};
}

}  // namespace

void decode(const Json& params, RequestAccessRequest& request) {
  request.email = protocol::required_string(params, "email");
  request.display_name = protocol::required_string(params, "display_name");
  request.message = protocol::optional_string(params, "message");
}

Json render(const ListAccessRequestsRequest&, const std::vector<AccessRequest>& requests) {
  Json list = Json::array();
  for (const auto& request : requests) list.push_back(access_request_object(request));
  return {{"requests", std::move(list)}};
}

void decode(const Json& params, ApproveAccessRequestRequest& request) {
  request.request_id = protocol::required_integer(params, "request_id");
  request.groups = protocol::optional_string_list(params, "groups");
}
Json render(const ApproveAccessRequestRequest&, const InvitationView& invitation) {
  return {{"invitation", protocol::invitation_object(invitation)}};
}

void decode(const Json& params, DenyAccessRequestRequest& request) {
  request.request_id = protocol::required_integer(params, "request_id");
}

const std::vector<SocketOperation>& access_request_socket_operations() {
  using enum protocol::ParamType;
  using enum protocol::Presence;
  static const std::vector<SocketOperation> operations = {
      socket_operation<RequestAccessRequest>(
          {{"email", string, required}, {"display_name", string, required}, {"message", string}}),
      socket_operation<ListAccessRequestsRequest>({}),
      socket_operation<ApproveAccessRequestRequest>({{"request_id", integer, required}, {"groups", string_list}}),
      socket_operation<DenyAccessRequestRequest>({{"request_id", integer, required}}),
  };
  return operations;
}

}  // namespace dirproxy
