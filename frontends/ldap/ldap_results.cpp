#include "frontends/ldap/ldap_results.hpp"

namespace dirproxy::ldap {

LdapResult result_of(const Error& error) {
  auto with = [&error](ResultCode code) { return LdapResult{code, "", error.message}; };
  switch (error.code) {
    case ErrorCode::not_found: return with(ResultCode::no_such_object);
    case ErrorCode::conflict: return with(ResultCode::entry_already_exists);
    case ErrorCode::invalid_credentials:
    case ErrorCode::account_disabled:
    case ErrorCode::account_locked: return {ResultCode::invalid_credentials, "", "invalid credentials"};
    // The password was right (APPLICATIONS.md): saying why reveals nothing
    // the client does not know.
    case ErrorCode::access_denied: return {ResultCode::invalid_credentials, "", error.message};
    case ErrorCode::rate_limited: return {ResultCode::busy, "", "too many attempts; try again later"};
    case ErrorCode::invalid_username:
    case ErrorCode::invalid_email: return with(ResultCode::invalid_attribute_syntax);
    case ErrorCode::weak_password:
    case ErrorCode::bad_request:
    case ErrorCode::request_too_large: return with(ResultCode::constraint_violation);
    case ErrorCode::forbidden: return with(ResultCode::insufficient_access_rights);
    case ErrorCode::read_only:
    case ErrorCode::user_management_external:
    case ErrorCode::signup_disabled:
    case ErrorCode::domain_not_allowed:
    case ErrorCode::invalid_token:
    case ErrorCode::mail_not_configured:
    case ErrorCode::unknown_op: return with(ResultCode::unwilling_to_perform);
    case ErrorCode::directory_unavailable:
      return {
          ResultCode::unavailable, "",
          error.directory.empty() ? "a directory is unavailable" : "directory " + error.directory + " is unavailable"};
    case ErrorCode::internal_error: break;
  }
  return {ResultCode::other, "", "internal error"};
}

}  // namespace dirproxy::ldap
