// The set-password and password-reset mails end to end: dirproxyd with a
// real SMTP server (tests/support/smtp_server.hpp), following the links in
// the captured mail. add_user mails new_user links, send_password_reset and
// request_password_reset mail password_reset links only to the address
// stored for the account, and the links set passwords once.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "account_test_support.hpp"
#include "ldap_test_support.hpp"
#include "protocol_test_support.hpp"
#include "support/smtp_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::CapturedMail;
using dirproxy::testing::first_link;
using dirproxy::testing::SmtpServer;

constexpr const char* kNewPassword = "a brand new passphrase";

std::string link_in(const CapturedMail& mail) {
  auto link = first_link(mail.body);
  if (!link) throw std::runtime_error("no link in mail: " + mail.body);
  return *link;
}

class PasswordReset : public DaemonTest {
 protected:
  // The default configuration with mail through smtp_ (fast retries).
  Json config_with_mail() {
    Json config = daemon_.default_config();
    config["site"] = {{"name", "Example Site"}, {"base_url", "https://id.example.com"}};
    config["mail"] = {{"smtp_url", smtp_.url()},
                      {"starttls", "none"},
                      {"from", "Example Site <noreply@example.com>"},
                      {"retry_backoff", "1s"}};
    return config;
  }

  void start() { daemon_.start(config_with_mail()); }

  // Exactly `count` mails arrive: waits for them, then a moment longer to
  // see that no other one follows.
  std::vector<CapturedMail> exactly(std::size_t count) {
    auto mails = smtp_.wait_for_messages(count);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return smtp_.messages();
  }

  // The subjects of every mail up to and including a barrier: an admin's
  // send_password_reset to `username`, queued after whatever the test did.
  // The outbox sends in order, so a mail the test caused (wrongly) would
  // arrive before the barrier; a check for "no mail" is never vacuous.
  // `earlier_resets` reset mails to the same user come before the barrier.
  std::vector<std::string> subjects_through_barrier(const std::string& username, std::size_t earlier_resets = 0) {
    arrange({{"op", "send_password_reset"}, {"username", username}});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<CapturedMail> mails;
    do {
      mails = smtp_.messages();
      std::size_t resets = 0;
      for (std::size_t i = 0; i < mails.size(); ++i) {
        if (mails[i].subject.rfind("Reset your password", 0) != 0) continue;
        if (mails[i].envelope_to != std::vector<std::string>{username + "@example.com"}) continue;
        if (resets++ < earlier_resets) continue;
        std::vector<std::string> subjects;
        for (std::size_t j = 0; j <= i; ++j) subjects.push_back(mails[j].subject + " -> " + mails[j].envelope_to.at(0));
        return subjects;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    throw std::runtime_error("the barrier mail did not arrive");
  }

  static std::string barrier_subject(const std::string& username) {
    return "Reset your password for Example Site -> " + username + "@example.com";
  }

  Json add_user_notified(const std::string& username) {
    Json request = add_user_request(username);
    request.erase("password");
    request.erase("notify");
    return send(request);
  }

  Json request_reset(const Json& by) {
    Json request = by;
    request["op"] = "request_password_reset";
    return send(request);
  }

  Json reset_password(const std::string& token, const std::string& password = kNewPassword) {
    return send({{"op", "reset_password"}, {"token", token}, {"password", password}});
  }

  SmtpServer smtp_;
};

TEST_F(PasswordReset, AddUserMailsANewUserLinkThatSetsThePassword) {
  start();

  auto added = add_user_notified("alice");

  ASSERT_EQ(outcome_of(added), "ok") << added;
  EXPECT_FALSE(added.contains("set_password_link")) << added;
  auto mails = exactly(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope_to, (std::vector<std::string>{"alice@example.com"}));
  const auto link = link_in(mails[0]);
  EXPECT_EQ(link.rfind("https://id.example.com/password/reset?token=", 0), 0u) << link;
  EXPECT_NE(mails[0].body.find("alice"), std::string::npos) << mails[0].body;
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "invalid_credentials");
  EXPECT_EQ(outcome_of(reset_password(token_in_link(link))), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordReset, AddUserThatFailsSendsNoMailAndLeavesNoLink) {
  start();
  add_user("alice");

  auto again = add_user_notified("alice");

  EXPECT_EQ(outcome_of(again), "conflict") << again;
  EXPECT_EQ(subjects_through_barrier("alice"), (std::vector<std::string>{barrier_subject("alice")}));
}

TEST_F(PasswordReset, AddUserWithAMissingGroupSendsNoMailAndCreatesNothing) {
  start();
  Json request = add_user_request("alice");
  request.erase("password");
  request.erase("notify");
  request["groups"] = {"nosuchgroup"};

  auto response = send(request);

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
  add_user("bob");
  EXPECT_EQ(subjects_through_barrier("bob"), (std::vector<std::string>{barrier_subject("bob")}));
}

TEST_F(PasswordReset, AddUserWithAPasswordSendsNoMail) {
  start();
  Json request = add_user_request("alice");
  request.erase("notify");

  ASSERT_EQ(outcome_of(send(request)), "ok");

  EXPECT_EQ(subjects_through_barrier("alice"), (std::vector<std::string>{barrier_subject("alice")}));
}

TEST_F(PasswordReset, SendPasswordResetMailsAFreshLinkToTheStoredAddress) {
  start();
  add_user("alice");

  auto response = send({{"op", "send_password_reset"}, {"username", "ALICE"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  auto mails = exactly(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope_to, (std::vector<std::string>{"alice@example.com"}));
  EXPECT_EQ(outcome_of(reset_password(token_in_link(link_in(mails[0])))), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "invalid_credentials");
}

TEST_F(PasswordReset, CheckPasswordResetTellsThePurposeAndLeavesTheLinkUsable) {
  start();
  Json request = add_user_request("alice");
  request.erase("password");
  request["notify"] = false;
  const Json added = arrange(request);
  const std::string new_user_token = token_in_link(added["set_password_link"]);
  arrange({{"op", "send_password_reset"}, {"username", "alice"}});
  const std::string reset_token = token_in_link(link_in(exactly(1).at(0)));

  Json new_user = send({{"op", "check_password_reset"}, {"token", new_user_token}});
  Json reset = send({{"op", "check_password_reset"}, {"token", reset_token}});

  EXPECT_EQ(new_user, (Json{{"id", 1}, {"ok", true}, {"purpose", "new_user"}}));
  EXPECT_EQ(reset, (Json{{"id", 1}, {"ok", true}, {"purpose", "password_reset"}}));
  EXPECT_EQ(outcome_of(reset_password(new_user_token)), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
  Json used = send({{"op", "check_password_reset"}, {"token", new_user_token}});
  EXPECT_EQ(outcome_of(used), "invalid_token");
  EXPECT_EQ(field_of(used), "token");
  EXPECT_EQ(daemon_.log().find(new_user_token), std::string::npos);
}

TEST_F(PasswordReset, SendPasswordResetForAnUnknownUserIsNotFound) {
  start();

  auto response = send({{"op", "send_password_reset"}, {"username", "ghost"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(field_of(response), "username");
}

TEST_F(PasswordReset, RequestByUsernameMailsTheStoredAddress) {
  start();
  add_user("alice");

  auto response = request_reset({{"username", "alice"}, {"client_ip", "192.0.2.7"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  auto mails = exactly(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope_to, (std::vector<std::string>{"alice@example.com"}));
  EXPECT_EQ(outcome_of(reset_password(token_in_link(link_in(mails[0])))), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordReset, RequestByEmailMailsTheStoredAddressNotTheOneInTheRequest) {
  start();
  add_user("alice");

  auto response = request_reset({{"email", "ALICE@Example.COM"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  auto mails = exactly(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope_to, (std::vector<std::string>{"alice@example.com"}));
  EXPECT_EQ(outcome_of(reset_password(token_in_link(link_in(mails[0])))), "ok");
}

TEST_F(PasswordReset, AnUnknownAccountGetsTheSameAnswerAndNoMail) {
  start();
  add_user("alice");

  auto unknown_name = request_reset({{"username", "ghost"}});
  auto unknown_email = request_reset({{"email", "ghost@example.com"}});
  auto known = request_reset({{"username", "alice"}});

  EXPECT_EQ(unknown_name, known);
  EXPECT_EQ(unknown_email, known);
  // One mail for alice's request, then the barrier: nothing for the ghost.
  EXPECT_EQ(subjects_through_barrier("alice", 1),
            (std::vector<std::string>{barrier_subject("alice"), barrier_subject("alice")}));
}

TEST_F(PasswordReset, AnInactiveAccountGetsTheSameAnswerAndNoMail) {
  start();
  add_user("alice");
  add_user("bob");
  arrange({{"op", "update_user"}, {"username", "alice"}, {"active", false}});

  auto response = request_reset({{"username", "alice"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(subjects_through_barrier("bob"), (std::vector<std::string>{barrier_subject("bob")}));
}

TEST_F(PasswordReset, AResetKillsTheUsersOtherLinks) {
  start();
  add_user("alice");
  ASSERT_EQ(outcome_of(request_reset({{"username", "alice"}})), "ok");
  ASSERT_EQ(outcome_of(request_reset({{"username", "alice"}})), "ok");
  auto mails = smtp_.wait_for_messages(2);
  ASSERT_EQ(mails.size(), 2u);
  const auto first = token_in_link(link_in(mails[0]));
  const auto second = token_in_link(link_in(mails[1]));
  ASSERT_NE(first, second);

  ASSERT_EQ(outcome_of(reset_password(second)), "ok");

  auto stale = reset_password(first, "yet another passphrase");
  EXPECT_EQ(outcome_of(stale), "invalid_token") << stale;
  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordReset, ChangePasswordKillsOutstandingLinks) {
  start();
  add_user("alice");
  ASSERT_EQ(outcome_of(request_reset({{"username", "alice"}})), "ok");
  auto mails = smtp_.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  arrange({{"op", "change_password"},
           {"username", "alice"},
           {"old_password", kPassword},
           {"new_password", "changed by alice herself"}});

  auto response = reset_password(token_in_link(link_in(mails[0])));

  EXPECT_EQ(outcome_of(response), "invalid_token") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", "changed by alice herself")), "ok");
}

TEST_F(PasswordReset, AnExpiredResetLinkIsInvalidToken) {
  Json config = config_with_mail();
  config["password_reset"] = {{"ttl", "1h"}};
  daemon_.start(config);
  add_user("alice");
  ASSERT_EQ(outcome_of(request_reset({{"username", "alice"}})), "ok");
  auto mails = smtp_.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  ASSERT_EQ(select_from_state_database("SELECT expires_at - created_at FROM reset_tokens"), 3600);

  // As if the hour had passed; that a link ends at exactly expires_at is
  // ResetTokenStoreTest's to show.
  execute_on_state_database("UPDATE reset_tokens SET created_at = created_at - 3600, expires_at = expires_at - 3600");
  auto response = reset_password(token_in_link(link_in(mails[0])));

  EXPECT_EQ(outcome_of(response), "invalid_token") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(PasswordReset, AResetClearsTheLockout) {
  Json config = config_with_mail();
  config["security"] = {{"lockout", {{"max_failures", 2}, {"window", "1m"}, {"duration", "1m"}}}};
  daemon_.start(config);
  add_user("alice");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(outcome_of(authenticate("alice", "wrong password")), "invalid_credentials");
  ASSERT_EQ(outcome_of(authenticate("alice", kPassword)), "account_locked");
  ASSERT_EQ(outcome_of(request_reset({{"username", "alice"}})), "ok");
  auto mails = smtp_.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);

  ASSERT_EQ(outcome_of(reset_password(token_in_link(link_in(mails[0])))), "ok");

  EXPECT_EQ(outcome_of(authenticate("alice", kNewPassword)), "ok");
}

TEST_F(PasswordReset, ARequestForAUserOfAReadOnlyDirectoryIsMailedAndAnswersReadOnlyAtReset) {
  Json config = config_with_mail();
  daemon_.start(config);
  add_user("alice");
  config["directories"][0]["permissions"] = "read_only";
  daemon_.write_config(config);
  arrange({{"op", "reload"}});

  auto requested = request_reset({{"username", "alice"}});
  auto mails = smtp_.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  auto response = reset_password(token_in_link(link_in(mails[0])));

  EXPECT_EQ(requested, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(outcome_of(response), "read_only") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(PasswordReset, SendPasswordResetForAUserOfAReadOnlyDirectoryIsReadOnly) {
  Json config = config_with_mail();
  daemon_.start(config);
  add_user("alice");
  config["directories"][0]["permissions"] = "read_only";
  daemon_.write_config(config);
  arrange({{"op", "reload"}});

  auto response = send({{"op", "send_password_reset"}, {"username", "alice"}});

  EXPECT_EQ(outcome_of(response), "read_only") << response;
}

TEST_F(PasswordReset, AUserOfAReadOnlyLdapDirectoryIsMailedAndAnswersReadOnlyAtReset) {
  SlapdServer corp(dirproxy::testing::openldap_test_options());
  Json config = config_with_mail();
  config["directories"] = Json::array({ldap_directory(daemon_, "corp", corp)});
  daemon_.start(config);

  auto requested = request_reset({{"username", "alice"}});
  auto mails = smtp_.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  auto response = reset_password(token_in_link(link_in(mails[0])));

  EXPECT_EQ(requested, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(mails[0].envelope_to, (std::vector<std::string>{"alice@example.com"}));
  EXPECT_EQ(outcome_of(response), "read_only") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", "alice-password")), "ok");
}

// --- dirproxyctl ----------------------------------------------------------------

TEST_F(PasswordReset, CtlUserResetPasswordMailsALink) {
  start();
  add_user("alice");

  auto result = daemon_.run_ctl({"user", "reset-password", "alice"});

  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out, "set-password link for user 'alice' queued for mailing\n");
  auto mails = exactly(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope_to, (std::vector<std::string>{"alice@example.com"}));
  EXPECT_EQ(result.out.find("token"), std::string::npos);
}

TEST_F(PasswordReset, CtlUserAddWithoutPasswordMailsTheLink) {
  start();

  auto result = daemon_.run_ctl({"user", "add", "alice", "--email", "alice@example.com", "--name", "Alice"});

  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out, "user 'alice' added\n");
  auto mails = exactly(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(outcome_of(reset_password(token_in_link(link_in(mails[0])))), "ok");
}

TEST_F(PasswordReset, CtlUserAddNoNotifyPrintsAWorkingLinkAndMailsNothing) {
  start();

  auto result =
      daemon_.run_ctl({"user", "add", "alice", "--email", "alice@example.com", "--name", "Alice", "--no-notify"});

  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const std::string prefix = "user 'alice' added\nset-password link: https://id.example.com/password/reset?token=";
  ASSERT_EQ(result.out.rfind(prefix, 0), 0u) << result.out;
  const std::string link = result.out.substr(result.out.find("https://"), std::string::npos);
  EXPECT_EQ(outcome_of(reset_password(token_in_link(link.substr(0, link.find('\n'))))), "ok");
  EXPECT_EQ(subjects_through_barrier("alice"), (std::vector<std::string>{barrier_subject("alice")}));
}

}  // namespace
}  // namespace dirproxy::integration
