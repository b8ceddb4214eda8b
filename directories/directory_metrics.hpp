// The metrics of one directory's requests to where its data lives (an LDAP
// server, the state database): dirproxy_directory_request_duration_seconds
// by directory and call (lookup, authenticate, write), and
// dirproxy_directory_errors_total by directory, call and error code. What a
// directory answers from memory (the LDAP cache) is not a request to its
// store and is not timed here; the cache counts it (ldap_cache.hpp).
//
// The series live in the daemon's registry, not in the directory: a reload
// builds new directories, and their counts go on from the old ones'.
#pragma once

#include <array>
#include <chrono>
#include <string>

#include "core/metrics_registry.hpp"
#include "core/result.hpp"

namespace dirproxy {

class DirectoryMetrics final {
 public:
  enum class Call {
    lookup,        // a search: users, groups, memberships
    authenticate,  // a password check (an LDAP bind)
    write,         // a change: add, modify, delete, password
  };

  // Counts into `registry` under the directory's name; nothing when null.
  DirectoryMetrics(metrics::Registry* registry, const std::string& directory);

  // One request of `call` that took `elapsed` and failed with `error` (null:
  // it answered, even "no such user").
  void record(Call call, const Error* error, std::chrono::nanoseconds elapsed);

  // Runs `request` (returning a Result), times it and records its outcome.
  template <typename Request>
  auto timed(Call call, Request&& request) {
    const auto started = std::chrono::steady_clock::now();
    auto result = request();
    record(call, result ? nullptr : &result.error(), std::chrono::steady_clock::now() - started);
    return result;
  }

 private:
  static constexpr std::size_t kCalls = 3;

  std::string directory_;
  std::array<metrics::Histogram*, kCalls> latency_{};
  metrics::Family<metrics::Counter>* errors_ = nullptr;
};

}  // namespace dirproxy
