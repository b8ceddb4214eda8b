// The admin console's sessions as typed requests (docs/web.md, "Admin
// console"): signing in with a directory account that is a member of one of
// web.admin_groups, finding the session of each later request, the notice
// its next page shows, and signing out. The web front end alone calls them
// (they are not on the socket). Sessions live in the state database
// (accounts/admin_session_store.hpp); `run` carries them out
// (service/admin_session_operations.cpp), called through Service::call.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "accounts/admin_session_store.hpp"
#include "service/directory_requests.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

// How long a session trusts the admin's groups as last looked up before it
// asks the directories again. Whether those groups are admin groups is
// decided at every request, with the configuration in force.
inline constexpr std::int64_t kAdminGroupsCheckInterval_s = 60;

// Whether `groups` has one of web.admin_groups of `config` (none when the
// configuration has no web section or its admin_groups is empty).
bool is_admin_member(const config::Config& config, const std::vector<std::string>& groups);

// A signed-in admin's session, as a request finds it.
struct AdminSession {
  std::string username;
  std::string csrf_token;             // every POST of the session carries it
  std::optional<AdminNotice> notice;  // when asked for: the notice, now cleared
};

// A session just started by start_admin_session.
struct StartedAdminSession {
  std::string session_id;  // for the cookie; nowhere else
  std::string csrf_token;
  std::string username;  // as the directory spells it
};

// Signs in: counts against the caller's rate limit (rate_limited), checks
// the password as authenticate does (lockout: account_locked;
// invalid_credentials, account_disabled), then forbidden unless the user
// is a member of one of web.admin_groups; then starts a session. Sessions
// idle for longer than web.session_ttl are deleted on the way.
struct StartAdminSessionRequest {
  static constexpr OperationPolicy policy{.name = "start_admin_session", .writes = true, .audit = AuditPolicy::always};
  using Response = StartedAdminSession;
  std::string username;
  std::string password;
  std::string audit_target() const { return audit_field("username", username); }
};
Result<StartedAdminSession> run(const OperationContext& op, const StartAdminSessionRequest& request);

// The session whose id is `session_id`, and a use of it: nullopt when it is
// unknown, idle for longer than web.session_ttl, or its admin is no longer
// an active member of one of web.admin_groups in the configuration in force
// (the last two end it). The admin's groups are looked up again when the
// session's are older than kAdminGroupsCheckInterval_s.
struct ResumeAdminSessionRequest {
  static constexpr OperationPolicy policy{.name = "resume_admin_session", .writes = true};
  using Response = std::optional<AdminSession>;
  std::string session_id;
  bool take_notice = false;  // return the notice and clear it (a page that shows it)
};
Result<std::optional<AdminSession>> run(const OperationContext& op, const ResumeAdminSessionRequest& request);

// Sets the notice the session's next page shows (the outcome of an action);
// nothing when the session is gone.
struct SetAdminNoticeRequest {
  static constexpr OperationPolicy policy{.name = "set_admin_notice", .writes = true};
  using Response = void;
  std::string session_id;
  AdminNotice notice;
};
Result<void> run(const OperationContext& op, const SetAdminNoticeRequest& request);

// Signs out: the session ends; nothing when it is gone already.
struct EndAdminSessionRequest {
  static constexpr OperationPolicy policy{.name = "end_admin_session", .writes = true, .audit = AuditPolicy::always};
  using Response = void;
  std::string session_id;
};
Result<void> run(const OperationContext& op, const EndAdminSessionRequest& request);

}  // namespace dirproxy
