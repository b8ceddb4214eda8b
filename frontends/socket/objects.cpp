#include "frontends/socket/objects.hpp"

#include "core/timestamp.hpp"
#include "frontends/socket/params.hpp"

namespace dirproxy::protocol {

Json user_object(const User& user) {
  return {{"username", user.username},
          {"email", nullable(user.email)},
          {"display_name", nullable(user.display_name)},
          {"first_name", nullable(user.first_name)},
          {"last_name", nullable(user.last_name)},
          {"active", user.active},
          {"directory", user.directory}};
}

Json group_object(const Group& group) {
  return {{"name", group.name},
          {"description", nullable(group.description)},
          {"directory", group.directory},
          {"members", group.members}};
}

Json nullable_time(const std::optional<std::int64_t>& seconds) {
  return seconds ? Json(rfc3339(*seconds)) : Json(nullptr);
}

Json invitation_object(const InvitationView& view) {
  const Invitation& invitation = view.invitation;
  return {{"id", invitation.id},
          {"email", nullable(invitation.email)},
          {"groups", invitation.groups},
          {"created_at", rfc3339(invitation.created_at)},
          {"expires_at", rfc3339(invitation.expires_at)},
          {"status", view.status},
          {"used_at", nullable_time(invitation.used_at)},
          {"used_by", nullable(invitation.used_by)},
          {"revoked_at", nullable_time(invitation.revoked_at)},
          {"access_request_id", invitation.access_request_id ? Json(*invitation.access_request_id) : Json(nullptr)}};
}

}  // namespace dirproxy::protocol
