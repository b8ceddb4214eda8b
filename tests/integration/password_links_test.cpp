// Set-password links without mail: add_user with notify=false and no
// password answers set_password_link, and reset_password redeems it. The
// link is single-use, expires, dies when the password is set otherwise or
// the account is deleted, survives a weak password, and a directory that
// cannot change passwords answers read_only at reset time without burning
// it. Against the real dirproxyd through its socket.
#include <string>

#include <gtest/gtest.h>

#include "account_test_support.hpp"
#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kNewPassword = "a brand new passphrase";

class PasswordLinks : public DaemonTest {
 protected:
  // The set-password link of a new account `username` without a password.
  std::string add_user_without_password(const std::string& username) {
    Json request = add_user_request(username);
    request.erase("password");
    Json response = arrange(request);
    return response.at("set_password_link").get<std::string>();
  }

  Json reset_password(const std::string& token, const std::string& password = kNewPassword) {
    return send({{"op", "reset_password"}, {"token", token}, {"password", password}});
  }

  void reload_with(const Json& config) {
    daemon_.write_config(config);
    arrange({{"op", "reload"}});
  }
};

TEST_F(PasswordLinks, AddUserWithoutPasswordAndNotifyFalseAnswersALinkUnderSiteLinks) {
  daemon_.start();
  Json request = add_user_request("alice");
  request.erase("password");

  auto response = send(request);

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const auto link = response.at("set_password_link").get<std::string>();
  EXPECT_EQ(link.rfind("http://localhost/password/reset?token=", 0), 0u) << link;
  EXPECT_EQ(token_in_link(link).size(), 43u) << link;
}

TEST_F(PasswordLinks, AddUserWithAPasswordAnswersNoLink) {
  daemon_.start();

  auto response = send(add_user_request("alice"));

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_FALSE(response.contains("set_password_link")) << response;
}

TEST_F(PasswordLinks, TheLinkSetsThePasswordAndTheUserCanLogIn) {
  daemon_.start();
  const auto link = add_user_without_password("alice");

  auto response = reset_password(token_in_link(link));

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordLinks, TheLinkWorksOnlyOnce) {
  daemon_.start();
  const auto token = token_in_link(add_user_without_password("alice"));
  ASSERT_EQ(outcome_of(reset_password(token)), "ok");

  auto again = reset_password(token, "yet another passphrase");

  EXPECT_EQ(outcome_of(again), "invalid_token") << again;
  EXPECT_EQ(field_of(again), "token");
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordLinks, AnUnknownTokenIsInvalidToken) {
  daemon_.start();
  add_user_without_password("alice");

  auto response = reset_password("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

  EXPECT_EQ(outcome_of(response), "invalid_token") << response;
  EXPECT_EQ(field_of(response), "token");
}

TEST_F(PasswordLinks, AWeakPasswordIsRefusedAndDoesNotBurnTheLink) {
  daemon_.start();
  const auto token = token_in_link(add_user_without_password("alice"));

  auto weak = reset_password(token, "short");

  EXPECT_EQ(outcome_of(weak), "weak_password") << weak;
  EXPECT_EQ(field_of(weak), "password");
  EXPECT_EQ(outcome_of(reset_password(token)), "ok");
}

TEST_F(PasswordLinks, AnExpiredLinkIsInvalidToken) {
  Json config = daemon_.default_config();
  config["password_reset"] = {{"new_user_ttl", "1h"}};
  daemon_.start(config);
  const auto token = token_in_link(add_user_without_password("alice"));
  ASSERT_EQ(select_from_state_database("SELECT expires_at - created_at FROM reset_tokens"), 3600);

  // As if the hour had passed; that a link ends at exactly expires_at is
  // ResetTokenStoreTest's to show.
  execute_on_state_database("UPDATE reset_tokens SET created_at = created_at - 3600, expires_at = expires_at - 3600");
  auto response = reset_password(token);

  EXPECT_EQ(outcome_of(response), "invalid_token") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "invalid_credentials");
}

TEST_F(PasswordLinks, SetPasswordByAnAdminKillsTheLink) {
  daemon_.start();
  const auto token = token_in_link(add_user_without_password("alice"));
  arrange({{"op", "set_password"}, {"username", "alice"}, {"password", kPassword}});

  auto response = reset_password(token);

  EXPECT_EQ(outcome_of(response), "invalid_token") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(PasswordLinks, TheLinkOfADeletedAccountDoesNotWorkForANewAccountOfTheSameName) {
  daemon_.start();
  const auto token = token_in_link(add_user_without_password("alice"));
  arrange({{"op", "delete_user"}, {"username", "alice"}});
  add_user("alice");

  auto response = reset_password(token);

  EXPECT_EQ(outcome_of(response), "invalid_token") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(PasswordLinks, ADirectoryThatCannotChangePasswordsAnswersReadOnlyAndKeepsTheLink) {
  Json config = daemon_.default_config();
  daemon_.start(config);
  const auto token = token_in_link(add_user_without_password("alice"));
  config["directories"][0]["permissions"] = "read_only";
  reload_with(config);

  auto refused = reset_password(token);

  EXPECT_EQ(outcome_of(refused), "read_only") << refused;
  // Once the directory permits it again, the same link still works.
  config["directories"][0]["permissions"] = "read_write";
  reload_with(config);
  EXPECT_EQ(outcome_of(reset_password(token)), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordLinks, ResetPasswordWithoutTokenOrPasswordIsBadRequestNamingIt) {
  daemon_.start();

  auto no_token = send({{"op", "reset_password"}, {"password", kNewPassword}});
  auto no_password = send({{"op", "reset_password"}, {"token", "x"}});
  auto number_token = send({{"op", "reset_password"}, {"token", 7}, {"password", kNewPassword}});

  EXPECT_EQ(outcome_of(no_token), "bad_request");
  EXPECT_EQ(field_of(no_token), "token");
  EXPECT_EQ(outcome_of(no_password), "bad_request");
  EXPECT_EQ(field_of(no_password), "password");
  EXPECT_EQ(outcome_of(number_token), "bad_request");
  EXPECT_EQ(field_of(number_token), "token");
}

TEST_F(PasswordLinks, CtlUserAddNoNotifyWithoutPasswordPrintsAWorkingLink) {
  daemon_.start();

  auto result =
      daemon_.run_ctl({"user", "add", "alice", "--email", "alice@example.com", "--name", "Alice", "--no-notify"});

  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const std::string prefix = "user 'alice' added\nset-password link: http://localhost/password/reset?token=";
  ASSERT_EQ(result.out.rfind(prefix, 0), 0u) << result.out;
  const std::string token = result.out.substr(prefix.size(), result.out.find('\n', prefix.size()) - prefix.size());
  EXPECT_EQ(token.size(), 43u) << result.out;
  EXPECT_EQ(outcome_of(reset_password(token)), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordLinks, CtlUserResetPasswordWithoutMailFailsWithMailNotConfigured) {
  daemon_.start();
  add_user("alice");

  auto result = daemon_.run_ctl({"user", "reset-password", "alice"});

  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("mail_not_configured"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace dirproxy::integration
