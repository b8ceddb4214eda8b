#include "directories/directory_metrics.hpp"

namespace dirproxy {
namespace {

constexpr std::array<std::string_view, 3> kCallNames = {"lookup", "authenticate", "write"};

}  // namespace

DirectoryMetrics::DirectoryMetrics(metrics::Registry* registry, const std::string& directory) : directory_(directory) {
  if (registry == nullptr) return;
  auto& latency = registry->histogram("dirproxy_directory_request_duration_seconds",
                                      "Time a directory took to answer a request to its store (an LDAP server, the "
                                      "state database), by directory and call; cache answers are not included.",
                                      {"directory", "call"});
  for (std::size_t call = 0; call < kCalls; ++call) latency_[call] = &latency.with({directory_, kCallNames[call]});
  errors_ = &registry->counter("dirproxy_directory_errors_total",
                               "Requests to a directory's store that failed, by directory, call and error code.",
                               {"directory", "call", "code"});
}

void DirectoryMetrics::record(Call call, const Error* error, std::chrono::nanoseconds elapsed) {
  const auto index = static_cast<std::size_t>(call);
  if (latency_[index] == nullptr) return;
  latency_[index]->observe(elapsed);
  // A failure is rare next to the requests: finding its series each time is fine.
  if (error != nullptr) errors_->with({directory_, kCallNames[index], to_string(error->code)}).increment();
}

}  // namespace dirproxy
