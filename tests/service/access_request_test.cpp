// The access request operations run directly on a Runtime with a
// ManualClock: a request mails the admins; approving it mails the requester
// an invitation that expires invitations.ttl after the approval; a request is
// decided once.
#include "service/access_request_requests.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "core/timestamp.hpp"
#include "service/mailing_runtime.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

class AccessRequests : public testing::MailingRuntime {
 protected:
  AccessRequests() {
    config_->access_requests.enabled = true;
    config_->invitations.ttl = 72h;
    config_->accounts.admin_group = "admins";
    directory_->put_user(User{"root", "root@example.com", "Root", {}, {}, true, ""}, "the admin's password");
    directory_->put_group("admins", {"root"});
  }

  // Ben asks for access; the id of his request.
  std::int64_t bens_request() {
    auto asked =
        run(context(),
            RequestAccessRequest{.email = "Ben@Example.com", .display_name = "Ben", .message = "I run the build farm"});
    EXPECT_TRUE(asked) << asked.error().message;
    auto requests = run(context(), ListAccessRequestsRequest{});
    EXPECT_TRUE(requests && requests->size() == 1);
    return requests && !requests->empty() ? requests->back().id : 0;
  }
};

TEST_F(AccessRequests, ARequestIsStoredPendingAndMailedToTheAdmins) {
  bens_request();

  auto requests = run(context(), ListAccessRequestsRequest{});
  ASSERT_TRUE(requests);
  ASSERT_EQ(requests->size(), 1u);
  const AccessRequest& request = requests->front();
  EXPECT_EQ(request.email, "ben@example.com");
  EXPECT_EQ(request.display_name, "Ben");
  EXPECT_EQ(request.message, "I run the build farm");
  EXPECT_EQ(request.status, "pending");
  EXPECT_EQ(request.created_at, now());
  EXPECT_EQ(request.decided_at, std::nullopt);
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].template_name, "access_request");
  EXPECT_EQ(mails[0].recipient, "root@example.com");
  EXPECT_EQ(mails[0].body, "Ben <ben@example.com>: I run the build farm");
}

TEST_F(AccessRequests, ARequestNeverLooksUpWhetherTheAddressHasAnAccount) {
  directory_->put_user(User{"ben", "ben@example.com", "Ben", {}, {}, true, ""}, "ben's password");
  config_->accounts.admin_group.clear();  // no notices: nothing else is looked up
  const int lookups_before = directory_->lookups;

  auto with_account =
      run(context(), RequestAccessRequest{.email = "ben@example.com", .display_name = "Ben", .message = std::nullopt});
  auto without =
      run(context(), RequestAccessRequest{.email = "eve@example.com", .display_name = "Eve", .message = std::nullopt});

  ASSERT_TRUE(with_account) << with_account.error().message;
  ASSERT_TRUE(without) << without.error().message;
  EXPECT_EQ(directory_->lookups, lookups_before);
  EXPECT_EQ(rows("access_requests"), 2);
}

TEST_F(AccessRequests, ApprovalMailsAnInvitationExpiringTheConfiguredTtlAfterIt) {
  const std::int64_t id = bens_request();
  clock_->advance(5h);
  const std::int64_t approved_at = now();

  auto invitation = run(context(), ApproveAccessRequestRequest{.request_id = id, .groups = {"builders"}});

  ASSERT_TRUE(invitation) << invitation.error().message;
  EXPECT_EQ(invitation->status, "pending");
  EXPECT_EQ(invitation->invitation.email, "ben@example.com");
  EXPECT_EQ(invitation->invitation.groups, std::vector<std::string>({"builders"}));
  EXPECT_EQ(invitation->invitation.created_at, approved_at);
  EXPECT_EQ(invitation->invitation.expires_at, approved_at + 72 * 3600);
  EXPECT_EQ(invitation->invitation.access_request_id, id);
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[1].template_name, "invitation");
  EXPECT_EQ(mails[1].recipient, "ben@example.com");
  EXPECT_EQ(mails[1].created_at, approved_at);
  // "{{link}} {{expires}}": a 43-character token, then the expiry.
  ASSERT_EQ(mails[1].body.size(), 43u + 1 + 20);
  EXPECT_EQ(mails[1].body.substr(44), rfc3339(approved_at + 72 * 3600));
  EXPECT_EQ(mails[1].body.substr(44), "2026-01-04T05:00:00Z");
  auto requests = run(context(), ListAccessRequestsRequest{});
  ASSERT_TRUE(requests);
  EXPECT_EQ(requests->front().status, "approved");
  EXPECT_EQ(requests->front().decided_at, approved_at);
  EXPECT_EQ(rows("invitations"), 1);
}

TEST_F(AccessRequests, ApprovingADeniedRequestIsABadRequestThatChangesNothing) {
  const std::int64_t id = bens_request();
  auto denied = run(context(), DenyAccessRequestRequest{.request_id = id});
  ASSERT_TRUE(denied) << denied.error().message;
  const std::int64_t denied_at = now();
  clock_->advance(1h);

  auto approved = run(context(), ApproveAccessRequestRequest{.request_id = id, .groups = {}});

  ASSERT_FALSE(approved);
  EXPECT_EQ(approved.error().code, ErrorCode::bad_request);
  EXPECT_EQ(approved.error().field, "request_id");
  EXPECT_EQ(approved.error().message, "access request " + std::to_string(id) + " was denied already");
  auto requests = run(context(), ListAccessRequestsRequest{});
  ASSERT_TRUE(requests);
  EXPECT_EQ(requests->front().status, "denied");
  EXPECT_EQ(requests->front().decided_at, denied_at);
  EXPECT_EQ(rows("invitations"), 0);
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);  // the admins' notice only
  EXPECT_EQ(mails[0].template_name, "access_request");
}

TEST_F(AccessRequests, DecidingAnUnknownRequestIsNotFound) {
  auto denied = run(context(), DenyAccessRequestRequest{.request_id = 42});

  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::not_found);
  EXPECT_EQ(denied.error().field, "request_id");
  EXPECT_EQ(denied.error().message, "no access request 42");
}

TEST_F(AccessRequests, RequestsAreRefusedWhileAccessRequestsAreDisabled) {
  config_->access_requests.enabled = false;

  auto asked =
      run(context(), RequestAccessRequest{.email = "ben@example.com", .display_name = "Ben", .message = std::nullopt});

  ASSERT_FALSE(asked);
  EXPECT_EQ(asked.error().code, ErrorCode::signup_disabled);
  EXPECT_EQ(rows("access_requests"), 0);
  EXPECT_TRUE(outbox().empty());
}

}  // namespace
}  // namespace dirproxy
