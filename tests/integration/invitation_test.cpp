// Invitations end to end through the socket: the shared link, single-use
// invitations (bound or not to an email), their life cycle, and concurrent
// redemption.
#include <atomic>
#include <thread>
#include <vector>

#include "account_test_support.hpp"

namespace dirproxy::integration {
namespace {

class Invitations : public AccountTest {
 protected:
  Json create_invitation(Json params = Json::object()) {
    params["op"] = "create_invitation";
    return arrange(params);
  }
};

TEST_F(Invitations, ASingleUseInvitationOpensDisabledSignupAndAppliesItsGroups) {
  config_["accounts"]["default_groups"] = {"users"};
  config_["invitations"] = {{"default_groups", {"invited"}}};
  start();
  Json created = create_invitation({{"groups", {"developers"}}});
  const std::string token = created["token"];
  EXPECT_EQ(created["link"], "https://dir.example/signup?token=" + token);
  EXPECT_EQ(created["invitation"]["email"], nullptr);
  EXPECT_EQ(created["invitation"]["groups"], Json({"developers"}));

  Json response = signup("alice", "alice@anywhere.org", token);

  ASSERT_EQ(outcome_of(response), "ok") << response.dump();
  EXPECT_EQ(response["status"], "created");
  EXPECT_EQ(user_groups("alice"), Json({"developers", "invited", "users"}));
  EXPECT_EQ(outcome_of(signup("bob", "bob@anywhere.org", token)), "invalid_token");
}

TEST_F(Invitations, CheckInvitationShowsTheBoundAddressAndUsesNothingUp) {
  start();
  const std::string bound = create_invitation({{"email", "Ann@Example.com"}, {"groups", {"developers"}}})["token"];
  const std::string shared = arrange({{"op", "get_invitation_link"}})["token"];

  Json bound_check = send({{"op", "check_invitation"}, {"token", bound}});
  Json shared_check = send({{"op", "check_invitation"}, {"token", shared}});
  Json unknown = send({{"op", "check_invitation"}, {"token", "not-a-token"}});

  EXPECT_EQ(bound_check, (Json{{"id", 1}, {"ok", true}, {"kind", "single_use"}, {"email", "ann@example.com"}}));
  EXPECT_EQ(shared_check, (Json{{"id", 1}, {"ok", true}, {"kind", "shared"}, {"email", nullptr}}));
  EXPECT_EQ(outcome_of(unknown), "invalid_token");
  EXPECT_EQ(field_of(unknown), "token");
  ASSERT_EQ(outcome_of(signup("ann", "ann@example.com", bound)), "ok");
  EXPECT_EQ(outcome_of(send({{"op", "check_invitation"}, {"token", bound}})), "invalid_token");
  EXPECT_EQ(daemon_.log().find(bound), std::string::npos);
}

TEST_F(Invitations, AnInvitationBoundToAnEmailRefusesAnotherAddress) {
  start();
  const std::string token = create_invitation({{"email", "Alice@Example.com"}})["token"];

  Json other = signup("mallory", "mallory@example.com", token);
  Json right = signup("alice", "alice@example.com", token);

  EXPECT_EQ(outcome_of(other), "invalid_token");
  EXPECT_EQ(field_of(other), "email");
  EXPECT_EQ(outcome_of(right), "ok");
}

TEST_F(Invitations, AnInvitationBypassesTheDomainRestrictionAndCreatesAtOnce) {
  config_["signup"] = {{"mode", "restricted"}, {"domains", {"example.com"}}};
  configure_unreachable_mail();
  start();
  const std::string token = create_invitation()["token"];

  Json response = signup("guest", "guest@partner.org", token);

  ASSERT_EQ(outcome_of(response), "ok") << response.dump();
  EXPECT_EQ(response["status"], "created");
  EXPECT_EQ(outcome_of(authenticate("guest", kPassword)), "ok");
}

TEST_F(Invitations, TheSharedLinkIsReusableAndAResetKillsTheOldTokenAtOnce) {
  start();
  Json link = arrange({{"op", "get_invitation_link"}});
  const std::string token = link["token"];
  EXPECT_EQ(link["link"], "https://dir.example/signup?token=" + token);
  EXPECT_EQ(arrange({{"op", "get_invitation_link"}})["token"], token);

  EXPECT_EQ(outcome_of(signup("alice", "alice@example.com", token)), "ok");
  EXPECT_EQ(outcome_of(signup("bob", "bob@example.com", token)), "ok");
  Json reset = arrange({{"op", "reset_invitation_link"}});
  const std::string new_token = reset["token"];

  EXPECT_NE(new_token, token);
  EXPECT_EQ(outcome_of(signup("carol", "carol@example.com", token)), "invalid_token");
  EXPECT_EQ(outcome_of(signup("carol", "carol@example.com", new_token)), "ok");
  EXPECT_EQ(arrange({{"op", "get_invitation_link"}})["token"], new_token);
}

TEST_F(Invitations, TheSharedLinkSurvivesARestart) {
  start();
  const std::string token = arrange({{"op", "get_invitation_link"}})["token"];

  daemon_.restart();

  EXPECT_EQ(arrange({{"op", "get_invitation_link"}})["token"], token);
  EXPECT_EQ(outcome_of(signup("alice", "alice@example.com", token)), "ok");
}

TEST_F(Invitations, EightConcurrentRedemptionsCreateExactlyOneAccount) {
  start();
  const std::string token = create_invitation()["token"];
  std::vector<Json> responses(8);
  std::vector<std::thread> clients;
  std::atomic<bool> go{false};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      auto client = daemon_.connect();
      while (!go.load()) std::this_thread::yield();
      const std::string name = "racer" + std::to_string(i);
      responses[i] = call_on(client, {{"op", "signup"},
                                      {"id", i},
                                      {"username", name},
                                      {"email", name + "@example.com"},
                                      {"display_name", name},
                                      {"password", kPassword},
                                      {"token", token}});
    });
  }
  go = true;
  for (auto& client : clients) client.join();

  int created = 0;
  for (const auto& response : responses) {
    if (outcome_of(response) == "ok") {
      ++created;
    } else {
      EXPECT_EQ(outcome_of(response), "invalid_token") << response.dump();
    }
  }
  EXPECT_EQ(created, 1);
  Json users = send({{"op", "find_users"}, {"query", "racer"}});
  EXPECT_EQ(users["users"].size(), 1u);
}

TEST_F(Invitations, AFailedSignupGivesTheInvitationBack) {
  start();
  add_user("alice");
  const std::string token = create_invitation()["token"];

  EXPECT_EQ(outcome_of(signup("alice", "new@example.com", token)), "conflict");

  EXPECT_EQ(outcome_of(signup("alice2", "new@example.com", token)), "ok");
}

TEST_F(Invitations, AnExpiredInvitationIsInvalid) {
  start();
  const Json created = create_invitation({{"ttl_s", 3600}});
  const std::string token = created["token"];
  ASSERT_EQ(select_from_state_database("SELECT expires_at - created_at FROM invitations WHERE id = " +
                                       created["invitation"]["id"].dump()),
            3600);

  // As if the hour had passed; that it ends at exactly expires_at is
  // AccountStores' to show.
  execute_on_state_database("UPDATE invitations SET created_at = created_at - 3600, expires_at = expires_at - 3600");

  Json response = signup("alice", "alice@example.com", token);
  EXPECT_EQ(outcome_of(response), "invalid_token");
  EXPECT_EQ(field_of(response), "token");
  Json all = arrange({{"op", "list_invitations"}, {"include_used", true}});
  EXPECT_EQ(all["invitations"][0]["status"], "expired");
}

TEST_F(Invitations, ListShowsPendingInvitationsWithoutTokensAndAllWithIncludeUsed) {
  start();
  Json used = create_invitation({{"email", "a@example.com"}, {"groups", {"g1"}}, {"ttl_s", 3600}});
  Json pending = create_invitation({{"email", "b@example.com"}});
  Json revoked = create_invitation();
  ASSERT_EQ(outcome_of(signup("alice", "a@example.com", used["token"].get<std::string>())), "ok");
  arrange({{"op", "revoke_invitation"}, {"invitation_id", revoked["invitation"]["id"]}});

  Json listed = arrange({{"op", "list_invitations"}});
  Json all = arrange({{"op", "list_invitations"}, {"include_used", true}});

  ASSERT_EQ(listed["invitations"].size(), 1u);
  EXPECT_EQ(listed["invitations"][0]["id"], pending["invitation"]["id"]);
  EXPECT_EQ(listed["invitations"][0]["status"], "pending");
  ASSERT_EQ(all["invitations"].size(), 3u);
  EXPECT_EQ(all["invitations"][0]["status"], "revoked");
  EXPECT_EQ(all["invitations"][2]["status"], "used");
  EXPECT_EQ(all["invitations"][2]["used_by"], "alice");
  EXPECT_EQ(all["invitations"][2]["groups"], Json({"g1"}));
  for (const auto& token : {used["token"], pending["token"], revoked["token"]}) {
    EXPECT_EQ(all.dump().find(token.get<std::string>()), std::string::npos);
  }
}

TEST_F(Invitations, ARevokedInvitationIsInvalidAndUnknownIdsAreNotFound) {
  start();
  Json created = create_invitation();

  arrange({{"op", "revoke_invitation"}, {"invitation_id", created["invitation"]["id"]}});

  EXPECT_EQ(outcome_of(signup("alice", "alice@example.com", created["token"].get<std::string>())), "invalid_token");
  Json missing = send({{"op", "revoke_invitation"}, {"invitation_id", 999}});
  EXPECT_EQ(outcome_of(missing), "not_found");
  EXPECT_EQ(field_of(missing), "invitation_id");
}

TEST_F(Invitations, CreateInvitationRefusesBadInputNamingTheField) {
  start();

  Json email = send({{"op", "create_invitation"}, {"email", "a@b@c"}});
  Json ttl = send({{"op", "create_invitation"}, {"ttl_s", 0}});
  Json group = send({{"op", "create_invitation"}, {"groups", {""}}});

  EXPECT_EQ(outcome_of(email), "invalid_email");
  EXPECT_EQ(field_of(email), "email");
  EXPECT_EQ(outcome_of(ttl), "bad_request");
  EXPECT_EQ(field_of(ttl), "ttl_s");
  EXPECT_EQ(outcome_of(group), "bad_request");
  EXPECT_EQ(field_of(group), "groups");
  EXPECT_EQ(arrange({{"op", "list_invitations"}, {"include_used", true}})["invitations"].size(), 0u);
}

TEST_F(Invitations, TokensNeverReachTheDaemonsLog) {
  config_["signup"] = {{"mode", "open"}};
  start();
  Json created = create_invitation();
  Json shared = arrange({{"op", "get_invitation_link"}});
  ASSERT_EQ(outcome_of(signup("alice", "alice@example.com", created["token"].get<std::string>())), "ok");
  ASSERT_EQ(outcome_of(signup("bob", "bob@example.com", shared["token"].get<std::string>())), "ok");
  send({{"op", "confirm_signup"}, {"token", "guessed-token-value"}});

  const std::string log = daemon_.log();
  EXPECT_EQ(log.find(created["token"].get<std::string>()), std::string::npos);
  EXPECT_EQ(log.find(shared["token"].get<std::string>()), std::string::npos);
  EXPECT_EQ(log.find("guessed-token-value"), std::string::npos);
  EXPECT_EQ(log.find(kPassword), std::string::npos);
}

TEST_F(Invitations, PerRecipientInvitationsMailEachAddressItsOwnBoundLink) {
  config_["invitations"] = {{"per_recipient", true}};
  configure_smtp();
  start();

  Json response = arrange({{"op", "send_invitations"},
                           {"emails", "Ann@Example.com, ben@example.com,not-an-address,ann@example.com"},
                           {"message", "Welcome aboard"}});

  EXPECT_EQ(response["sent"], Json({"ann@example.com", "ben@example.com"}));
  ASSERT_EQ(response["rejected"].size(), 1u);
  EXPECT_EQ(response["rejected"][0]["email"], "not-an-address");
  EXPECT_EQ(response["rejected"][0]["code"], "invalid_email");
  auto ann = mails_to("ann@example.com", 2);
  auto ben = mails_to("ben@example.com", 2);
  ASSERT_EQ(ann.size(), 1u);
  ASSERT_EQ(ben.size(), 1u);
  EXPECT_EQ(ann[0].subject, "You are invited to join Test Site");
  EXPECT_NE(ann[0].body.find("Welcome aboard"), std::string::npos);
  const auto ann_token = token_in_mail(ann[0]);
  const auto ben_token = token_in_mail(ben[0]);
  EXPECT_NE(ann_token, ben_token);
  EXPECT_EQ(outcome_of(signup("ben", "ben@example.com", ann_token)), "invalid_token");
  EXPECT_EQ(outcome_of(signup("ann", "ann@example.com", ann_token)), "ok");
  EXPECT_EQ(outcome_of(signup("ben", "ben@example.com", ben_token)), "ok");
  EXPECT_EQ(daemon_.log().find(ann_token), std::string::npos);
  EXPECT_EQ(daemon_.log().find(ben_token), std::string::npos);
}

TEST_F(Invitations, WithoutPerRecipientTheSharedLinkIsMailed) {
  config_["invitations"] = {{"per_recipient", false}};
  configure_smtp();
  start();
  const std::string link = arrange({{"op", "get_invitation_link"}})["link"];

  Json response = arrange({{"op", "send_invitations"}, {"emails", {"ann@example.com", "ben@example.com"}}});

  EXPECT_EQ(response["sent"], Json({"ann@example.com", "ben@example.com"}));
  auto mails = smtp_->wait_for_messages(2);
  ASSERT_EQ(mails.size(), 2u);
  for (const auto& mail : mails) EXPECT_EQ(dirproxy::testing::first_link(mail.body), link);
  EXPECT_EQ(arrange({{"op", "list_invitations"}, {"include_used", true}})["invitations"].size(), 0u);
}

TEST_F(Invitations, ResendMailsANewTokenAndTheOldOneDies) {
  configure_smtp();
  start();
  Json created = create_invitation({{"email", "ann@example.com"}});
  const std::string old_token = created["token"];

  Json resent = arrange({{"op", "resend_invitation"}, {"invitation_id", created["invitation"]["id"]}});

  EXPECT_EQ(resent["invitation"]["id"], created["invitation"]["id"]);
  EXPECT_EQ(resent["invitation"]["email"], "ann@example.com");
  auto mails = mails_to("ann@example.com", 1);
  ASSERT_EQ(mails.size(), 1u);
  const auto new_token = token_in_mail(mails[0]);
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ(outcome_of(signup("ann", "ann@example.com", old_token)), "invalid_token");
  EXPECT_EQ(outcome_of(signup("ann", "ann@example.com", new_token)), "ok");
}

TEST_F(Invitations, ResendRefusesAnInvitationNotBoundToAnEmail) {
  configure_smtp();
  start();
  Json created = create_invitation();

  Json response = send({{"op", "resend_invitation"}, {"invitation_id", created["invitation"]["id"]}});

  EXPECT_EQ(outcome_of(response), "bad_request");
  EXPECT_EQ(field_of(response), "invitation_id");
}

}  // namespace
}  // namespace dirproxy::integration
