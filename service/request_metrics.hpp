// The service's count of its requests: dirproxy_requests_total by front end,
// operation and result (ok or the error code), and
// dirproxy_request_duration_seconds by front end and operation, from the
// service taking the request to its answer being settled.
//
// A cached get_user is answered in a few microseconds, so recording one must
// cost next to nothing: the series of an operation are found once per front
// end and kept in a table that is read without a lock (a pointer load and a
// compare), and a record is then three relaxed atomic additions. Nothing is
// allocated after an operation's first request.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>

#include "core/metrics_registry.hpp"
#include "core/result.hpp"
#include "service/caller.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

class RequestMetrics final {
 public:
  // Counts into `registry`; counts nothing when it is null.
  explicit RequestMetrics(metrics::Registry* registry);
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  // One request of the operation `policy` declares, from `front_end`, that
  // took `elapsed` and ended with `error` (null: ok).
  void record(FrontEnd front_end, const OperationPolicy& policy, const Error* error, std::chrono::nanoseconds elapsed);

 private:
  // "ok" and one per ErrorCode.
  static constexpr std::size_t kResults = static_cast<std::size_t>(ErrorCode::internal_error) + 2;
  // Far more than (operations × front ends); a full table stops counting new
  // operations rather than allocating on the hot path.
  static constexpr std::size_t kSlots = 512;

  struct Operation {
    const OperationPolicy* policy = nullptr;
    FrontEnd front_end = FrontEnd::socket;
    metrics::Histogram* latency = nullptr;
    std::array<std::atomic<metrics::Counter*>, kResults> results{};
  };

  Operation* operation(FrontEnd front_end, const OperationPolicy& policy);
  Operation* add_operation(FrontEnd front_end, const OperationPolicy& policy, std::size_t slot);
  metrics::Counter& result_counter(Operation& operation, std::size_t result);

  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* latency_ = nullptr;
  // Open addressing on the policy's address; a slot, once set, never changes.
  std::array<std::atomic<Operation*>, kSlots> slots_{};
  std::mutex mutex_;             // serializes additions
  std::deque<Operation> owned_;  // guarded by mutex_; a deque never moves its elements
};

}  // namespace dirproxy
