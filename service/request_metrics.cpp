#include "service/request_metrics.hpp"

#include <cstdint>
#include <string>

#include "core/logging.hpp"

namespace dirproxy {
namespace {

std::size_t result_index(const Error* error) {
  return error == nullptr ? 0 : static_cast<std::size_t>(error->code) + 1;
}

std::string_view result_name(std::size_t index) {
  return index == 0 ? std::string_view("ok") : to_string(static_cast<ErrorCode>(index - 1));
}

}  // namespace

RequestMetrics::RequestMetrics(metrics::Registry* registry) {
  if (registry == nullptr) return;
  requests_ = &registry->counter("dirproxy_requests_total",
                                 "Requests the service answered, by front end, operation and result (ok or the "
                                 "error code).",
                                 {"frontend", "operation", "result"});
  latency_ = &registry->histogram("dirproxy_request_duration_seconds",
                                  "Time from the service taking a request to its answer, by front end and operation.",
                                  {"frontend", "operation"});
}

void RequestMetrics::record(FrontEnd front_end, const OperationPolicy& policy, const Error* error,
                            std::chrono::nanoseconds elapsed) {
  if (requests_ == nullptr) return;
  Operation* found = operation(front_end, policy);
  if (found == nullptr) return;
  result_counter(*found, result_index(error)).increment();
  found->latency->observe(elapsed);
}

RequestMetrics::Operation* RequestMetrics::operation(FrontEnd front_end, const OperationPolicy& policy) {
  // Fibonacci hashing of the address: policies are static objects a few
  // dozen bytes apart.
  const auto key = reinterpret_cast<std::uintptr_t>(&policy) + static_cast<std::uintptr_t>(front_end);
  const std::size_t start = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 55) % kSlots;
  for (std::size_t probe = 0; probe < kSlots; ++probe) {
    const std::size_t slot = (start + probe) % kSlots;
    Operation* entry = slots_[slot].load(std::memory_order_acquire);
    if (entry == nullptr) return add_operation(front_end, policy, slot);
    if (entry->policy == &policy && entry->front_end == front_end) return entry;
  }
  return nullptr;
}

RequestMetrics::Operation* RequestMetrics::add_operation(FrontEnd front_end, const OperationPolicy& policy,
                                                         std::size_t slot) {
  std::lock_guard lock(mutex_);
  // Another thread may have filled the slot, or a later one, meanwhile.
  for (std::size_t probe = 0; probe < kSlots; ++probe) {
    const std::size_t at = (slot + probe) % kSlots;
    Operation* entry = slots_[at].load(std::memory_order_acquire);
    if (entry != nullptr) {
      if (entry->policy == &policy && entry->front_end == front_end) return entry;
      continue;
    }
    Operation& added = owned_.emplace_back();
    added.policy = &policy;
    added.front_end = front_end;
    added.latency = &latency_->with({to_string(front_end), policy.name});
    slots_[at].store(&added, std::memory_order_release);
    return &added;
  }
  static const auto log = logging::logger("metrics");
  log->error("no room to count operation {}; its requests are not counted", policy.name);
  return nullptr;
}

metrics::Counter& RequestMetrics::result_counter(Operation& operation, std::size_t result) {
  if (metrics::Counter* counter = operation.results[result].load(std::memory_order_acquire)) return *counter;
  // The first request of this result: the series is made once, then kept.
  metrics::Counter& counter =
      requests_->with({to_string(operation.front_end), operation.policy->name, result_name(result)});
  operation.results[result].store(&counter, std::memory_order_release);
  return counter;
}

}  // namespace dirproxy
