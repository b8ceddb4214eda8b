// The bounded pool that runs blocking work (Argon2id, SQLite, libldap) so the
// io thread never blocks. `co_await pool.run(work)` runs work() on a worker
// and resumes the awaiting coroutine on its own executor (the io thread).
//
// g++ 12 destroys a capturing lambda twice when it is a temporary in the same
// expression as co_await (a double free, seen in reload), so run() takes the
// callable by lvalue reference: name it first, then await it. The same rule
// holds for every co_await in this project: no temporaries with destructors
// (lambdas with captures, shared_ptr or string arguments) in its expression.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>

#include "core/asio.hpp"

namespace dirproxy {

class WorkerPool final {
 public:
  explicit WorkerPool(unsigned threads) : pool_(threads) {}
  ~WorkerPool() { join(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  template <typename Work>
  awaitable<std::invoke_result_t<Work&>> run(Work& work) {
    using Value = std::invoke_result_t<Work&>;
    std::optional<Value> value;
    std::exception_ptr failure;
    co_await asio::async_initiate<decltype(use_awaitable), void()>(
        [&](auto handler) {
          asio::post(pool_, [&, handler = std::move(handler)]() mutable {
            try {
              value.emplace(work());
            } catch (...) {
              failure = std::current_exception();
            }
            auto executor = asio::get_associated_executor(handler);
            asio::post(executor, std::move(handler));
          });
        },
        use_awaitable);
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*value);
  }

  // Queues `work` on a worker without waiting for it; join() waits for it.
  template <typename Work>
  void post(Work work) {
    asio::post(pool_, std::move(work));
  }

  // Waits for queued work to finish; no new work may be queued after this.
  void join() { pool_.join(); }

 private:
  asio::thread_pool pool_;
};

}  // namespace dirproxy
