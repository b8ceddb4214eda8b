// The applications' trees (applications[].ldap.base_dn): DNs under each
// base classify as in the main tree, naming the application; an
// application's view makes its DNs under its own base.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontends/ldap/ldap_tree.hpp"
#include "frontends/ldap/tree/tree_fixtures.hpp"

namespace dirproxy::ldap {
namespace {

using Kind = DnTarget::Kind;
using ::testing::ElementsAre;

// BASE dc=example,dc=com, grafana's tree at dc=grafana,dc=example,dc=org and
// gitea's at ou=gitea,o=apps.
TreeSettings tree_with_applications() {
  TreeSettings tree = testing::example_tree();
  tree.application_trees = {{"grafana", "dc=grafana,dc=example,dc=org"}, {"gitea", "ou=gitea,o=apps"}};
  return tree;
}

TEST(TreeApplications, DnsUnderAnApplicationsBaseNameIt) {
  const TreeSettings tree = tree_with_applications();
  const auto user = classify_dn(tree, "uid=Alice,ou=people,dc=grafana,dc=example,dc=org");
  EXPECT_EQ(user.kind, Kind::user);
  EXPECT_EQ(user.name, "Alice");
  EXPECT_EQ(user.application, "grafana");
  const auto group = classify_dn(tree, "CN=staff, OU=Groups, OU=Gitea, O=Apps");
  EXPECT_EQ(group.kind, Kind::group);
  EXPECT_EQ(group.name, "staff");
  EXPECT_EQ(group.application, "gitea");
  EXPECT_EQ(classify_dn(tree, "dc=grafana,dc=example,dc=org").kind, Kind::base);
  EXPECT_EQ(classify_dn(tree, "ou=people,ou=gitea,o=apps").kind, Kind::people);
  const auto service = classify_dn(tree, "cn=grafana,ou=services,dc=grafana,dc=example,dc=org");
  EXPECT_EQ(service.kind, Kind::service);
  EXPECT_EQ(service.application, "grafana");
  EXPECT_EQ(classify_dn(tree, "ou=machines,ou=gitea,o=apps").kind, Kind::below_leaf);
  EXPECT_EQ(classify_dn(tree, "ou=machines,ou=gitea,o=apps").application, "gitea");
}

TEST(TreeApplications, TheMainTreeAndTheFixedEntriesNameNoApplication) {
  const TreeSettings tree = tree_with_applications();
  const auto user = classify_dn(tree, "uid=alice,ou=people,dc=example,dc=com");
  EXPECT_EQ(user.kind, Kind::user);
  EXPECT_EQ(user.application, "");
  EXPECT_EQ(classify_dn(tree, "").application, "");
  EXPECT_EQ(classify_dn(tree, "cn=Subschema").application, "");
}

TEST(TreeApplications, AboveOrBesideABaseIsOutside) {
  const TreeSettings tree = tree_with_applications();
  EXPECT_EQ(classify_dn(tree, "dc=example,dc=org").kind, Kind::outside);
  EXPECT_EQ(classify_dn(tree, "o=apps").kind, Kind::outside);
  EXPECT_EQ(classify_dn(tree, "uid=alice,ou=people,dc=notgrafana,dc=example,dc=org").kind, Kind::outside);
  EXPECT_EQ(classify_dn(tree, "uid=alice,ou=people,ou=gitea,o=other").kind, Kind::outside);
  // Without application trees, an application's base is no one's.
  EXPECT_EQ(classify_dn(testing::example_tree(), "uid=alice,ou=people,dc=grafana,dc=example,dc=org").kind,
            Kind::outside);
}

TEST(TreeApplications, AViewMakesDnsUnderItsBaseAndReadsOnlyThem) {
  const TreeSettings tree = tree_with_applications();
  const TreeSettings view = application_view(tree, "grafana");
  EXPECT_EQ(view.base_dn, "dc=grafana,dc=example,dc=org");
  EXPECT_EQ(view.application, "grafana");
  EXPECT_EQ(user_dn(view, "alice"), "uid=alice,ou=people,dc=grafana,dc=example,dc=org");
  EXPECT_EQ(group_dn(view, "staff"), "cn=staff,ou=groups,dc=grafana,dc=example,dc=org");
  const Entry alice = user_entry(view, testing::alice_entry());
  EXPECT_EQ(alice.dn, "uid=alice,ou=people,dc=grafana,dc=example,dc=org");
  // Its own DNs name the application; the main tree's and the other
  // application's are outside it.
  const auto own = classify_dn(view, "uid=alice,ou=people,dc=grafana,dc=example,dc=org");
  EXPECT_EQ(own.kind, Kind::user);
  EXPECT_EQ(own.application, "grafana");
  EXPECT_EQ(classify_dn(view, "uid=alice,ou=people,dc=example,dc=com").kind, Kind::outside);
  EXPECT_EQ(classify_dn(view, "uid=alice,ou=people,ou=gitea,o=apps").kind, Kind::outside);
  // memberOf=<a group of the view> pins that group's members.
  Filter member_of;
  member_of.kind = Filter::Kind::equality;
  member_of.attribute = "memberOf";
  member_of.value = "cn=staff,ou=groups,dc=grafana,dc=example,dc=org";
  const auto keys = user_keys(view, member_of);
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(keys->member_of, ElementsAre("staff"));
}

TEST(TreeApplications, AViewOfNoApplicationIsTheMainTree) {
  const TreeSettings tree = tree_with_applications();
  EXPECT_EQ(application_view(tree, "").base_dn, "dc=example,dc=com");
  EXPECT_EQ(application_view(tree, "nslcd").base_dn, "dc=example,dc=com");
}

TEST(TreeApplications, TheRootDseListsEveryBase) {
  const Entry root = root_dse(tree_with_applications());
  std::vector<std::string> contexts;
  for (const auto& attribute : root.attributes) {
    if (attribute.type == "namingContexts") contexts = attribute.values;
  }
  EXPECT_THAT(contexts, ElementsAre("dc=example,dc=com", "dc=grafana,dc=example,dc=org", "ou=gitea,o=apps"));
}

}  // namespace
}  // namespace dirproxy::ldap
