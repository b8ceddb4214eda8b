// Per-client rate limiting of the public account operations (signup,
// confirm_signup, request_password_reset, reset_password, request_access):
// at most security.rate_limit.requests per security.rate_limit.per for each
// client_ip. Counts live in memory: they protect a running daemon, and a
// restart forgetting them costs an attacker a restart it cannot cause. The
// limiter outlives reloads (the daemon keeps one), while the limits are read
// from the configuration in force at each call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"
#include "core/result.hpp"

namespace dirproxy {

class RateLimiter final {
 public:
  using Clock = std::chrono::steady_clock;

  // Counts one request of `client` (the request's client_ip; a request
  // without one counts against the shared key "" so that an application that
  // never passes client_ip is still limited as a whole). rate_limited with
  // retry_after (seconds, at least 1) when the client has used up its
  // requests in the current window.
  Result<void> admit(std::string_view client, const config::RateLimit& limit, Clock::time_point now = Clock::now());

 private:
  struct Window {
    Clock::time_point start;
    std::uint32_t count = 0;
  };
  // Drops windows that ended, so that many distinct clients cannot grow the
  // map without bound; called when the map has doubled since the last sweep.
  void sweep(Clock::duration per, Clock::time_point now);

  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mutex_
  std::size_t sweep_at_ = 1024;                       // guarded by mutex_
};

using RateLimiterPtr = std::shared_ptr<RateLimiter>;

}  // namespace dirproxy
