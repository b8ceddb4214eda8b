// Lockout per username (security.lockout, table login_failures): after
// max_failures failed authentications within `window`, the username is
// locked for `duration`, and authenticate answers account_locked with
// retry_after before it verifies anything, even the right password.
//
// Usernames are counted whether or not an account has them, so that the
// lockout reveals nothing about which accounts exist. One row per username
// (compared case-insensitively) holds its count; rows whose window and lock
// are over are deleted as new usernames arrive, so a flood of failures for
// one or many usernames grows nothing without bound. Times are Unix seconds
// passed in by the caller, so tests can move the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "core/metrics_registry.hpp"
#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

class LoginLockout final {
 public:
  // Each lock that begins is counted in `metrics` (dirproxy_lockouts_total),
  // when given.
  LoginLockout(StateDatabase& database, const config::Lockout& settings, metrics::Registry* metrics = nullptr);

  // account_locked, with retry_after (seconds, at least 1) and a message
  // that names no account state, while `username` is locked at `now`.
  Result<void> check(std::string_view username, std::int64_t now);

  // Counts one failed authentication of `username` at `now`; the failure
  // that reaches max_failures within the window starts the lock.
  Result<void> record_failure(std::string_view username, std::int64_t now);

  // A right password (or a password reset): the count starts again.
  Result<void> record_success(std::string_view username);

  // How many usernames are locked at `now` (dirproxy_locked_usernames).
  static Result<std::int64_t> count_locked(StateDatabase& database, std::int64_t now);

  // The count of locks begun (dirproxy_lockouts_total) in `registry`; made
  // at the first call, so calling it early makes the count read 0 until the
  // first lock.
  static metrics::Counter& locks_begun(metrics::Registry& registry);

 private:
  // Removes rows of other usernames whose window and lock ended before
  // `now`. Called when a new username gets a row, so the table holds at
  // most the usernames that failed within one window.
  static Result<void> prune(const StateDatabase::Lease& lease, std::int64_t now, std::int64_t window);

  StateDatabase& database_;
  const config::Lockout settings_;
  metrics::Registry* metrics_;
};

}  // namespace dirproxy
