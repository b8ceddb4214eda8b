// Logs never contain a password, a token or a link (docs/design.md, Security
// rules): every account flow of the daemon runs at log level trace, and
// then not one of the secrets that went through it appears in its log.
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "account_test_support.hpp"
#include "protocol_test_support.hpp"
#include "support/smtp_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::first_link;
using dirproxy::testing::SmtpServer;

class SecretsInLogs : public DaemonTest {
 protected:
  void SetUp() override {
    Json config = daemon_.default_config();
    config["log"] = {{"level", "trace"}, {"audit", true}};
    config["mail"] = {{"smtp_url", smtp_.url()}, {"starttls", "none"}, {"from", "noreply@example.com"}};
    config["signup"] = {{"mode", "restricted"}, {"domains", {"example.com"}}};
    config["access_requests"] = {{"enabled", true}};
    daemon_.start(config);
  }

  // Sends `request`, remembering every password in it as a secret.
  Json send_secret(Json request) {
    for (const char* key : {"password", "old_password", "new_password", "token"}) {
      if (request.contains(key)) secrets_.insert(request[key].get<std::string>());
    }
    Json response = send(request);
    if (response.contains("set_password_link")) remember_link(response["set_password_link"].get<std::string>());
    return response;
  }

  void remember_link(const std::string& link) {
    secrets_.insert(link);
    secrets_.insert(token_in_link(link));
  }

  // The link of the `index`th mail (waiting for it), remembered as a secret.
  std::string mailed_link(std::size_t index) {
    auto mails = smtp_.wait_for_messages(index + 1);
    if (mails.size() <= index) throw std::runtime_error("mail " + std::to_string(index) + " did not arrive");
    auto link = first_link(mails[index].body);
    if (!link) throw std::runtime_error("no link in mail " + std::to_string(index));
    remember_link(*link);
    return *link;
  }

  // The link of the first mail to `recipient` (waiting up to 10 s for it),
  // remembered as a secret.
  std::string link_mailed_to(const std::string& recipient) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      for (const auto& mail : smtp_.messages()) {
        if (mail.envelope_to != std::vector<std::string>{recipient}) continue;
        auto link = first_link(mail.body);
        if (!link) throw std::runtime_error("no link in the mail to " + recipient);
        remember_link(*link);
        return *link;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    throw std::runtime_error("no mail to " + recipient);
  }

  // Remembers the link and token of an invitation answer.
  Json remember_invitation(const Json& response) {
    if (response.contains("link")) secrets_.insert(response["link"].get<std::string>());
    if (response.contains("token")) secrets_.insert(response["token"].get<std::string>());
    return response;
  }

  void expect_no_secret_in_log() {
    daemon_.stop();
    const std::string log = daemon_.log();
    ASSERT_FALSE(secrets_.empty());
    for (const auto& secret : secrets_) {
      EXPECT_EQ(log.find(secret), std::string::npos) << "the log contains the secret '" << secret << "'";
    }
  }

  SmtpServer smtp_;
  std::set<std::string> secrets_;
};

TEST_F(SecretsInLogs, NoPasswordTokenOrLinkOfAnyAccountFlowIsLogged) {
  // Admin-added users: with a password, with a mailed link, with a returned link.
  Json with_password = add_user_request("alice");
  with_password["password"] = "alice's first secret";
  ASSERT_EQ(outcome_of(send_secret(with_password)), "ok");
  Json notified = add_user_request("bob");
  notified.erase("password");
  notified.erase("notify");
  ASSERT_EQ(outcome_of(send_secret(notified)), "ok");
  const auto bob_link = mailed_link(0);
  Json unnotified = add_user_request("carol");
  unnotified.erase("password");
  auto carol = send_secret(unnotified);
  ASSERT_EQ(outcome_of(carol), "ok");

  // Links redeemed: a weak password first (refused), then a good one, then again.
  ASSERT_EQ(
      outcome_of(send_secret({{"op", "reset_password"}, {"token", token_in_link(bob_link)}, {"password", "weak1"}})),
      "weak_password");
  ASSERT_EQ(outcome_of(send_secret(
                {{"op", "reset_password"}, {"token", token_in_link(bob_link)}, {"password", "bob's chosen secret"}})),
            "ok");
  ASSERT_EQ(outcome_of(send_secret(
                {{"op", "reset_password"}, {"token", token_in_link(bob_link)}, {"password", "bob's replayed secret"}})),
            "invalid_token");
  const auto carol_link = carol["set_password_link"].get<std::string>();
  ASSERT_EQ(
      outcome_of(send_secret(
          {{"op", "reset_password"}, {"token", token_in_link(carol_link)}, {"password", "carol's chosen secret"}})),
      "ok");

  // Password resets requested by the user and sent by an admin.
  ASSERT_EQ(
      outcome_of(send_secret({{"op", "request_password_reset"}, {"username", "alice"}, {"client_ip", "192.0.2.9"}})),
      "ok");
  const auto requested = mailed_link(1);
  ASSERT_EQ(outcome_of(send_secret({{"op", "send_password_reset"}, {"username", "alice"}})), "ok");
  mailed_link(2);
  ASSERT_EQ(outcome_of(send_secret(
                {{"op", "reset_password"}, {"token", token_in_link(requested)}, {"password", "alice's reset secret"}})),
            "ok");

  // Passwords set by an admin, changed by the user, right and wrong logins.
  ASSERT_EQ(outcome_of(send_secret({{"op", "set_password"}, {"username", "carol"}, {"password", "set by the admin"}})),
            "ok");
  ASSERT_EQ(outcome_of(send_secret({{"op", "change_password"},
                                    {"username", "carol"},
                                    {"old_password", "set by the admin"},
                                    {"new_password", "carol's own again"}})),
            "ok");
  ASSERT_EQ(outcome_of(send_secret({{"op", "authenticate"}, {"username", "carol"}, {"password", "carol's own again"}})),
            "ok");
  ASSERT_EQ(
      outcome_of(send_secret({{"op", "authenticate"}, {"username", "carol"}, {"password", "a wrong guess here"}})),
      "invalid_credentials");
  ASSERT_EQ(outcome_of(send_secret({{"op", "authenticate"}, {"username", "ghost"}, {"password", "ghost's guess"}})),
            "invalid_credentials");

  // Every mail went out (the sender's log lines are in too), then the log is read.
  smtp_.wait_for_messages(3);
  ASSERT_TRUE(daemon_.wait_for_log("\"op\":\"reset_password\"")) << "the requests were not logged at all";
  expect_no_secret_in_log();
}

TEST_F(SecretsInLogs, NoPasswordTokenOrLinkOfTheSignupInvitationAndAccessFlowsIsLogged) {
  // Restricted signup: the confirmation link is mailed, then redeemed.
  ASSERT_EQ(outcome_of(send_secret({{"op", "signup"},
                                    {"username", "dave"},
                                    {"email", "dave@example.com"},
                                    {"display_name", "Dave"},
                                    {"password", "dave's signup secret"}})),
            "ok");
  const auto confirm = link_mailed_to("dave@example.com");
  ASSERT_EQ(outcome_of(send_secret({{"op", "confirm_signup"}, {"token", token_in_link(confirm)}})), "ok");

  // A single-use invitation answered to the admin, then used.
  auto invitation = remember_invitation(send({{"op", "create_invitation"}, {"email", "erin@other.org"}}));
  ASSERT_EQ(outcome_of(invitation), "ok") << invitation;
  ASSERT_EQ(outcome_of(send_secret({{"op", "signup"},
                                    {"username", "erin"},
                                    {"email", "erin@other.org"},
                                    {"display_name", "Erin"},
                                    {"password", "erin's signup secret"},
                                    {"token", invitation["token"]}})),
            "ok");

  // The shared link shown and reset; invitations mailed and used.
  ASSERT_EQ(outcome_of(remember_invitation(send({{"op", "get_invitation_link"}}))), "ok");
  ASSERT_EQ(outcome_of(remember_invitation(send({{"op", "reset_invitation_link"}}))), "ok");
  ASSERT_EQ(outcome_of(send({{"op", "send_invitations"}, {"emails", "frank@other.org"}})), "ok");
  const auto frank = link_mailed_to("frank@other.org");
  ASSERT_EQ(outcome_of(send_secret({{"op", "signup"},
                                    {"username", "frank"},
                                    {"email", "frank@other.org"},
                                    {"display_name", "Frank"},
                                    {"password", "frank's signup secret"},
                                    {"token", token_in_link(frank)}})),
            "ok");

  // An access request approved: the requester is mailed an invitation.
  ASSERT_EQ(outcome_of(send({{"op", "request_access"}, {"email", "grace@other.org"}, {"display_name", "Grace"}})),
            "ok");
  auto requests = send({{"op", "list_access_requests"}});
  ASSERT_EQ(outcome_of(requests), "ok") << requests;
  ASSERT_EQ(requests["requests"].size(), 1u) << requests;
  auto approved =
      remember_invitation(send({{"op", "approve_access_request"}, {"request_id", requests["requests"][0]["id"]}}));
  ASSERT_EQ(outcome_of(approved), "ok") << approved << requests;
  const auto grace = link_mailed_to("grace@other.org");
  ASSERT_EQ(outcome_of(send_secret({{"op", "signup"},
                                    {"username", "grace"},
                                    {"email", "grace@other.org"},
                                    {"display_name", "Grace"},
                                    {"password", "grace's signup secret"},
                                    {"token", token_in_link(grace)}})),
            "ok");

  ASSERT_TRUE(daemon_.wait_for_log("\"op\":\"signup\"")) << "the requests were not logged at all";
  expect_no_secret_in_log();
}

}  // namespace
}  // namespace dirproxy::integration
