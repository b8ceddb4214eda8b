// request_password_reset, reset_password (public) and send_password_reset
// (admin): the password-reset links of PROTOCOL.md. A link carries a
// single-use token stored only as its hash (reset_token_store.hpp); its mail
// is enqueued in the transaction that stores it and goes only to the address
// stored for the account.
#include <optional>

#include "service/account_operation_support.hpp"
#include "accounts/login_lockout.hpp"
#include "service/operation.hpp"
#include "service/reset_link.hpp"
#include "core/timestamp.hpp"

namespace dirproxy {
namespace {

using protocol::Json;
using protocol::ParamType;

// Composed for an account that does not exist, so that the answer costs the
// same work either way; it is never enqueued. example.invalid cannot be an
// address anyone receives mail at (RFC 2606).
constexpr const char* kNobody = "nobody@example.invalid";

// Stores `link` for `username` and enqueues `mail` in one write
// transaction: the link exists exactly when its mail will go out.
Result<void> store_and_enqueue(const JsonOperationContext& op, const ResetLink& link, std::string_view username,
                               const OutgoingMail& mail) {
  auto lease = op.runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  // Expired links can never be used again; dropping them here keeps the
  // table as small as the links that can still work.
  if (auto pruned = prune_reset_tokens(lease, link.created_at); !pruned) return pruned;
  if (auto stored = store_reset_link(lease, link, username); !stored) return stored;
  if (auto queued = enqueue_mail(lease, mail); !queued) return queued;
  return transaction->commit();
}

// The same transaction for an account that does not exist: it prunes and
// commits but stores and sends nothing.
Result<void> store_nothing(const JsonOperationContext& op, const ResetLink& link) {
  auto lease = op.runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  if (auto pruned = prune_reset_tokens(lease, link.created_at); !pruned) return pruned;
  return transaction->commit();
}

Result<Json> request_password_reset(const JsonOperationContext& op) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  RETURN_IF_ERROR(admit_client(op));
  auto username = optional_string_param(op.params, "username");
  auto email = optional_string_param(op.params, "email");
  if (username.has_value() == email.has_value()) {
    return fail(ErrorCode::bad_request, "give exactly one of 'username' and 'email'", username ? "email" : "username");
  }
  if (email) {
    auto parsed = op.runtime.policy.check_email(*email);
    RETURN_IF_ERROR(parsed);
    email = std::move(*parsed);
  }
  RETURN_IF_ERROR(require_mail(op.runtime, "sending a password-reset link"));

  auto found = username ? op.runtime.chain->find_user(*username) : op.runtime.chain->find_user_by_email(*email);
  RETURN_IF_ERROR(found);
  // Only an active account with a stored address gets a link, and only at
  // that address. An account in a directory that cannot change passwords
  // still gets it: reset_password then answers read_only, which tells the
  // user where their password is managed, and this answer reveals nothing.
  const User* account = nullptr;
  if (found->has_value() && (*found)->active && (*found)->email && !(*found)->email->empty()) {
    account = &**found;
  }

  // The same steps whether or not there is an account: a fresh token, a
  // composed mail and a write transaction, so that neither the answer nor
  // (as far as it can be helped) its timing tells whether the account exists.
  const ResetLink link = make_reset_link(*op.runtime.config, ResetPurpose::password_reset);
  const std::string recipient = account ? *account->email : std::string(kNobody);
  const std::string name = account ? account->username : username.value_or("");
  const std::string display_name = account ? account->display_name.value_or(account->username) : name;
  auto mail = compose_reset_mail(op.runtime, link, recipient, name, display_name);
  RETURN_IF_ERROR(mail);
  auto done = account ? store_and_enqueue(op, link, account->username, *mail) : store_nothing(op, link);
  RETURN_IF_ERROR(done);
  return Json::object();
}

Result<Json> reset_password(const JsonOperationContext& op) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  RETURN_IF_ERROR(admit_client(op));
  const auto token = op.params.at("token").get<std::string>();
  const auto password = op.params.at("password").get<std::string>();
  // Before the token is consumed: a weak password must not burn the link.
  RETURN_IF_ERROR(op.runtime.policy.check_password(password));

  std::optional<ConsumedResetToken> consumed;
  {
    // The lease is given back before the chain is asked: the internal
    // directory needs pooled connections of its own.
    auto lease = op.runtime.database->acquire();
    auto transaction = lease.begin(TransactionMode::write);
    RETURN_IF_ERROR(transaction);
    auto taken = consume_reset_token(lease, token, unix_now());
    RETURN_IF_ERROR(taken);
    RETURN_IF_ERROR(transaction->commit());
    consumed = std::move(*taken);
  }
  if (!consumed) return fail(ErrorCode::invalid_token, "the link is unknown, used or expired", "token");

  // Consumed first, then set: of two redemptions only one gets here. When
  // the password cannot be set, the token is given back so the user can try
  // again once the cause is gone (a directory down); a crash in between
  // leaves it consumed, which costs the user a new link, never a second use.
  if (auto set = op.runtime.chain->set_password(consumed->username, password); !set) {
    Error error = std::move(set).error();
    if (error.code == ErrorCode::not_found) {
      // The account went since the link was made: the link is dead.
      return fail(ErrorCode::invalid_token, "the link is unknown, used or expired", "token");
    }
    auto lease = op.runtime.database->acquire();
    (void)restore_reset_token(lease, *consumed);
    return error;
  }
  // Every other link of the account dies with the old password, and a user
  // who proved they own the address starts with a clean lockout count.
  RETURN_IF_ERROR(invalidate_reset_links(op.runtime, consumed->username));
  LoginLockout lockout(*op.runtime.database, op.runtime.config->security.lockout);
  RETURN_IF_ERROR(lockout.record_success(consumed->username));
  return Json::object();
}

bool can_change_passwords(const JsonOperationContext& op, const User& user) {
  for (const auto& directory : op.runtime.chain->directories()) {
    if (directory->name() == user.directory) return directory->permissions() == Permissions::read_write;
  }
  return false;
}

Result<Json> send_password_reset(const JsonOperationContext& op) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  RETURN_IF_ERROR(require_mail(op.runtime, "sending a password-reset link"));
  const auto username = op.params.at("username").get<std::string>();
  auto found = op.runtime.chain->find_user(username);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return fail(ErrorCode::not_found, "no user '" + username + "'", "username");
  const User& user = **found;
  if (!user.email || user.email->empty()) {
    return fail(ErrorCode::not_found, "the user '" + user.username + "' has no email address", "email");
  }
  // An admin is told at once what a user would only learn at reset time.
  if (!can_change_passwords(op, user)) {
    return fail(ErrorCode::read_only, "directory '" + user.directory + "' does not permit changing passwords");
  }
  const ResetLink link = make_reset_link(*op.runtime.config, ResetPurpose::password_reset);
  auto mail =
      compose_reset_mail(op.runtime, link, *user.email, user.username, user.display_name.value_or(user.username));
  RETURN_IF_ERROR(mail);
  RETURN_IF_ERROR(store_and_enqueue(op, link, user.username, *mail));
  return Json::object();
}

}  // namespace

const std::vector<Operation>& password_reset_operations() {
  using enum ParamType;
  static const std::vector<Operation> operations = {
      {"request_password_reset", false, {{"username", string}, {"email", string}}, request_password_reset,
       /*writes=*/true},
      {"reset_password", false, {{"token", string, true}, {"password", string, true}}, reset_password,
       /*writes=*/true},
      {"send_password_reset", true, {{"username", string, true}}, send_password_reset, /*writes=*/true},
  };
  return operations;
}

}  // namespace dirproxy
