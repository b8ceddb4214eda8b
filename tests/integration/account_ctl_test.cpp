// dirproxyctl's account life cycle commands (invite, access, signup options)
// against a real dirproxyd: the request each sends and what it prints.
#include "account_test_support.hpp"

namespace dirproxy::integration {
namespace {

std::string describe(const ProcessOutput& result) {
  return "exit code " + std::to_string(result.exit_code) + "\n--- stdout ---\n" + result.out + "--- stderr ---\n" +
         result.err;
}

class AccountCtl : public AccountTest {};

TEST_F(AccountCtl, InviteCreatePrintsTheLinkAndListShowsTheInvitation) {
  start();

  auto created = daemon_.run_ctl({"invite", "create", "--email", "bob@example.com", "--group", "dev", "--ttl", "2h"});
  auto listed = daemon_.run_ctl({"--json", "invite", "list"});

  ASSERT_EQ(created.exit_code, 0) << describe(created);
  EXPECT_NE(created.out.find("invitation link: https://dir.example/signup?token="), std::string::npos) << created.out;
  EXPECT_NE(created.out.find("bob@example.com"), std::string::npos) << created.out;
  ASSERT_EQ(listed.exit_code, 0) << describe(listed);
  Json invitations = Json::parse(listed.out)["invitations"];
  ASSERT_EQ(invitations.size(), 1u);
  EXPECT_EQ(invitations[0]["email"], "bob@example.com");
  EXPECT_EQ(invitations[0]["groups"], Json({"dev"}));
  const auto token = token_in_link(created.out.substr(created.out.find("https://")));
  EXPECT_EQ(listed.out.find(token), std::string::npos);
}

TEST_F(AccountCtl, InviteRevokeByIdAndListAll) {
  start();
  Json created = arrange({{"op", "create_invitation"}});
  const auto id = std::to_string(created["invitation"]["id"].get<std::int64_t>());

  auto revoked = daemon_.run_ctl({"invite", "revoke", id});
  auto listed = daemon_.run_ctl({"invite", "list", "--all"});

  ASSERT_EQ(revoked.exit_code, 0) << describe(revoked);
  EXPECT_EQ(revoked.out, "invitation " + id + " revoked\n");
  ASSERT_EQ(listed.exit_code, 0) << describe(listed);
  EXPECT_NE(listed.out.find("revoked"), std::string::npos) << listed.out;
  auto missing = daemon_.run_ctl({"invite", "revoke", "999"});
  EXPECT_EQ(missing.exit_code, 1) << describe(missing);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
}

TEST_F(AccountCtl, InviteLinkAndResetShowTheSharedLink) {
  start();

  auto first = daemon_.run_ctl({"invite", "link"});
  auto reset = daemon_.run_ctl({"invite", "reset"});
  auto after = daemon_.run_ctl({"invite", "link"});

  ASSERT_EQ(first.exit_code, 0) << describe(first);
  EXPECT_EQ(first.out.rfind("invitation link: https://dir.example/signup?token=", 0), 0u) << first.out;
  EXPECT_NE(reset.out, first.out);
  EXPECT_EQ(after.out, reset.out);
}

TEST_F(AccountCtl, InviteSendWithoutMailIsRefused) {
  start();

  auto sent = daemon_.run_ctl({"invite", "send", "a@example.com,b@example.com", "--message", "hi"});

  EXPECT_EQ(sent.exit_code, 1) << describe(sent);
  EXPECT_NE(sent.err.find("mail_not_configured"), std::string::npos) << sent.err;
}

TEST_F(AccountCtl, AccessListApproveAndDeny) {
  config_["access_requests"] = {{"enabled", true}};
  configure_unreachable_mail();
  start();
  arrange({{"op", "request_access"}, {"email", "carol@example.org"}, {"display_name", "Carol"}});
  arrange({{"op", "request_access"}, {"email", "dave@example.org"}, {"display_name", "Dave"}});

  auto listed = daemon_.run_ctl({"access", "list"});
  auto approved = daemon_.run_ctl({"access", "approve", "1", "--group", "guests"});
  auto denied = daemon_.run_ctl({"access", "deny", "2"});
  auto after = daemon_.run_ctl({"--json", "access", "list"});

  ASSERT_EQ(listed.exit_code, 0) << describe(listed);
  EXPECT_NE(listed.out.find("carol@example.org"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("pending"), std::string::npos) << listed.out;
  ASSERT_EQ(approved.exit_code, 0) << describe(approved);
  EXPECT_NE(approved.out.find("guests"), std::string::npos) << approved.out;
  ASSERT_EQ(denied.exit_code, 0) << describe(denied);
  EXPECT_EQ(denied.out, "access request 2 denied\n");
  Json requests = Json::parse(after.out)["requests"];
  EXPECT_EQ(requests[0]["status"], "approved");
  EXPECT_EQ(requests[1]["status"], "denied");
}

TEST_F(AccountCtl, SignupOptionsShowsTheMode) {
  config_["signup"] = {{"mode", "open"}};
  start();

  auto shown = daemon_.run_ctl({"signup", "options"});

  ASSERT_EQ(shown.exit_code, 0) << describe(shown);
  EXPECT_NE(shown.out.find("mode"), std::string::npos);
  EXPECT_NE(shown.out.find("open"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("internal"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("access requests: false"), std::string::npos) << shown.out;
}

}  // namespace
}  // namespace dirproxy::integration
