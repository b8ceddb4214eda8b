// signup and confirm_signup on a ManualClock: a restricted signup's
// confirmation lives for signup.confirmation_ttl to the second, and a
// single-use invitation opens disabled signup until it expires, once.
#include <gtest/gtest.h>

#include "service/account_life_cycle_fixture.hpp"
#include "service/invitation_requests.hpp"
#include "service/signup_requests.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::expect_invalid_token;

constexpr std::int64_t kConfirmationTtl = 24 * 3600;

// A stored pending signup.
struct PendingRow {
  std::string username;
  std::string email;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

class Signup : public testing::AccountLifeCycleTest {
 protected:
  Signup() {
    config_.signup.mode = config::SignupMode::restricted;
    config_.signup.domains = {"example.com"};
    config_.signup.confirmation_ttl = std::chrono::seconds(kConfirmationTtl);
  }

  std::vector<PendingRow> pending_signups() {
    auto lease = database_->acquire();
    auto query = lease.prepare("SELECT username, email, created_at, expires_at FROM pending_signups ORDER BY id");
    if (!query) throw std::runtime_error(query.error().message);
    std::vector<PendingRow> rows;
    while (*query->step()) {
      rows.push_back({query->column_text(0), query->column_text(1), query->column_int64(2), query->column_int64(3)});
    }
    return rows;
  }

  // A restricted signup of ann, and the token its confirmation mail carries.
  std::string pending_signup_of_ann() {
    auto outcome = sign_up("ann", "ann@example.com");
    if (!outcome) throw std::runtime_error(outcome.error().message);
    return token_in(outbox().at(0), kConfirmLinkPrefix);
  }

  // A single-use invitation valid for `ttl_s` from now; its token.
  std::string invitation_token(std::int64_t ttl_s) {
    CreateInvitationRequest request;
    request.ttl_s = ttl_s;
    auto created = call(request);
    if (!created) throw std::runtime_error(created.error().message);
    return created->token;
  }
};

TEST_F(Signup, ARestrictedSignupIsStoredPendingWithItsConfirmationMail) {
  const std::int64_t signed_up_at = now();

  auto outcome = sign_up("ann", "Ann@Example.com");

  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->status, SignupStatus::pending_confirmation);
  EXPECT_FALSE(outcome->user);
  EXPECT_FALSE(user("ann"));
  const auto rows = pending_signups();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].username, "ann");
  EXPECT_EQ(rows[0].email, "ann@example.com");
  EXPECT_EQ(rows[0].created_at, signed_up_at);
  EXPECT_EQ(rows[0].expires_at, signed_up_at + kConfirmationTtl);
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].template_name, "signup_confirm");
  EXPECT_EQ(mails[0].recipient, "ann@example.com");
  EXPECT_EQ(mails[0].state, "pending");
  EXPECT_EQ(token_in(mails[0], kConfirmLinkPrefix).size(), 43u);
}

TEST_F(Signup, ARestrictedSignupAnswersTheSameWhetherOrNotAnAccountHasTheNameOrEmail) {
  directory_->put_user(User{"ann", "ann@example.com", "Ann", {}, {}, true, ""}, kPassword);
  const int lookups_before = directory_->lookups;

  auto taken = sign_up("ann", "ann@example.com");
  auto free = sign_up("bob", "bob@example.com");

  ASSERT_TRUE(taken) << taken.error().message;
  ASSERT_TRUE(free) << free.error().message;
  EXPECT_EQ(taken->status, SignupStatus::pending_confirmation);
  EXPECT_EQ(free->status, SignupStatus::pending_confirmation);
  EXPECT_FALSE(taken->user);
  EXPECT_EQ(directory_->lookups, lookups_before) << "no directory is asked, so the time taken cannot tell either";
  EXPECT_EQ(outbox().size(), 2u) << "a confirmation mail to each address";
}

TEST_F(Signup, TheConfirmationOfASignupWhoseNameIsTakenIsAConflict) {
  const std::string token = pending_signup_of_ann();
  directory_->put_user(User{"ann", "ann@elsewhere.example", "Ann", {}, {}, true, ""}, kPassword);

  auto confirmed = call(ConfirmSignupRequest{token});
  auto again = call(ConfirmSignupRequest{token});

  ASSERT_FALSE(confirmed);
  EXPECT_EQ(confirmed.error().code, ErrorCode::conflict);
  EXPECT_EQ(confirmed.error().field, "username");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict) << "the pending signup was not used up";
}

TEST_F(Signup, AConfirmationInTheLastSecondOfItsTtlCreatesTheAccount) {
  const std::string token = pending_signup_of_ann();
  advance(std::chrono::seconds(kConfirmationTtl - 1));

  auto created = call(ConfirmSignupRequest{token});

  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->username, "ann");
  EXPECT_EQ(created->email, "ann@example.com");
  EXPECT_EQ(created->display_name, "User ann");
  EXPECT_EQ(created->directory, "local");
  EXPECT_TRUE(user("ann"));
  EXPECT_TRUE(pending_signups().empty());
}

TEST_F(Signup, AConfirmationOnceItsTtlHasEndedIsInvalidTokenAndCreatesNothing) {
  const std::string token = pending_signup_of_ann();
  advance(std::chrono::seconds(kConfirmationTtl));

  auto created = call(ConfirmSignupRequest{token});

  expect_invalid_token(created);
  EXPECT_FALSE(user("ann"));
  EXPECT_EQ(outbox().size(), 1u);  // only the confirmation mail
}

TEST_F(Signup, AConfirmationIsInvalidTokenOnceItHasBeenUsed) {
  const std::string token = pending_signup_of_ann();
  ASSERT_TRUE(call(ConfirmSignupRequest{token}));

  auto again = call(ConfirmSignupRequest{token});

  expect_invalid_token(again);
}

TEST_F(Signup, AnExpiredPendingSignupNoLongerHoldsItsUsername) {
  pending_signup_of_ann();
  auto held = sign_up("ann", "other@example.com");
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error().code, ErrorCode::conflict);
  EXPECT_EQ(held.error().message, "the username 'ann' is waiting for another confirmation");
  EXPECT_EQ(held.error().field, "username");
  advance(std::chrono::seconds(kConfirmationTtl));

  auto outcome = sign_up("ann", "other@example.com");

  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->status, SignupStatus::pending_confirmation);
  const auto rows = pending_signups();  // the expired one was purged
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].email, "other@example.com");
  EXPECT_EQ(rows[0].created_at, now());
}

TEST_F(Signup, ASingleUseInvitationOpensDisabledSignupInItsLastSecond) {
  config_.signup.mode = config::SignupMode::disabled;
  const std::string token = invitation_token(3600);
  advance(3599s);

  auto outcome = sign_up("ann", "ann@elsewhere.example", token);

  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->status, SignupStatus::created);
  ASSERT_TRUE(outcome->user);
  EXPECT_EQ(outcome->user->username, "ann");
  EXPECT_TRUE(user("ann"));
  const auto stored = invitation(1);  // the only one
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->used_at, now());
  EXPECT_EQ(stored->used_by, "ann");
  EXPECT_TRUE(outbox().empty());  // no confirmation: the invitation vouches for the address
}

TEST_F(Signup, AnExpiredInvitationIsInvalidTokenAndStaysUnused) {
  config_.signup.mode = config::SignupMode::disabled;
  const std::string token = invitation_token(3600);
  advance(3600s);

  auto outcome = sign_up("ann", "ann@example.com", token);

  expect_invalid_token(outcome);
  EXPECT_FALSE(user("ann"));
  const auto stored = invitation(1);  // the only one
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->used_at);
  EXPECT_EQ(stored->status(now()), "expired");
}

TEST_F(Signup, ASingleUseInvitationIsInvalidTokenTheSecondTime) {
  config_.signup.mode = config::SignupMode::disabled;
  const std::string token = invitation_token(3600);
  ASSERT_TRUE(sign_up("ann", "ann@example.com", token));

  auto second = sign_up("bob", "bob@example.com", token);

  expect_invalid_token(second);
  EXPECT_FALSE(user("bob"));
  EXPECT_EQ(invitation(1)->used_by, "ann");  // the only invitation
}

}  // namespace
}  // namespace dirproxy
