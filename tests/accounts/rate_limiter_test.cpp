// Per-client_ip rate limits of the public account operations. The limiter
// takes the time from its caller, so the windows are walked through on a
// ManualClock: a 60 s window takes no time at all.
#include "accounts/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "support/manual_clock.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

config::RateLimit limit(unsigned requests, config::Duration per) {
  config::RateLimit rate_limit;
  rate_limit.requests = requests;
  rate_limit.per = per;
  return rate_limit;
}

class RateLimiterTest : public ::testing::Test {
 protected:
  // One request of `client` at the clock's time.
  Result<void> admit(std::string_view client, const config::RateLimit& rate_limit) {
    return limiter_.admit(client, rate_limit, clock_.steady());
  }

  RateLimiter limiter_;
  testing::ManualClock clock_;
};

TEST_F(RateLimiterTest, AClientGetsItsRequestsThenRateLimitedWithRetryAfter) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(admit("192.0.2.1", limit(3, 60s)));
  clock_.advance(20s);

  auto refused = admit("192.0.2.1", limit(3, 60s));

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(refused.error().retry_after, 40);
}

TEST_F(RateLimiterTest, ClientsAreCountedSeparately) {
  ASSERT_TRUE(admit("192.0.2.1", limit(1, 60s)));

  EXPECT_FALSE(admit("192.0.2.1", limit(1, 60s)));
  EXPECT_TRUE(admit("192.0.2.2", limit(1, 60s)));
}

TEST_F(RateLimiterTest, ANewWindowStartsAfterPer) {
  ASSERT_TRUE(admit("a", limit(1, 60s)));
  clock_.advance(59s);
  ASSERT_FALSE(admit("a", limit(1, 60s)));
  clock_.advance(1s);

  EXPECT_TRUE(admit("a", limit(1, 60s)));
}

TEST_F(RateLimiterTest, RetryAfterCountsDownToTheEndOfTheWindow) {
  ASSERT_TRUE(admit("a", limit(1, 60s)));

  auto at_start = admit("a", limit(1, 60s));
  clock_.advance(59s);
  auto last_second = admit("a", limit(1, 60s));

  ASSERT_FALSE(at_start);
  ASSERT_FALSE(last_second);
  EXPECT_EQ(at_start.error().retry_after, 60);
  EXPECT_EQ(last_second.error().retry_after, 1);
}

TEST_F(RateLimiterTest, RefusedRequestsDoNotLengthenTheWindow) {
  ASSERT_TRUE(admit("a", limit(2, 60s)));
  ASSERT_TRUE(admit("a", limit(2, 60s)));
  for (int second = 1; second < 60; ++second) {
    clock_.advance(1s);
    ASSERT_FALSE(admit("a", limit(2, 60s))) << "at " << second << " s";
  }
  clock_.advance(1s);

  EXPECT_TRUE(admit("a", limit(2, 60s)));
}

TEST_F(RateLimiterTest, AfterTheWindowTheClientGetsItsWholeAllowanceAgain) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(admit("a", limit(3, 60s)));
  ASSERT_FALSE(admit("a", limit(3, 60s)));
  clock_.advance(60s);

  for (int i = 0; i < 3; ++i) EXPECT_TRUE(admit("a", limit(3, 60s))) << "request " << i + 1;
  auto refused = admit("a", limit(3, 60s));

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().retry_after, 60) << "the new window began with the first request after the old one";
}

TEST_F(RateLimiterTest, RetryAfterIsAtLeastOneSecond) {
  ASSERT_TRUE(admit("a", limit(1, 1s)));

  auto refused = limiter_.admit("a", limit(1, 1s), clock_.steady() + 999ms);

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().retry_after, 1);
}

TEST_F(RateLimiterTest, ManyDistinctClientsDoNotGrowTheTableWithoutBound) {
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(admit("old-" + std::to_string(i), limit(1, 1s)));

  // Long after their windows ended, the old clients are swept away and
  // cost nothing; a current client is still limited.
  clock_.advance(10s);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(admit("new-" + std::to_string(i), limit(1, 60s)));
  EXPECT_FALSE(admit("new-1", limit(1, 60s)));
}

TEST(RateLimiterMetrics, CountsEachRefusal) {
  metrics::Registry registry;
  RateLimiter limiter(&registry);
  testing::ManualClock clock;
  for (int i = 0; i < 4; ++i) (void)limiter.admit("192.0.2.1", limit(2, 60s), clock.steady());

  EXPECT_EQ(registry.counter("dirproxy_rate_limit_refusals_total", "").with({}).value(), 2u);
}

}  // namespace
}  // namespace dirproxy
