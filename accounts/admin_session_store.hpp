// The admin console's sessions (table admin_sessions; docs/web.md, "Admin
// console"): who signed in, the CSRF token every form of the session
// carries, when the session was last used (it ends after web.session_ttl
// idle), the admin's directory groups as last looked up, and the notice the
// next page shows once. Only the hash of the session id is stored: the id
// itself is in the admin's cookie and nowhere else, so a copy of the
// database does not let anyone in.
//
// Every function works on the caller's lease. Times are Unix seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// What the next page of a session shows once: the outcome of an action.
struct AdminNotice {
  std::string text;
  bool is_error = false;
};

struct AdminSessionRecord {
  std::int64_t id = 0;  // the row's; never the session id
  std::string username;
  std::string csrf_token;
  std::vector<std::string> groups;  // as looked up at groups_checked_at
  std::int64_t groups_checked_at = 0;
  std::optional<AdminNotice> notice;
  std::int64_t created_at = 0;
  std::int64_t last_seen_at = 0;
};

// A session just started: the id goes into the cookie, the token into
// every form.
struct NewAdminSession {
  std::string session_id;  // 32 random bytes, base64url; stored only as its hash
  std::string csrf_token;  // 32 random bytes, base64url
};

// Starts a session for `username`, whose directory groups at `now` are
// `groups`.
Result<NewAdminSession> create_admin_session(const StateDatabase::Lease& lease, std::string_view username,
                                             const std::vector<std::string>& groups, std::int64_t now);

// The session whose id is `session_id`, if it was used at or after
// `idle_cutoff`; a session idle for longer is deleted and nullopt returned,
// as for an unknown or malformed id.
Result<std::optional<AdminSessionRecord>> find_admin_session(const StateDatabase::Lease& lease,
                                                             std::string_view session_id, std::int64_t idle_cutoff);

// Records a use of session `id` at `now` (the idle time starts again).
Result<void> touch_admin_session(const StateDatabase::Lease& lease, std::int64_t id, std::int64_t now);

// Records the admin's groups as looked up at `now`.
Result<void> store_admin_session_groups(const StateDatabase::Lease& lease, std::int64_t id,
                                        const std::vector<std::string>& groups, std::int64_t now);

// Sets (or with nullopt clears) the notice the session's next page shows.
Result<void> set_admin_notice(const StateDatabase::Lease& lease, std::int64_t id,
                              const std::optional<AdminNotice>& notice);

// Ends the session whose id is `session_id` (logout); nothing when unknown.
Result<void> delete_admin_session(const StateDatabase::Lease& lease, std::string_view session_id);

// Ends session `id` (its admin may no longer use the console).
Result<void> delete_admin_session(const StateDatabase::Lease& lease, std::int64_t id);

// Deletes the sessions last used before `idle_cutoff`: they can never be
// used again, and abandoned sessions must not pile up.
Result<void> prune_admin_sessions(const StateDatabase::Lease& lease, std::int64_t idle_cutoff);

}  // namespace dirproxy
