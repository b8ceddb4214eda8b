// The admin console's sessions as the service runs them
// (service/admin_session_requests.hpp): who may sign in, the lockout and
// rate limit on the way, idle expiry by web.session_ttl, the end of a
// session whose admin left web.admin_groups (by a reload or in the
// directory), notices and logout.
#include "service/admin_session_requests.hpp"

#include <gtest/gtest.h>

#include "service/account_life_cycle_fixture.hpp"

namespace dirproxy::testing {
namespace {

class AdminSessionTest : public AccountLifeCycleTest {
 protected:
  AdminSessionTest() {
    config::Web web;
    web.admin_groups = {"Admins"};
    web.session_ttl = std::chrono::minutes(30);
    config_.web = web;
    directory_->put_user(user_named("alice"), kPassword);
    directory_->put_user(user_named("bob"), kPassword);
    directory_->put_group("admins", {"alice"});
  }

  static User user_named(const std::string& username) {
    User user;
    user.username = username;
    user.email = username + "@example.com";
    return user;
  }

  Result<StartedAdminSession> sign_in(const std::string& username, const std::string& password = kPassword) {
    return call(StartAdminSessionRequest{username, password});
  }

  std::optional<AdminSession> resume(const std::string& session_id, bool take_notice = false) {
    auto resumed = call(ResumeAdminSessionRequest{session_id, take_notice});
    if (!resumed) throw std::runtime_error(resumed.error().message);
    return *resumed;
  }
};

TEST_F(AdminSessionTest, AMemberOfAnAdminGroupSignsInAndTheSessionIsFoundByItsId) {
  auto started = sign_in("ALICE");

  ASSERT_TRUE(started) << started.error().message;
  EXPECT_EQ(started->username, "alice");
  const auto session = resume(started->session_id);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->username, "alice");
  EXPECT_EQ(session->csrf_token, started->csrf_token);
}

TEST_F(AdminSessionTest, AUserInNoAdminGroupIsForbidden) {
  auto started = sign_in("bob");

  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::forbidden);
  EXPECT_EQ(started.error().message, "this account may not use the admin console");
}

TEST_F(AdminSessionTest, AWrongPasswordIsInvalidCredentialsAndCountsForTheLockout) {
  config_.security.lockout.max_failures = 2;

  EXPECT_EQ(sign_in("alice", "wrong").error().code, ErrorCode::invalid_credentials);
  EXPECT_EQ(sign_in("alice", "wrong").error().code, ErrorCode::invalid_credentials);
  auto locked = sign_in("alice");

  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::account_locked);
}

TEST_F(AdminSessionTest, SignInsCountAgainstTheClientsRateLimit) {
  config_.security.rate_limit.requests = 2;

  EXPECT_TRUE(sign_in("alice"));
  EXPECT_TRUE(sign_in("alice"));
  auto third = sign_in("alice");

  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::rate_limited);
}

TEST_F(AdminSessionTest, NobodySignsInWithoutAdminGroups) {
  config_.web->admin_groups.clear();

  EXPECT_EQ(sign_in("alice").error().code, ErrorCode::forbidden);
}

TEST_F(AdminSessionTest, ASessionEndsAfterTheIdleTimeAndAUseStartsItAgain) {
  const auto started = sign_in("alice");
  ASSERT_TRUE(started);

  advance(std::chrono::minutes(29));
  EXPECT_TRUE(resume(started->session_id));
  advance(std::chrono::minutes(29));
  EXPECT_TRUE(resume(started->session_id));
  advance(std::chrono::minutes(30) + std::chrono::seconds(1));

  EXPECT_FALSE(resume(started->session_id));
}

TEST_F(AdminSessionTest, AReloadThatRemovesTheAdminGroupEndsTheSessionAtOnce) {
  const auto started = sign_in("alice");
  ASSERT_TRUE(started);

  config_.web->admin_groups = {"operators"};

  EXPECT_FALSE(resume(started->session_id));
  config_.web->admin_groups = {"admins"};
  EXPECT_FALSE(resume(started->session_id));
}

TEST_F(AdminSessionTest, LeavingTheAdminGroupEndsTheSessionWithinAMinute) {
  const auto started = sign_in("alice");
  ASSERT_TRUE(started);
  directory_->put_group("admins", {});

  advance(std::chrono::seconds(kAdminGroupsCheckInterval_s - 1));
  EXPECT_TRUE(resume(started->session_id));
  advance(std::chrono::seconds(1));

  EXPECT_FALSE(resume(started->session_id));
}

TEST_F(AdminSessionTest, ADeactivatedAdminsSessionEndsAtTheNextGroupCheck) {
  const auto started = sign_in("alice");
  ASSERT_TRUE(started);
  User deactivated = user_named("alice");
  deactivated.active = false;
  directory_->put_user(deactivated, kPassword);

  advance(std::chrono::seconds(kAdminGroupsCheckInterval_s));

  EXPECT_FALSE(resume(started->session_id));
}

TEST_F(AdminSessionTest, ANoticeIsShownOnceByThePageThatTakesIt) {
  const auto started = sign_in("alice");
  ASSERT_TRUE(started);

  ASSERT_TRUE(call(SetAdminNoticeRequest{started->session_id, AdminNotice{"Added bob.", false}}));

  EXPECT_FALSE(resume(started->session_id, false)->notice);
  const auto shown = resume(started->session_id, true);
  ASSERT_TRUE(shown->notice);
  EXPECT_EQ(shown->notice->text, "Added bob.");
  EXPECT_FALSE(resume(started->session_id, true)->notice);
}

TEST_F(AdminSessionTest, LogoutEndsTheSession) {
  const auto started = sign_in("alice");
  ASSERT_TRUE(started);

  ASSERT_TRUE(call(EndAdminSessionRequest{started->session_id}));

  EXPECT_FALSE(resume(started->session_id));
}

TEST_F(AdminSessionTest, AnUnknownSessionIdIsNoSession) {
  EXPECT_FALSE(resume("not-a-session"));
  EXPECT_FALSE(resume(""));
}

}  // namespace
}  // namespace dirproxy::testing
