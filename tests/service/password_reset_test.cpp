// The password-reset operations' rules of time and use, run directly on a
// Runtime with a ManualClock: a link works until the last second of
// password_reset.ttl and not from its end, works once, and a request for an
// account that does not exist succeeds without storing or mailing anything.
// (That a request is answered before its work is AnswerBeforeWork's to show;
// here `run` is the work.)
#include "service/password_reset_requests.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "core/timestamp.hpp"
#include "service/mailing_runtime.hpp"
#include "service/reset_link.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

constexpr const char* kOldPassword = "the old password";
constexpr const char* kNewPassword = "correct horse battery staple";

class PasswordReset : public testing::MailingRuntime {
 protected:
  PasswordReset() {
    config_->password_reset.ttl = 24h;
    directory_->put_user(User{"ann", "ann@example.com", "Ann", {}, {}, true, ""}, kOldPassword);
  }

  // Mails ann a link (send_password_reset) and returns its token, read back
  // from the queued mail.
  std::string mailed_token() {
    auto sent = run(context(), SendPasswordResetRequest{.username = "ann"});
    EXPECT_TRUE(sent) << sent.error().message;
    const auto mails = outbox();
    EXPECT_EQ(mails.size(), 1u);
    return mails.empty() ? std::string() : mails.back().body;
  }

  Result<void> reset(const std::string& token, const std::string& password = kNewPassword) {
    return run(context(), ResetPasswordRequest{.token = token, .password = password});
  }
};

TEST_F(PasswordReset, SendPasswordResetMailsALinkToTheStoredAddress) {
  const std::string token = mailed_token();

  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].template_name, "password_reset");
  EXPECT_EQ(mails[0].recipient, "ann@example.com");
  EXPECT_EQ(mails[0].state, "pending");
  EXPECT_EQ(mails[0].created_at, now());
  EXPECT_EQ(token.size(), 43u);
  EXPECT_EQ(rows("reset_tokens"), 1);
}

TEST_F(PasswordReset, ALinkWorksInTheLastSecondOfItsTtl) {
  const std::string token = mailed_token();
  clock_->advance(24h - 1s);

  auto done = reset(token);

  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(directory_->password_of("ann"), kNewPassword);
}

TEST_F(PasswordReset, ALinkIsAnInvalidTokenOnceItsTtlHasEnded) {
  const std::string token = mailed_token();
  clock_->advance(24h);

  auto done = reset(token);

  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ErrorCode::invalid_token);
  EXPECT_EQ(done.error().field, "token");
  EXPECT_EQ(done.error().message, "the link is unknown, used or expired");
  EXPECT_EQ(directory_->password_of("ann"), kOldPassword);
}

TEST_F(PasswordReset, AUsedLinkCannotBeUsedAgain) {
  const std::string token = mailed_token();
  ASSERT_TRUE(reset(token));
  clock_->advance(1min);

  auto again = reset(token, "another good password");

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::invalid_token);
  EXPECT_EQ(again.error().field, "token");
  EXPECT_EQ(directory_->password_of("ann"), kNewPassword);
}

TEST_F(PasswordReset, AWeakPasswordDoesNotUseUpTheLink) {
  const std::string token = mailed_token();

  auto weak = reset(token, "short");

  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, ErrorCode::weak_password);
  auto done = reset(token);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(directory_->password_of("ann"), kNewPassword);
}

TEST_F(PasswordReset, ARequestForAnUnknownUserSucceedsAndQueuesNoMail) {
  auto done = run(context(), RequestPasswordResetRequest{.username = "nobody", .email = std::nullopt});

  ASSERT_TRUE(done) << done.error().message;
  EXPECT_TRUE(outbox().empty());
  EXPECT_EQ(rows("reset_tokens"), 0);
}

TEST_F(PasswordReset, ARequestByEmailMailsTheAccountALinkThatSetsItsPassword) {
  auto requested = run(context(), RequestPasswordResetRequest{.username = std::nullopt, .email = "ANN@example.com"});

  ASSERT_TRUE(requested) << requested.error().message;
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].template_name, "password_reset");
  EXPECT_EQ(mails[0].recipient, "ann@example.com");
  auto done = reset(mails[0].body);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(directory_->password_of("ann"), kNewPassword);
}

TEST_F(PasswordReset, ANewLinkDeletesTheLinksThatHaveExpired) {
  mailed_token();
  clock_->advance(24h + 1s);

  auto done = run(context(), RequestPasswordResetRequest{.username = "nobody", .email = std::nullopt});

  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(rows("reset_tokens"), 0);
}

TEST_F(PasswordReset, GivingBothUsernameAndEmailIsABadRequest) {
  auto done = check(context(), RequestPasswordResetRequest{.username = "ann", .email = "ann@example.com"});

  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ErrorCode::bad_request);
  EXPECT_EQ(done.error().field, "email");
  EXPECT_TRUE(outbox().empty());
}

// check_password_reset -----------------------------------------------------------

TEST_F(PasswordReset, CheckPasswordResetTellsThePurposeWithoutUsingUpTheLink) {
  const std::string token = mailed_token();

  auto checked = run(context(), CheckPasswordResetRequest{.token = token});

  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->purpose, ResetPurpose::password_reset);
  auto done = reset(token);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(directory_->password_of("ann"), kNewPassword);
}

TEST_F(PasswordReset, CheckPasswordResetKnowsTheSetPasswordLinkOfANewUser) {
  const ResetLink link = make_reset_link(*config_, ResetPurpose::new_user, now());
  {
    auto lease = database_->acquire();
    ASSERT_TRUE(lease.write_transaction(
        [&](const StateDatabase::Lease& lease) { return store_reset_link(lease, link, "ann"); }));
  }

  auto checked = run(context(), CheckPasswordResetRequest{.token = link.token.token});

  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->purpose, ResetPurpose::new_user);
}

TEST_F(PasswordReset, CheckPasswordResetGivesOneAnswerForUsedExpiredAndUnknownLinks) {
  const std::string used = mailed_token();
  ASSERT_TRUE(reset(used));
  clock_->advance(1min);
  const std::string expired = [&] {
    auto sent = run(context(), SendPasswordResetRequest{.username = "ann"});
    EXPECT_TRUE(sent);
    return outbox().back().body;
  }();
  clock_->advance(24h);

  for (const std::string& token : {used, expired, std::string("not-a-token")}) {
    auto checked = run(context(), CheckPasswordResetRequest{.token = token});
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, ErrorCode::invalid_token);
    EXPECT_EQ(checked.error().field, "token");
    EXPECT_EQ(checked.error().message, "the link is unknown, used or expired");
  }
}

TEST_F(PasswordReset, CheckPasswordResetCountsAgainstTheCallersRateLimit) {
  config_->security.rate_limit.requests = 1;

  auto first = run(context(), CheckPasswordResetRequest{.token = "guess-1"});
  auto second = run(context(), CheckPasswordResetRequest{.token = "guess-2"});

  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::invalid_token);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::rate_limited);
}

}  // namespace
}  // namespace dirproxy
