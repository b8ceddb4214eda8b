// What the password-reset operations refuse before they touch an account:
// the per-client_ip rate limit (security.rate_limit), user_management:
// external, a configuration without mail, and ill-formed input. Against the
// real dirproxyd through its socket.
#include <string>

#include <gtest/gtest.h>

#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kUnknownToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

Json reset_password_from(const std::string& client_ip) {
  return {{"op", "reset_password"},
          {"token", kUnknownToken},
          {"password", "a brand new passphrase"},
          {"client_ip", client_ip}};
}

class PasswordResetLimits : public DaemonTest {};

// --- rate limits ----------------------------------------------------------------

TEST_F(PasswordResetLimits, ResetPasswordIsRateLimitedPerClientIpWithRetryAfter) {
  Json config = daemon_.default_config();
  config["security"] = {{"rate_limit", {{"requests", 2}, {"per", "1h"}}}};
  daemon_.start(config);
  ASSERT_EQ(outcome_of(send(reset_password_from("192.0.2.1"))), "invalid_token");
  ASSERT_EQ(outcome_of(send(reset_password_from("192.0.2.1"))), "invalid_token");

  auto third = send(reset_password_from("192.0.2.1"));

  EXPECT_EQ(outcome_of(third), "rate_limited") << third;
  ASSERT_TRUE(third.contains("retry_after")) << third;
  EXPECT_GE(third["retry_after"].get<int>(), 3590);
  EXPECT_LE(third["retry_after"].get<int>(), 3600);
  EXPECT_EQ(outcome_of(send(reset_password_from("192.0.2.2"))), "invalid_token");
}

TEST_F(PasswordResetLimits, RequestPasswordResetIsRateLimitedPerClientIp) {
  Json config = daemon_.default_config();
  config["security"] = {{"rate_limit", {{"requests", 2}, {"per", "1h"}}}};
  daemon_.start(config);
  const Json request = {{"op", "request_password_reset"}, {"username", "alice"}, {"client_ip", "192.0.2.1"}};
  // Without mail the answer is mail_not_configured, but each still counts.
  ASSERT_EQ(outcome_of(send(request)), "mail_not_configured");
  ASSERT_EQ(outcome_of(send(request)), "mail_not_configured");

  auto third = send(request);

  EXPECT_EQ(outcome_of(third), "rate_limited") << third;
  EXPECT_TRUE(third.contains("retry_after")) << third;
  Json other = request;
  other["client_ip"] = "192.0.2.2";
  EXPECT_EQ(outcome_of(send(other)), "mail_not_configured");
}

TEST_F(PasswordResetLimits, RequestsWithoutClientIpShareOneLimit) {
  Json config = daemon_.default_config();
  config["security"] = {{"rate_limit", {{"requests", 1}, {"per", "1h"}}}};
  daemon_.start(config);
  Json request = reset_password_from("");
  request.erase("client_ip");
  ASSERT_EQ(outcome_of(send(request)), "invalid_token");

  EXPECT_EQ(outcome_of(send(request)), "rate_limited");
}

// --- user_management: external -------------------------------------------------

TEST_F(PasswordResetLimits, ExternalManagementRefusesResetAndAccountChangesWhileLookupsWork) {
  Json config = daemon_.default_config();
  daemon_.start(config);
  add_user("alice");
  add_group("devs");
  config["user_management"] = "external";
  daemon_.write_config(config);
  arrange({{"op", "reload"}});

  const std::vector<Json> refused = {
      {{"op", "request_password_reset"}, {"username", "alice"}},
      {{"op", "reset_password"}, {"token", kUnknownToken}, {"password", "a brand new passphrase"}},
      {{"op", "send_password_reset"}, {"username", "alice"}},
      add_user_request("bob"),
      {{"op", "update_user"}, {"username", "alice"}, {"display_name", "Alice"}},
      {{"op", "delete_user"}, {"username", "alice"}},
      {{"op", "add_group"}, {"name", "ops"}},
      {{"op", "delete_group"}, {"name", "devs"}},
      {{"op", "add_member"}, {"group", "devs"}, {"username", "alice"}},
  };
  for (const auto& request : refused) {
    SCOPED_TRACE(request.dump());
    EXPECT_EQ(outcome_of(send(request)), "user_management_external");
  }
  EXPECT_EQ(outcome_of(get_user("alice")), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "devs"}})), "ok");
  EXPECT_EQ(signup_options()["user_management"], "external");
}

// --- without mail --------------------------------------------------------------

TEST_F(PasswordResetLimits, WithoutMailTheOperationsThatMailAnswerMailNotConfigured) {
  daemon_.start();
  add_user("alice");

  auto by_user = send({{"op", "request_password_reset"}, {"username", "alice"}});
  auto by_admin = send({{"op", "send_password_reset"}, {"username", "alice"}});

  EXPECT_EQ(outcome_of(by_user), "mail_not_configured") << by_user;
  EXPECT_EQ(outcome_of(by_admin), "mail_not_configured") << by_admin;
}

// --- ill-formed input ----------------------------------------------------------

TEST_F(PasswordResetLimits, RequestPasswordResetNeedsExactlyOneStringOfUsernameAndEmail) {
  daemon_.start();

  auto neither = send({{"op", "request_password_reset"}});
  auto both = send({{"op", "request_password_reset"}, {"username", "alice"}, {"email", "alice@example.com"}});
  auto array = send({{"op", "request_password_reset"}, {"email", Json::array({"alice@example.com", "x@y.z"})}});
  auto number = send({{"op", "request_password_reset"}, {"username", 42}});
  auto object = send({{"op", "request_password_reset"}, {"email", {{"address", "alice@example.com"}}}});

  EXPECT_EQ(outcome_of(neither), "bad_request");
  EXPECT_EQ(field_of(neither), "username");
  EXPECT_EQ(outcome_of(both), "bad_request");
  EXPECT_EQ(outcome_of(array), "bad_request");
  EXPECT_EQ(field_of(array), "email");
  EXPECT_EQ(outcome_of(number), "bad_request");
  EXPECT_EQ(field_of(number), "username");
  EXPECT_EQ(outcome_of(object), "bad_request");
  EXPECT_EQ(field_of(object), "email");
}

TEST_F(PasswordResetLimits, RequestPasswordResetWithAMalformedEmailIsInvalidEmail) {
  daemon_.start();

  auto response = send({{"op", "request_password_reset"}, {"email", "alice@@example.com"}});

  EXPECT_EQ(outcome_of(response), "invalid_email") << response;
  EXPECT_EQ(field_of(response), "email");
}

}  // namespace
}  // namespace dirproxy::integration
