// The connections a server has open, for its limit, its count and its
// shutdown; shared by the socket protocol's server and the LDAP front end's.
// Each connection takes a place before it exists, so that connections
// accepted at the same moment on several threads cannot together go past
// the limit, and frees it once it has closed. `Connection` is the server's
// connection type: anything with stop(). Every member may be called from any
// thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace dirproxy {

template <typename Connection>
class ConnectionRegistry final {
 public:
  // A connection id never given before, from 1 up.
  std::uint64_t new_id() { return next_id_++; }

  // Takes a place for connection `id` when fewer than `limit` are taken;
  // false (and nothing taken) when none is left.
  bool take_place(std::uint64_t id, std::size_t limit) {
    std::lock_guard lock(mutex_);
    if (connections_.size() >= limit) return false;
    connections_.emplace(id, std::weak_ptr<Connection>());
    return true;
  }

  // Puts the connection of `id` in the place it took, for stop_all().
  void hold(std::uint64_t id, const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(mutex_);
    connections_[id] = connection;
  }

  // Frees the place of `id`, whose connection has closed.
  void release(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    connections_.erase(id);
  }

  // Asks every connection still open to stop (stop() must not close it on
  // the spot: it is called under the lock that release() takes).
  void stop_all() {
    std::lock_guard lock(mutex_);
    for (auto& [id, weak] : connections_) {
      if (auto connection = weak.lock()) connection->stop();
    }
  }

  // The places taken: connections open or being set up.
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return connections_.size();
  }

 private:
  std::atomic<std::uint64_t> next_id_{1};
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;
};

}  // namespace dirproxy
