// signup and confirm_signup as typed requests and results (docs/protocol.md,
// "Account life cycle"): a signup creates the account at once (open signup,
// or a valid invitation) or stores it as pending until its email address is
// confirmed (restricted signup); confirm_signup creates a pending one. `run`
// carries them out (service/signup_operations.cpp), called through
// Service::call.
#pragma once

#include <optional>
#include <string>

#include "directories/directory.hpp"
#include "service/directory_requests.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

enum class SignupStatus {
  created,               // the account exists
  pending_confirmation,  // a signup_confirm mail went out; confirm_signup creates it
};

struct SignupOutcome {
  SignupStatus status = SignupStatus::created;
  std::optional<User> user;  // the new account; only when created
};

// Errors, in the order checked: user_management_external, rate_limited,
// invalid_username, invalid_email, bad_request (display_name),
// weak_password; invalid_token (field token, or email for an invitation
// bound to another address); signup_disabled, domain_not_allowed; then, for
// a restricted signup, mail_not_configured and conflict (the username waits
// for another confirmation; whether an account has the username or email
// is not looked up, so that the answer does not tell: confirm_signup
// answers conflict then), and for an account created at once what
// create_account answers.
struct SignupRequest {
  static constexpr OperationPolicy policy{.name = "signup", .writes = true, .audit = AuditPolicy::always};
  using Response = SignupOutcome;
  std::string username;
  std::string email;
  std::string display_name;
  std::string password;
  std::optional<std::string> token;  // an invitation: the shared link's or a single-use one
  std::string audit_target() const { return audit_field("username", username); }
};
Result<SignupOutcome> run(const OperationContext& op, const SignupRequest& request);

// invalid_token when the token is unknown, used or expired
// (signup.confirmation_ttl after the signup); else the new account.
struct ConfirmSignupRequest {
  static constexpr OperationPolicy policy{.name = "confirm_signup", .writes = true, .audit = AuditPolicy::always};
  using Response = User;
  std::string token;
};
Result<User> run(const OperationContext& op, const ConfirmSignupRequest& request);

}  // namespace dirproxy
