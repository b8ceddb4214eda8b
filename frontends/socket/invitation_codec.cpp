// The socket form of the shared invitation link and single-use invitations (service/invitation_requests.hpp): their
// parameters, decoded into the typed requests, and their results, rendered as the response's members
// (docs/protocol.md).
#include <string>
#include <string_view>
#include <vector>

#include "frontends/socket/objects.hpp"
#include "frontends/socket/params.hpp"
#include "frontends/socket/socket_operation.hpp"
#include "service/invitation_requests.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

// send_invitations' `emails`: a list, or one string of comma-separated
// addresses, split at each comma (the service trims and drops empty items).
std::vector<std::string> email_items(const Json& emails) {
  if (!emails.is_string()) return emails.get<std::vector<std::string>>();
  const std::string text = emails.get<std::string>();
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

Json link_members(const InvitationLink& link) { return {{"link", link.link}, {"token", link.token}}; }

}  // namespace

Json render(const GetInvitationLinkRequest&, const InvitationLink& link) { return link_members(link); }

Json render(const ResetInvitationLinkRequest&, const InvitationLink& link) { return link_members(link); }

void decode(const Json& params, SendInvitationsRequest& request) {
  request.emails = email_items(params.at("emails"));
  request.message = protocol::optional_string(params, "message");
}
Json render(const SendInvitationsRequest&, const SentInvitations& result) {
  Json rejected = Json::array();
  for (const auto& address : result.rejected) {
    rejected.push_back({{"email", address.email}, {"code", to_string(address.code)}, {"reason", address.reason}});
  }
  return {{"sent", result.sent}, {"rejected", std::move(rejected)}};
}

void decode(const Json& params, CreateInvitationRequest& request) {
  request.email = protocol::optional_string(params, "email");
  request.groups = protocol::optional_string_list(params, "groups");
  request.ttl_s = protocol::optional_integer(params, "ttl_s");
}
Json render(const CreateInvitationRequest&, const CreatedInvitation& created) {
  return {{"invitation", protocol::invitation_object(created.invitation)},
          {"link", created.link},
          {"token", created.token}};
}

void decode(const Json& params, ListInvitationsRequest& request) {
  request.include_used = protocol::optional_boolean(params, "include_used").value_or(false);
}
Json render(const ListInvitationsRequest&, const std::vector<InvitationView>& invitations) {
  Json list = Json::array();
  for (const auto& invitation : invitations) list.push_back(protocol::invitation_object(invitation));
  return {{"invitations", std::move(list)}};
}

void decode(const Json& params, RevokeInvitationRequest& request) {
  request.invitation_id = protocol::required_integer(params, "invitation_id");
}

void decode(const Json& params, ResendInvitationRequest& request) {
  request.invitation_id = protocol::required_integer(params, "invitation_id");
}
Json render(const ResendInvitationRequest&, const InvitationView& invitation) {
  return {{"invitation", protocol::invitation_object(invitation)}};
}

void decode(const Json& params, CheckInvitationRequest& request) {
  request.token = protocol::required_string(params, "token");
}
Json render(const CheckInvitationRequest&, const InvitationCheck& check) {
  return {{"kind", to_string(check.kind)}, {"email", protocol::nullable(check.email)}};
}

const std::vector<SocketOperation>& invitation_socket_operations() {
  using enum protocol::ParamType;
  using enum protocol::Presence;
  static const std::vector<SocketOperation> operations = {
      socket_operation<GetInvitationLinkRequest>({}),
      socket_operation<ResetInvitationLinkRequest>({}),
      socket_operation<SendInvitationsRequest>({{"emails", string_or_list, required}, {"message", string}}),
      socket_operation<CreateInvitationRequest>({{"email", string}, {"groups", string_list}, {"ttl_s", integer}}),
      socket_operation<ListInvitationsRequest>({{"include_used", boolean}}),
      socket_operation<RevokeInvitationRequest>({{"invitation_id", integer, required}}),
      socket_operation<ResendInvitationRequest>({{"invitation_id", integer, required}}),
      socket_operation<CheckInvitationRequest>({{"token", string, required}}),
  };
  return operations;
}

}  // namespace dirproxy
