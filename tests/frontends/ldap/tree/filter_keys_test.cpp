// Which lookups a filter pins: typical client filters are answered by key,
// never by enumerating, and a filter that does not pin says so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/names.hpp"
#include "frontends/ldap/ldap_schema.hpp"
#include "frontends/ldap/ldap_tree.hpp"
#include "frontends/ldap/tree/filter_text.hpp"
#include "frontends/ldap/tree/tree_fixtures.hpp"

namespace dirproxy::ldap {
namespace {

using ::testing::ElementsAre;
using testing::example_tree;
using testing::filter_text;
using ::testing::IsEmpty;

std::optional<UserKeys> users(std::string_view filter) { return user_keys(example_tree(), filter_text(filter)); }
std::optional<GroupKeys> groups(std::string_view filter) { return group_keys(example_tree(), filter_text(filter)); }

bool pins_nothing(const UserKeys& keys) {
  return keys.usernames.empty() && keys.emails.empty() && keys.uid_numbers.empty() && keys.uuids.empty() &&
         keys.member_of.empty();
}
bool pins_nothing(const GroupKeys& keys) {
  return keys.names.empty() && keys.gid_numbers.empty() && keys.uuids.empty() && keys.members.empty();
}

TEST(FilterKeys, NslcdUserByName) {
  const auto keys = users("(&(objectClass=posixAccount)(uid=alice))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->usernames, ElementsAre("alice"));
  EXPECT_THAT(keys->emails, IsEmpty());
  const auto group = groups("(&(objectClass=posixAccount)(uid=alice))");
  ASSERT_TRUE(group.has_value());  // no group is a posixAccount or has a uid
  EXPECT_TRUE(pins_nothing(*group));
}

TEST(FilterKeys, NslcdUserByNumber) {
  const auto keys = users("(&(objectClass=posixAccount)(uidNumber=10001))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->uid_numbers, ElementsAre(10001U));
  EXPECT_THAT(keys->usernames, IsEmpty());
}

TEST(FilterKeys, NslcdGroupsOfAMember) {
  const auto keys = groups("(&(objectClass=posixGroup)(memberUid=alice))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->members, ElementsAre("alice"));
  const auto user = users("(&(objectClass=posixGroup)(memberUid=alice))");
  ASSERT_TRUE(user.has_value());  // no user is a posixGroup
  EXPECT_TRUE(pins_nothing(*user));
}

TEST(FilterKeys, NslcdGroupByNameAndNumber) {
  EXPECT_THAT(groups("(&(objectClass=posixGroup)(cn=admins))")->names, ElementsAre("admins"));
  EXPECT_THAT(groups("(&(objectClass=posixGroup)(gidNumber=20001))")->gid_numbers, ElementsAre(20001U));
}

TEST(FilterKeys, SssdUserFilter) {
  const auto keys = users("(&(uid=alice)(objectclass=posixAccount)(uid=*)(&(uidNumber=*)(!(uidNumber=0))))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->usernames, ElementsAre("alice"));
}

// The other searches SSSD 2.8 makes for getent, id and pam_sss
// (tests/integration/os_client_sssd_test.cpp), as its debug log shows them:
// each is answered by key, so SSSD never makes dirproxyd enumerate.
TEST(FilterKeys, SssdGroupAndInitgroupsFilters) {
  const auto by_name = groups("(&(cn=staff)(objectClass=posixGroup)(cn=*)(&(gidNumber=*)(!(gidNumber=0))))");
  ASSERT_TRUE(by_name.has_value());
  EXPECT_THAT(by_name->names, ElementsAre("staff"));
  const auto by_number = groups("(&(gidNumber=50000)(objectClass=posixGroup)(cn=*)(&(gidNumber=*)(!(gidNumber=0))))");
  ASSERT_TRUE(by_number.has_value());
  EXPECT_THAT(by_number->gid_numbers, ElementsAre(50000U));
  // rfc2307bis: the groups of a user's DN, then of each group found (nesting).
  const auto of_user = groups("(&(member=uid=alice,ou=people,dc=example,dc=com)(objectClass=posixGroup)(cn=*))");
  ASSERT_TRUE(of_user.has_value());
  EXPECT_THAT(of_user->members, ElementsAre("alice"));
  const auto of_group = groups("(&(member=cn=staff,ou=groups,dc=example,dc=com)(objectClass=posixGroup)(cn=*))");
  ASSERT_TRUE(of_group.has_value());  // groups have no groups as members
  EXPECT_TRUE(pins_nothing(*of_group));
  // rfc2307: by memberUid.
  const auto by_uid = groups("(&(memberuid=alice)(objectClass=posixGroup)(cn=*)(&(gidNumber=*)(!(gidNumber=0))))");
  ASSERT_TRUE(by_uid.has_value());
  EXPECT_THAT(by_uid->members, ElementsAre("alice"));
  // Each of these is a group filter: no user can match them.
  for (const char* filter :
       {"(&(cn=staff)(objectClass=posixGroup)(cn=*))", "(&(memberuid=alice)(objectClass=posixGroup))"}) {
    const auto keys = users(filter);
    ASSERT_TRUE(keys.has_value()) << filter;
    EXPECT_TRUE(pins_nothing(*keys)) << filter;
  }
}

// The sudo provider's refresh, which sssd_be runs at start even without a
// sudo responder: no entry is a sudoRole, so nothing is looked up.
TEST(FilterKeys, SssdSudoRefreshPinsNothing) {
  const char* filter =
      "(&(objectClass=sudoRole)(|(&(!(sudoHost=*))(cn=defaults))(sudoHost=ALL)(sudoHost=vm)(sudoHost=192.0.2.2)"
      "(sudoHost=192.0.2.0/24)(sudoHost=+*)(|(sudoHost=*\\5C*)(sudoHost=*?*)(sudoHost=*\\2A*)(sudoHost=*[*]*))))";
  const auto user = users(filter);
  ASSERT_TRUE(user.has_value());
  EXPECT_TRUE(pins_nothing(*user));
  const auto group = groups(filter);
  ASSERT_TRUE(group.has_value());
  EXPECT_TRUE(pins_nothing(*group));
}

TEST(FilterKeys, GrafanasUidOrMailPinsBoth) {
  const auto keys = users("(|(uid=alice)(mail=alice))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->usernames, ElementsAre("alice"));
  EXPECT_THAT(keys->emails, ElementsAre("alice"));
}

TEST(FilterKeys, ApacheAndNextcloudMemberOf) {
  const auto keys = users("(&(objectClass=inetOrgPerson)(memberOf=CN=Admins,OU=Groups,DC=example,DC=com))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->member_of, ElementsAre("Admins"));
  const auto either = users(
      "(&(|(objectclass=inetOrgPerson))(|(memberof=cn=admins,ou=groups,dc=example,dc=com)"
      "(memberof=cn=staff,ou=groups,dc=example,dc=com)))");
  ASSERT_TRUE(either.has_value());
  EXPECT_THAT(either->member_of, ElementsAre("admins", "staff"));
}

TEST(FilterKeys, ApacheRequireLdapGroupMember) {
  const auto keys = groups("(|(member=uid=alice,ou=people,dc=example,dc=com)(memberUid=alice))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->members, ElementsAre("alice"));
}

TEST(FilterKeys, MemberOfOutsideOurGroupsPinsNothing) {
  const auto keys = users("(memberOf=cn=admins,ou=teams,dc=example,dc=com)");
  ASSERT_TRUE(keys.has_value());
  EXPECT_TRUE(pins_nothing(*keys));
  const auto not_a_dn = users("(memberOf=admins)");
  ASSERT_TRUE(not_a_dn.has_value());
  EXPECT_TRUE(pins_nothing(*not_a_dn));
  const auto member = groups("(member=cn=grafana,ou=services,dc=example,dc=com)");
  ASSERT_TRUE(member.has_value());
  EXPECT_TRUE(pins_nothing(*member));
}

TEST(FilterKeys, UuidAndNumberKeys) {
  EXPECT_THAT(users("(entryUUID=0F8FAD5B-D9CB-469F-A165-70867728950E)")->uuids,
              ElementsAre("0f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_THAT(groups("(entryUUID=7c9e6679-7425-40de-944b-e07fc1f90ae7)")->uuids,
              ElementsAre("7c9e6679-7425-40de-944b-e07fc1f90ae7"));
  EXPECT_THAT(users("(uidNumber=010001)")->uid_numbers, ElementsAre(10001U));
  EXPECT_TRUE(pins_nothing(*users("(uidNumber=abc)")));
  EXPECT_TRUE(pins_nothing(*users("(uidNumber=99999999999)")));
}

TEST(FilterKeys, ApproxPinsLikeEquality) { EXPECT_THAT(users("(uid~=alice)")->usernames, ElementsAre("alice")); }

TEST(FilterKeys, SpacesThatMatchingIgnoresAreNotInTheKey) {
  EXPECT_THAT(users("(uid= alice )")->usernames, ElementsAre("alice"));
}

TEST(FilterKeys, AndTakesTheSmallestChild) {
  const auto keys = users("(&(|(uid=a)(uid=b)(uid=c))(mail=a@example.com))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->emails, ElementsAre("a@example.com"));
  EXPECT_THAT(keys->usernames, IsEmpty());
}

TEST(FilterKeys, OrUnitesAndDropsDuplicates) {
  const auto keys = users("(|(uid=a)(uid=b)(uid=a)(uidNumber=7))");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->usernames, ElementsAre("a", "b"));
  EXPECT_THAT(keys->uid_numbers, ElementsAre(7U));
}

TEST(FilterKeys, FiltersThatDoNotPin) {
  for (const char* filter :
       {"(objectClass=*)", "(|(uid=a)(cn=b))", "(!(uid=a))", "(cn=Alice)", "(uid=ali*)", "(uidNumber>=10000)",
        "(uid:caseExactMatch:=alice)", "(objectClass=person)", "(&(objectClass=person)(!(uid=alice)))"}) {
    EXPECT_EQ(users(filter), std::nullopt) << filter;
  }
  for (const char* filter :
       {"(objectClass=*)", "(objectClass=groupOfNames)", "(!(cn=a))", "(cn=adm*)", "(|(cn=a)(description=b))"}) {
    EXPECT_EQ(groups(filter), std::nullopt) << filter;
  }
}

TEST(FilterKeys, AnItemNoEntryOfTheKindCanSatisfyPinsNothing) {
  for (const char* filter : {"(member=*)", "(description=x)", "(objectClass=groupOfNames)", "(nosuch=x)"}) {
    const auto keys = users(filter);
    ASSERT_TRUE(keys.has_value()) << filter;
    EXPECT_TRUE(pins_nothing(*keys)) << filter;
  }
  for (const char* filter : {"(uid=*)", "(mail=a@b)", "(objectClass=inetOrgPerson)", "(memberOf=x)"}) {
    const auto keys = groups(filter);
    ASSERT_TRUE(keys.has_value()) << filter;
    EXPECT_TRUE(pins_nothing(*keys)) << filter;
  }
}

// The promise the caller relies on: an entry the filter matches has one of
// the pinned keys.
TEST(FilterKeys, EveryMatchingEntryHasAPinnedKey) {
  const Entry alice = user_entry(example_tree(), testing::alice_entry());
  for (const char* filter : {"(uid=ALICE)", "(|(uid=x)(mail=ALICE@example.com))", "(uidNumber=0010001)",
                             "(memberOf=cn=ADMINS,ou=groups,dc=example,dc=com)", "(&(uid=*)(uid= alice ))"}) {
    ASSERT_EQ(evaluate(filter_text(filter), alice), FilterResult::true_) << filter;
    const auto keys = users(filter);
    ASSERT_TRUE(keys.has_value()) << filter;
    const auto& k = *keys;
    const bool found =
        std::any_of(k.usernames.begin(), k.usernames.end(), [](const auto& n) { return same_name(n, "alice"); }) ||
        std::any_of(k.emails.begin(), k.emails.end(),
                    [](const auto& e) { return same_name(e, "alice@example.com"); }) ||
        std::count(k.uid_numbers.begin(), k.uid_numbers.end(), 10001U) > 0 ||
        std::any_of(k.member_of.begin(), k.member_of.end(), [](const auto& g) { return same_name(g, "admins"); });
    EXPECT_TRUE(found) << filter;
  }
}

// The keys treat an item on an attribute outside an entry kind's shape as
// never True; a shape that fell behind the entries would make them miss.
TEST(FilterKeys, ShapesCoverEveryAttributeAndClassTheEntriesCarry) {
  const auto covers = [](const EntryShape& shape, const Entry& entry) {
    for (const auto& attribute : entry.attributes) {
      EXPECT_NE(std::find(shape.attributes.begin(), shape.attributes.end(), attribute.type), shape.attributes.end())
          << attribute.type;
      if (attribute.type != "objectClass") continue;
      EXPECT_TRUE(std::equal(attribute.values.begin(), attribute.values.end(), shape.object_classes.begin(),
                             shape.object_classes.end()));
    }
  };
  covers(kUserShape, user_entry(example_tree(), testing::alice_entry()));
  covers(kGroupShape, group_entry(example_tree(), testing::admins_entry()));
}

}  // namespace
}  // namespace dirproxy::ldap
