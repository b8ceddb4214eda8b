// request_password_reset, reset_password, check_password_reset (public) and
// send_password_reset (admin): the password-reset links of docs/protocol.md. A link carries a
// single-use token stored only as its hash (reset_token_store.hpp); its mail
// is enqueued in the transaction that stores it and goes only to the address
// stored for the account.
#include <optional>

#include "accounts/login_lockout.hpp"
#include "service/account_operation_support.hpp"
#include "service/password_reset_requests.hpp"
#include "service/reset_link.hpp"

namespace dirproxy {
namespace {

Error dead_link() { return make_error(ErrorCode::invalid_token, "the link is unknown, used or expired", "token"); }

// Drops the expired links, then stores `link` for `account` and enqueues
// `mail`, which carries it, in one write transaction: the link exists exactly
// when its mail will go out. With no account, only the expired links go.
Result<void> store_link(const Runtime& runtime, const ResetLink& link, const User* account, const OutgoingMail* mail) {
  auto lease = runtime.database->acquire();
  return lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    // Expired links can never be used again; dropping them here keeps the
    // table as small as the links that can still work.
    RETURN_IF_ERROR(prune_reset_tokens(lease, link.created_at));
    if (account == nullptr) return {};
    RETURN_IF_ERROR(store_reset_link(lease, link, account->username));
    return enqueue_mail(lease, *mail, link.created_at);
  });
}

// Who a request_password_reset asks for: a username, or a parsed email.
struct ResetAddressee {
  std::optional<std::string> username;
  std::optional<std::string> email;  // lower-cased (AccountPolicy::check_email)
};

Result<ResetAddressee> addressee_of(const Runtime& runtime, const RequestPasswordResetRequest& request) {
  if (request.username.has_value() == request.email.has_value()) {
    return fail(ErrorCode::bad_request, "give exactly one of 'username' and 'email'",
                request.username ? "email" : "username");
  }
  if (request.username) return ResetAddressee{request.username, std::nullopt};
  auto parsed = runtime.policy.check_email(*request.email);
  RETURN_IF_ERROR(parsed);
  return ResetAddressee{std::nullopt, std::move(*parsed)};
}

// Uses up the link of `token` at `now`; nullopt when it is unknown, used or
// expired. Its lease is given back before the caller asks the chain: the
// internal directory needs pooled connections of its own.
Result<std::optional<ConsumedResetToken>> consume_link(const Runtime& runtime, std::string_view token,
                                                       std::int64_t now) {
  auto lease = runtime.database->acquire();
  return lease.write_transaction(
      [&](const StateDatabase::Lease& lease) { return consume_reset_token(lease, token, now); });
}

bool can_change_passwords(const Runtime& runtime, const User& user) {
  for (const auto& directory : runtime.chain->directories()) {
    if (directory->name() == user.directory) return directory->permissions() == Permissions::read_write;
  }
  return false;
}

}  // namespace

Result<void> check(const OperationContext& op, const RequestPasswordResetRequest& request) {
  const Runtime& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(admit_client(op));
  RETURN_IF_ERROR(addressee_of(runtime, request));
  return require_mail(runtime, "sending a password-reset link");
}

Result<void> run(const OperationContext& op, const RequestPasswordResetRequest& request) {
  const Runtime& runtime = op.runtime;
  auto addressee = addressee_of(runtime, request);
  RETURN_IF_ERROR(addressee);
  RETURN_IF_ERROR(require_mail(runtime, "sending a password-reset link"));
  auto found = addressee->username ? runtime.chain->find_user(*addressee->username)
                                   : runtime.chain->find_user_by_email(*addressee->email);
  RETURN_IF_ERROR(found);
  const ResetLink link = make_reset_link(*runtime.config, ResetPurpose::password_reset, op.now());
  // Only an active account with a stored address gets a link, and only at
  // that address. An account in a directory that cannot change passwords
  // still gets it: reset_password then answers read_only, which tells the
  // user where their password is managed.
  if (!found->has_value() || !(*found)->active || !(*found)->email || (*found)->email->empty()) {
    return store_link(runtime, link, nullptr, nullptr);
  }
  const User& account = **found;
  auto mail = compose_reset_mail(runtime, link, *account.email, account.username,
                                 account.display_name.value_or(account.username));
  RETURN_IF_ERROR(mail);
  return store_link(runtime, link, &account, &*mail);
}

Result<void> run(const OperationContext& op, const ResetPasswordRequest& request) {
  const Runtime& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(admit_client(op));
  // Before the token is consumed: a weak password must not burn the link.
  RETURN_IF_ERROR(runtime.policy.check_password(request.password));

  auto consumed = consume_link(runtime, request.token, op.now());
  RETURN_IF_ERROR(consumed);
  if (!consumed->has_value()) return dead_link();
  const ConsumedResetToken& link = **consumed;

  // Consumed first, then set: of two redemptions only one gets here. When
  // the password cannot be set, the token is given back so the user can try
  // again once the cause is gone (a directory down); a crash in between
  // leaves it consumed, which costs the user a new link, never a second use.
  if (auto set = runtime.chain->set_password(link.username, request.password); !set) {
    Error error = std::move(set).error();
    // The account went since the link was made: the link is dead.
    if (error.code == ErrorCode::not_found) return dead_link();
    auto lease = runtime.database->acquire();
    (void)restore_reset_token(lease, link);
    return error;
  }
  // Every other link of the account dies with the old password, and a user
  // who proved they own the address starts with a clean lockout count.
  RETURN_IF_ERROR(invalidate_reset_links(runtime, link.username));
  LoginLockout lockout(*runtime.database, runtime.config->security.lockout);
  return lockout.record_success(link.username);
}

Result<ResetLinkCheck> run(const OperationContext& op, const CheckPasswordResetRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  RETURN_IF_ERROR(admit_client(op));
  auto usable = find_usable_reset_token(op.runtime.database->acquire(), request.token, op.now());
  RETURN_IF_ERROR(usable);
  if (!usable->has_value()) return dead_link();
  return ResetLinkCheck{(*usable)->purpose};
}

Result<void> run(const OperationContext& op, const SendPasswordResetRequest& request) {
  const Runtime& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(require_mail(runtime, "sending a password-reset link"));
  auto found = runtime.chain->find_user(request.username);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return fail(ErrorCode::not_found, "no user '" + request.username + "'", "username");
  const User& user = **found;
  if (!user.email || user.email->empty()) {
    return fail(ErrorCode::not_found, "the user '" + user.username + "' has no email address", "email");
  }
  // An admin is told at once what a user would only learn at reset time.
  if (!can_change_passwords(runtime, user)) {
    return fail(ErrorCode::read_only, "directory '" + user.directory + "' does not permit changing passwords");
  }
  const ResetLink link = make_reset_link(*runtime.config, ResetPurpose::password_reset, op.now());
  auto mail = compose_reset_mail(runtime, link, *user.email, user.username, user.display_name.value_or(user.username));
  RETURN_IF_ERROR(mail);
  return store_link(runtime, link, &user, &*mail);
}

}  // namespace dirproxy
