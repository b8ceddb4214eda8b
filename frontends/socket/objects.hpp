// The protocol's objects (docs/protocol.md, "Objects") as the socket front
// end renders them from the service's typed results.
#pragma once

#include "directories/directory.hpp"
#include "frontends/socket/protocol.hpp"
#include "service/account_operation_support.hpp"

namespace dirproxy::protocol {

// User: username, email, display_name, first_name, last_name, active,
// directory (absent fields are null). authenticate adds "groups".
Json user_object(const User& user);

// Group: name, description, directory, members (sorted usernames).
Json group_object(const Group& group);

// Invitation: id, email, groups, created_at, expires_at, status, used_at,
// used_by, revoked_at, access_request_id (times in RFC 3339). Never a token.
Json invitation_object(const InvitationView& view);

// RFC 3339 for a time that is set, null otherwise.
Json nullable_time(const std::optional<std::int64_t>& seconds);

}  // namespace dirproxy::protocol
