// LoginLockout: the per-username lockout of security.lockout, against a real
// state database, with the clock moved by hand (times are passed in).
#include "accounts/login_lockout.hpp"

#include <gtest/gtest.h>

#include "support/temporary_directory.hpp"
#include "support/test_state_database.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::TemporaryDirectory;

constexpr std::int64_t kStart = 1'700'000'000;

config::Lockout settings(unsigned max_failures, config::Duration window, config::Duration duration) {
  config::Lockout lockout;
  lockout.max_failures = max_failures;
  lockout.window = window;
  lockout.duration = duration;
  return lockout;
}

class LoginLockoutTest : public ::testing::TestWithParam<StateBackend> {
 protected:
  std::shared_ptr<void> keep_database_;  // a PostgreSQL test database, dropped last

 protected:
  LoginLockoutTest() {
    auto opened = testing::open_state_database(GetParam(), temp_.path() / "state", 2, keep_database_);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = *opened;
  }

  std::int64_t rows() {
    auto lease = database_->acquire();
    auto statement = lease.prepare("SELECT COUNT(*) FROM login_failures");
    if (!statement || !statement->step()) throw std::runtime_error("cannot count login_failures");
    return statement->column_int64(0);
  }

  void fail_times(LoginLockout& lockout, std::string_view username, int times, std::int64_t at) {
    for (int i = 0; i < times; ++i) ASSERT_TRUE(lockout.record_failure(username, at));
  }

  TemporaryDirectory temp_{"lockout"};
  StateDatabasePtr database_;
};

TEST_P(LoginLockoutTest, AUsernameWithoutFailuresIsOpen) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));

  EXPECT_TRUE(lockout.check("alice", kStart));
}

TEST_P(LoginLockoutTest, FailuresBelowTheLimitDoNotLock) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 2, kStart);

  EXPECT_TRUE(lockout.check("alice", kStart + 1));
}

TEST_P(LoginLockoutTest, ReachingMaxFailuresLocksWithRetryAfterTheRestOfTheDuration) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 3, kStart + 10);

  auto locked = lockout.check("alice", kStart + 40);

  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::account_locked);
  EXPECT_EQ(locked.error().retry_after, 90);
}

TEST_P(LoginLockoutTest, TheLockEndsWhenTheDurationHasPassed) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 3, kStart);

  ASSERT_FALSE(lockout.check("alice", kStart + 119));
  EXPECT_TRUE(lockout.check("alice", kStart + 120));
}

TEST_P(LoginLockoutTest, RetryAfterCountsDownToOneInTheLastLockedSecond) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 3, kStart);

  auto first_second = lockout.check("alice", kStart);
  auto last_second = lockout.check("alice", kStart + 119);

  ASSERT_FALSE(first_second);
  ASSERT_FALSE(last_second);
  EXPECT_EQ(first_second.error().retry_after, 120);
  EXPECT_EQ(last_second.error().retry_after, 1);
}

TEST_P(LoginLockoutTest, FailuresInTheLastSecondOfTheWindowStillAddUp) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 2, kStart);
  fail_times(lockout, "alice", 1, kStart + 59);

  auto locked = lockout.check("alice", kStart + 59);

  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::account_locked);
  EXPECT_EQ(locked.error().retry_after, 120) << "the lock runs from the failure that reached the limit";
}

TEST_P(LoginLockoutTest, AFailureAtTheEndOfTheWindowStartsANewCount) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 2, kStart);
  fail_times(lockout, "alice", 2, kStart + 60);  // the first of these ends the old window

  EXPECT_TRUE(lockout.check("alice", kStart + 60));
  fail_times(lockout, "alice", 1, kStart + 119);  // the third within the new window
  EXPECT_FALSE(lockout.check("alice", kStart + 119));
}

TEST_P(LoginLockoutTest, AfterTheLockEndsCountingStartsAgain) {
  LoginLockout lockout(*database_, settings(3, 600s, 60s));
  fail_times(lockout, "alice", 3, kStart);
  fail_times(lockout, "alice", 2, kStart + 61);

  EXPECT_TRUE(lockout.check("alice", kStart + 62));
}

TEST_P(LoginLockoutTest, FailuresOutsideTheWindowDoNotAddUp) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 2, kStart);
  fail_times(lockout, "alice", 2, kStart + 60);

  EXPECT_TRUE(lockout.check("alice", kStart + 61));
}

TEST_P(LoginLockoutTest, FailuresWhileLockedDoNotLengthenTheLock) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 3, kStart);
  fail_times(lockout, "alice", 5, kStart + 100);

  EXPECT_TRUE(lockout.check("alice", kStart + 120));
}

TEST_P(LoginLockoutTest, ASuccessClearsTheCount) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 2, kStart);
  ASSERT_TRUE(lockout.record_success("alice"));
  fail_times(lockout, "alice", 2, kStart + 1);

  EXPECT_TRUE(lockout.check("alice", kStart + 2));
  EXPECT_EQ(rows(), 1);
}

TEST_P(LoginLockoutTest, UsernamesCompareCaseInsensitively) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "Alice", 1, kStart);
  fail_times(lockout, "ALICE", 1, kStart);
  fail_times(lockout, "alice", 1, kStart);

  auto locked = lockout.check("aLiCe", kStart);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::account_locked);
}

TEST_P(LoginLockoutTest, UsernamesAreCountedSeparately) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 3, kStart);

  EXPECT_FALSE(lockout.check("alice", kStart));
  EXPECT_TRUE(lockout.check("bob", kStart));
}

TEST_P(LoginLockoutTest, AFloodOfFailuresForOneUsernameKeepsOneRow) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  fail_times(lockout, "alice", 200, kStart);

  EXPECT_EQ(rows(), 1);
}

TEST_P(LoginLockoutTest, RowsOfFinishedWindowsArePrunedAsNewUsernamesArrive) {
  LoginLockout lockout(*database_, settings(3, 60s, 120s));
  for (int i = 0; i < 50; ++i) fail_times(lockout, "old" + std::to_string(i), 1, kStart);
  fail_times(lockout, "locked", 3, kStart + 30);

  fail_times(lockout, "new", 1, kStart + 61);

  // The 50 finished windows are gone; the lock (until kStart + 150) stays.
  EXPECT_EQ(rows(), 2);
  EXPECT_FALSE(lockout.check("locked", kStart + 61));
}

TEST_P(LoginLockoutTest, EachLockThatBeginsIsCountedOnce) {
  metrics::Registry registry;
  LoginLockout lockout(*database_, settings(3, 60s, 120s), &registry);
  fail_times(lockout, "alice", 3, kStart);
  fail_times(lockout, "alice", 2, kStart + 1);  // while locked: the lock does not begin again
  fail_times(lockout, "bob", 2, kStart);        // below the limit

  EXPECT_EQ(LoginLockout::locks_begun(registry).value(), 1u);
}

TEST_P(LoginLockoutTest, CountsTheUsernamesLockedNow) {
  LoginLockout lockout(*database_, settings(2, 60s, 120s));
  fail_times(lockout, "alice", 2, kStart);
  fail_times(lockout, "bob", 2, kStart + 100);
  fail_times(lockout, "carol", 1, kStart);

  EXPECT_EQ(LoginLockout::count_locked(*database_, kStart + 101).value(), 2);
  EXPECT_EQ(LoginLockout::count_locked(*database_, kStart + 120).value(), 1) << "alice's lock has ended";
  EXPECT_EQ(LoginLockout::count_locked(*database_, kStart + 220).value(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, LoginLockoutTest, testing::every_state_backend(), testing::state_backend_name);

}  // namespace
}  // namespace dirproxy
