// The operations on users and groups and on the daemon's directories
// (docs/protocol.md), each a thin layer that checks input against the
// account policy and asks the chain. They block (SQLite, Argon2id, LDAP) and
// run on the worker pool (Service::call), but for get_user, which waits for
// LDAP on the connection's event loop where it can (service.cpp).
#include <optional>
#include <string>
#include <vector>

#include "accounts/login_lockout.hpp"
#include "core/readable_text.hpp"
#include "service/account_creation.hpp"
#include "service/account_operation_support.hpp"
#include "service/application_requests.hpp"
#include "service/directory_requests.hpp"
#include "service/reset_link.hpp"

namespace dirproxy {
namespace {

Error not_found_user(std::string_view username) {
  return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'", "username");
}

// Optional free-text fields: an empty string means "not set".
std::optional<std::string> non_empty(std::optional<std::string> value) {
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

// Checks `password` of `username` under the lockout (security.lockout): a
// locked username is refused before anything is verified, a wrong password
// counts against it, a right one clears its count.
Result<User> authenticate_with_lockout(const OperationContext& op, const std::string& username,
                                       const std::string& password) {
  LoginLockout lockout(*op.runtime.database, op.runtime.config->security.lockout, op.runtime.metrics.get());
  RETURN_IF_ERROR(lockout.check(username, op.now()));
  auto user = op.runtime.chain->authenticate(username, password);
  if (!user) {
    if (user.error().code == ErrorCode::invalid_credentials) {
      RETURN_IF_ERROR(lockout.record_failure(username, op.now()));
    }
    return user;
  }
  RETURN_IF_ERROR(lockout.record_success(username));
  return user;
}

// Lookups -------------------------------------------------------------------

Result<AuthenticatedUser> run(const OperationContext& op, const AuthenticateRequest& request) {
  auto user = authenticate_with_lockout(op, request.username, request.password);
  RETURN_IF_ERROR(user);
  // The right password of a user the caller's application does not admit:
  // access_denied (APPLICATIONS.md). Deciding it needs the user's groups
  // even when the caller did not ask for them.
  const config::Application* application = acting_application(op);
  const bool restricted = application != nullptr && !application->access_groups.empty();
  if (!request.groups && !restricted) return AuthenticatedUser{std::move(*user), {}};
  auto groups = op.runtime.chain->user_groups(*user);
  RETURN_IF_ERROR(groups);
  AuthenticatedUser authenticated{std::move(*user), std::move(*groups)};
  // After the password (only someone who knows it learns that the user is
  // not admitted) and after the lockout count is cleared: the password was
  // right, the application's rule is another matter.
  RETURN_IF_ERROR(check_access(op, authenticated));
  if (!request.groups) authenticated.groups.clear();
  return authenticated;
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

Result<std::vector<User>> run(const OperationContext& op, const FindUsersRequest& request) {
  if (request.limit < 1 || request.limit > FindUsersRequest::max_limit) {
    return fail(ErrorCode::bad_request, "'limit' must be between 1 and " + std::to_string(FindUsersRequest::max_limit),
                "limit");
  }
  return op.runtime.chain->find_users(request.query, static_cast<std::size_t>(request.limit));
}

Result<Group> run(const OperationContext& op, const GetGroupRequest& request) {
  auto group = op.runtime.chain->find_group(request.name);
  RETURN_IF_ERROR(group);
  if (!group->has_value()) return fail(ErrorCode::not_found, "no group '" + request.name + "'", "name");
  return std::move(**group);
}

Result<std::vector<Group>> run(const OperationContext& op, const ListGroupsRequest& request) {
  if (request.limit < 1 || request.limit > ListGroupsRequest::max_limit) {
    return fail(ErrorCode::bad_request, "'limit' must be between 1 and " + std::to_string(ListGroupsRequest::max_limit),
                "limit");
  }
  return op.runtime.chain->list_groups(request.after, static_cast<std::size_t>(request.limit));
}

Result<std::vector<std::string>> run(const OperationContext& op, const GetUserGroupsRequest& request) {
  return op.runtime.chain->user_groups(request.username);
}

Result<SignupOptions> run(const OperationContext& op, const SignupOptionsRequest&) {
  const auto& config = *op.runtime.config;
  return SignupOptions{config.signup.mode, config.signup.domains, config.user_management,
                       config.access_requests.enabled};
}

Result<void> run(const OperationContext& op, const ChangePasswordRequest& request) {
  // Credentials first: a caller without the old password learns nothing,
  // not even whether the new one would be acceptable. The old password is a
  // guess like any other, so it goes through the lockout. No application's
  // access groups apply: changing one's password is not a login, and the
  // password is the user's in every application (docs/applications.md).
  auto user = authenticate_with_lockout(op, request.username, request.old_password);
  RETURN_IF_ERROR(user);
  RETURN_IF_ERROR(op.runtime.policy.check_password(request.new_password, "new_password"));
  RETURN_IF_ERROR(op.runtime.chain->change_verified_password(user->username, request.old_password, request.new_password));
  // Reset links mailed before the change must not undo it.
  return invalidate_reset_links(op.runtime, user->username);
}

// Admin operations on users and groups --------------------------------------

Result<AddedUser> run(const OperationContext& op, const AddUserRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime, "users and groups"));
  const auto& policy = op.runtime.policy;
  auto checked = policy.check_new_user(request.username, request.email, request.display_name);
  RETURN_IF_ERROR(checked);
  NewUser user = std::move(*checked);
  RETURN_IF_ERROR(check_readable_text(request.first_name.value_or(""), TextKind::name, "first_name"));
  RETURN_IF_ERROR(check_readable_text(request.last_name.value_or(""), TextKind::name, "last_name"));
  user.first_name = non_empty(request.first_name);
  user.last_name = non_empty(request.last_name);
  user.password = request.password;
  if (user.password) {
    RETURN_IF_ERROR(policy.check_password(*user.password));
  }
  // notify applies only to an account without a password: it mails the
  // set-password link. An admin who gives a password hands it over
  // themselves; a second way in by mail is not what they asked for.
  const bool mail_link = !user.password && request.notify;
  const bool return_link = !user.password && !request.notify;
  if (mail_link && !op.runtime.mail) {
    return fail(ErrorCode::mail_not_configured,
                "notify needs a mail server to send the set-password link; give a password or notify=false", "notify");
  }

  NewAccount account;
  account.groups = request.groups;
  // Groups the admin names must exist (a typo must not create a group);
  // accounts.default_groups are created when missing, as for every account.
  for (const auto& name : account.groups) {
    auto group = op.runtime.chain->find_group(name);
    RETURN_IF_ERROR(group);
    if (!group->has_value()) return fail(ErrorCode::not_found, "no group '" + name + "'", "groups");
  }

  if (mail_link || return_link) {
    // The link's token is stored with the account, and its mail goes out
    // with it; neither exists when the account could not be created.
    ResetLink link = make_reset_link(*op.runtime.config, ResetPurpose::new_user, op.now());
    if (mail_link) {
      auto mail = compose_reset_mail(op.runtime, link, user.email, user.username, user.display_name);
      RETURN_IF_ERROR(mail);
      account.mails.push_back(std::move(*mail));
    }
    account.claim.set_password_link = std::move(link);
  }
  account.user = std::move(user);
  auto created = create_account(op.runtime, account);
  RETURN_IF_ERROR(created);
  AddedUser added{std::move(*created), std::nullopt};
  if (return_link) added.set_password_link = account.claim.set_password_link->url;
  return added;
}

Result<User> run(const OperationContext& op, const UpdateUserRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime, "users and groups"));
  UserChanges changes = request.changes;
  if (changes.email) {
    auto checked = op.runtime.policy.check_email(*changes.email);
    RETURN_IF_ERROR(checked);
    changes.email = std::move(*checked);
  }
  if (changes.display_name) {
    RETURN_IF_ERROR(check_required_name(*changes.display_name, "display_name"));
  }
  // An empty first or last name clears it.
  RETURN_IF_ERROR(check_readable_text(changes.first_name.value_or(""), TextKind::name, "first_name"));
  RETURN_IF_ERROR(check_readable_text(changes.last_name.value_or(""), TextKind::name, "last_name"));
  if (changes.empty()) {
    return fail(ErrorCode::bad_request, "nothing to change: give email, display_name, first_name, last_name or active");
  }
  return op.runtime.chain->update_user(request.username, changes);
}

Result<void> run(const OperationContext& op, const DeleteUserRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime, "users and groups"));
  // A link of the deleted account must not set the password of a later
  // account of the same name. First, so that a failure leaves the account
  // and not its links; ending the links of an account that stays is harmless.
  RETURN_IF_ERROR(invalidate_reset_links(op.runtime, request.username));
  return op.runtime.chain->delete_user(request.username);
}

Result<void> run(const OperationContext& op, const SetPasswordRequest& request) {
  RETURN_IF_ERROR(op.runtime.policy.check_password(request.password));
  RETURN_IF_ERROR(op.runtime.chain->set_password(request.username, request.password));
  // Reset and set-password links mailed before must not undo the change.
  return invalidate_reset_links(op.runtime, request.username);
}

Result<Group> run(const OperationContext& op, const AddGroupRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime, "users and groups"));
  RETURN_IF_ERROR(check_required_name(request.name, "name"));
  RETURN_IF_ERROR(check_readable_text(request.description.value_or(""), TextKind::description, "description"));
  return op.runtime.chain->create_group(request.name, non_empty(request.description));
}

Result<void> run(const OperationContext& op, const DeleteGroupRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime, "users and groups"));
  return op.runtime.chain->delete_group(request.name);
}

Result<void> run(const OperationContext& op, const AddMemberRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime, "users and groups"));
  return op.runtime.chain->add_member(request.group, request.username);
}

Result<void> run(const OperationContext& op, const RemoveMemberRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime, "users and groups"));
  return op.runtime.chain->remove_member(request.group, request.username);
}

// The daemon's state --------------------------------------------------------

Result<DirectoryListing> run(const OperationContext& op, const ListDirectoriesRequest&) {
  DirectoryListing listing;
  listing.state = {.backend = op.runtime.database->backend(), .location = op.runtime.database->location()};
  std::vector<DirectoryReport>& reports = listing.directories;
  for (const auto& directory : op.runtime.chain->directories()) {
    DirectoryStatus status = directory->status();
    DirectoryReport report;
    report.name = directory->name();
    report.type = directory->type();
    report.permissions = directory->permissions();
    report.up = status.up;
    report.detail = std::move(status.detail);
    if (status.users) report.users = static_cast<std::int64_t>(*status.users);
    reports.push_back(std::move(report));
  }
  return listing;
}

// Every operation of the group is typed now; the dispatcher still lists the
// legacy table until the last group is converted.

}  // namespace dirproxy
