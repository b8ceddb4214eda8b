// LDAP directories in the chain, read-only, through the socket of the real
// dirproxyd against real slapd servers (tests/data/ldap): shadowing between
// the internal directory and LDAP and between two LDAP directories (docs/design.md
// rule 1), authentication (rule 3: only the owner decides; AD's disabled
// accounts; empty passwords never reach the server), filter and DN escaping
// with hostile names, membership aggregate vs first (rule 4) and group
// members, failover between URIs, and list_directories.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ldap_test_support.hpp"

namespace dirproxy::integration {
namespace {

// The OpenLDAP data set's alice as the "corp" directory answers her.
Json corp_alice() {
  return {{"username", "alice"},   {"email", "alice@example.com"}, {"display_name", "Alice Liddell"},
          {"first_name", "Alice"}, {"last_name", "Liddell"},       {"active", true},
          {"directory", "corp"}};
}

std::string bind_line_of(const std::string& dn) { return "BIND dn=\"" + dn + "\""; }

// --- Shadowing (rule 1, rule 3) --------------------------------------------------

class LdapShadowing : public LdapReadOnlyTest {
 protected:
  // The internal directory gets its own "shadow" (kPassword) while it is the
  // only directory (with the LDAP one in the chain the name would be taken),
  // then the chain becomes `directories`.
  void shadow_in_internal_then_chain(Json directories) {
    start_with(Json::array({internal_directory()}));
    add_user("shadow");
    reload_with(std::move(directories));
  }
};

TEST_F(LdapShadowing, InternalDirectoryBeforeLdapOwnsTheSharedUsername) {
  shadow_in_internal_then_chain(Json::array({internal_directory(), corp()}));

  auto response = get_user("shadow");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["directory"], "internal");
  EXPECT_EQ(response["user"]["email"], "shadow@example.com");
}

TEST_F(LdapShadowing, InternalOwnerAcceptsOnlyItsOwnPassword) {
  shadow_in_internal_then_chain(Json::array({internal_directory(), corp()}));

  auto own = authenticate("shadow", kPassword);
  auto ldaps = authenticate("shadow", "shadow-ldap-password");

  ASSERT_EQ(outcome_of(own), "ok") << own;
  EXPECT_EQ(own["user"]["directory"], "internal");
  EXPECT_EQ(outcome_of(ldaps), "invalid_credentials") << ldaps;
}

TEST_F(LdapShadowing, LdapDirectoryBeforeInternalOwnsTheSharedUsername) {
  shadow_in_internal_then_chain(Json::array({corp(), internal_directory()}));

  auto response = get_user("shadow");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["directory"], "corp");
  EXPECT_EQ(response["user"]["email"], "shadow@ldap.example.com");
}

TEST_F(LdapShadowing, RepeatedGetUserAnsweredFromTheCacheIsTheSameAnswer) {
  shadow_in_internal_then_chain(Json::array({corp(), internal_directory()}));
  add_user("local-only");

  auto first = get_user("alice");
  auto cached = get_user("ALICE");
  auto first_local = get_user("local-only");
  auto cached_local = get_user("local-only");  // corp knows it has none; internal is asked

  ASSERT_EQ(outcome_of(first), "ok") << first;
  EXPECT_EQ(first["user"], corp_alice());
  ASSERT_EQ(outcome_of(cached), "ok") << cached;
  EXPECT_EQ(cached["user"], first["user"]);
  ASSERT_EQ(outcome_of(cached_local), "ok") << cached_local;
  EXPECT_EQ(cached_local["user"], first_local["user"]);
  EXPECT_EQ(cached_local["user"]["directory"], "internal");
}

TEST_F(LdapShadowing, PipelinedCachedAndUncachedLookupsAreAnsweredInOrder) {
  shadow_in_internal_then_chain(Json::array({corp(), internal_directory()}));
  add_user("local-only");
  ASSERT_EQ(outcome_of(get_user("alice")), "ok");  // now cached
  auto client = daemon_.connect();

  // alice and the unknown name come from the cache on the io thread;
  // local-only needs the internal directory (the worker pool).
  ASSERT_TRUE(client.send_raw(R"({"op":"get_user","id":1,"username":"local-only"})"
                              "\n"
                              R"({"op":"get_user","id":2,"username":"alice"})"
                              "\n"
                              R"({"op":"add_group","id":3,"name":"late"})"
                              "\n"
                              R"({"op":"get_user","id":4,"username":"alice"})"
                              "\n"));
  std::vector<Json> answers;
  for (int i = 0; i < 4; ++i) {
    auto line = client.read_line();
    ASSERT_TRUE(line) << "answer " << i + 1 << " missing";
    answers.push_back(Json::parse(*line));
  }

  for (int i = 0; i < 4; ++i) EXPECT_EQ(answers[i]["id"], i + 1) << answers[i];
  EXPECT_EQ(answers[0]["user"]["directory"], "internal");
  EXPECT_EQ(answers[1]["user"], corp_alice());
  EXPECT_EQ(outcome_of(answers[2]), "ok") << answers[2];
  EXPECT_EQ(answers[3]["user"], corp_alice());
}

TEST_F(LdapShadowing, LdapOwnerAcceptsOnlyItsOwnPassword) {
  shadow_in_internal_then_chain(Json::array({corp(), internal_directory()}));

  auto ldaps = authenticate("shadow", "shadow-ldap-password");
  auto internals = authenticate("shadow", kPassword);

  ASSERT_EQ(outcome_of(ldaps), "ok") << ldaps;
  EXPECT_EQ(ldaps["user"]["directory"], "corp");
  EXPECT_EQ(outcome_of(internals), "invalid_credentials") << internals;
}

TEST_F(LdapShadowing, FirstOfTwoLdapDirectoriesOwnsTheSharedUsername) {
  start_with(Json::array({internal_directory(), corp(), ad()}));

  auto user = get_user("alice");
  auto own_password = authenticate("alice", "alice-password");
  auto other_password = authenticate("alice", "alice-password-corp");

  ASSERT_EQ(outcome_of(user), "ok") << user;
  EXPECT_EQ(user["user"], corp_alice());
  ASSERT_EQ(outcome_of(own_password), "ok") << own_password;
  EXPECT_EQ(own_password["user"]["directory"], "corp");
  EXPECT_EQ(outcome_of(other_password), "invalid_credentials") << other_password;
}

TEST_F(LdapShadowing, SwappingTwoLdapDirectoriesOnReloadSwapsTheOwner) {
  start_with(Json::array({internal_directory(), corp(), ad()}));
  ASSERT_EQ(get_user("alice")["user"]["directory"], "corp");

  reload_with(Json::array({internal_directory(), ad(), corp()}));
  auto user = get_user("alice");
  auto own_password = authenticate("alice", "alice-password-corp");
  auto other_password = authenticate("alice", "alice-password");

  ASSERT_EQ(outcome_of(user), "ok") << user;
  EXPECT_EQ(user["user"]["directory"], "ad");
  EXPECT_EQ(user["user"]["email"], "alice@corp.example");
  EXPECT_EQ(user["user"]["display_name"], "Alice Corp");
  ASSERT_EQ(outcome_of(own_password), "ok") << own_password;
  EXPECT_EQ(own_password["user"]["directory"], "ad");
  EXPECT_EQ(outcome_of(other_password), "invalid_credentials") << other_password;
}

// --- Authentication -----------------------------------------------------------------

class LdapAuthentication : public LdapReadOnlyTest {};

TEST_F(LdapAuthentication, CorrectPasswordReturnsTheUserWithSortedGroups) {
  start_with(Json::array({internal_directory(), corp()}));
  // An internal group named after the LDAP ones: unsorted, internal groups
  // would come first.
  add_group("zeta-local");
  add_member("zeta-local", "alice");

  auto response = authenticate("alice", "alice-password");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  Json expected = corp_alice();
  expected["groups"] = {"developers", "staff", "zeta-local"};
  EXPECT_EQ(response["user"], expected);
}

TEST_F(LdapAuthentication, WrongPasswordIsInvalidCredentials) {
  start_with(Json::array({internal_directory(), corp()}));

  auto response = authenticate("alice", "not-alices-password");

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
}

TEST_F(LdapAuthentication, UnknownUserIsInvalidCredentials) {
  start_with(Json::array({internal_directory(), corp()}));

  auto response = authenticate("nobody-anywhere", "alice-password");

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
}

TEST_F(LdapAuthentication, ActiveDirectoryUserIsMappedFromSamAccountName) {
  start_with(Json::array({internal_directory(), ad()}));

  auto response = get_user("grace");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"], Json({{"username", "grace"},
                                    {"email", "grace@corp.example"},
                                    {"display_name", "Grace Hopper"},
                                    {"first_name", "Grace"},
                                    {"last_name", "Hopper"},
                                    {"active", true},
                                    {"directory", "ad"}}));
}

TEST_F(LdapAuthentication, DisabledActiveDirectoryAccountIsInactive) {
  start_with(Json::array({internal_directory(), ad()}));

  auto response = get_user("dan");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["active"], false);
}

TEST_F(LdapAuthentication, DisabledActiveDirectoryAccountWithTheRightPasswordIsAccountDisabled) {
  start_with(Json::array({internal_directory(), ad()}));

  auto response = authenticate("dan", "dan-password");

  EXPECT_EQ(outcome_of(response), "account_disabled") << response;
}

TEST_F(LdapAuthentication, DisabledActiveDirectoryAccountWithAWrongPasswordIsInvalidCredentials) {
  start_with(Json::array({internal_directory(), ad()}));

  auto response = authenticate("dan", "not-dans-password");

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
}

TEST_F(LdapAuthentication, EmptyPasswordIsRefusedWithoutABindAtTheServer) {
  start_with(Json::array({internal_directory(), corp()}));
  ASSERT_EQ(outcome_of(get_user("alice")), "ok");  // the service connection is up
  const std::string alice_bind = bind_line_of(kAliceDn);
  const std::size_t binds_before = count_occurrences(openldap().log(), alice_bind);

  auto empty = authenticate("alice", "");
  // A wrong password does bind: once its BIND is in the log, a BIND made for
  // the empty password (sent earlier) would be there too.
  auto wrong = authenticate("alice", "not-alices-password");
  const bool marker_logged =
      eventually([&] { return count_occurrences(openldap().log(), alice_bind) >= binds_before + 1; }, 5s);

  EXPECT_EQ(outcome_of(empty), "invalid_credentials") << empty;
  EXPECT_EQ(outcome_of(wrong), "invalid_credentials") << wrong;
  ASSERT_TRUE(marker_logged) << openldap().log_tail();
  EXPECT_EQ(count_occurrences(openldap().log(), alice_bind), binds_before + 1) << openldap().log_tail();
}

// --- Escaping: hostile names through the socket --------------------------------------

class LdapInjection : public LdapReadOnlyTest {
 protected:
  void SetUp() override { start_with(Json::array({internal_directory(), corp()})); }
};

TEST_F(LdapInjection, FilterSpecialsInAUsernameMatchNobody) {
  for (const std::string username : {"*", ")(uid=*", "alice*", "*)(|(uid=*", "\\2a", "alice)"}) {
    SCOPED_TRACE(username);

    auto response = get_user(username);

    EXPECT_EQ(outcome_of(response), "not_found") << response;
  }
}

TEST_F(LdapInjection, NulInAUsernameMatchesNobody) {
  // JSON carries it as \u0000; in a filter it must become \00, not end the string.
  const std::string username("alice\0*", 7);

  auto response = get_user(username);

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

TEST_F(LdapInjection, UsernamesWithFilterSpecialsFindExactlyTheirOwner) {
  for (const std::string username : {"st*r", "paren)(x", "back\\slash"}) {
    SCOPED_TRACE(username);

    auto response = get_user(username);

    ASSERT_EQ(outcome_of(response), "ok") << response;
    EXPECT_EQ(response["user"]["username"], username);
    EXPECT_EQ(response["user"]["directory"], "corp");
  }
}

TEST_F(LdapInjection, FindUsersWithAStarQueryMatchesOnlyALiteralStar) {
  auto response = send({{"op", "find_users"}, {"query", "*"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(usernames_of(response["users"]), std::vector<std::string>{"st*r"});
}

TEST_F(LdapInjection, AuthenticateAsAStarWithAlicesPasswordIsInvalidCredentials) {
  auto response = authenticate("*", "alice-password");

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
}

TEST_F(LdapInjection, UserWhoseDnNeedsEscapingAuthenticates) {
  auto response = authenticate("frank, jr", "frank-password");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["username"], "frank, jr");
  EXPECT_EQ(response["user"]["email"], "frank.jr@example.com");
  EXPECT_EQ(response["user"]["directory"], "corp");
}

// --- Membership (rule 4) -----------------------------------------------------------------

class LdapMembership : public LdapReadOnlyTest {
 protected:
  // The chain internal + corp under `membership`, corp with `permissions`,
  // and an internal group "local-team" holding corp's alice.
  void start_with_local_team(const std::string& membership, const std::string& permissions = "read_only") {
    Json ldap = corp();
    ldap["permissions"] = permissions;
    start_with(Json::array({internal_directory(), ldap}), {{"membership", membership}});
    add_group("local-team");
    add_member("local-team", "alice");
  }

  Json user_groups(const std::string& username) { return send({{"op", "get_user_groups"}, {"username", username}}); }

  Json get_group(const std::string& name) { return send({{"op", "get_group"}, {"name", name}}); }
};

TEST_F(LdapMembership, AggregateMembershipUnitesInternalAndLdapGroups) {
  start_with_local_team("aggregate");

  auto response = user_groups("alice");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], Json({"developers", "local-team", "staff"}));
}

TEST_F(LdapMembership, FirstMembershipCountsOnlyTheOwningLdapDirectory) {
  start_with_local_team("first");

  auto response = user_groups("alice");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], Json({"developers", "staff"}));
}

TEST_F(LdapMembership, ReadOnlyLocalGroupsKeepInternalGroupsUnderFirstMembership) {
  start_with_local_team("first", "read_only_local_groups");

  auto response = user_groups("alice");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], Json({"developers", "local-team", "staff"}));
}

TEST_F(LdapMembership, LdapGroupMemberDnsAreMappedToUsernames) {
  start_with(Json::array({internal_directory(), corp()}));

  auto response = get_group("developers");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"], Json({{"name", "developers"},
                                     {"description", "Developers"},
                                     {"directory", "corp"},
                                     {"members", {"alice", "bob"}}}));
}

TEST_F(LdapMembership, GroupWithoutNestingListsOnlyItsDirectUsers) {
  start_with(Json::array({internal_directory(), corp()}));

  auto response = get_group("staff");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"]["members"], Json({"alice", "carol"}));
}

TEST_F(LdapMembership, NestedGroupsAddTheMembersOfSubgroups) {
  Json ldap = corp();
  ldap["nested_groups"] = true;
  start_with(Json::array({internal_directory(), ldap}));

  auto response = get_group("staff");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"]["members"], Json({"alice", "bob", "carol"}));
}

TEST_F(LdapMembership, NestedGroupCycleEndsWithEachMemberOnce) {
  Json ldap = corp();
  ldap["nested_groups"] = true;
  start_with(Json::array({internal_directory(), ldap}));

  auto response = get_group("cycle-a");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"]["members"], Json({"carol", "dave"}));
}

TEST_F(LdapMembership, NestedGroupsAddTheGroupsOfAUsersGroups) {
  Json ldap = corp();
  ldap["nested_groups"] = true;
  start_with(Json::array({internal_directory(), ldap}));

  auto response = user_groups("bob");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], Json({"developers", "staff"}));
}

TEST_F(LdapMembership, ActiveDirectoryGroupMembersAreMappedToSamAccountNames) {
  start_with(Json::array({internal_directory(), ad()}));

  auto response = get_group("Engineers");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"]["directory"], "ad");
  EXPECT_EQ(response["group"]["members"], Json({"ada", "brian", "grace"}));
}

TEST_F(LdapMembership, ActiveDirectoryGroupsComeFromMemberOf) {
  start_with(Json::array({internal_directory(), ad()}));

  auto response = user_groups("grace");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], Json({"Engineers", "Staff"}));
}

// --- Failover and list_directories ------------------------------------------------------

class LdapFailover : public LdapReadOnlyTest {};

TEST_F(LdapFailover, DeadFirstUriFailsOverToTheNextOne) {
  RefusingPort dead;
  Json ldap = corp();
  ldap["uri"] = Json::array({dead.uri(), openldap().uri()});
  start_with(Json::array({internal_directory(), ldap}));

  auto user = get_user("alice");
  auto listed = send({{"op", "list_directories"}});

  ASSERT_EQ(outcome_of(user), "ok") << user;
  EXPECT_EQ(user["user"], corp_alice());
  ASSERT_EQ(outcome_of(listed), "ok") << listed;
  EXPECT_EQ(directory_entry(listed, "corp")["status"], "up") << listed;
}

class LdapListDirectories : public LdapReadOnlyTest {};

TEST_F(LdapListDirectories, ReportsEveryDirectoryInOrderWithTypePermissionsAndStatus) {
  RefusingPort dead;
  Json ldap = corp();
  ldap["permissions"] = "read_only_local_groups";
  Json gone = corp();
  gone["name"] = "gone";
  gone["uri"] = Json::array({dead.uri()});
  gone["on_unavailable"] = "skip";
  start_with(Json::array({internal_directory(), ldap, gone}));
  // A lookup that walks the whole chain tries "gone" once.
  ASSERT_EQ(outcome_of(get_user("nobody-anywhere")), "not_found");

  auto response = send({{"op", "list_directories"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const Json& list = response["directories"];
  ASSERT_EQ(list.size(), 3u) << response;
  EXPECT_EQ(list[0]["name"], "internal");
  EXPECT_EQ(list[0]["type"], "internal");
  EXPECT_EQ(list[0]["status"], "up");
  EXPECT_EQ(list[1],
            Json({{"name", "corp"}, {"type", "ldap"}, {"permissions", "read_only_local_groups"}, {"status", "up"}}));
  EXPECT_EQ(list[2]["name"], "gone");
  EXPECT_EQ(list[2]["type"], "ldap");
  EXPECT_EQ(list[2]["permissions"], "read_only");
  EXPECT_EQ(list[2]["status"], "down");
  ASSERT_TRUE(list[2]["detail"].is_string()) << response;
  EXPECT_NE(list[2]["detail"].get<std::string>().find(dead.uri() + ": Can't contact LDAP server"), std::string::npos)
      << response;
}

}  // namespace
}  // namespace dirproxy::integration
