#include "accounts/signup_policy.hpp"

#include "config/dns_name.hpp"
#include "config/email_address.hpp"

namespace dirproxy {

Result<void> check_signup_domain(const std::vector<std::string>& domains, std::string_view email) {
  auto parsed = config::parse_email_address(email);
  if (!parsed) return fail(ErrorCode::invalid_email, "invalid email address: " + parsed.reason, "email");
  for (const auto& pattern : domains) {
    if (config::domain_matches(pattern, parsed.address->domain)) return {};
  }
  return fail(ErrorCode::domain_not_allowed, "signup is not open to the domain '" + parsed.address->domain + "'",
              "email");
}

Result<SignupPath> signup_path(const config::Signup& signup, std::string_view email, bool valid_invitation) {
  if (valid_invitation) return SignupPath::create_now;
  switch (signup.mode) {
    case config::SignupMode::disabled:
      return fail(ErrorCode::signup_disabled, "signup is disabled; an invitation is needed", "token");
    case config::SignupMode::open: return SignupPath::create_now;
    case config::SignupMode::restricted:
      RETURN_IF_ERROR(check_signup_domain(signup.domains, email));
      return SignupPath::confirm_by_email;
  }
  return fail(ErrorCode::signup_disabled, "signup is disabled", "token");
}

}  // namespace dirproxy
