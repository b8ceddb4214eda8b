// Lockout per username (security.lockout) through the real dirproxyd: after
// max_failures wrong passwords within the window, authenticate answers
// account_locked with retry_after, even for the right password, until the
// duration has passed; unknown usernames lock the same way.
#include <gtest/gtest.h>

#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kWrong = "not the password";

class Lockout : public DaemonTest {
 protected:
  // max_failures 3 within a minute, locked for `duration`.
  void start_with_lockout(const std::string& duration = "1m") {
    Json config = daemon_.default_config();
    config["security"] = {{"lockout", {{"max_failures", 3}, {"window", "1m"}, {"duration", duration}}}};
    daemon_.start(config);
  }

  void fail_times(const std::string& username, int times) {
    for (int i = 0; i < times; ++i) {
      auto response = authenticate(username, kWrong);
      if (outcome_of(response) != "invalid_credentials") {
        throw std::runtime_error("arranging failure got " + response.dump());
      }
    }
  }
};

TEST_F(Lockout, MaxFailuresLockTheAccountEvenForTheRightPassword) {
  start_with_lockout();
  add_user("alice");
  fail_times("alice", 3);

  auto response = authenticate("alice", kPassword);

  EXPECT_EQ(outcome_of(response), "account_locked") << response;
  ASSERT_TRUE(response.contains("retry_after")) << response;
  EXPECT_GE(response["retry_after"].get<int>(), 59);
  EXPECT_LE(response["retry_after"].get<int>(), 60);
}

TEST_F(Lockout, FewerFailuresThanTheLimitDoNotLock) {
  start_with_lockout();
  add_user("alice");
  fail_times("alice", 2);

  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(Lockout, ASuccessStartsTheCountAgain) {
  start_with_lockout();
  add_user("alice");
  fail_times("alice", 2);
  ASSERT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  fail_times("alice", 2);

  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(Lockout, TheLockEndsAfterTheDuration) {
  start_with_lockout("1m");
  add_user("alice");
  fail_times("alice", 3);
  auto locked = authenticate("alice", kPassword);
  ASSERT_EQ(outcome_of(locked), "account_locked") << locked;

  // As if the minute had passed; that it ends at exactly locked_until is
  // LoginLockoutTest's to show.
  execute_on_state_database(
      "UPDATE login_failures SET window_start = window_start - 60, locked_until = locked_until - 60");

  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(Lockout, UsernamesLockCaseInsensitively) {
  start_with_lockout();
  add_user("alice");
  fail_times("ALICE", 3);

  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "account_locked");
}

TEST_F(Lockout, AnUnknownUsernameLocksLikeAKnownOne) {
  start_with_lockout();
  fail_times("ghost", 3);

  auto response = authenticate("ghost", kWrong);

  // The same answer an existing account gets: nothing tells them apart.
  EXPECT_EQ(outcome_of(response), "account_locked") << response;
  EXPECT_TRUE(response.contains("retry_after")) << response;
}

TEST_F(Lockout, OneLockedUsernameDoesNotLockAnother) {
  start_with_lockout();
  add_user("alice");
  add_user("bob");
  fail_times("alice", 3);

  EXPECT_EQ(outcome_of(authenticate("bob", kPassword)), "ok");
}

TEST_F(Lockout, WrongOldPasswordsOfChangePasswordCountToo) {
  start_with_lockout();
  add_user("alice");
  for (int i = 0; i < 3; ++i) {
    auto response = send({{"op", "change_password"},
                          {"username", "alice"},
                          {"old_password", kWrong},
                          {"new_password", "a brand new passphrase"}});
    ASSERT_EQ(outcome_of(response), "invalid_credentials") << response;
  }

  auto response = send({{"op", "change_password"},
                        {"username", "alice"},
                        {"old_password", kPassword},
                        {"new_password", "a brand new passphrase"}});

  EXPECT_EQ(outcome_of(response), "account_locked") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "account_locked");
}

TEST_F(Lockout, ALockedAuthenticateIsAudited) {
  start_with_lockout();
  add_user("alice");
  fail_times("alice", 3);

  ASSERT_EQ(outcome_of(authenticate("alice", kPassword)), "account_locked");

  EXPECT_TRUE(daemon_.wait_for_log("username=\"alice\" result=account_locked")) << daemon_.log_tail();
}

}  // namespace
}  // namespace dirproxy::integration
