// IoThreads: connections are spread over one event loop per thread, a
// handler that throws does not stop its thread, and stop() ends them all.
#include "core/io_threads.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

// The id of the thread that runs a handler posted to `context`.
std::thread::id thread_of(asio::io_context& context) {
  std::promise<std::thread::id> ran;
  asio::post(context, [&ran] { ran.set_value(std::this_thread::get_id()); });
  auto answer = ran.get_future();
  if (answer.wait_for(5s) != std::future_status::ready) throw std::runtime_error("the handler never ran");
  return answer.get();
}

TEST(IoThreads, HandsOutEveryThreadsLoopInTurn) {
  IoThreads threads(3);
  std::vector<std::thread::id> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(thread_of(threads.next()));

  EXPECT_EQ(std::set<std::thread::id>(seen.begin(), seen.end()).size(), 3u);
  EXPECT_EQ(seen[0], seen[3]);
  EXPECT_EQ(seen[1], seen[4]);
  EXPECT_EQ(seen[2], seen[5]);
  EXPECT_NE(seen[0], std::this_thread::get_id());
}

TEST(IoThreads, AtLeastOneThread) {
  IoThreads threads(0);
  EXPECT_EQ(threads.size(), 1u);
  EXPECT_NE(thread_of(threads.next()), std::this_thread::get_id());
}

TEST(IoThreads, AThrowingHandlerLeavesItsThreadServing) {
  IoThreads threads(1);
  asio::io_context& loop = threads.next();
  asio::post(loop, [] { throw std::runtime_error("a bug in one connection"); });

  EXPECT_NE(thread_of(loop), std::this_thread::get_id());
}

TEST(IoThreads, StopEndsTheThreadsAndKeepsWhatIsQueued) {
  IoThreads threads(2);
  asio::io_context& loop = threads.next();
  thread_of(loop);  // running
  threads.stop();

  std::atomic<bool> ran{false};
  asio::post(loop, [&ran] { ran = true; });
  std::this_thread::sleep_for(50ms);

  EXPECT_FALSE(ran);
  EXPECT_TRUE(loop.stopped());
}

}  // namespace
}  // namespace dirproxy
