// A Clock that stands still until a test moves it: both its wall-clock and
// its monotonic time advance only by advance(). Thread-safe, so a daemon's
// threads may read it while the test moves it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/clock.hpp"

namespace dirproxy::testing {

class ManualClock final : public Clock {
 public:
  // Starts at `unix_seconds` (default: 2026-01-01T00:00:00Z).
  explicit ManualClock(std::int64_t unix_seconds = 1767225600) : seconds_(unix_seconds) {}

  std::int64_t unix_seconds() const override { return seconds_.load(); }
  std::chrono::steady_clock::time_point steady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(seconds_.load() - start_));
  }

  void advance(std::chrono::seconds by) { seconds_ += by.count(); }

 private:
  std::atomic<std::int64_t> seconds_;
  const std::int64_t start_ = seconds_.load();
};

}  // namespace dirproxy::testing
