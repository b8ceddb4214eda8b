// Access requests end to end: the request mailed to the admins, approval
// mailing an invitation to the requester, signup through it, and denial.
#include <thread>

#include "account_test_support.hpp"

namespace dirproxy::integration {
namespace {

class AccessRequests : public AccountTest {
 protected:
  AccessRequests() {
    config_["access_requests"] = {{"enabled", true}};
    config_["accounts"]["admin_group"] = "admins";
    config_["signup"] = {{"notify_admins", false}};
  }

  Json request_access(const std::string& email, const std::string& name) {
    return send({{"op", "request_access"}, {"email", email}, {"display_name", name}, {"message", "I work with Ann"}});
  }
};

TEST_F(AccessRequests, AnApprovedRequestIsMailedAnInvitationThatCreatesTheAccount) {
  configure_smtp();
  start();
  add_admin();

  Json asked = request_access("Carol@Example.org", "Carol Jones");
  ASSERT_EQ(outcome_of(asked), "ok") << asked.dump();
  EXPECT_EQ(asked.size(), 2u);  // id and ok only
  auto notices = mails_to("boss@example.com", 1);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].subject, "Access request from Carol Jones at Test Site");
  EXPECT_NE(notices[0].body.find("carol@example.org"), std::string::npos);
  EXPECT_NE(notices[0].body.find("I work with Ann"), std::string::npos);
  Json listed = arrange({{"op", "list_access_requests"}});
  ASSERT_EQ(listed["requests"].size(), 1u);
  const Json request = listed["requests"][0];
  EXPECT_EQ(request["email"], "carol@example.org");
  EXPECT_EQ(request["display_name"], "Carol Jones");
  EXPECT_EQ(request["message"], "I work with Ann");
  EXPECT_EQ(request["status"], "pending");

  Json approved = arrange({{"op", "approve_access_request"}, {"request_id", request["id"]}, {"groups", {"guests"}}});

  EXPECT_EQ(approved["invitation"]["email"], "carol@example.org");
  EXPECT_EQ(approved["invitation"]["groups"], Json({"guests"}));
  EXPECT_FALSE(approved.contains("token"));
  auto invitations = mails_to("carol@example.org", 2);
  ASSERT_EQ(invitations.size(), 1u);
  EXPECT_EQ(invitations[0].subject, "You are invited to join Test Site");
  const auto token = token_in_mail(invitations[0]);
  Json created = signup("carol", "carol@example.org", token);
  ASSERT_EQ(outcome_of(created), "ok") << created.dump();
  EXPECT_EQ(user_groups("carol"), Json({"guests"}));
  EXPECT_EQ(arrange({{"op", "list_access_requests"}})["requests"][0]["status"], "approved");
}

TEST_F(AccessRequests, ADeniedRequestIsRecordedAndCannotBeDecidedAgain) {
  configure_smtp();
  start();
  ASSERT_EQ(outcome_of(request_access("dave@example.org", "Dave")), "ok");
  const Json id = arrange({{"op", "list_access_requests"}})["requests"][0]["id"];

  arrange({{"op", "deny_access_request"}, {"request_id", id}});
  Json again = send({{"op", "approve_access_request"}, {"request_id", id}});

  EXPECT_EQ(arrange({{"op", "list_access_requests"}})["requests"][0]["status"], "denied");
  EXPECT_EQ(outcome_of(again), "bad_request");
  EXPECT_EQ(field_of(again), "request_id");
  EXPECT_EQ(arrange({{"op", "list_invitations"}, {"include_used", true}})["invitations"].size(), 0u);
  Json missing = send({{"op", "deny_access_request"}, {"request_id", 999}});
  EXPECT_EQ(outcome_of(missing), "not_found");
}

TEST_F(AccessRequests, RequestAccessRefusesBadInputAndIsRateLimited) {
  config_["security"] = {{"rate_limit", {{"requests", 2}, {"per", "1h"}}}};
  configure_smtp();
  start();

  Json bad_email = send({{"op", "request_access"}, {"email", "x@y@z"}, {"display_name", "X"}});
  Json bad_name = send({{"op", "request_access"}, {"email", "x@example.org"}, {"display_name", ""}});
  Json limited = send({{"op", "request_access"}, {"email", "x@example.org"}, {"display_name", "X"}});

  EXPECT_EQ(outcome_of(bad_email), "invalid_email");
  EXPECT_EQ(field_of(bad_email), "email");
  EXPECT_EQ(outcome_of(bad_name), "bad_request");
  EXPECT_EQ(field_of(bad_name), "display_name");
  EXPECT_EQ(outcome_of(limited), "rate_limited");
  EXPECT_TRUE(limited.contains("retry_after"));
  EXPECT_EQ(arrange({{"op", "list_access_requests"}})["requests"].size(), 0u);
}

TEST_F(AccessRequests, RequestAccessIsRefusedWhenNotEnabled) {
  config_["access_requests"] = {{"enabled", false}};
  start();

  Json response = send({{"op", "request_access"}, {"email", "x@example.org"}, {"display_name", "X"}});

  EXPECT_EQ(outcome_of(response), "signup_disabled");
}

}  // namespace
}  // namespace dirproxy::integration
