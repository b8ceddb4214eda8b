#include "accounts/rate_limiter.hpp"

#include <algorithm>

namespace dirproxy {

RateLimiter::RateLimiter(metrics::Registry* metrics) {
  if (metrics == nullptr) return;
  refusals_ = &metrics
                   ->counter("dirproxy_rate_limit_refusals_total",
                             "Requests refused as rate_limited by security.rate_limit (per client_ip).")
                   .with({});
}

Result<void> RateLimiter::admit(std::string_view client, const config::RateLimit& limit, TimePoint now) {
  const auto per = std::chrono::duration_cast<TimePoint::duration>(limit.per);
  std::lock_guard lock(mutex_);
  if (windows_.size() >= sweep_at_) sweep(per, now);
  Window& window = windows_[std::string(client)];
  if (window.count == 0 || now - window.start >= per) {
    window.start = now;
    window.count = 0;
  }
  if (window.count >= limit.requests) {
    if (refusals_ != nullptr) refusals_->increment();
    const auto left = std::chrono::ceil<std::chrono::seconds>(window.start + per - now);
    Error error = make_error(ErrorCode::rate_limited, "too many requests from this client; try again later");
    error.retry_after = std::max<std::int64_t>(1, left.count());
    return error;
  }
  ++window.count;
  return {};
}

void RateLimiter::sweep(TimePoint::duration per, TimePoint now) {
  std::erase_if(windows_, [&](const auto& entry) { return now - entry.second.start >= per; });
  sweep_at_ = std::max<std::size_t>(1024, windows_.size() * 2);
}

}  // namespace dirproxy
