#include "core/log_throttle.hpp"

#include <utility>

namespace dirproxy {

LogThrottle::LogThrottle(ClockPtr clock, std::chrono::seconds interval)
    : clock_(std::move(clock)), interval_(interval) {}

bool LogThrottle::interval_passed() const { return !last_report_ || clock_->steady() - *last_report_ >= interval_; }

LogThrottle::Report LogThrottle::record() {
  std::lock_guard lock(mutex_);
  if (interval_passed()) {
    const std::uint64_t events = std::exchange(held_back_, 0) + 1;
    last_report_ = clock_->steady();
    return {events, false};
  }
  return {0, ++held_back_ == 1};
}

std::uint64_t LogThrottle::flush() {
  std::lock_guard lock(mutex_);
  if (held_back_ == 0 || !interval_passed()) return 0;
  last_report_ = clock_->steady();
  return std::exchange(held_back_, 0);
}

}  // namespace dirproxy
