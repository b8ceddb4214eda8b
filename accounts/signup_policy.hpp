// Who may sign up, and how (signup.* in the configuration): with signup
// disabled only an invitation opens the door; open signup creates the account
// at once; restricted signup admits only emails whose domain is on the
// allow-list, and then only after the address is confirmed. A valid
// invitation was sent by an admin, so it bypasses both the mode and the
// domain list and creates the account at once.
//
// The domain check works on the strictly parsed address only
// (config/email_address.hpp), so "a@example.com@evil.com", quoted local parts
// and addresses with spaces or newlines never reach the comparison, and
// config::domain_matches compares whole labels ("evilexample.com" is not
// "example.com", and "*.example.com" does not match the apex).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace dirproxy {

enum class SignupPath {
  create_now,        // open signup, or a valid invitation
  confirm_by_email,  // restricted signup: a pending signup and a confirmation mail
};

// domain_not_allowed (field "email") unless the domain of `normalised_email`
// (an address already accepted by AccountPolicy::check_email) matches one of
// `domains`; invalid_email when it does not parse.
Result<void> check_signup_domain(const std::vector<std::string>& domains, std::string_view email);

// How a signup for `email` goes under `signup`: signup_disabled when the mode
// is disabled and there is no valid invitation, domain_not_allowed (or
// invalid_email) from check_signup_domain for restricted signup.
Result<SignupPath> signup_path(const config::Signup& signup, std::string_view email, bool valid_invitation);

}  // namespace dirproxy
