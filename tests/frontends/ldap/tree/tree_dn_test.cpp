// Where a DN points in the tree, compared as DNs, and the DNs the tree builds.
#include <gtest/gtest.h>

#include "frontends/ldap/ldap_tree.hpp"
#include "frontends/ldap/tree/tree_fixtures.hpp"

namespace dirproxy::ldap {
namespace {

using Kind = DnTarget::Kind;
using testing::example_tree;

Kind kind_of(std::string_view dn) { return classify_dn(example_tree(), dn).kind; }

TEST(TreeDn, CaseSpacingAndEscapingDoNotMatter) {
  const auto target = classify_dn(example_tree(), "UID=Alice , OU=People,DC=Example,DC=Com");
  EXPECT_EQ(target.kind, Kind::user);
  EXPECT_EQ(target.name, "Alice");
  const auto escaped = classify_dn(example_tree(), "uid=\\61lice,ou=people,dc=example,dc=com");
  EXPECT_EQ(escaped.kind, Kind::user);
  EXPECT_EQ(escaped.name, "alice");
}

TEST(TreeDn, RootDseAndSubschema) {
  EXPECT_EQ(kind_of(""), Kind::root_dse);
  EXPECT_EQ(kind_of("cn=Subschema"), Kind::subschema);
  EXPECT_EQ(kind_of("CN = subschema"), Kind::subschema);
}

TEST(TreeDn, Containers) {
  EXPECT_EQ(kind_of("dc=example,dc=com"), Kind::base);
  EXPECT_EQ(kind_of("DC=EXAMPLE, DC=COM"), Kind::base);
  EXPECT_EQ(kind_of("ou=people,dc=example,dc=com"), Kind::people);
  EXPECT_EQ(kind_of("ou=Groups,dc=example,dc=com"), Kind::groups);
  EXPECT_EQ(kind_of("ou=services,dc=example,dc=com"), Kind::services);
}

TEST(TreeDn, LeavesCarryTheirUnescapedName) {
  const auto group = classify_dn(example_tree(), "cn=Team\\2C North,ou=groups,dc=example,dc=com");
  EXPECT_EQ(group.kind, Kind::group);
  EXPECT_EQ(group.name, "Team, North");
  const auto service = classify_dn(example_tree(), "cn=grafana,ou=services,dc=example,dc=com");
  EXPECT_EQ(service.kind, Kind::service);
  EXPECT_EQ(service.name, "grafana");
}

TEST(TreeDn, LeavesNeedTheirOwnNamingAttributeAlone) {
  EXPECT_EQ(kind_of("cn=alice,ou=people,dc=example,dc=com"), Kind::below_leaf);
  EXPECT_EQ(kind_of("uid=admins,ou=groups,dc=example,dc=com"), Kind::below_leaf);
  EXPECT_EQ(kind_of("uid=alice+cn=x,ou=people,dc=example,dc=com"), Kind::below_leaf);
  EXPECT_EQ(kind_of("uid=#04056C69636500,ou=people,dc=example,dc=com"), Kind::below_leaf);
}

TEST(TreeDn, TheLeafAttributeMayBeGivenByItsOid) {
  EXPECT_EQ(kind_of("0.9.2342.19200300.100.1.1=alice,ou=people,dc=example,dc=com"), Kind::user);
}

TEST(TreeDn, AnythingDeeperOrElsewhereUnderBaseIsBelowALeaf) {
  EXPECT_EQ(kind_of("cn=x,uid=alice,ou=people,dc=example,dc=com"), Kind::below_leaf);
  EXPECT_EQ(kind_of("ou=machines,dc=example,dc=com"), Kind::below_leaf);
  EXPECT_EQ(kind_of("uid=alice,ou=machines,dc=example,dc=com"), Kind::below_leaf);
  EXPECT_EQ(kind_of("cn=people,dc=example,dc=com"), Kind::below_leaf);
}

TEST(TreeDn, OtherTreesAreOutside) {
  EXPECT_EQ(kind_of("dc=com"), Kind::outside);
  EXPECT_EQ(kind_of("uid=alice,ou=people,dc=evilexample,dc=com"), Kind::outside);
  EXPECT_EQ(kind_of("o=other"), Kind::outside);
}

TEST(TreeDn, NotADnIsInvalid) {
  EXPECT_EQ(kind_of("alice"), Kind::invalid);
  EXPECT_EQ(kind_of("uid=alice,,dc=com"), Kind::invalid);
  EXPECT_EQ(kind_of("=alice"), Kind::invalid);
}

TEST(TreeDn, BuiltDnsAreEscapedPerRfc4514) {
  const auto tree = example_tree();
  EXPECT_EQ(user_dn(tree, "alice"), "uid=alice,ou=people,dc=example,dc=com");
  EXPECT_EQ(user_dn(tree, "a,b"), "uid=a\\2Cb,ou=people,dc=example,dc=com");
  EXPECT_EQ(user_dn(tree, "a+b"), "uid=a\\2Bb,ou=people,dc=example,dc=com");
  EXPECT_EQ(user_dn(tree, "a\"b"), "uid=a\\22b,ou=people,dc=example,dc=com");
  EXPECT_EQ(user_dn(tree, "a\\b"), "uid=a\\5Cb,ou=people,dc=example,dc=com");
  EXPECT_EQ(user_dn(tree, "#a"), "uid=\\23a,ou=people,dc=example,dc=com");
  EXPECT_EQ(user_dn(tree, "a "), "uid=a\\20,ou=people,dc=example,dc=com");
  EXPECT_EQ(group_dn(tree, "admins"), "cn=admins,ou=groups,dc=example,dc=com");
  EXPECT_EQ(service_dn(tree, "grafana"), "cn=grafana,ou=services,dc=example,dc=com");
}

TEST(TreeDn, BuiltDnsClassifyBackToTheSameName) {
  const auto tree = example_tree();
  for (const std::string name : {"a,b", "a+b", "a\"b", "a\\b", "#a", "a ", " a", "a=b;c<d>", "J\xC3\xBCrgen"}) {
    const auto user = classify_dn(tree, user_dn(tree, name));
    EXPECT_EQ(user.kind, Kind::user) << name;
    EXPECT_EQ(user.name, name);
    const auto group = classify_dn(tree, group_dn(tree, name));
    EXPECT_EQ(group.kind, Kind::group) << name;
    EXPECT_EQ(group.name, name);
  }
}

TEST(TreeDn, NamesNoDnCanHoldGiveNoDn) {
  EXPECT_EQ(user_dn(example_tree(), ""), "");
  EXPECT_EQ(user_dn(example_tree(), "a\xFF"), "");
}

TEST(TreeDn, ContainerDns) {
  const auto tree = example_tree();
  EXPECT_EQ(container_dn(tree, Kind::base), "dc=example,dc=com");
  EXPECT_EQ(container_dn(tree, Kind::people), "ou=people,dc=example,dc=com");
  EXPECT_EQ(container_dn(tree, Kind::groups), "ou=groups,dc=example,dc=com");
  EXPECT_EQ(container_dn(tree, Kind::services), "ou=services,dc=example,dc=com");
}

}  // namespace
}  // namespace dirproxy::ldap
