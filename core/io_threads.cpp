#include "core/io_threads.hpp"

#include <pthread.h>

#include <algorithm>
#include <exception>
#include <string>

#include "core/logging.hpp"

namespace dirproxy {

IoThreads::IoThreads(unsigned count) {
  count = std::max(1u, count);
  for (unsigned i = 0; i < count; ++i) {
    // concurrency_hint 1: each io_context is run by exactly one thread, so
    // asio may skip the locking a shared scheduler needs.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
  for (unsigned i = 0; i < count; ++i) {
    threads_.emplace_back([context = contexts_[i].get(), i] {
      // "dirproxyd-io0" …: what top -H and the journal's stack traces show.
      pthread_setname_np(pthread_self(), ("dirproxyd-io" + std::to_string(i)).c_str());
      for (;;) {
        try {
          context->run();
          return;
        } catch (const std::exception& e) {
          // A handler threw: one connection's bug must not stop the others
          // that share this thread.
          logging::logger("server")->error("connection thread {}: unexpected exception: {}", i, e.what());
        }
      }
    });
  }
}

IoThreads::~IoThreads() { stop(); }

asio::io_context& IoThreads::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoThreads::stop() {
  guards_.clear();
  for (auto& context : contexts_) context->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

unsigned IoThreads::default_count() { return std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace dirproxy
