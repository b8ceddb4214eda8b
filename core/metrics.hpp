// The instruments of the metrics an operator scrapes (docs/operations.md,
// "Monitoring"): a Counter that only goes up, a Gauge that is set, and a
// Histogram of durations. Each is made and named by a metrics::Registry
// (metrics_registry.hpp), which renders them in Prometheus' text format.
//
// Updating one is a few relaxed atomic additions: no lock, no allocation, safe
// from any thread. That is what lets the hot paths count (a cached get_user
// is answered in microseconds, docs/design.md "Performance targets").
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace dirproxy::metrics {

// How many times something happened since the daemon started.
class Counter final {
 public:
  void increment(std::uint64_t by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value at the moment of the scrape (open connections, queued mail).
class Gauge final {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// The buckets of latency histograms, in seconds: from a cached lookup (tens
// of microseconds) to an Argon2id verify or an LDAP server near its timeout.
inline constexpr std::array<double, 18> kLatencyBuckets = {
    0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// How long something took, counted into buckets by upper bound (Prometheus'
// cumulative histogram, in seconds).
class Histogram final {
 public:
  // `upper_bounds` in seconds, ascending; the +Inf bucket is implicit.
  explicit Histogram(std::span<const double> upper_bounds)
      : upper_bounds_(upper_bounds.begin(), upper_bounds.end()),
        counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {
    bounds_ns_.reserve(upper_bounds.size());
    for (double bound : upper_bounds) bounds_ns_.push_back(static_cast<std::int64_t>(bound * 1e9));
  }

  void observe(std::chrono::nanoseconds duration) noexcept {
    const std::int64_t ns = std::max<std::int64_t>(0, duration.count());
    // A bucket's bound is inclusive (Prometheus' "le").
    const auto bucket =
        static_cast<std::size_t>(std::lower_bound(bounds_ns_.begin(), bounds_ns_.end(), ns) - bounds_ns_.begin());
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<std::uint64_t> cumulative_counts;  // per upper bound, then +Inf (the count)
    double sum_seconds = 0;
  };
  // Consistent within itself: the +Inf bucket is the sum of the others.
  Snapshot snapshot() const {
    Snapshot snapshot;
    snapshot.cumulative_counts.reserve(upper_bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
      running += counts_[i].load(std::memory_order_relaxed);
      snapshot.cumulative_counts.push_back(running);
    }
    snapshot.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    return snapshot;
  }

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double> upper_bounds_;
  std::vector<std::int64_t> bounds_ns_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace dirproxy::metrics
