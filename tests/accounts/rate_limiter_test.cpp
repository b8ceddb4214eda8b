// Per-client_ip rate limits of the public account operations.
#include "accounts/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

config::RateLimit limit(unsigned requests, config::Duration per) {
  config::RateLimit rate_limit;
  rate_limit.requests = requests;
  rate_limit.per = per;
  return rate_limit;
}

TEST(RateLimiter, AClientGetsItsRequestsThenRateLimitedWithRetryAfter) {
  RateLimiter limiter;
  const auto start = RateLimiter::Clock::now();

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.admit("192.0.2.1", limit(3, 60s), start));
  auto refused = limiter.admit("192.0.2.1", limit(3, 60s), start + 20s);

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(refused.error().retry_after, 40);
}

TEST(RateLimiter, ClientsAreCountedSeparately) {
  RateLimiter limiter;
  const auto now = RateLimiter::Clock::now();
  ASSERT_TRUE(limiter.admit("192.0.2.1", limit(1, 60s), now));

  EXPECT_FALSE(limiter.admit("192.0.2.1", limit(1, 60s), now));
  EXPECT_TRUE(limiter.admit("192.0.2.2", limit(1, 60s), now));
}

TEST(RateLimiter, ANewWindowStartsAfterPer) {
  RateLimiter limiter;
  const auto start = RateLimiter::Clock::now();
  ASSERT_TRUE(limiter.admit("a", limit(1, 60s), start));
  ASSERT_FALSE(limiter.admit("a", limit(1, 60s), start + 59s));

  EXPECT_TRUE(limiter.admit("a", limit(1, 60s), start + 60s));
}

TEST(RateLimiter, RetryAfterIsAtLeastOneSecond) {
  RateLimiter limiter;
  const auto start = RateLimiter::Clock::now();
  ASSERT_TRUE(limiter.admit("a", limit(1, 1s), start));

  auto refused = limiter.admit("a", limit(1, 1s), start + 999ms);

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().retry_after, 1);
}

TEST(RateLimiter, ManyDistinctClientsDoNotGrowTheTableWithoutBound) {
  RateLimiter limiter;
  const auto start = RateLimiter::Clock::now();
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(limiter.admit("old-" + std::to_string(i), limit(1, 1s), start));

  // Long after their windows ended, the old clients are swept away and
  // cost nothing; a current client is still limited.
  const auto later = start + 10s;
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(limiter.admit("new-" + std::to_string(i), limit(1, 60s), later));
  EXPECT_FALSE(limiter.admit("new-1", limit(1, 60s), later));
}

}  // namespace
}  // namespace dirproxy
