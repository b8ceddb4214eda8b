// Password reset as typed requests (docs/protocol.md, "Set-password links
// and password reset"): a user asks for a link (request_password_reset), an
// admin has one mailed to a user (send_password_reset), and the link's
// single-use token sets a new password (reset_password). A link goes only to
// the address stored for the account. The set-password page asks first
// whether a link can still be used (check_password_reset). Each request
// declares its OperationPolicy; `run` carries it out
// (service/password_reset_operations.cpp), called through Service::call.
#pragma once

#include <optional>
#include <string>

#include "accounts/reset_token_store.hpp"
#include "service/directory_requests.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

// Answered before the account is looked up, so that neither the answer nor
// its timing tells whether the account exists: `check` counts the request
// against the caller's rate limit and checks the input (exactly one of
// username and email, bad_request otherwise; a well-formed email) and that
// mail is configured, and the answer is then success; `run` follows on the
// worker pool: only an active account with a stored address gets a link
// (password_reset.ttl), mailed there. What `run` fails with is logged.
struct RequestPasswordResetRequest {
  static constexpr OperationPolicy policy{
      .name = "request_password_reset", .writes = true, .audit = AuditPolicy::never, .answers_before_work = true};
  using Response = void;
  std::optional<std::string> username;
  std::optional<std::string> email;
  std::string audit_target() const { return username ? audit_field("username", *username) : std::string(); }
};
Result<void> check(const OperationContext& op, const RequestPasswordResetRequest& request);
Result<void> run(const OperationContext& op, const RequestPasswordResetRequest& request);

// Sets the password of the link's account and uses the link up. The
// password is checked first (a weak one does not use up the link);
// invalid_token for a link that is unknown, used or expired, or whose account
// is gone. When the directory refuses the password the link stays usable.
// Every other link of the account dies, and its lockout count is cleared.
// Counts against the caller's rate limit.
struct ResetPasswordRequest {
  static constexpr OperationPolicy policy{.name = "reset_password", .writes = true};
  using Response = void;
  std::string token;
  std::string password;
};
Result<void> run(const OperationContext& op, const ResetPasswordRequest& request);

// What the set-password page may show of a link before it is used: what it
// is for, so that the page says "set your password" to a new user and
// "choose a new password" after a reset. Never the username: a link seen
// over a shoulder or in a proxy's log must not name its account.
struct ResetLinkCheck {
  ResetPurpose purpose = ResetPurpose::password_reset;
};

// Public: whether the link of `token` can still set a password, without
// using it up. user_management_external; rate_limited (it counts against
// the caller's rate limit, so tokens cannot be tried fast); invalid_token
// (field token) for a link that is unknown, used or expired, one answer for
// all, as reset_password gives. The account is not looked up: a link whose
// account has gone since passes, and reset_password refuses it.
struct CheckPasswordResetRequest {
  static constexpr OperationPolicy policy{.name = "check_password_reset"};
  using Response = ResetLinkCheck;
  std::string token;
};
Result<ResetLinkCheck> run(const OperationContext& op, const CheckPasswordResetRequest& request);

// Mails the user a fresh link (password_reset.ttl) at their stored address.
// not_found (field username) for no such user, not_found (field email) for
// one without an address, read_only when their directory cannot change
// passwords.
struct SendPasswordResetRequest {
  static constexpr OperationPolicy policy = admin_write("send_password_reset");
  using Response = void;
  std::string username;
  std::string audit_target() const { return audit_field("username", username); }
};
Result<void> run(const OperationContext& op, const SendPasswordResetRequest& request);

}  // namespace dirproxy
