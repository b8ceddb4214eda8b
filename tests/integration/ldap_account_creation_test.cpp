// Account creation that writes to an LDAP directory (a real slapd, "corp",
// read_write and first in the chain, so it holds new users and groups):
// the creation is recorded in the state database until it is complete, and a
// record that a dead daemon left is settled when dirproxyd starts, completed
// at the server when the entry exists and undone when it does not, with a
// log line for each.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ldap_test_support.hpp"

namespace dirproxy::integration {
namespace {

using ::testing::HasSubstr;

constexpr const char* kNewbieDn = "uid=newbie,ou=people,dc=example,dc=com";
constexpr const char* kDevelopersDn = "cn=developers,ou=groups,dc=example,dc=com";

class LdapAccountCreation : public DaemonTest {
 protected:
  Json config(const std::vector<std::string>& default_groups) {
    Json corp = ldap_directory(daemon_, "corp", openldap_);
    corp["permissions"] = "read_write";
    Json config = config_with_directories(daemon_, Json::array({corp, internal_directory()}));
    config["accounts"]["default_groups"] = default_groups;
    return config;
  }

  std::string developers_at_the_server() const {
    return openldap_.search(kDevelopersDn, "(objectClass=*)", {"member"}, "base");
  }

  SlapdServer openldap_{writable_openldap_options()};
};

TEST_F(LdapAccountCreation, AnLdapAccountJoinsItsGroupsThereAndLeavesNoRecord) {
  daemon_.start(config({"developers"}));

  auto added = send(add_user_request("newbie"));

  ASSERT_EQ(outcome_of(added), "ok") << added;
  EXPECT_EQ(added["user"]["directory"], "corp");
  EXPECT_THAT(developers_at_the_server(), HasSubstr(std::string("member: ") + kNewbieDn + "\n"));
  EXPECT_EQ(select_from_state_database("SELECT count(*) FROM account_creations"), 0);
  EXPECT_EQ(select_from_state_database("SELECT count(*) FROM outbox WHERE state = 'held'"), 0);
}

TEST_F(LdapAccountCreation, AtStartACrashedCreationIsCompletedAtTheServerOrUndone) {
  daemon_.start(config({}));
  ASSERT_EQ(outcome_of(send(add_user_request("newbie"))), "ok");  // made at the server, in no group yet
  daemon_.kill9();
  // What a daemon that died in the middle leaves: newbie's creation before
  // he joined "developers", and ghost's before his entry was made (with the
  // set-password token it had claimed).
  execute_on_state_database(
      "INSERT INTO account_creations (username, groups, reset_token_hash, process, started_at) VALUES"
      " ('newbie', '[\"developers\"]', NULL, 'dead', 0), ('ghost', '[]', 'ghost-token', 'dead', 0);"
      "INSERT INTO reset_tokens (token_hash, username, purpose, created_at, expires_at) VALUES"
      " ('ghost-token', 'ghost', 'new_user', 0, 4102444800)");

  daemon_.start(config({"developers"}));

  EXPECT_THAT(developers_at_the_server(), HasSubstr(std::string("member: ") + kNewbieDn + "\n"));
  EXPECT_EQ(select_from_state_database("SELECT count(*) FROM account_creations"), 0);
  EXPECT_EQ(select_from_state_database("SELECT count(*) FROM reset_tokens WHERE username = 'ghost'"), 0);
  EXPECT_THAT(daemon_.log(), HasSubstr("creation of account \"newbie\" completed: the account exists in directory "
                                       "'corp'; groups joined: developers; its mail released"));
  EXPECT_THAT(daemon_.log(), HasSubstr("creation of account \"ghost\" undone: the account was never made"));
}

}  // namespace
}  // namespace dirproxy::integration
