// Logging an event that can come in a flood (a refused connection) without
// one line per event: the first is reported at once, those that follow within
// the interval are counted, and the count is reported in one line once the
// interval has passed. So a thousand refusals in a second cost two lines.
// Time comes from a Clock, so tests move it instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "core/clock.hpp"

namespace dirproxy {

class LogThrottle final {
 public:
  LogThrottle(ClockPtr clock, std::chrono::seconds interval);

  struct Report {
    // Events to report in a line now (this one and any held back), or 0: it
    // is held back.
    std::uint64_t events = 0;
    // This is the first event held back since the last report: call flush()
    // once the interval has passed, or the count waits for the next event.
    bool flush_due = false;
  };

  // Counts one event. Thread-safe.
  Report record();

  // The events held back, to report in a line now, once the interval since
  // the last report has passed (a new interval starts); 0 when none are held
  // back or the interval has not passed. Thread-safe.
  std::uint64_t flush();

  std::chrono::seconds interval() const { return interval_; }

 private:
  bool interval_passed() const;

  const ClockPtr clock_;
  const std::chrono::seconds interval_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> last_report_;
  std::uint64_t held_back_ = 0;
};

}  // namespace dirproxy
