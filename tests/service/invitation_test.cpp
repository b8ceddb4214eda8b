// The invitation operations on a ManualClock: a single-use invitation's
// expiry is counted from the clock's time (create_invitation, per-recipient
// send_invitations, resend_invitation), its status is the one at the clock's
// time, and a token stops working the moment it is replaced (a reset of the
// shared link, a resend) or revoked.
#include <gtest/gtest.h>

#include "config/email_address.hpp"
#include "service/account_life_cycle_fixture.hpp"
#include "service/invitation_requests.hpp"
#include "service/signup_requests.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::expect_invalid_token;

CreateInvitationRequest invitation_request(std::optional<std::int64_t> ttl_s,
                                           std::optional<std::string> email = std::nullopt) {
  CreateInvitationRequest request;
  request.ttl_s = ttl_s;
  request.email = std::move(email);
  return request;
}

class Invitations : public testing::AccountLifeCycleTest {
 protected:
  Invitations() { config_.signup.mode = config::SignupMode::disabled; }

  // A single-use invitation for `ttl_s`, bound to `email` when given.
  CreatedInvitation create(std::int64_t ttl_s, std::optional<std::string> email = std::nullopt) {
    auto created = call(invitation_request(ttl_s, std::move(email)));
    if (!created) throw std::runtime_error(created.error().message);
    return std::move(*created);
  }
};

TEST_F(Invitations, CreateInvitationExpiresTtlSecondsFromTheClocksTime) {
  const std::int64_t created_at = now();
  CreateInvitationRequest request = invitation_request(600, "Ann@Example.com");
  request.groups = {"staff"};

  auto created = call(request);

  ASSERT_TRUE(created) << created.error().message;
  const Invitation& shown = created->invitation.invitation;
  EXPECT_EQ(shown.created_at, created_at);
  EXPECT_EQ(shown.expires_at, created_at + 600);
  EXPECT_EQ(shown.email, "ann@example.com");
  EXPECT_EQ(shown.groups, std::vector<std::string>({"staff"}));
  EXPECT_EQ(created->invitation.status, "pending");
  EXPECT_EQ(created->link, kSignupLinkPrefix + created->token);
  const auto stored = invitation(shown.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->created_at, created_at);
  EXPECT_EQ(stored->expires_at, created_at + 600);
  EXPECT_TRUE(outbox().empty());  // create_invitation mails nothing
}

TEST_F(Invitations, CreateInvitationWithoutTtlLastsInvitationsTtl) {
  config_.invitations.ttl = 48h;

  auto created = call(CreateInvitationRequest{});

  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->invitation.invitation.expires_at, now() + 48 * 3600);
}

TEST_F(Invitations, CreateInvitationRefusesATtlBeyond366Days) {
  auto created = call(invitation_request(366 * 24 * 3600 + 1));

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::bad_request);
  EXPECT_EQ(created.error().message, "'ttl_s' must be between 1 and 31622400 seconds (366 days)");
  EXPECT_EQ(created.error().field, "ttl_s");
}

TEST_F(Invitations, ListingShowsAnInvitationAsExpiredFromItsExpirySecond) {
  const auto created = create(60);
  advance(59s);
  auto listed = call(ListInvitationsRequest{});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).status, "pending");
  advance(1s);

  auto pending = call(ListInvitationsRequest{});
  auto all = call(ListInvitationsRequest{true});

  ASSERT_TRUE(pending);
  EXPECT_TRUE(pending->empty());
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->at(0).invitation.id, created.invitation.invitation.id);
  EXPECT_EQ(all->at(0).status, "expired");
}

TEST_F(Invitations, TheSharedLinksTokenStopsWorkingAfterAReset) {
  auto shared = call(GetInvitationLinkRequest{});
  ASSERT_TRUE(shared) << shared.error().message;
  EXPECT_EQ(shared->link, kSignupLinkPrefix + shared->token);
  ASSERT_TRUE(sign_up("ann", "ann@example.com", shared->token));

  auto reset = call(ResetInvitationLinkRequest{});

  ASSERT_TRUE(reset) << reset.error().message;
  EXPECT_NE(reset->token, shared->token);
  EXPECT_EQ(reset->link, kSignupLinkPrefix + reset->token);
  expect_invalid_token(sign_up("bob", "bob@example.com", shared->token));
  EXPECT_FALSE(user("bob"));
  auto with_new_token = sign_up("carl", "carl@example.com", reset->token);
  ASSERT_TRUE(with_new_token) << with_new_token.error().message;
  EXPECT_EQ(with_new_token->status, SignupStatus::created);
  auto shown_again = call(GetInvitationLinkRequest{});
  ASSERT_TRUE(shown_again);
  EXPECT_EQ(shown_again->token, reset->token);
}

TEST_F(Invitations, ResendMailsANewTokenAndTheOldOneStopsWorking) {
  const auto created = create(3600, "ann@example.com");
  const std::int64_t id = created.invitation.invitation.id;
  advance(1000s);

  auto resent = call(ResendInvitationRequest{.invitation_id = id});

  ASSERT_TRUE(resent) << resent.error().message;
  EXPECT_EQ(resent->invitation.created_at, now());
  EXPECT_EQ(resent->invitation.expires_at, now() + 3600);  // as long as the original was meant to last
  EXPECT_EQ(resent->status, "pending");
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].template_name, "invitation");
  EXPECT_EQ(mails[0].recipient, "ann@example.com");
  EXPECT_EQ(mails[0].state, "pending");
  const std::string new_token = token_in(mails[0], kSignupLinkPrefix);
  EXPECT_NE(new_token, created.token);
  expect_invalid_token(sign_up("ann", "ann@example.com", created.token));
  auto outcome = sign_up("ann", "ann@example.com", new_token);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(invitation(id)->used_by, "ann");
}

TEST_F(Invitations, ARevokedInvitationIsInvalidToken) {
  const auto created = create(3600);
  advance(10s);

  ASSERT_TRUE(call(RevokeInvitationRequest{.invitation_id = created.invitation.invitation.id}));

  EXPECT_EQ(invitation(created.invitation.invitation.id)->revoked_at, now());
  expect_invalid_token(sign_up("ann", "ann@example.com", created.token));
}

TEST_F(Invitations, SendInvitationsGivesEachAddressOnceItsOwnInvitationForInvitationsTtl) {
  config_.invitations.ttl = 72h;
  SendInvitationsRequest request;
  request.emails = {" ann@example.com", "not an address", "", "ann@example.com "};
  request.message = "Welcome";

  auto sent = call(request);

  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_EQ(sent->sent, std::vector<std::string>({"ann@example.com"}));
  ASSERT_EQ(sent->rejected.size(), 1u);
  EXPECT_EQ(sent->rejected[0].email, "not an address");
  EXPECT_EQ(sent->rejected[0].code, ErrorCode::invalid_email);
  EXPECT_EQ(sent->rejected[0].reason, config::parse_email_address("not an address").reason);
  const auto stored = invitation(1);  // the only one
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->email, "ann@example.com");
  EXPECT_EQ(stored->message, "Welcome");
  EXPECT_EQ(stored->created_at, now());
  EXPECT_EQ(stored->expires_at, now() + 72 * 3600);
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].template_name, "invitation");
  EXPECT_EQ(mails[0].recipient, "ann@example.com");
  EXPECT_FALSE(invitation(2));
}

TEST_F(Invitations, SendInvitationsWithNoAddressLeftIsBadRequest) {
  SendInvitationsRequest request;
  request.emails = {" ", ""};

  auto sent = call(request);

  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::bad_request);
  EXPECT_EQ(sent.error().message, "no email address given");
  EXPECT_EQ(sent.error().field, "emails");
  EXPECT_TRUE(outbox().empty());
}

// check_invitation -------------------------------------------------------------

TEST_F(Invitations, CheckInvitationShowsTheAddressOfABoundInvitationWithoutUsingItUp) {
  const auto created = create(3600, "Ann@Example.com");

  auto checked = call(CheckInvitationRequest{.token = created.token});

  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->kind, InvitationKind::single_use);
  EXPECT_EQ(checked->email, "ann@example.com");
  EXPECT_EQ(invitation(created.invitation.invitation.id)->used_at, std::nullopt);
  auto outcome = sign_up("ann", "ann@example.com", created.token);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->status, SignupStatus::created);
}

TEST_F(Invitations, CheckInvitationOfAnUnboundOneHasNoAddress) {
  const auto created = create(3600);

  auto checked = call(CheckInvitationRequest{.token = created.token});

  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->kind, InvitationKind::single_use);
  EXPECT_EQ(checked->email, std::nullopt);
}

TEST_F(Invitations, CheckInvitationKnowsTheSharedLinkUntilItIsReset) {
  auto shared = call(GetInvitationLinkRequest{});
  ASSERT_TRUE(shared) << shared.error().message;

  auto checked = call(CheckInvitationRequest{.token = shared->token});
  ASSERT_TRUE(call(ResetInvitationLinkRequest{}));
  auto after_reset = call(CheckInvitationRequest{.token = shared->token});

  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_EQ(checked->kind, InvitationKind::shared);
  EXPECT_EQ(checked->email, std::nullopt);
  expect_invalid_token(after_reset);
}

TEST_F(Invitations, CheckInvitationGivesOneAnswerForUsedRevokedExpiredAndUnknownTokens) {
  const auto used = create(3600);
  ASSERT_TRUE(sign_up("ann", "ann@example.com", used.token));
  const auto revoked = create(3600);
  ASSERT_TRUE(call(RevokeInvitationRequest{.invitation_id = revoked.invitation.invitation.id}));
  const auto expiring = create(60);
  advance(60s);

  expect_invalid_token(call(CheckInvitationRequest{.token = used.token}));
  expect_invalid_token(call(CheckInvitationRequest{.token = revoked.token}));
  expect_invalid_token(call(CheckInvitationRequest{.token = expiring.token}));
  expect_invalid_token(call(CheckInvitationRequest{.token = "not-a-token"}));
}

TEST_F(Invitations, CheckInvitationCountsAgainstTheCallersRateLimit) {
  config_.security.rate_limit.requests = 2;
  const auto created = create(3600);

  ASSERT_TRUE(call(CheckInvitationRequest{.token = created.token}));
  expect_invalid_token(call(CheckInvitationRequest{.token = "guess"}));
  auto third = call(CheckInvitationRequest{.token = created.token});

  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::rate_limited);
  ASSERT_TRUE(third.error().retry_after);
  EXPECT_GT(*third.error().retry_after, 0);
}

TEST_F(Invitations, CheckInvitationIsRefusedWhenUsersAreManagedElsewhere) {
  const auto created = create(3600);
  config_.user_management = config::UserManagement::external;

  auto checked = call(CheckInvitationRequest{.token = created.token});

  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::user_management_external);
}

}  // namespace
}  // namespace dirproxy
