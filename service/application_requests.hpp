// The applications of the configuration (`applications`, docs/configuration.md)
// as callers: an application with an `ldap` section binds to the LDAP front
// end as cn=NAME,ou=services,BASE with the password whose Argon2id hash the
// section holds.
#pragma once

#include <string>

#include "service/directory_requests.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

struct ApplicationIdentity {
  std::string name;
  bool may_write = false;  // ldap.may_write
};

// invalid_credentials for an unknown application, one without an `ldap`
// section, or a wrong password, after the same Argon2id work; the password
// is checked against the configuration in force when the call runs, so a
// reload that changes it applies to the next bind.
struct AuthenticateApplicationRequest {
  static constexpr OperationPolicy policy{.name = "authenticate_application", .audit = AuditPolicy::failures};
  using Response = ApplicationIdentity;
  std::string name;
  std::string password;
  std::string audit_target() const { return audit_field("application", name); }
};
Result<ApplicationIdentity> run(const OperationContext& op, const AuthenticateApplicationRequest& request);

}  // namespace dirproxy
