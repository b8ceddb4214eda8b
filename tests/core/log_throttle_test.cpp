// A flood of events costs a line at its start and one per interval after,
// each with the count since the last: checked on a ManualClock.
#include "core/log_throttle.hpp"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "support/manual_clock.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

class LogThrottleTest : public ::testing::Test {
 protected:
  std::shared_ptr<testing::ManualClock> clock_ = std::make_shared<testing::ManualClock>();
  LogThrottle throttle_{clock_, 10s};
};

TEST_F(LogThrottleTest, TheFirstEventIsReportedAtOnce) {
  auto report = throttle_.record();

  EXPECT_EQ(report.events, 1u);
  EXPECT_FALSE(report.flush_due);
}

TEST_F(LogThrottleTest, AFloodIsCountedAndReportedOnceTheIntervalHasPassed) {
  throttle_.record();
  std::uint64_t reported_at_once = 0;
  int flushes_due = 0;
  for (int i = 0; i < 999; ++i) {
    auto report = throttle_.record();
    reported_at_once += report.events;
    flushes_due += report.flush_due ? 1 : 0;
  }
  const std::uint64_t before_the_interval = throttle_.flush();
  clock_->advance(10s);

  const std::uint64_t after_the_interval = throttle_.flush();

  EXPECT_EQ(reported_at_once, 0u);
  EXPECT_EQ(flushes_due, 1);
  EXPECT_EQ(before_the_interval, 0u);
  EXPECT_EQ(after_the_interval, 999u);
  EXPECT_EQ(throttle_.flush(), 0u);  // nothing counted twice
}

TEST_F(LogThrottleTest, AFlushStartsANewInterval) {
  throttle_.record();
  throttle_.record();
  clock_->advance(10s);
  ASSERT_EQ(throttle_.flush(), 1u);

  auto soon_after = throttle_.record();
  clock_->advance(9s);
  const std::uint64_t within = throttle_.flush();
  clock_->advance(1s);
  const std::uint64_t after = throttle_.flush();

  EXPECT_EQ(soon_after.events, 0u);
  EXPECT_TRUE(soon_after.flush_due);
  EXPECT_EQ(within, 0u);
  EXPECT_EQ(after, 1u);
}

TEST_F(LogThrottleTest, AnEventAfterAQuietIntervalIsReportedAtOnceWithThoseHeldBack) {
  throttle_.record();
  throttle_.record();
  throttle_.record();
  clock_->advance(30s);

  auto report = throttle_.record();

  EXPECT_EQ(report.events, 3u);  // two held back (never flushed) and this one
  EXPECT_FALSE(report.flush_due);
  EXPECT_EQ(throttle_.flush(), 0u);
}

TEST_F(LogThrottleTest, NothingHeldBackMeansNothingToFlush) {
  clock_->advance(60s);

  EXPECT_EQ(throttle_.flush(), 0u);
}

}  // namespace
}  // namespace dirproxy
