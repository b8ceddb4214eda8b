// signup and confirm_signup end to end through the socket: the modes, the
// domain allow-list, default groups, rate limits and external management.
#include <thread>

#include "account_test_support.hpp"

namespace dirproxy::integration {
namespace {

class Signup : public AccountTest {};

TEST_F(Signup, OpenSignupCreatesTheAccountAtOnce) {
  config_["signup"] = {{"mode", "open"}};
  start();

  Json response = signup("alice", "Alice@Example.com");

  ASSERT_EQ(outcome_of(response), "ok") << response.dump();
  EXPECT_EQ(response["status"], "created");
  EXPECT_EQ(response["user"]["username"], "alice");
  EXPECT_EQ(response["user"]["email"], "alice@example.com");
  EXPECT_EQ(response["user"]["directory"], "internal");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  EXPECT_TRUE(daemon_.wait_for_log("op=signup"));
  EXPECT_NE(daemon_.log().find("username=\"alice\""), std::string::npos);
}

TEST_F(Signup, DisabledSignupIsRefusedWithoutAnInvitation) {
  start();  // signup.mode defaults to disabled

  Json response = signup("alice", "alice@example.com");

  EXPECT_EQ(outcome_of(response), "signup_disabled");
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
}

TEST_F(Signup, NewAccountsJoinTheDefaultGroupsWhichAreCreatedWhenMissing) {
  config_["signup"] = {{"mode", "open"}};
  config_["accounts"]["default_groups"] = {"users", "staff"};
  start();
  add_group("staff");

  ASSERT_EQ(outcome_of(signup("alice", "alice@example.com")), "ok");

  EXPECT_EQ(user_groups("alice"), Json({"staff", "users"}));
  Json users = send({{"op", "get_group"}, {"name", "users"}});
  EXPECT_EQ(users["group"]["members"], Json({"alice"}));
}

TEST_F(Signup, ATakenUsernameIsAConflictAndCreatesNothing) {
  config_["signup"] = {{"mode", "open"}};
  start();
  add_user("alice");

  Json response = signup("alice", "other@example.com");

  EXPECT_EQ(outcome_of(response), "conflict");
  EXPECT_EQ(field_of(response), "username");
  EXPECT_EQ(get_user("alice")["user"]["email"], "alice@example.com");
}

TEST_F(Signup, BadInputNamesTheFieldAtFault) {
  config_["signup"] = {{"mode", "open"}};
  start();

  Json bad_name = signup("Alice!", "alice@example.com");
  Json bad_email = signup("alice", "alice@example.com@evil.com");
  Json weak = send({{"op", "signup"},
                    {"username", "alice"},
                    {"email", "alice@example.com"},
                    {"display_name", "Alice"},
                    {"password", "short"}});

  EXPECT_EQ(outcome_of(bad_name), "invalid_username");
  EXPECT_EQ(field_of(bad_name), "username");
  EXPECT_EQ(outcome_of(bad_email), "invalid_email");
  EXPECT_EQ(field_of(bad_email), "email");
  EXPECT_EQ(outcome_of(weak), "weak_password");
  EXPECT_EQ(field_of(weak), "password");
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
}

TEST_F(Signup, RestrictedSignupRefusesEveryAddressOutsideTheAllowList) {
  config_["signup"] = {{"mode", "restricted"}, {"domains", {"example.com", "*.corp.example"}}};
  configure_unreachable_mail();
  start();

  struct Case {
    const char* email;
    const char* code;
  };
  const Case cases[] = {
      {"a@example.com@evil.com", "invalid_email"},
      {"\"a@evil.com\"@example.com", "invalid_email"},
      {"a@example.com.evil.com", "domain_not_allowed"},
      {"a@evilexample.com", "domain_not_allowed"},
      {"a@corp.example", "domain_not_allowed"},
      {"a@example.com\n", "invalid_email"},
      {"a b@example.com", "invalid_email"},
      {"a@example.com\r\nBcc: x@evil.com", "invalid_email"},
  };
  int n = 0;
  for (const auto& c : cases) {
    Json response = signup("user" + std::to_string(n++), c.email);
    EXPECT_EQ(outcome_of(response), c.code) << c.email;
    EXPECT_EQ(field_of(response), "email") << c.email;
  }
  Json allowed = signup("bob", "bob@eu.corp.example");
  EXPECT_EQ(outcome_of(allowed), "ok");
  EXPECT_EQ(allowed["status"], "pending_confirmation");
  EXPECT_EQ(outcome_of(get_user("bob")), "not_found");
}

TEST_F(Signup, APendingSignupReservesItsUsernameUntilItExpires) {
  config_["signup"] = {{"mode", "restricted"}, {"domains", {"example.com"}}, {"confirmation_ttl", "1h"}};
  configure_unreachable_mail();
  start();
  ASSERT_EQ(outcome_of(signup("alice", "alice@example.com")), "ok");
  ASSERT_EQ(select_from_state_database("SELECT expires_at - created_at FROM pending_signups"), 3600);

  Json second = signup("alice", "alice2@example.com");
  EXPECT_EQ(outcome_of(second), "conflict");
  EXPECT_EQ(field_of(second), "username");

  // As if the hour had passed; that the reservation ends at exactly
  // expires_at is AccountStores' to show.
  execute_on_state_database(
      "UPDATE pending_signups SET created_at = created_at - 3600, expires_at = expires_at - 3600");
  Json after_expiry = signup("alice", "alice2@example.com");
  EXPECT_EQ(outcome_of(after_expiry), "ok");
  EXPECT_EQ(after_expiry["status"], "pending_confirmation");
}

TEST_F(Signup, AnUnknownConfirmationTokenIsInvalid) {
  config_["signup"] = {{"mode", "open"}};
  start();

  Json response = send({{"op", "confirm_signup"}, {"token", "not-a-token"}});

  EXPECT_EQ(outcome_of(response), "invalid_token");
  EXPECT_EQ(field_of(response), "token");
}

TEST_F(Signup, SignupIsRateLimitedPerClientIp) {
  config_["signup"] = {{"mode", "open"}};
  config_["security"] = {{"rate_limit", {{"requests", 2}, {"per", "1h"}}}};
  start();
  auto from = [&](const std::string& username, const std::string& ip) {
    Json request = {{"op", "signup"},      {"username", username},  {"email", username + "@example.com"},
                    {"display_name", "U"}, {"password", kPassword}, {"client_ip", ip}};
    return send(request);
  };

  EXPECT_EQ(outcome_of(from("u1", "192.0.2.1")), "ok");
  EXPECT_EQ(outcome_of(from("u2", "192.0.2.1")), "ok");
  Json third = from("u3", "192.0.2.1");
  Json other_client = from("u4", "192.0.2.2");
  Json confirm = send({{"op", "confirm_signup"}, {"token", "x"}, {"client_ip", "192.0.2.1"}});

  EXPECT_EQ(outcome_of(third), "rate_limited");
  ASSERT_TRUE(third.contains("retry_after"));
  EXPECT_GE(third["retry_after"].get<int>(), 3500);
  EXPECT_EQ(outcome_of(get_user("u3")), "not_found");
  EXPECT_EQ(outcome_of(other_client), "ok");
  EXPECT_EQ(outcome_of(confirm), "rate_limited");
}

TEST_F(Signup, ExternalUserManagementRefusesTheAccountLifeCycleButAuthenticates) {
  start();
  add_user("alice");
  daemon_.stop();
  config_["user_management"] = "external";
  config_["signup"] = {{"mode", "open"}};
  start();

  const Json refused[] = {
      {{"op", "signup"},
       {"username", "bob"},
       {"email", "bob@example.com"},
       {"display_name", "Bob"},
       {"password", kPassword}},
      {{"op", "confirm_signup"}, {"token", "x"}},
      {{"op", "get_invitation_link"}},
      {{"op", "reset_invitation_link"}},
      {{"op", "send_invitations"}, {"emails", "a@example.com"}},
      {{"op", "create_invitation"}},
      {{"op", "revoke_invitation"}, {"invitation_id", 1}},
      {{"op", "resend_invitation"}, {"invitation_id", 1}},
      {{"op", "request_access"}, {"email", "a@example.com"}, {"display_name", "A"}},
      {{"op", "approve_access_request"}, {"request_id", 1}},
      {{"op", "deny_access_request"}, {"request_id", 1}},
  };
  for (const auto& request : refused) {
    EXPECT_EQ(outcome_of(send(request)), "user_management_external") << request.dump();
  }
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  EXPECT_EQ(outcome_of(get_user("alice")), "ok");
  EXPECT_EQ(signup_options()["user_management"], "external");
}

TEST_F(Signup, OperationsThatMustMailAnswerMailNotConfiguredWithoutMail) {
  start();
  Json invitation = arrange({{"op", "create_invitation"}, {"email", "a@example.com"}});
  const auto id = invitation["invitation"]["id"].get<std::int64_t>();

  EXPECT_EQ(outcome_of(send({{"op", "send_invitations"}, {"emails", "a@example.com"}})), "mail_not_configured");
  EXPECT_EQ(outcome_of(send({{"op", "resend_invitation"}, {"invitation_id", id}})), "mail_not_configured");
  EXPECT_EQ(outcome_of(send({{"op", "approve_access_request"}, {"request_id", 1}})), "mail_not_configured");
}

TEST_F(Signup, RestrictedSignupIsConfirmedThroughTheMailedLink) {
  config_["signup"] = {{"mode", "restricted"}, {"domains", {"example.com"}}, {"notify_admins", false}};
  configure_smtp();
  start();

  Json pending = signup("alice", "alice@example.com");
  ASSERT_EQ(outcome_of(pending), "ok") << pending.dump();
  EXPECT_EQ(pending["status"], "pending_confirmation");
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
  auto mails = mails_to("alice@example.com", 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].subject, "Confirm your email address for Test Site");
  auto link = dirproxy::testing::first_link(mails[0].body);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->rfind("https://dir.example/signup/confirm?token=", 0), 0u) << *link;

  Json confirmed = send({{"op", "confirm_signup"}, {"token", token_in_link(*link)}});

  ASSERT_EQ(outcome_of(confirmed), "ok") << confirmed.dump();
  EXPECT_EQ(confirmed["user"]["username"], "alice");
  EXPECT_EQ(confirmed["user"]["email"], "alice@example.com");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  EXPECT_EQ(outcome_of(send({{"op", "confirm_signup"}, {"token", token_in_link(*link)}})), "invalid_token");
  EXPECT_EQ(daemon_.log().find(token_in_link(*link)), std::string::npos);
}

TEST_F(Signup, AnExpiredConfirmationLinkCreatesNothing) {
  config_["signup"] = {
      {"mode", "restricted"}, {"domains", {"example.com"}}, {"confirmation_ttl", "1h"}, {"notify_admins", false}};
  configure_smtp();
  start();
  ASSERT_EQ(outcome_of(signup("alice", "alice@example.com")), "ok");
  auto mails = mails_to("alice@example.com", 1);
  ASSERT_EQ(mails.size(), 1u);
  ASSERT_EQ(select_from_state_database("SELECT expires_at - created_at FROM pending_signups"), 3600);

  // As if the hour had passed; the confirmation window to the second is
  // AccountStores' to show.
  execute_on_state_database(
      "UPDATE pending_signups SET created_at = created_at - 3600, expires_at = expires_at - 3600");
  Json response = send({{"op", "confirm_signup"}, {"token", token_in_mail(mails[0])}});

  EXPECT_EQ(outcome_of(response), "invalid_token");
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
}

TEST_F(Signup, OpenSignupMailsNoConfirmationAndNotifiesEveryAdminWithAnEmail) {
  config_["signup"] = {{"mode", "open"}, {"notify_admins", true}};
  config_["accounts"]["admin_group"] = "admins";
  configure_smtp();
  start();
  add_admin();

  ASSERT_EQ(outcome_of(signup("alice", "alice@example.com")), "ok");

  auto notices = mails_to("boss@example.com", 1);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].subject, "New account alice at Test Site");
  EXPECT_NE(notices[0].body.find("alice@example.com"), std::string::npos);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(smtp_->messages().size(), 1u);  // nothing to alice
}

TEST_F(Signup, NoMailGoesOutForASignupThatFailed) {
  config_["signup"] = {{"mode", "open"}, {"notify_admins", true}};
  config_["accounts"]["admin_group"] = "admins";
  config_["accounts"]["unique_email"] = true;
  configure_smtp();
  start();
  add_admin();

  Json response = signup("alice", "boss@example.com");  // the email is taken

  EXPECT_EQ(outcome_of(response), "conflict");
  ASSERT_EQ(outcome_of(signup("carol", "carol@example.com")), "ok");
  auto notices = mails_to("boss@example.com", 1);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].subject, "New account carol at Test Site");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(smtp_->messages().size(), 1u);
}

}  // namespace
}  // namespace dirproxy::integration
