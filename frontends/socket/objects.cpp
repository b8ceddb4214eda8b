#include "frontends/socket/objects.hpp"

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

}  // namespace dirproxy::protocol
