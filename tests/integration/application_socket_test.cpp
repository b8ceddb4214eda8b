// Applications on the socket (APPLICATIONS.md, docs/applications.md),
// against the real dirproxyd: a connection from a uid in an application's
// socket_users acts for it, so authenticate admits only the members of its
// access groups (a right password of anyone else is access_denied, a wrong
// one stays invalid_credentials), lookups still answer, other peers keep
// today's behaviour, a reload applies to the open connection, the audit line
// names the application, and a local group admits an LDAP user under
// membership aggregate but not first (real slapd). The client of the
// application runs as "nobody", which needs root; elsewhere these tests are
// skipped. dirproxyctl applications and user access print what
// docs/applications.md shows.
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ldap_test_support.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kCarolsDenial = "user 'carol' may not use application 'grafana'";

Json authenticate_request(const std::string& username, const std::string& password) {
  return {{"op", "authenticate"}, {"username", username}, {"password", password}};
}

// grafana, whose socket connections are nobody's, admits `access_groups`.
Json grafana(Json access_groups) {
  return {{"name", "grafana"}, {"access_groups", std::move(access_groups)}, {"socket_users", {"nobody"}}};
}

// The ids of `requests`: 1, 2, ... in order, so that answers can be told apart.
std::vector<Json> numbered(std::vector<Json> requests) {
  for (std::size_t i = 0; i < requests.size(); ++i) requests[i]["id"] = i + 1;
  return requests;
}

class ApplicationSocket : public DaemonTest {
 protected:
  void SetUp() override {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  }

  // The default configuration with `applications`; nobody is an admin when
  // `nobody_admin` (to reload from its own connection).
  Json config_with(Json applications, bool nobody_admin = false) {
    Json config = daemon_.default_config();
    config["applications"] = std::move(applications);
    config["log"]["audit"] = true;
    if (nobody_admin) config["server"]["admins"]["users"] = {"nobody"};
    return config;
  }

  // alice and bob in grafana-users, carol in no group, all with kPassword.
  void add_alice_bob_and_carol() {
    add_user("alice");
    add_user("bob");
    add_user("carol");
    add_group("grafana-users");
    add_member("grafana-users", "alice");
    add_member("grafana-users", "bob");
  }

  // The audit lines of the daemon's log holding `text`.
  std::vector<std::string> audit_lines_with(const std::string& text) const {
    std::vector<std::string> lines;
    const std::string log = daemon_.log();
    std::size_t start = 0;
    while (start < log.size()) {
      std::size_t end = log.find('\n', start);
      if (end == std::string::npos) end = log.size();
      const std::string line = log.substr(start, end - start);
      if (line.find("[audit]") != std::string::npos && line.find(text) != std::string::npos) lines.push_back(line);
      start = end + 1;
    }
    return lines;
  }
};

TEST_F(ApplicationSocket, AnApplicationsConnectionAuthenticatesOnlyMembersOfItsAccessGroups) {
  daemon_.start(config_with(Json::array({grafana({"grafana-users"})})));
  add_alice_bob_and_carol();

  auto responses = responses_as(nobody(), numbered({authenticate_request("alice", kPassword),
                                                    authenticate_request("carol", kPassword),
                                                    authenticate_request("carol", "not carol's password"),
                                                    {{"op", "get_user"}, {"username", "carol"}},
                                                    {{"op", "get_user_groups"}, {"username", "carol"}}}));

  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(outcome_of(responses[0]), "ok") << responses[0];
  EXPECT_EQ(responses[0]["user"]["groups"], Json({"grafana-users"}));
  EXPECT_EQ(outcome_of(responses[1]), "access_denied") << responses[1];
  EXPECT_EQ(responses[1]["error"]["message"], kCarolsDenial);
  EXPECT_EQ(outcome_of(responses[2]), "invalid_credentials") << responses[2];
  EXPECT_EQ(outcome_of(responses[3]), "ok") << responses[3];
  EXPECT_EQ(responses[3]["user"]["username"], "carol");
  EXPECT_EQ(responses[4]["groups"], Json::array());
}

TEST_F(ApplicationSocket, TheAuditLineOfAnApplicationsConnectionNamesTheApplication) {
  daemon_.start(config_with(Json::array({grafana({"grafana-users"})})));
  add_alice_bob_and_carol();

  responses_as(nobody(), {authenticate_request("carol", kPassword)});
  ASSERT_TRUE(daemon_.wait_for_log("result=access_denied"));

  const auto lines = audit_lines_with("result=access_denied");
  ASSERT_EQ(lines.size(), 1u) << daemon_.log_tail();
  const std::string expected_start =
      "[audit] op=authenticate application=\"grafana\" peer_uid=" + std::to_string(nobody().uid) + " peer_pid=";
  EXPECT_NE(lines[0].find(expected_start), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" username=\"carol\" result=access_denied"), std::string::npos) << lines[0];
}

TEST_F(ApplicationSocket, AnotherPeersConnectionAuthenticatesAnyoneAndIsAuditedWithoutApplication) {
  daemon_.start(config_with(Json::array({grafana({"grafana-users"})})));
  add_alice_bob_and_carol();

  auto carol = authenticate("carol", kPassword);  // as root
  auto wrong = authenticate("carol", "not carol's password");
  ASSERT_TRUE(daemon_.wait_for_log("result=invalid_credentials"));

  EXPECT_EQ(outcome_of(carol), "ok") << carol;
  EXPECT_EQ(outcome_of(wrong), "invalid_credentials") << wrong;
  const auto lines = audit_lines_with("result=invalid_credentials");
  ASSERT_EQ(lines.size(), 1u) << daemon_.log_tail();
  EXPECT_EQ(lines[0].find("application="), std::string::npos) << lines[0];
}

TEST_F(ApplicationSocket, AReloadThatChangesAccessGroupsAppliesToTheOpenConnection) {
  daemon_.start(config_with(Json::array({grafana({"grafana-users"})}), /*nobody_admin=*/true));
  add_alice_bob_and_carol();
  add_group("ops");
  add_member("ops", "carol");
  // Read at the reload below, sent on the same connection as the logins.
  daemon_.write_config(config_with(Json::array({grafana({"ops"})}), /*nobody_admin=*/true));

  auto responses = responses_as(nobody(), numbered({authenticate_request("alice", kPassword),
                                                    authenticate_request("carol", kPassword),
                                                    {{"op", "reload"}},
                                                    authenticate_request("alice", kPassword),
                                                    authenticate_request("carol", kPassword)}));

  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(outcome_of(responses[0]), "ok") << responses[0];
  EXPECT_EQ(outcome_of(responses[1]), "access_denied") << responses[1];
  EXPECT_EQ(outcome_of(responses[2]), "ok") << responses[2];
  EXPECT_EQ(outcome_of(responses[3]), "access_denied") << responses[3];
  EXPECT_EQ(outcome_of(responses[4]), "ok") << responses[4];
}

TEST_F(ApplicationSocket, AReloadThatRemovesTheApplicationGivesTheOpenConnectionTodaysBehaviour) {
  daemon_.start(config_with(Json::array({grafana({"grafana-users"})}), /*nobody_admin=*/true));
  add_alice_bob_and_carol();
  daemon_.write_config(config_with(Json::array(), /*nobody_admin=*/true));

  auto responses = responses_as(nobody(), numbered({authenticate_request("carol", kPassword),
                                                    {{"op", "reload"}},
                                                    authenticate_request("carol", kPassword)}));

  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(outcome_of(responses[0]), "access_denied") << responses[0];
  EXPECT_EQ(outcome_of(responses[1]), "ok") << responses[1];
  EXPECT_EQ(outcome_of(responses[2]), "ok") << responses[2];
}

// --- dirproxyctl -------------------------------------------------------------

TEST_F(ApplicationSocket, DirproxyctlApplicationsListsEachWithItsAccessGroupsAndAdmittedUsers) {
  Json wiki = {{"name", "wiki"},
               {"ldap", {{"password_hash", application_password_hash("wiki's password")},
                         {"base_dn", "dc=wiki,dc=example,dc=com"}}}};
  daemon_.start(config_with(Json::array({grafana({"grafana-users"}), wiki})));
  add_alice_bob_and_carol();

  auto listed = daemon_.run_ctl({"applications"});

  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out,
            "NAME     ACCESS GROUPS  SOCKET USERS  LDAP  BASE DN                    MAY WRITE  USERS\n"
            "grafana  grafana-users  nobody        no    -                          -          2\n"
            "wiki     everyone       -             yes   dc=wiki,dc=example,dc=com  false      3\n");
}

TEST_F(ApplicationSocket, DirproxyctlUserAccessShowsTheGroupsAndTheApplicationsOfAUser) {
  daemon_.start(config_with(Json::array({grafana({"grafana-users"}), {{"name", "wiki"}}})));
  add_alice_bob_and_carol();

  auto alice = daemon_.run_ctl({"user", "access", "alice"});
  auto carol = daemon_.run_ctl({"user", "access", "carol"});
  auto nobody_there = daemon_.run_ctl({"user", "access", "zoe"});
  auto not_admin = daemon_.run_ctl_as(nobody(), {"user", "access", "alice"});

  ASSERT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(alice.out,
            "username:     alice\n"
            "groups:       grafana-users\n"
            "applications: grafana, wiki\n");
  ASSERT_EQ(carol.exit_code, 0) << carol.err;
  EXPECT_EQ(carol.out,
            "username:     carol\n"
            "groups:       -\n"
            "applications: wiki\n");
  EXPECT_EQ(nobody_there.exit_code, 1);
  EXPECT_NE(nobody_there.err.find("not_found"), std::string::npos) << nobody_there.err;
  EXPECT_EQ(not_admin.exit_code, 1);
  EXPECT_NE(not_admin.err.find("forbidden"), std::string::npos) << not_admin.err;
}

// --- a local group admitting an LDAP user (membership) --------------------------

class ApplicationMembership : public LdapReadOnlyTest {
 protected:
  void SetUp() override {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  }

  // The chain internal + corp (the OpenLDAP data set: alice and bob in
  // developers, carol not) under `membership`, grafana admitting
  // `access_groups`, and an internal group grafana-users holding corp's
  // alice.
  void start(const std::string& membership, Json access_groups) {
    start_with(Json::array({internal_directory(), corp()}),
               {{"membership", membership}, {"applications", Json::array({grafana(std::move(access_groups))})}});
    add_group("grafana-users");
    add_member("grafana-users", "alice");
  }
};

TEST_F(ApplicationMembership, UnderAggregateALocalGroupAdmitsAnLdapUser) {
  start("aggregate", {"grafana-users"});

  auto responses = responses_as(nobody(), numbered({authenticate_request("alice", "alice-password"),
                                                    authenticate_request("bob", "bob-password")}));

  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(outcome_of(responses[0]), "ok") << responses[0];
  EXPECT_EQ(responses[0]["user"]["directory"], "corp");
  EXPECT_EQ(responses[0]["user"]["groups"], Json({"developers", "grafana-users", "staff"}));
  EXPECT_EQ(outcome_of(responses[1]), "access_denied") << responses[1];
}

TEST_F(ApplicationMembership, UnderFirstALocalGroupDoesNotAdmitAnLdapUserButTheLdapGroupDoes) {
  start("first", {"grafana-users", "developers"});

  auto responses = responses_as(nobody(), numbered({authenticate_request("alice", "alice-password"),
                                                    authenticate_request("carol", "carol-password")}));
  auto access = daemon_.run_ctl({"user", "access", "alice"});

  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(outcome_of(responses[0]), "ok") << responses[0];  // through corp's developers
  EXPECT_EQ(responses[0]["user"]["groups"], Json({"developers", "staff"}));
  EXPECT_EQ(outcome_of(responses[1]), "access_denied") << responses[1];
  EXPECT_EQ(responses[1]["error"]["message"], kCarolsDenial);
  EXPECT_EQ(access.out,
            "username:     alice\n"
            "groups:       developers, staff\n"
            "applications: grafana\n");
}

TEST_F(ApplicationMembership, UnderFirstOnlyTheLocalGroupIsNotEnough) {
  start("first", {"grafana-users"});

  auto responses = responses_as(nobody(), {authenticate_request("alice", "alice-password")});

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(outcome_of(responses[0]), "access_denied") << responses[0];
}

}  // namespace
}  // namespace dirproxy::integration
