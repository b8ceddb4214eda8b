// The protocol's objects (docs/protocol.md, "Objects") as the socket front
// end renders them from the service's typed results.
#pragma once

#include "directories/directory.hpp"
#include "frontends/socket/protocol.hpp"

namespace dirproxy::protocol {

// User: username, email, display_name, first_name, last_name, active,
// directory (absent fields are null). authenticate adds "groups".
Json user_object(const User& user);

// Group: name, description, directory, members (sorted usernames).
Json group_object(const Group& group);

}  // namespace dirproxy::protocol
