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

const char* signup_mode_name(config::SignupMode mode) {
  switch (mode) {
    case config::SignupMode::open: return "open";
    case config::SignupMode::restricted: return "restricted";
    case config::SignupMode::disabled: return "disabled";
  }
  return "disabled";
}

const char* user_management_name(config::UserManagement management) {
  return management == config::UserManagement::internal ? "internal" : "external";
}

const char* directory_type_name(DirectoryType type) { return type == DirectoryType::internal ? "internal" : "ldap"; }

const char* permissions_name(Permissions permissions) {
  switch (permissions) {
    case Permissions::read_only: return "read_only";
    case Permissions::read_only_local_groups: return "read_only_local_groups";
    case Permissions::read_write: return "read_write";
  }
  return "read_only";
}

Json user_list(const std::vector<User>& users) {
  Json list = Json::array();
  for (const auto& user : users) list.push_back(protocol::user_object(user));
  return list;
}

}  // namespace

Json render(const PingRequest&, const ServerStatus& status) {
  return {{"version", status.version}, {"uptime_s", status.uptime_s}};
}

// Lookups -------------------------------------------------------------------

void decode(const Json& params, AuthenticateRequest& request) {
  request.username = protocol::required_string(params, "username");
  request.password = protocol::required_string(params, "password");
}
Json render(const AuthenticateRequest&, const AuthenticatedUser& authenticated) {
  Json user = protocol::user_object(authenticated.user);
  user["groups"] = authenticated.groups;
  return {{"user", std::move(user)}};
}

void decode(const Json& params, GetUserRequest& request) {
  request.username = protocol::optional_string(params, "username");
  request.email = protocol::optional_string(params, "email");
}
Json render(const GetUserRequest&, const User& user) { return {{"user", protocol::user_object(user)}}; }

void decode(const Json& params, FindUsersRequest& request) {
  request.query = protocol::optional_string(params, "query").value_or("");
  request.limit = protocol::optional_integer(params, "limit").value_or(FindUsersRequest::default_limit);
}
Json render(const FindUsersRequest&, const std::vector<User>& users) { return {{"users", user_list(users)}}; }

void decode(const Json& params, GetGroupRequest& request) { request.name = protocol::required_string(params, "name"); }
Json render(const GetGroupRequest&, const Group& group) { return {{"group", protocol::group_object(group)}}; }

void decode(const Json& params, ListGroupsRequest& request) {
  request.after = protocol::optional_string(params, "after").value_or("");
  request.limit = protocol::optional_integer(params, "limit").value_or(ListGroupsRequest::default_limit);
}
Json render(const ListGroupsRequest&, const std::vector<Group>& groups) {
  Json list = Json::array();
  for (const auto& group : groups) list.push_back(protocol::group_object(group));
  return {{"groups", std::move(list)}};
}

void decode(const Json& params, GetUserGroupsRequest& request) {
  request.username = protocol::required_string(params, "username");
}
Json render(const GetUserGroupsRequest&, const std::vector<std::string>& groups) { return {{"groups", groups}}; }

Json render(const SignupOptionsRequest&, const SignupOptions& options) {
  return {{"mode", signup_mode_name(options.mode)},
          {"domains", options.domains},
          {"user_management", user_management_name(options.user_management)},
          {"access_requests", options.access_requests}};
}

void decode(const Json& params, ChangePasswordRequest& request) {
  request.username = protocol::required_string(params, "username");
  request.old_password = protocol::required_string(params, "old_password");
  request.new_password = protocol::required_string(params, "new_password");
}

// Admin operations on users and groups --------------------------------------

void decode(const Json& params, AddUserRequest& request) {
  request.username = protocol::required_string(params, "username");
  request.email = protocol::required_string(params, "email");
  request.display_name = protocol::required_string(params, "display_name");
  request.first_name = protocol::optional_string(params, "first_name");
  request.last_name = protocol::optional_string(params, "last_name");
  request.password = protocol::optional_string(params, "password");
  request.groups = protocol::optional_string_list(params, "groups");
  request.notify = protocol::optional_boolean(params, "notify").value_or(true);
}
Json render(const AddUserRequest&, const AddedUser& added) {
  Json result{{"user", protocol::user_object(added.user)}};
  if (added.set_password_link) result["set_password_link"] = *added.set_password_link;
  return result;
}

void decode(const Json& params, UpdateUserRequest& request) {
  request.username = protocol::required_string(params, "username");
  request.changes.email = protocol::optional_string(params, "email");
  request.changes.display_name = protocol::optional_string(params, "display_name");
  request.changes.first_name = protocol::optional_string(params, "first_name");
  request.changes.last_name = protocol::optional_string(params, "last_name");
  request.changes.active = protocol::optional_boolean(params, "active");
}
Json render(const UpdateUserRequest&, const User& user) { return {{"user", protocol::user_object(user)}}; }

void decode(const Json& params, DeleteUserRequest& request) {
  request.username = protocol::required_string(params, "username");
}

void decode(const Json& params, SetPasswordRequest& request) {
  request.username = protocol::required_string(params, "username");
  request.password = protocol::required_string(params, "password");
}

void decode(const Json& params, AddGroupRequest& request) {
  request.name = protocol::required_string(params, "name");
  request.description = protocol::optional_string(params, "description");
}
Json render(const AddGroupRequest&, const Group& group) { return {{"group", protocol::group_object(group)}}; }

void decode(const Json& params, DeleteGroupRequest& request) {
  request.name = protocol::required_string(params, "name");
}

void decode(const Json& params, AddMemberRequest& request) {
  request.group = protocol::required_string(params, "group");
  request.username = protocol::required_string(params, "username");
}

void decode(const Json& params, RemoveMemberRequest& request) {
  request.group = protocol::required_string(params, "group");
  request.username = protocol::required_string(params, "username");
}

// The daemon's state --------------------------------------------------------

Json render(const ListDirectoriesRequest&, const DirectoryListing& listing) {
  Json list = Json::array();
  for (const auto& report : listing.directories) {
    Json entry = {{"name", report.name},
                  {"type", directory_type_name(report.type)},
                  {"permissions", permissions_name(report.permissions)},
                  {"status", report.up ? "up" : "down"}};
    if (!report.detail.empty()) entry["detail"] = report.detail;
    if (report.users) entry["users"] = *report.users;
    list.push_back(std::move(entry));
  }
  Json state = {{"backend", listing.state.backend == StateBackend::sqlite ? "sqlite" : "postgresql"},
                {"location", listing.state.location}};
  return {{"directories", std::move(list)}, {"state", std::move(state)}};
}

void decode(const Json& params, BackupRequest& request) { request.path = protocol::required_string(params, "path"); }
Json render(const BackupRequest&, const BackupCopy& copy) { return {{"path", copy.path}, {"bytes", copy.bytes}}; }

Json render(const MailQueueRequest&, const MailQueueStatus& status) {
  return {{"pending", status.pending},
          {"failed", status.failed},
          {"held", status.held},
          {"oldest_pending_age_s", status.oldest_pending_age_s ? Json(*status.oldest_pending_age_s) : Json(nullptr)},
          {"mail_configured", status.mail_configured}};
}

const std::vector<SocketOperation>& directory_socket_operations() {
  using enum protocol::ParamType;
  using enum protocol::Presence;
  static const std::vector<SocketOperation> operations = {
      socket_operation<PingRequest>({}),
      socket_operation<ReloadRequest>({}),
      socket_operation<AuthenticateRequest>({{"username", string, required}, {"password", string, required}}),
      socket_operation<GetUserRequest>({{"username", string}, {"email", string}}),
      socket_operation<FindUsersRequest>({{"query", string}, {"limit", integer}}),
      socket_operation<GetGroupRequest>({{"name", string, required}}),
      socket_operation<ListGroupsRequest>({{"after", string}, {"limit", integer}}),
      socket_operation<GetUserGroupsRequest>({{"username", string, required}}),
      socket_operation<SignupOptionsRequest>({}),
      socket_operation<ChangePasswordRequest>(
          {{"username", string, required}, {"old_password", string, required}, {"new_password", string, required}}),
      socket_operation<AddUserRequest>({{"username", string, required},
                                        {"email", string, required},
                                        {"display_name", string, required},
                                        {"first_name", string},
                                        {"last_name", string},
                                        {"password", string},
                                        {"groups", string_list},
                                        {"notify", boolean}}),
      socket_operation<UpdateUserRequest>({{"username", string, required},
                                           {"email", string},
                                           {"display_name", string},
                                           {"first_name", string},
                                           {"last_name", string},
                                           {"active", boolean}}),
      socket_operation<DeleteUserRequest>({{"username", string, required}}),
      socket_operation<SetPasswordRequest>({{"username", string, required}, {"password", string, required}}),
      socket_operation<AddGroupRequest>({{"name", string, required}, {"description", string}}),
      socket_operation<DeleteGroupRequest>({{"name", string, required}}),
      socket_operation<AddMemberRequest>({{"group", string, required}, {"username", string, required}}),
      socket_operation<RemoveMemberRequest>({{"group", string, required}, {"username", string, required}}),
      socket_operation<ListDirectoriesRequest>({}),
      socket_operation<BackupRequest>({{"path", string, required}}),
      socket_operation<MailQueueRequest>({}),
  };
  return operations;
}

}  // namespace dirproxy
