// What an operation runs with: the runtime in force when it started (a
// reload never pulls it away mid-operation) and who asked.
#pragma once

#include <cstdint>

#include "service/caller.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

struct OperationContext {
  const Runtime& runtime;
  const Caller& caller;

  // Seconds since the Unix epoch, from the runtime's clock.
  std::int64_t now() const { return runtime.clock->unix_seconds(); }
};

}  // namespace dirproxy
