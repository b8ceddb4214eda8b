// Per-client rate limiting of the public account operations (signup,
// confirm_signup, request_password_reset, reset_password, request_access):
// at most security.rate_limit.requests per security.rate_limit.per for each
// client_ip. Counts live in memory: they protect a running daemon, and a
// restart forgetting them costs an attacker a restart it cannot cause. The
// limiter outlives reloads (the daemon keeps one), while the limits are read
// from the configuration in force at each call. The caller passes the time
// (its Clock's steady()), so tests move it by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"
#include "core/metrics_registry.hpp"
#include "core/result.hpp"

namespace dirproxy {

class RateLimiter final {
 public:
  // Monotonic time (Clock::steady()): a window never stretches or shrinks
  // when the wall clock is set.
  using TimePoint = std::chrono::steady_clock::time_point;

  // Counts its refusals in `metrics` (dirproxy_rate_limit_refusals_total),
  // when given.
  explicit RateLimiter(metrics::Registry* metrics = nullptr);

  // Counts one request of `client` at `now` (the request's client_ip; a
  // request without one counts against the shared key "" so that an
  // application that never passes client_ip is still limited as a whole).
  // rate_limited with retry_after (seconds, at least 1) when the client has
  // used up its requests in the window that began with its first request.
  Result<void> admit(std::string_view client, const config::RateLimit& limit, TimePoint now);

 private:
  struct Window {
    TimePoint start;
    std::uint32_t count = 0;
  };
  // Drops windows that ended, so that many distinct clients cannot grow the
  // map without bound; called when the map has doubled since the last sweep.
  void sweep(TimePoint::duration per, TimePoint now);

  metrics::Counter* refusals_ = nullptr;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mutex_
  std::size_t sweep_at_ = 1024;                      // guarded by mutex_
};

using RateLimiterPtr = std::shared_ptr<RateLimiter>;

}  // namespace dirproxy
