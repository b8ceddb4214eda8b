// The operations on users and groups, and on the daemon itself, as typed
// requests and results (docs/protocol.md lists them): lookups,
// authentication, the admin operations on users and groups, the directories'
// status, backup, the mail queue, ping and reload. Each request declares its
// OperationPolicy; `run` carries it out (service/directory_operations.cpp,
// service/state_operations.cpp, service/mail_operations.cpp), called
// through Service::call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "directories/directory.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// `key="value"` for an audit line (the value quoted, as logging::quoted).
std::string audit_field(std::string_view key, std::string_view value);

// ping ----------------------------------------------------------------------

struct ServerStatus {
  std::string version;
  std::int64_t uptime_s = 0;
};

struct PingRequest {
  static constexpr OperationPolicy policy{.name = "ping"};
  using Response = ServerStatus;
};

// reload: re-reads the configuration file (Service::call; the daemon does it).
struct ReloadRequest {
  static constexpr OperationPolicy policy{
      .name = "reload", .admin_only = true, .writes = true, .audit = AuditPolicy::always};
  using Response = void;
};

// Lookups -------------------------------------------------------------------

// A user with the names of their groups (after membership aggregation).
struct AuthenticatedUser {
  User user;
  std::vector<std::string> groups;  // sorted
};

struct AuthenticateRequest {
  static constexpr OperationPolicy policy{.name = "authenticate", .audit = AuditPolicy::failures};
  using Response = AuthenticatedUser;
  std::string username;
  std::string password;
  // false: the user's groups are not wanted (an LDAP bind needs only who
  // it is), so none of the directories is asked for them.
  bool groups = true;
  std::string audit_target() const { return audit_field("username", username); }
};
Result<AuthenticatedUser> run(const OperationContext& op, const AuthenticateRequest& request);

// Exactly one of username and email (bad_request otherwise); not_found when
// no directory has the user.
struct GetUserRequest {
  static constexpr OperationPolicy policy{.name = "get_user"};
  using Response = User;
  std::optional<std::string> username;
  std::optional<std::string> email;
};
Result<User> run(const OperationContext& op, const GetUserRequest& request);

struct FindUsersRequest {
  static constexpr OperationPolicy policy{.name = "find_users"};
  using Response = std::vector<User>;
  static constexpr std::int64_t default_limit = 100;
  static constexpr std::int64_t max_limit = 1000;
  std::string query;  // substring of username, email or display name; empty: all
  std::int64_t limit = default_limit;
};
Result<std::vector<User>> run(const OperationContext& op, const FindUsersRequest& request);

struct GetGroupRequest {
  static constexpr OperationPolicy policy{.name = "get_group"};
  using Response = Group;
  std::string name;
};
Result<Group> run(const OperationContext& op, const GetGroupRequest& request);

// The chain's groups (merged by name as the membership rule says), each
// with its members, whose folded name sorts after `after` (empty: from the
// first), in that order, at most `limit` (bad_request, field limit, outside
// 1 to max_limit). A page of groups: the next starts after the last name.
struct ListGroupsRequest {
  static constexpr OperationPolicy policy{.name = "list_groups"};
  using Response = std::vector<Group>;
  static constexpr std::int64_t default_limit = 100;
  static constexpr std::int64_t max_limit = 1000;
  std::string after;
  std::int64_t limit = default_limit;
};
Result<std::vector<Group>> run(const OperationContext& op, const ListGroupsRequest& request);

struct GetUserGroupsRequest {
  static constexpr OperationPolicy policy{.name = "get_user_groups"};
  using Response = std::vector<std::string>;  // sorted group names
  std::string username;
};
Result<std::vector<std::string>> run(const OperationContext& op, const GetUserGroupsRequest& request);

struct SignupOptions {
  config::SignupMode mode = config::SignupMode::disabled;
  std::vector<std::string> domains;
  config::UserManagement user_management = config::UserManagement::internal;
  bool access_requests = false;  // access_requests.enabled: request_access takes requests
};

struct SignupOptionsRequest {
  static constexpr OperationPolicy policy{.name = "signup_options"};
  using Response = SignupOptions;
};
Result<SignupOptions> run(const OperationContext& op, const SignupOptionsRequest& request);

struct ChangePasswordRequest {
  static constexpr OperationPolicy policy{.name = "change_password", .writes = true};
  using Response = void;
  std::string username;
  std::string old_password;
  std::string new_password;
  std::string audit_target() const { return audit_field("username", username); }
};
Result<void> run(const OperationContext& op, const ChangePasswordRequest& request);

// Admin operations on users and groups --------------------------------------

constexpr OperationPolicy admin_write(std::string_view name) {
  return {.name = name, .admin_only = true, .writes = true, .audit = AuditPolicy::always};
}
constexpr OperationPolicy admin_read(std::string_view name) {
  return {.name = name, .admin_only = true, .writes = false, .audit = AuditPolicy::always};
}

struct AddedUser {
  User user;
  // The set-password link, when the account has no password and no mail
  // was asked for (notify false); never logged.
  std::optional<std::string> set_password_link;
};

struct AddUserRequest {
  static constexpr OperationPolicy policy = admin_write("add_user");
  using Response = AddedUser;
  std::string username;
  std::string email;
  std::string display_name;
  std::optional<std::string> first_name;  // empty: not set
  std::optional<std::string> last_name;   // empty: not set
  std::optional<std::string> password;
  std::vector<std::string> groups;  // must exist
  bool notify = true;               // mail the set-password link (no password given)
  std::string audit_target() const { return audit_field("username", username); }
};
Result<AddedUser> run(const OperationContext& op, const AddUserRequest& request);

struct UpdateUserRequest {
  static constexpr OperationPolicy policy = admin_write("update_user");
  using Response = User;
  std::string username;
  UserChanges changes;  // at least one field (bad_request otherwise)
  std::string audit_target() const { return audit_field("username", username); }
};
Result<User> run(const OperationContext& op, const UpdateUserRequest& request);

struct DeleteUserRequest {
  static constexpr OperationPolicy policy = admin_write("delete_user");
  using Response = void;
  std::string username;
  std::string audit_target() const { return audit_field("username", username); }
};
Result<void> run(const OperationContext& op, const DeleteUserRequest& request);

struct SetPasswordRequest {
  static constexpr OperationPolicy policy = admin_write("set_password");
  using Response = void;
  std::string username;
  std::string password;
  std::string audit_target() const { return audit_field("username", username); }
};
Result<void> run(const OperationContext& op, const SetPasswordRequest& request);

struct AddGroupRequest {
  static constexpr OperationPolicy policy = admin_write("add_group");
  using Response = Group;
  std::string name;
  std::optional<std::string> description;  // empty: none
  std::string audit_target() const { return audit_field("name", name); }
};
Result<Group> run(const OperationContext& op, const AddGroupRequest& request);

struct DeleteGroupRequest {
  static constexpr OperationPolicy policy = admin_write("delete_group");
  using Response = void;
  std::string name;
  std::string audit_target() const { return audit_field("name", name); }
};
Result<void> run(const OperationContext& op, const DeleteGroupRequest& request);

struct AddMemberRequest {
  static constexpr OperationPolicy policy = admin_write("add_member");
  using Response = void;
  std::string group;
  std::string username;
  // The username alone: the audit line reads as it always has (the legacy
  // dispatcher named the first of username, name, group, path).
  std::string audit_target() const { return audit_field("username", username); }
};
Result<void> run(const OperationContext& op, const AddMemberRequest& request);

struct RemoveMemberRequest {
  static constexpr OperationPolicy policy = admin_write("remove_member");
  using Response = void;
  std::string group;
  std::string username;
  // The username alone: the audit line reads as it always has (the legacy
  // dispatcher named the first of username, name, group, path).
  std::string audit_target() const { return audit_field("username", username); }
};
Result<void> run(const OperationContext& op, const RemoveMemberRequest& request);

// The daemon's state --------------------------------------------------------

struct DirectoryReport {
  std::string name;
  DirectoryType type = DirectoryType::internal;
  Permissions permissions = Permissions::read_only;
  bool up = false;
  std::string detail;                 // empty: none
  std::optional<std::int64_t> users;  // when the directory can count them
};

// Where the state database is (docs/scaling.md): the internal directory and
// every token, invitation and queued mail live there.
struct StateReport {
  StateBackend backend = StateBackend::sqlite;
  std::string location;  // the SQLite file, or postgresql://host:port/database
};

struct DirectoryListing {
  std::vector<DirectoryReport> directories;  // in chain order
  StateReport state;
};

struct ListDirectoriesRequest {
  static constexpr OperationPolicy policy = admin_read("list_directories");
  using Response = DirectoryListing;
};
Result<DirectoryListing> run(const OperationContext& op, const ListDirectoriesRequest& request);

struct BackupCopy {
  std::string path;
  std::uint64_t bytes = 0;
};

// Not a write: it changes nothing, and writes need not wait for it.
struct BackupRequest {
  static constexpr OperationPolicy policy = admin_read("backup");
  using Response = BackupCopy;
  std::string path;  // absolute, must not exist yet
  std::string audit_target() const { return audit_field("path", path); }
};
Result<BackupCopy> run(const OperationContext& op, const BackupRequest& request);

struct MailQueueStatus {
  std::int64_t pending = 0;
  std::int64_t failed = 0;
  std::int64_t held = 0;
  std::optional<std::int64_t> oldest_pending_age_s;
  bool mail_configured = false;
};

struct MailQueueRequest {
  static constexpr OperationPolicy policy = admin_read("mail_queue");
  using Response = MailQueueStatus;
};
Result<MailQueueStatus> run(const OperationContext& op, const MailQueueRequest& request);

}  // namespace dirproxy
