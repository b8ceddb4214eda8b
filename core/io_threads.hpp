// The threads that serve client connections: one io_context per thread, each
// run by its own thread, and every connection lives on one of them for its
// whole life (handed out round-robin). A connection's coroutines therefore
// never run in parallel with each other and need no locks, while the
// daemon's connections as a whole use every core: one event loop alone
// could use only one, and the lookups it answers from memory (cached
// get_user) are then limited by that core, not by the machine.
//
// The daemon's own event loop (signals, accept, reload, watchdog) is not
// one of these; see Daemon::run.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "core/asio.hpp"

namespace dirproxy {

class IoThreads final {
 public:
  // `count` threads, at least one. They run until stop().
  explicit IoThreads(unsigned count);
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  // The next thread's io_context, round-robin: where a new connection goes.
  asio::io_context& next();

  std::size_t size() const { return contexts_.size(); }
  // Thread `index`'s io_context (index < size()).
  asio::io_context& at(std::size_t index) { return *contexts_.at(index); }

  // Stops every event loop and joins the threads. Handlers still queued stay
  // in their io_context (destroyed with it, in the destructor): work that
  // another thread completes later (the worker pool) may still post to them.
  void stop();

  // One thread per core, as many as std::thread::hardware_concurrency says
  // (one when it cannot tell).
  static unsigned default_count();

 private:
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<WorkGuard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace dirproxy
