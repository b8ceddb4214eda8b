// A shared_ptr that one thread replaces while others read it: the state a
// listener builds from the configuration (settings, certificate,
// templates), which a reload swaps while connections on the io threads
// read it. A reader gets its own reference, so the value it holds lives as
// long as it needs it, whatever is swapped in meanwhile.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace dirproxy {

template <typename T>
class SwappedValue final {
 public:
  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void set(std::shared_ptr<const T> value) {
    std::lock_guard lock(mutex_);
    value_ = std::move(value);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace dirproxy
