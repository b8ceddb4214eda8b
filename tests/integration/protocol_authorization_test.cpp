// Who may run what, decided from the socket peer's credentials: a client
// running as "nobody" speaks the protocol directly and is refused every admin
// operation, may use the public ones, and becomes an admin when the
// configuration names its account or one of its groups in server.admins.
// Switching uid needs root; elsewhere these tests are skipped.
#include <grp.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

class ProtocolAuthorization : public DaemonTest {
 protected:
  void SetUp() override {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  }

  Json response_as(RunAs who, Json request) {
    request["id"] = 1;
    return responses_as(who, {request}).at(0);
  }

  // The configuration with `who`'s account (or group) named in server.admins.
  Json config_with_admins(const std::string& key, const std::string& name) {
    Json config = daemon_.default_config();
    config["server"]["admins"][key] = {name};
    return config;
  }
};

// One request per admin operation, each well-formed and aimed at existing
// state, so that only the peer's identity can be the reason for a refusal.
std::vector<Json> every_admin_request() {
  Json add = add_user_request("mallory");
  return {add,
          {{"op", "update_user"}, {"username", "alice"}, {"display_name", "Mallory"}},
          {{"op", "delete_user"}, {"username", "alice"}},
          {{"op", "set_password"}, {"username", "alice"}, {"password", "mallory's password"}},
          {{"op", "send_password_reset"}, {"username", "alice"}},
          {{"op", "add_group"}, {"name", "mallorys"}},
          {{"op", "delete_group"}, {"name", "developers"}},
          {{"op", "add_member"}, {"group", "developers"}, {"username", "bob"}},
          {{"op", "remove_member"}, {"group", "developers"}, {"username", "alice"}},
          {{"op", "list_directories"}},
          {{"op", "reload"}}};
}

TEST_F(ProtocolAuthorization, ANonAdminPeerIsForbiddenEveryAdminOperation) {
  daemon_.start();
  add_user("alice");
  add_user("bob");
  add_group("developers");
  add_member("developers", "alice");
  const auto requests = every_admin_request();

  auto responses = responses_as(nobody(), requests);

  ASSERT_EQ(responses.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(outcome_of(responses[i]), "forbidden") << requests[i].dump() << " -> " << responses[i].dump();
  }
}

TEST_F(ProtocolAuthorization, AdminOperationsRefusedToANonAdminPeerChangeNothing) {
  daemon_.start();
  add_user("alice");
  add_user("bob");
  add_group("developers");
  add_member("developers", "alice");

  responses_as(nobody(), every_admin_request());

  EXPECT_EQ(get_user("alice")["user"]["display_name"], "User alice");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  EXPECT_EQ(outcome_of(get_user("mallory")), "not_found");
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "mallorys"}})), "not_found");
  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], (Json{"alice"}));
}

TEST_F(ProtocolAuthorization, ANonAdminPeerMayLookUpAuthenticateAndPing) {
  daemon_.start();
  add_user("alice");
  add_group("developers");
  add_member("developers", "alice");

  auto responses =
      responses_as(nobody(), {{{"op", "ping"}, {"id", 1}},
                              {{"op", "get_user"}, {"id", 2}, {"username", "alice"}},
                              {{"op", "authenticate"}, {"id", 3}, {"username", "alice"}, {"password", kPassword}},
                              {{"op", "find_users"}, {"id", 4}},
                              {{"op", "get_group"}, {"id", 5}, {"name", "developers"}},
                              {{"op", "get_user_groups"}, {"id", 6}, {"username", "alice"}},
                              {{"op", "signup_options"}, {"id", 7}}});

  ASSERT_EQ(responses.size(), 7u);
  for (const auto& response : responses) EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(responses[1]["user"]["username"], "alice");
  EXPECT_EQ(responses[2]["user"]["groups"], (Json{"developers"}));
}

TEST_F(ProtocolAuthorization, ANonAdminPeerMayChangeItsOwnPasswordWithTheOldOne) {
  daemon_.start();
  add_user("alice");

  auto response = response_as(nobody(), {{"op", "change_password"},
                                         {"username", "alice"},
                                         {"old_password", kPassword},
                                         {"new_password", "a brand new password"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", "a brand new password")), "ok");
}

TEST_F(ProtocolAuthorization, APeerWhoseAccountIsInServerAdminsUsersMayRunAdminOperations) {
  daemon_.start(config_with_admins("users", "nobody"));

  auto response = response_as(nobody(), {{"op", "add_group"}, {"name", "developers"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "developers"}})), "ok");
}

TEST_F(ProtocolAuthorization, APeerInAGroupOfServerAdminsGroupsMayRunAdminOperations) {
  const group* primary = ::getgrgid(nobody().gid);
  ASSERT_NE(primary, nullptr) << "nobody's primary group " << nobody().gid << " has no name";
  daemon_.start(config_with_admins("groups", primary->gr_name));

  auto response = response_as(nobody(), {{"op", "add_group"}, {"name", "developers"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

TEST_F(ProtocolAuthorization, AdminsNamingAnotherAccountDoNotAdmitThePeer) {
  daemon_.start(config_with_admins("users", "root"));

  auto response = response_as(nobody(), {{"op", "add_group"}, {"name", "developers"}});

  EXPECT_EQ(outcome_of(response), "forbidden") << response;
}

}  // namespace
}  // namespace dirproxy::integration
