// The operations on users and groups (PROTOCOL.md), each a thin layer that
// checks input against the account policy and asks the chain. They block
// (SQLite, Argon2id, LDAP) and run on the worker pool, but for get_user,
// which waits for LDAP on the connection's event loop where it can.
#include <algorithm>
#include <optional>

#include "service/account_creation.hpp"
#include "accounts/login_lockout.hpp"
#include "service/directory_requests.hpp"
#include "service/operation.hpp"
#include "directories/pending_lookup.hpp"
#include "service/reset_link.hpp"
#include "core/timestamp.hpp"

namespace dirproxy {
namespace {

using protocol::Json;
using protocol::ParamType;

constexpr std::int64_t kDefaultFindLimit = 100;
constexpr std::int64_t kMaxFindLimit = 1000;

std::optional<std::string> optional_string(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

std::string required_string(const Json& params, const char* name) {
  return params.at(name).get<std::string>();
}

Json nullable(const std::optional<std::string>& value) { return value ? Json(*value) : Json(nullptr); }

Json group_json(const Group& group) {
  return {{"name", group.name},
          {"description", nullable(group.description)},
          {"directory", group.directory},
          {"members", group.members}};
}

Error not_found_user(std::string_view username) {
  return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'", "username");
}

// Optional free-text fields: an empty string means "not set".
std::optional<std::string> non_empty(std::optional<std::string> value) {
  if (value && value->empty()) return std::nullopt;
  return value;
}

// Checks `password` of `username` under the lockout (security.lockout): a
// locked username is refused before anything is verified, a wrong password
// counts against it, a right one clears its count.
Result<User> authenticate_with_lockout(const JsonOperationContext& op, const std::string& username,
                                       const std::string& password) {
  LoginLockout lockout(*op.runtime.database, op.runtime.config->security.lockout);
  RETURN_IF_ERROR(lockout.check(username, unix_now()));
  auto user = op.runtime.chain->authenticate(username, password);
  if (!user) {
    if (user.error().code == ErrorCode::invalid_credentials) {
      RETURN_IF_ERROR(lockout.record_failure(username, unix_now()));
    }
    return user;
  }
  RETURN_IF_ERROR(lockout.record_success(username));
  return user;
}

Result<Json> authenticate(const JsonOperationContext& op) {
  auto user = authenticate_with_lockout(op, required_string(op.params, "username"),
                                        required_string(op.params, "password"));
  RETURN_IF_ERROR(user);
  auto groups = op.runtime.chain->user_groups(*user);
  RETURN_IF_ERROR(groups);
  Json json = user_json(*user);
  json["groups"] = *groups;
  return Json{{"user", std::move(json)}};
}

Result<Json> find_users(const JsonOperationContext& op) {
  std::int64_t limit = kDefaultFindLimit;
  if (auto it = op.params.find("limit"); it != op.params.end() && !it->is_null()) limit = it->get<std::int64_t>();
  if (limit < 1 || limit > kMaxFindLimit) {
    return fail(ErrorCode::bad_request, "'limit' must be between 1 and 1000", "limit");
  }
  auto users = op.runtime.chain->find_users(optional_string(op.params, "query").value_or(""),
                                            static_cast<std::size_t>(limit));
  RETURN_IF_ERROR(users);
  Json list = Json::array();
  for (const auto& user : *users) list.push_back(user_json(user));
  return Json{{"users", std::move(list)}};
}

Result<Json> get_user_groups(const JsonOperationContext& op) {
  auto groups = op.runtime.chain->user_groups(required_string(op.params, "username"));
  RETURN_IF_ERROR(groups);
  return Json{{"groups", *groups}};
}

Result<Json> signup_options(const JsonOperationContext& op) {
  const auto& config = *op.runtime.config;
  const char* mode = config.signup.mode == config::SignupMode::open         ? "open"
                     : config.signup.mode == config::SignupMode::restricted ? "restricted"
                                                                            : "disabled";
  return Json{{"mode", mode},
              {"domains", config.signup.domains},
              {"user_management",
               config.user_management == config::UserManagement::internal ? "internal" : "external"}};
}

Result<Json> change_password(const JsonOperationContext& op) {
  const auto new_password = required_string(op.params, "new_password");
  // Credentials first: a caller without the old password learns nothing,
  // not even whether the new one would be acceptable. The old password is a
  // guess like any other, so it goes through the lockout.
  auto user = authenticate_with_lockout(op, required_string(op.params, "username"),
                                        required_string(op.params, "old_password"));
  RETURN_IF_ERROR(user);
  RETURN_IF_ERROR(op.runtime.policy.check_password(new_password, "new_password"));
  RETURN_IF_ERROR(op.runtime.chain->set_password(user->username, new_password));
  // Reset links mailed before the change must not undo it.
  RETURN_IF_ERROR(invalidate_reset_links(op.runtime, user->username));
  return Json::object();
}

// Admin operations --------------------------------------------------------

Error external_management() {
  return make_error(ErrorCode::user_management_external,
                    "users and groups are managed outside dirproxy (user_management: external)");
}

bool managed_externally(const JsonOperationContext& op) {
  return op.runtime.config->user_management == config::UserManagement::external;
}

Result<Json> add_user(const JsonOperationContext& op) {
  if (managed_externally(op)) return external_management();
  const auto& policy = op.runtime.policy;
  NewUser user;
  user.username = required_string(op.params, "username");
  RETURN_IF_ERROR(policy.check_username(user.username));
  auto email = policy.check_email(required_string(op.params, "email"));
  RETURN_IF_ERROR(email);
  user.email = std::move(*email);
  user.display_name = required_string(op.params, "display_name");
  RETURN_IF_ERROR(AccountPolicy::check_name(user.display_name, "display_name"));
  user.first_name = non_empty(optional_string(op.params, "first_name"));
  user.last_name = non_empty(optional_string(op.params, "last_name"));
  user.password = optional_string(op.params, "password");
  if (user.password) {
    RETURN_IF_ERROR(policy.check_password(*user.password));
  }
  // notify applies only to an account without a password: it mails the
  // set-password link. An admin who gives a password hands it over
  // themselves; a second way in by mail is not what they asked for.
  const bool notify = op.params.value("notify", true);
  const bool mail_link = !user.password && notify;
  const bool return_link = !user.password && !notify;
  if (mail_link && !op.runtime.mail) {
    return fail(ErrorCode::mail_not_configured,
                "notify needs a mail server to send the set-password link; give a password or notify=false", "notify");
  }

  NewAccount account;
  if (auto it = op.params.find("groups"); it != op.params.end() && !it->is_null()) {
    account.groups = it->get<std::vector<std::string>>();
  }
  // Groups the admin names must exist (a typo must not create a group);
  // accounts.default_groups are created when missing, as for every account.
  for (const auto& name : account.groups) {
    auto group = op.runtime.chain->find_group(name);
    RETURN_IF_ERROR(group);
    if (!group->has_value()) return fail(ErrorCode::not_found, "no group '" + name + "'", "groups");
  }

  std::optional<ResetLink> link;
  StateStep claim;
  StateStep unclaim;
  if (mail_link || return_link) {
    link = make_reset_link(*op.runtime.config, ResetPurpose::new_user);
    if (mail_link) {
      auto mail = compose_reset_mail(op.runtime, *link, user.email, user.username, user.display_name);
      RETURN_IF_ERROR(mail);
      account.mails.push_back(std::move(*mail));
    }
    // The token is stored in the transaction that holds the mail, and
    // deleted again when the account could not be created.
    claim = [&link, username = user.username](const StateDatabase::Lease& lease) {
      return store_reset_link(lease, *link, username);
    };
    unclaim = [&link](const StateDatabase::Lease& lease) { return delete_reset_token(lease, link->token.hash); };
  }
  account.user = std::move(user);
  auto created = create_account(op.runtime, account, claim, unclaim);
  RETURN_IF_ERROR(created);
  Json result{{"user", user_json(*created)}};
  if (return_link) result["set_password_link"] = link->url;
  return result;
}

Result<Json> update_user(const JsonOperationContext& op) {
  if (managed_externally(op)) return external_management();
  const auto username = required_string(op.params, "username");
  UserChanges changes;
  if (auto email = optional_string(op.params, "email")) {
    auto checked = op.runtime.policy.check_email(*email);
    RETURN_IF_ERROR(checked);
    changes.email = std::move(*checked);
  }
  if (auto display_name = optional_string(op.params, "display_name")) {
    RETURN_IF_ERROR(AccountPolicy::check_name(*display_name, "display_name"));
    changes.display_name = std::move(display_name);
  }
  changes.first_name = optional_string(op.params, "first_name");
  changes.last_name = optional_string(op.params, "last_name");
  if (auto it = op.params.find("active"); it != op.params.end() && !it->is_null()) changes.active = it->get<bool>();
  if (changes.empty()) {
    return fail(ErrorCode::bad_request,
                "nothing to change: give email, display_name, first_name, last_name or active");
  }
  auto updated = op.runtime.chain->update_user(username, changes);
  RETURN_IF_ERROR(updated);
  return Json{{"user", user_json(*updated)}};
}

Result<Json> delete_user(const JsonOperationContext& op) {
  if (managed_externally(op)) return external_management();
  const auto username = required_string(op.params, "username");
  // A link of the deleted account must not set the password of a later
  // account of the same name. First, so that a failure leaves the account
  // and not its links; ending the links of an account that stays is harmless.
  RETURN_IF_ERROR(invalidate_reset_links(op.runtime, username));
  RETURN_IF_ERROR(op.runtime.chain->delete_user(username));
  return Json::object();
}

Result<Json> set_password(const JsonOperationContext& op) {
  const auto password = required_string(op.params, "password");
  RETURN_IF_ERROR(op.runtime.policy.check_password(password));
  const auto username = required_string(op.params, "username");
  RETURN_IF_ERROR(op.runtime.chain->set_password(username, password));
  // Reset and set-password links mailed before must not undo the change.
  RETURN_IF_ERROR(invalidate_reset_links(op.runtime, username));
  return Json::object();
}

Result<Json> add_group(const JsonOperationContext& op) {
  if (managed_externally(op)) return external_management();
  const auto name = required_string(op.params, "name");
  RETURN_IF_ERROR(AccountPolicy::check_name(name, "name"));
  auto group = op.runtime.chain->create_group(name, non_empty(optional_string(op.params, "description")));
  RETURN_IF_ERROR(group);
  return Json{{"group", group_json(*group)}};
}

Result<Json> delete_group(const JsonOperationContext& op) {
  if (managed_externally(op)) return external_management();
  RETURN_IF_ERROR(op.runtime.chain->delete_group(required_string(op.params, "name")));
  return Json::object();
}

Result<Json> add_member(const JsonOperationContext& op) {
  if (managed_externally(op)) return external_management();
  auto ok = op.runtime.chain->add_member(required_string(op.params, "group"), required_string(op.params, "username"));
  RETURN_IF_ERROR(ok);
  return Json::object();
}

Result<Json> remove_member(const JsonOperationContext& op) {
  if (managed_externally(op)) return external_management();
  auto ok =
      op.runtime.chain->remove_member(required_string(op.params, "group"), required_string(op.params, "username"));
  RETURN_IF_ERROR(ok);
  return Json::object();
}

const char* type_name(DirectoryType type) { return type == DirectoryType::internal ? "internal" : "ldap"; }

const char* permissions_name(Permissions permissions) {
  switch (permissions) {
    case Permissions::read_only: return "read_only";
    case Permissions::read_only_local_groups: return "read_only_local_groups";
    case Permissions::read_write: return "read_write";
  }
  return "read_only";
}

Result<Json> list_directories(const JsonOperationContext& op) {
  Json list = Json::array();
  for (const auto& directory : op.runtime.chain->directories()) {
    auto status = directory->status();
    Json entry = {{"name", directory->name()},
                  {"type", type_name(directory->type())},
                  {"permissions", permissions_name(directory->permissions())},
                  {"status", status.up ? "up" : "down"}};
    if (!status.detail.empty()) entry["detail"] = status.detail;
    if (status.users) entry["users"] = *status.users;
    list.push_back(std::move(entry));
  }
  return Json{{"directories", std::move(list)}};
}

}  // namespace

Json user_json(const User& user) {
  return {{"username", user.username},
          {"email", nullable(user.email)},
          {"display_name", nullable(user.display_name)},
          {"first_name", nullable(user.first_name)},
          {"last_name", nullable(user.last_name)},
          {"active", user.active},
          {"directory", user.directory}};
}

Result<User> run(const OperationContext& op, const GetUserRequest& request) {
  if (request.username.has_value() == request.email.has_value()) {
    return fail(ErrorCode::bad_request, "give exactly one of 'username' and 'email'",
                request.username ? "email" : "username");
  }
  auto user = request.username ? op.runtime.chain->find_user(*request.username)
                               : op.runtime.chain->find_user_by_email(*request.email);
  RETURN_IF_ERROR(user);
  if (!user->has_value()) {
    if (request.username) return not_found_user(*request.username);
    return fail(ErrorCode::not_found, "no user with that email address", "email");
  }
  return std::move(**user);
}

Result<Group> run(const OperationContext& op, const GetGroupRequest& request) {
  auto group = op.runtime.chain->find_group(request.name);
  RETURN_IF_ERROR(group);
  if (!group->has_value()) return fail(ErrorCode::not_found, "no group '" + request.name + "'", "name");
  return std::move(**group);
}

const std::vector<Operation>& directory_operations() {
  using enum ParamType;
  static const std::vector<Operation> operations = {
      {"authenticate", false, {{"username", string, true}, {"password", string, true}}, authenticate},
      {"find_users", false, {{"query", string}, {"limit", integer}}, find_users},
      {"get_user_groups", false, {{"username", string, true}}, get_user_groups},
      {"signup_options", false, {}, signup_options},
      {"change_password",
       false,
       {{"username", string, true}, {"old_password", string, true}, {"new_password", string, true}},
       change_password, /*writes=*/true},
      {"add_user",
       true,
       {{"username", string, true},
        {"email", string, true},
        {"display_name", string, true},
        {"first_name", string},
        {"last_name", string},
        {"password", string},
        {"groups", string_list},
        {"notify", boolean}},
       add_user, /*writes=*/true},
      {"update_user",
       true,
       {{"username", string, true},
        {"email", string},
        {"display_name", string},
        {"first_name", string},
        {"last_name", string},
        {"active", boolean}},
       update_user, /*writes=*/true},
      {"delete_user", true, {{"username", string, true}}, delete_user, /*writes=*/true},
      {"set_password", true, {{"username", string, true}, {"password", string, true}}, set_password, /*writes=*/true},
      {"add_group", true, {{"name", string, true}, {"description", string}}, add_group, /*writes=*/true},
      {"delete_group", true, {{"name", string, true}}, delete_group, /*writes=*/true},
      {"add_member", true, {{"group", string, true}, {"username", string, true}}, add_member, /*writes=*/true},
      {"remove_member", true, {{"group", string, true}, {"username", string, true}}, remove_member, /*writes=*/true},
      {"list_directories", true, {}, list_directories},
  };
  return operations;
}

}  // namespace dirproxy
