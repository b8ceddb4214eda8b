#include "accounts/login_lockout.hpp"

#include <algorithm>

#include "core/timestamp.hpp"

namespace dirproxy {
LoginLockout::LoginLockout(StateDatabase& database, const config::Lockout& settings, metrics::Registry* metrics)
    : database_(database), settings_(settings), metrics_(metrics) {}

Result<void> LoginLockout::check(std::string_view username, std::int64_t now) {
  auto lease = database_.acquire();
  auto select = lease.prepare("SELECT locked_until FROM login_failures WHERE username = ?1", username);
  RETURN_IF_ERROR(select);
  auto row = select->step();
  RETURN_IF_ERROR(row);
  if (!*row || select->column_is_null(0)) return {};
  const std::int64_t locked_until = select->column_int64(0);
  if (locked_until <= now) return {};
  Error locked = make_error(ErrorCode::account_locked, "too many failed attempts; try again later");
  locked.retry_after = std::max<std::int64_t>(1, locked_until - now);
  return locked;
}

Result<void> LoginLockout::record_failure(std::string_view username, std::int64_t now) {
  const std::int64_t window = whole_seconds(settings_.window);
  bool lock_begins = false;
  // A write transaction from the start: two failures at once must both count.
  auto recorded = database_.acquire().write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    auto select =
        lease.prepare("SELECT failures, window_start, locked_until FROM login_failures WHERE username = ?1", username);
    RETURN_IF_ERROR(select);
    auto row = select->step();
    RETURN_IF_ERROR(row);
    const bool known = *row;
    std::int64_t failures = 1;
    std::int64_t window_start = now;
    if (known) {
      const std::optional<std::int64_t> locked_until =
          select->column_is_null(2) ? std::nullopt : std::optional(select->column_int64(2));
      // Failures while locked (a request that passed check() just before the
      // lock began) do not lengthen the lock.
      if (locked_until && *locked_until > now) return {};
      const bool window_over = select->column_int64(1) + window <= now;
      if (!window_over && !locked_until) {
        failures = select->column_int64(0) + 1;
        window_start = select->column_int64(1);
      }
    }
    std::optional<std::int64_t> locked_until;
    lock_begins = failures >= static_cast<std::int64_t>(settings_.max_failures);
    if (lock_begins) locked_until = now + whole_seconds(settings_.duration);
    auto upsert = lease.prepare(
        "INSERT INTO login_failures (username, failures, window_start, locked_until) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (username) DO UPDATE SET failures = excluded.failures,"
        " window_start = excluded.window_start, locked_until = excluded.locked_until",
        username, failures, window_start);
    RETURN_IF_ERROR(upsert);
    if (locked_until) {
      upsert->bind(4, *locked_until);
    } else {
      upsert->bind_null(4);
    }
    RETURN_IF_ERROR(upsert->run());
    if (!known) RETURN_IF_ERROR(prune(lease, now, window));
    return {};
  });
  if (recorded && lock_begins && metrics_ != nullptr) locks_begun(*metrics_).increment();
  return recorded;
}

Result<void> LoginLockout::record_success(std::string_view username) {
  auto lease = database_.acquire();
  // Look before deleting: the common case (no failures) then costs a read,
  // not the database's write lock.
  auto select = lease.prepare("SELECT 1 FROM login_failures WHERE username = ?1", username);
  RETURN_IF_ERROR(select);
  auto row = select->step();
  RETURN_IF_ERROR(row);
  if (!*row) return {};
  auto remove = lease.prepare("DELETE FROM login_failures WHERE username = ?1", username);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

metrics::Counter& LoginLockout::locks_begun(metrics::Registry& registry) {
  return registry.counter("dirproxy_lockouts_total", "Usernames locked by security.lockout (locks begun).").with({});
}

Result<std::int64_t> LoginLockout::count_locked(StateDatabase& database, std::int64_t now) {
  auto lease = database.acquire();
  auto select = lease.prepare("SELECT count(*) FROM login_failures WHERE locked_until > ?1", now);
  RETURN_IF_ERROR(select);
  auto row = select->step();
  RETURN_IF_ERROR(row);
  return select->column_int64(0);
}

Result<void> LoginLockout::prune(const StateDatabase::Lease& lease, std::int64_t now, std::int64_t window) {
  auto remove = lease.prepare(
      "DELETE FROM login_failures WHERE window_start + ?2 <= ?1 AND (locked_until IS NULL OR locked_until <= ?1)", now,
      window);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

}  // namespace dirproxy
