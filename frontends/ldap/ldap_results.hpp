// The LDAP result code and message that answer a service error.
#pragma once

#include "core/result.hpp"
#include "frontends/ldap/ldap_message.hpp"

namespace dirproxy::ldap {

// not_found → noSuchObject, conflict → entryAlreadyExists, a refused
// credential → invalidCredentials, an invalid value → invalidAttributeSyntax
// or constraintViolation, read_only → unwillingToPerform, forbidden →
// insufficientAccessRights, directory_unavailable → unavailable; the
// service's message goes along, except for an internal error, whose detail
// the service has already logged and kept out of its message.
LdapResult result_of(const Error& error);

// A result with no matched DN. The operations pass results to their
// coroutines made so, never brace-initialised at the call: g++ 12 destroys a
// coroutine's by-value parameter twice when it is initialised from a braced
// list there (seen as a double free in StartTLS).
inline LdapResult make_result(ResultCode code, std::string diagnostic) { return {code, "", std::move(diagnostic)}; }

}  // namespace dirproxy::ldap
