// The applications of the configuration (`applications`, APPLICATIONS.md,
// docs/applications.md) as callers, and who may use them.
//
// - An application with an `ldap` section binds to the LDAP front end as
//   cn=NAME,ou=services,BASE with the password whose Argon2id hash the
//   section holds.
// - A request acts for the application its Caller names (Caller::application;
//   the socket front end finds it with socket_application). The rules are
//   read from the configuration in force when the request runs.
// - A user is admitted to an application whose access_groups is empty, or
//   when one of the user's groups, as the chain computes them (membership
//   aggregate or first, nested groups), is one of its access_groups. So a
//   local group in the internal directory can admit an LDAP user.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
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

// The application named `name` in `config`, or null.
const config::Application* find_application(const config::Config& config, std::string_view name);

// The application `op`'s caller acts for (Caller::application) in the
// configuration in force, or null: no application, or one a reload removed.
const config::Application* acting_application(const OperationContext& op);

// The application whose socket_users hold `uid`, or nullopt (the loader
// keeps a uid in one application's list at most).
std::optional<std::string> socket_application(const config::Config& config, uid_t uid);

// Whether a user whose groups (sorted names, as DirectoryChain::user_groups
// gives them) are `groups` may use `application`: access_groups empty, or
// one of them among `groups`, compared folded.
bool admits(const config::Application& application, const std::vector<std::string>& groups);

// access_denied when `user` (authenticated, with their groups) may not use
// the application op's caller acts for; nothing when there is none.
Result<void> check_access(const OperationContext& op, const AuthenticatedUser& user);

// dirproxyctl applications --------------------------------------------------

struct ApplicationSummary {
  std::string name;
  std::vector<std::string> access_groups;  // as configured; empty = everyone
  std::vector<std::string> socket_users;   // as configured
  bool ldap = false;                       // has an ldap section
  std::string base_dn;                     // ldap.base_dn, or empty
  bool may_write = false;                  // ldap.may_write
  // How many users of the chain the application admits (every user's
  // groups are computed: an admin command, not for a hot path).
  std::uint64_t admitted_users = 0;
};

struct ListApplicationsRequest {
  static constexpr OperationPolicy policy{.name = "list_applications", .admin_only = true};
  using Response = std::vector<ApplicationSummary>;  // in the configuration's order
};
Result<std::vector<ApplicationSummary>> run(const OperationContext& op, const ListApplicationsRequest& request);

// dirproxyctl user access USERNAME ------------------------------------------

struct UserAccess {
  std::string username;
  std::vector<std::string> groups;        // the user's groups, sorted
  std::vector<std::string> applications;  // the applications admitting them, in the configuration's order
};

// not_found when no directory has the user.
struct GetUserAccessRequest {
  static constexpr OperationPolicy policy{.name = "get_user_access", .admin_only = true};
  using Response = UserAccess;
  std::string username;
  std::string audit_target() const { return audit_field("username", username); }
};
Result<UserAccess> run(const OperationContext& op, const GetUserAccessRequest& request);

}  // namespace dirproxy
