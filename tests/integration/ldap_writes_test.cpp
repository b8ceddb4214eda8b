// Writes through dirproxy to an LDAP directory with permissions read_write,
// the first writable directory of the chain (docs/design.md rule 5), verified
// straight at the server with ldapsearch and ldapwhoami (SlapdServer::search
// and whoami): users are created with a server-hashed password, changed,
// given new passwords and deleted; groups are created, filled, emptied and
// deleted. And the directory's cache: it serves what it read until a write
// made through dirproxy invalidates it. Each test has its own slapd, whose
// service account may write.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ldap_test_support.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kNewbieDn = "uid=newbie,ou=people,dc=example,dc=com";
constexpr const char* kWritersDn = "cn=writers,ou=groups,dc=example,dc=com";

class LdapWrites : public DaemonTest {
 protected:
  // The chain: "corp" (read_write, cache ttl 5m) first, then internal.
  void SetUp() override {
    Json corp = ldap_directory(daemon_, "corp", openldap_);
    corp["permissions"] = "read_write";
    corp["cache"] = {{"ttl", "5m"}};
    daemon_.start(config_with_directories(daemon_, Json::array({corp, internal_directory()})));
  }

  // The entry at `dn` as LDIF (empty when it does not exist).
  std::string entry(const std::string& dn) const { return openldap_.search(dn, "(objectClass=*)", {}, "base"); }

  bool binds(const std::string& dn, const std::string& password) const {
    auto result = openldap_.whoami(dn, password);
    return result.exit_code == 0 && result.out == "dn:" + dn + "\n";
  }

  static bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  Json add_newbie() {
    return send({{"op", "add_user"},
                 {"username", "newbie"},
                 {"email", "newbie@example.com"},
                 {"display_name", "New Bie"},
                 {"first_name", "New"},
                 {"last_name", "Bie"},
                 {"password", kPassword},
                 {"notify", false}});
  }

  SlapdServer openldap_{writable_openldap_options()};
};

// --- Users ------------------------------------------------------------------------

TEST_F(LdapWrites, AddUserCreatesTheEntryInTheFirstWritableDirectory) {
  auto response = add_newbie();

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"], Json({{"username", "newbie"},
                                    {"email", "newbie@example.com"},
                                    {"display_name", "New Bie"},
                                    {"first_name", "New"},
                                    {"last_name", "Bie"},
                                    {"active", true},
                                    {"directory", "corp"}}));
  const std::string created = entry(kNewbieDn);
  EXPECT_TRUE(contains(created, "dn: uid=newbie,ou=people,dc=example,dc=com\n")) << created;
  EXPECT_TRUE(contains(created, "objectClass: inetOrgPerson\n")) << created;
  EXPECT_TRUE(contains(created, "uid: newbie\n")) << created;
  EXPECT_TRUE(contains(created, "mail: newbie@example.com\n")) << created;
  EXPECT_TRUE(contains(created, "cn: New Bie\n")) << created;
  EXPECT_TRUE(contains(created, "givenName: New\n")) << created;
  EXPECT_TRUE(contains(created, "sn: Bie\n")) << created;
}

TEST_F(LdapWrites, AddUserSetsAPasswordTheServerHashed) {
  ASSERT_EQ(outcome_of(add_newbie()), "ok");

  const std::string created = entry(kNewbieDn);

  EXPECT_TRUE(contains(created, "userPassword: {SSHA}")) << created;
  EXPECT_FALSE(contains(created, kPassword)) << created;
  EXPECT_TRUE(binds(kNewbieDn, kPassword));
  EXPECT_FALSE(binds(kNewbieDn, "not-the-password"));
}

TEST_F(LdapWrites, AddUserOfANameTheServerHasIsAConflict) {
  Json request = add_user_request("alice");

  auto response = send(request);

  EXPECT_EQ(outcome_of(response), "conflict") << response;
  EXPECT_EQ(field_of(response), "username") << response;
}

TEST_F(LdapWrites, UpdateUserChangesTheEntry) {
  auto response = send({{"op", "update_user"}, {"username", "alice"}, {"email", "alice.new@example.com"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["email"], "alice.new@example.com");
  EXPECT_EQ(response["user"]["directory"], "corp");
  const std::string changed = openldap_.search(kAliceDn, "(objectClass=*)", {"mail"}, "base");
  EXPECT_EQ(changed, std::string("dn: ") + kAliceDn + "\nmail: alice.new@example.com\n\n");
}

TEST_F(LdapWrites, SetPasswordReplacesTheBindPassword) {
  auto response = send({{"op", "set_password"}, {"username", "alice"}, {"password", kPassword}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_TRUE(binds(kAliceDn, kPassword));
  EXPECT_FALSE(binds(kAliceDn, "alice-password"));
  EXPECT_FALSE(contains(entry(kAliceDn), kPassword));
}

TEST_F(LdapWrites, ChangePasswordWithTheOldPasswordReplacesIt) {
  auto response = send({{"op", "change_password"},
                        {"username", "alice"},
                        {"old_password", "alice-password"},
                        {"new_password", kPassword}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_TRUE(binds(kAliceDn, kPassword));
  EXPECT_FALSE(binds(kAliceDn, "alice-password"));
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(LdapWrites, ChangePasswordWithAWrongOldPasswordChangesNothing) {
  auto response = send({{"op", "change_password"},
                        {"username", "alice"},
                        {"old_password", "not-alices-password"},
                        {"new_password", kPassword}});

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
  EXPECT_TRUE(binds(kAliceDn, "alice-password"));
  EXPECT_FALSE(binds(kAliceDn, kPassword));
}

TEST_F(LdapWrites, DeleteUserRemovesTheEntry) {
  ASSERT_EQ(outcome_of(get_user("bob")), "ok");  // cached, too

  auto response = send({{"op", "delete_user"}, {"username", "bob"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(entry("uid=bob,ou=people,dc=example,dc=com"), "");
  EXPECT_EQ(outcome_of(get_user("bob")), "not_found");
}

// --- Groups -------------------------------------------------------------------------

TEST_F(LdapWrites, AddGroupCreatesTheGroupEntry) {
  auto response = send({{"op", "add_group"}, {"name", "writers"}, {"description", "Writers"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"],
            Json({{"name", "writers"}, {"description", "Writers"}, {"directory", "corp"}, {"members", Json::array()}}));
  const std::string created = entry(kWritersDn);
  EXPECT_TRUE(contains(created, "objectClass: groupOfNames\n")) << created;
  EXPECT_TRUE(contains(created, "cn: writers\n")) << created;
  EXPECT_TRUE(contains(created, "description: Writers\n")) << created;
}

TEST_F(LdapWrites, AddMemberAddsTheUsersDnToTheGroup) {
  add_group("writers");

  auto response = send({{"op", "add_member"}, {"group", "writers"}, {"username", "alice"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const std::string group = openldap_.search(kWritersDn, "(objectClass=*)", {"member"}, "base");
  EXPECT_TRUE(contains(group, std::string("member: ") + kAliceDn + "\n")) << group;
  auto read_back = send({{"op", "get_group"}, {"name", "writers"}});
  EXPECT_EQ(read_back["group"]["members"], Json({"alice"})) << read_back;
}

TEST_F(LdapWrites, RemoveMemberTakesTheUsersDnOutOfTheGroup) {
  add_member("developers", "carol");
  ASSERT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], Json({"alice", "bob", "carol"}));

  auto response = send({{"op", "remove_member"}, {"group", "developers"}, {"username", "alice"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const std::string group =
      openldap_.search("cn=developers,ou=groups,dc=example,dc=com", "(objectClass=*)", {"member"}, "base");
  EXPECT_FALSE(contains(group, kAliceDn)) << group;
  EXPECT_TRUE(contains(group, "member: uid=carol,ou=people,dc=example,dc=com\n")) << group;
  auto read_back = send({{"op", "get_group"}, {"name", "developers"}});
  EXPECT_EQ(read_back["group"]["members"], Json({"bob", "carol"})) << read_back;
}

TEST_F(LdapWrites, DeleteGroupRemovesTheGroupEntry) {
  add_group("writers");
  ASSERT_NE(entry(kWritersDn), "");

  auto response = send({{"op", "delete_group"}, {"name", "writers"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(entry(kWritersDn), "");
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "writers"}})), "not_found");
}

TEST_F(LdapWrites, RemovingTheLastMemberKeepsTheGroupOfNamesValid) {
  // developers holds alice and bob; groupOfNames must always have a member.
  ASSERT_EQ(outcome_of(send({{"op", "remove_member"}, {"group", "developers"}, {"username", "alice"}})), "ok");

  auto response = send({{"op", "remove_member"}, {"group", "developers"}, {"username", "bob"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  auto group = send({{"op", "get_group"}, {"name", "developers"}});
  ASSERT_EQ(outcome_of(group), "ok") << group;
  EXPECT_EQ(group["group"]["members"], Json::array());
  EXPECT_NE(entry("cn=developers,ou=groups,dc=example,dc=com"), "");
}

TEST_F(LdapWrites, DeletingAUserTakesItsDnOutOfItsGroups) {
  ASSERT_EQ(outcome_of(send({{"op", "delete_user"}, {"username", "carol"}})), "ok");

  auto staff = send({{"op", "get_group"}, {"name", "staff"}});

  ASSERT_EQ(outcome_of(staff), "ok") << staff;
  EXPECT_EQ(staff["group"]["members"], Json::array({"alice"}));
  EXPECT_FALSE(contains(entry("cn=staff,ou=groups,dc=example,dc=com"), "uid=carol,"));
}

TEST(LdapStatus, DirectoryNeverReachedIsListedDownAtOnce) {
  DaemonHarness daemon;
  RefusingPort dead;
  SlapdServer unused(testing::openldap_test_options());
  Json corp = ldap_directory(daemon, "corp", unused);
  corp["uri"] = Json::array({dead.uri()});
  daemon.start(config_with_directories(daemon, Json::array({internal_directory(), corp})));

  auto listed = daemon.call({{"op", "list_directories"}});

  ASSERT_EQ(listed["ok"], true) << listed;
  Json entry = directory_entry(listed, "corp");
  EXPECT_EQ(entry["status"], "down") << listed;
  EXPECT_TRUE(entry.contains("detail")) << listed;
}

// --- The cache ---------------------------------------------------------------------

class LdapCache : public LdapWrites {
 protected:
  // Changes alice's mail at the server, behind dirproxy's back.
  void change_alices_mail_at_the_server(const std::string& mail) {
    openldap_.modify(std::string("dn: ") + kAliceDn +
                     "\n"
                     "changetype: modify\n"
                     "replace: mail\n"
                     "mail: " +
                     mail + "\n");
  }
};

TEST_F(LdapCache, CachedUserIsServedDespiteChangesBehindDirproxysBack) {
  ASSERT_EQ(get_user("alice")["user"]["email"], "alice@example.com");
  change_alices_mail_at_the_server("alice.behind@example.com");

  auto response = get_user("alice");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["email"], "alice@example.com");
}

TEST_F(LdapCache, WriteThroughDirproxyMakesTheNextLookupFresh) {
  ASSERT_EQ(get_user("alice")["user"]["email"], "alice@example.com");
  change_alices_mail_at_the_server("alice.behind@example.com");
  ASSERT_EQ(outcome_of(send({{"op", "update_user"}, {"username", "alice"}, {"display_name", "Alice L."}})), "ok");

  auto response = get_user("alice");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["email"], "alice.behind@example.com");
  EXPECT_EQ(response["user"]["display_name"], "Alice L.");
}

}  // namespace
}  // namespace dirproxy::integration
