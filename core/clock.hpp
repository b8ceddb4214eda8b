// Where every layer reads the time. Expiry, lockout and rate-limit windows,
// and the outbox's retries all ask a Clock, so tests replace it with a
// ManualClock (tests/support/manual_clock.hpp) and prove a 24-hour expiry in
// microseconds instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace dirproxy {

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time in seconds since the Unix epoch: what the state database
  // stores and compares, and what RFC 3339 timestamps show.
  virtual std::int64_t unix_seconds() const = 0;

  // Monotonic time, for windows kept in memory (rate limits): it never goes
  // back when the wall clock is set.
  virtual std::chrono::steady_clock::time_point steady() const = 0;
};

using ClockPtr = std::shared_ptr<const Clock>;

// The system's clocks.
class SystemClock final : public Clock {
 public:
  std::int64_t unix_seconds() const override;
  std::chrono::steady_clock::time_point steady() const override { return std::chrono::steady_clock::now(); }
};

// The process's one SystemClock.
ClockPtr system_clock();

}  // namespace dirproxy
