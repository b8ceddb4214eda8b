// The entries the tree serves (LDAP.md "The tree") and which of their
// attributes a search returns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "frontends/ldap/ldap_tree.hpp"
#include "frontends/ldap/tree/tree_fixtures.hpp"

namespace dirproxy::ldap {
namespace {

using testing::admins_entry;
using testing::alice_entry;
using ::testing::ElementsAre;
using testing::example_tree;
using ::testing::IsEmpty;

// The values of `type` in `entry` (exact type name); empty when it lacks it.
std::vector<std::string> values(const Entry& entry, std::string_view type) {
  for (const auto& attribute : entry.attributes) {
    if (attribute.type == type) return attribute.values;
  }
  return {};
}

std::vector<std::string> types(const std::vector<Attribute>& attributes) {
  std::vector<std::string> names;
  for (const auto& attribute : attributes) names.push_back(attribute.type);
  return names;
}

TEST(TreeUserEntry, CarriesEveryAttributeOfTheContract) {
  const Entry entry = user_entry(example_tree(), alice_entry());
  EXPECT_EQ(entry.dn, "uid=alice,ou=people,dc=example,dc=com");
  EXPECT_THAT(values(entry, "objectClass"),
              ElementsAre("top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount"));
  EXPECT_THAT(values(entry, "uid"), ElementsAre("alice"));
  EXPECT_THAT(values(entry, "cn"), ElementsAre("Alice Liddell"));
  EXPECT_THAT(values(entry, "displayName"), ElementsAre("Alice Liddell"));
  EXPECT_THAT(values(entry, "givenName"), ElementsAre("Alice"));
  EXPECT_THAT(values(entry, "sn"), ElementsAre("Liddell"));
  EXPECT_THAT(values(entry, "mail"), ElementsAre("alice@example.com"));
  EXPECT_THAT(values(entry, "uidNumber"), ElementsAre("10001"));
  EXPECT_THAT(values(entry, "gidNumber"), ElementsAre("10001"));
  EXPECT_THAT(values(entry, "homeDirectory"), ElementsAre("/home/alice"));
  EXPECT_THAT(values(entry, "loginShell"), ElementsAre("/bin/bash"));
  EXPECT_THAT(values(entry, "gecos"), ElementsAre("Alice Liddell"));
  EXPECT_THAT(values(entry, "entryUUID"), ElementsAre("0f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_THAT(values(entry, "memberOf"), ElementsAre("cn=admins,ou=groups,dc=example,dc=com"));
  EXPECT_THAT(values(entry, "createTimestamp"), ElementsAre("20240101000000Z"));
  EXPECT_THAT(values(entry, "modifyTimestamp"), ElementsAre("20240601120000Z"));
  EXPECT_THAT(values(entry, "subschemaSubentry"), ElementsAre("cn=Subschema"));
}

TEST(TreeUserEntry, NamesFallBackToTheUsernameAndSnToTheDisplayName) {
  UserEntry bare = alice_entry();
  bare.user.display_name.reset();
  bare.user.first_name.reset();
  bare.user.last_name.reset();
  bare.user.email.reset();
  const Entry entry = user_entry(example_tree(), bare);
  EXPECT_THAT(values(entry, "cn"), ElementsAre("alice"));
  EXPECT_THAT(values(entry, "displayName"), ElementsAre("alice"));
  EXPECT_THAT(values(entry, "sn"), ElementsAre("alice"));
  EXPECT_THAT(values(entry, "givenName"), IsEmpty());
  EXPECT_THAT(values(entry, "mail"), IsEmpty());

  UserEntry display_only = bare;
  display_only.user.display_name = "Alice L.";
  EXPECT_THAT(values(user_entry(example_tree(), display_only), "sn"), ElementsAre("Alice L."));
}

TEST(TreeUserEntry, UnknownTimesAndNoGroupsLeaveTheirAttributesOut) {
  UserEntry entry = alice_entry();
  entry.created_at.reset();
  entry.modified_at.reset();
  entry.groups.clear();
  const Entry served = user_entry(example_tree(), entry);
  EXPECT_THAT(values(served, "createTimestamp"), IsEmpty());
  EXPECT_THAT(values(served, "modifyTimestamp"), IsEmpty());
  EXPECT_THAT(values(served, "memberOf"), IsEmpty());
}

TEST(TreeUserEntry, HomeDirectoryAndShellComeFromTheSettings) {
  TreeSettings tree = example_tree();
  tree.home_directory = "/srv/{username}/home/{username}";
  tree.login_shell = "/bin/zsh";
  const Entry entry = user_entry(tree, alice_entry());
  EXPECT_THAT(values(entry, "homeDirectory"), ElementsAre("/srv/alice/home/alice"));
  EXPECT_THAT(values(entry, "loginShell"), ElementsAre("/bin/zsh"));
}

TEST(TreeUserEntry, GecosIsAsciiSafe) {
  UserEntry entry = alice_entry();
  entry.user.display_name = "J\xC3\xBCrgen: M\xC3\xBCller";
  EXPECT_THAT(values(user_entry(example_tree(), entry), "gecos"), ElementsAre("J?rgen? M?ller"));
}

TEST(TreeUserEntry, InactiveUsersAreListedAlike) {
  UserEntry entry = alice_entry();
  entry.user.active = false;
  EXPECT_EQ(user_entry(example_tree(), entry).dn, "uid=alice,ou=people,dc=example,dc=com");
}

TEST(TreeGroupEntry, CarriesEveryAttributeOfTheContract) {
  const Entry entry = group_entry(example_tree(), admins_entry());
  EXPECT_EQ(entry.dn, "cn=admins,ou=groups,dc=example,dc=com");
  EXPECT_THAT(values(entry, "objectClass"), ElementsAre("top", "groupOfNames", "posixGroup"));
  EXPECT_THAT(values(entry, "cn"), ElementsAre("admins"));
  EXPECT_THAT(values(entry, "description"), ElementsAre("The administrators"));
  EXPECT_THAT(values(entry, "member"),
              ElementsAre("uid=alice,ou=people,dc=example,dc=com", "uid=bob,ou=people,dc=example,dc=com"));
  EXPECT_THAT(values(entry, "memberUid"), ElementsAre("alice", "bob"));
  EXPECT_THAT(values(entry, "gidNumber"), ElementsAre("20001"));
  EXPECT_THAT(values(entry, "entryUUID"), ElementsAre("7c9e6679-7425-40de-944b-e07fc1f90ae7"));
}

TEST(TreeGroupEntry, AnEmptyGroupHasNoMemberAttribute) {
  GroupEntry empty = admins_entry();
  empty.group.members.clear();
  empty.group.description.reset();
  const Entry entry = group_entry(example_tree(), empty);
  EXPECT_THAT(types(entry.attributes), ElementsAre("objectClass", "cn", "gidNumber", "entryUUID", "subschemaSubentry"));
}

TEST(TreeServiceEntry, IsAnApplicationProcessNamedByCn) {
  const Entry entry = service_entry(example_tree(), "grafana");
  EXPECT_EQ(entry.dn, "cn=grafana,ou=services,dc=example,dc=com");
  EXPECT_THAT(values(entry, "objectClass"), ElementsAre("top", "applicationProcess"));
  EXPECT_THAT(values(entry, "cn"), ElementsAre("grafana"));
}

TEST(TreeContainerEntry, DomainBaseIsADcObjectOrganization) {
  const Entry entry = container_entry(example_tree(), DnTarget::Kind::base);
  EXPECT_EQ(entry.dn, "dc=example,dc=com");
  EXPECT_THAT(values(entry, "objectClass"), ElementsAre("top", "dcObject", "organization"));
  EXPECT_THAT(values(entry, "dc"), ElementsAre("example"));
  EXPECT_THAT(values(entry, "o"), ElementsAre("example"));
}

TEST(TreeContainerEntry, OrganizationAndUnitBases) {
  TreeSettings tree = example_tree();
  tree.base_dn = "o=Acme";
  EXPECT_THAT(values(container_entry(tree, DnTarget::Kind::base), "objectClass"), ElementsAre("top", "organization"));
  EXPECT_THAT(values(container_entry(tree, DnTarget::Kind::base), "o"), ElementsAre("Acme"));
  tree.base_dn = "ou=dirproxy,o=Acme";
  EXPECT_THAT(values(container_entry(tree, DnTarget::Kind::base), "objectClass"),
              ElementsAre("top", "organizationalUnit"));
  EXPECT_THAT(values(container_entry(tree, DnTarget::Kind::base), "ou"), ElementsAre("dirproxy"));
}

TEST(TreeContainerEntry, PeopleGroupsAndServicesAreOrganizationalUnits) {
  for (const auto& [kind, ou] :
       {std::pair{DnTarget::Kind::people, "people"}, std::pair{DnTarget::Kind::groups, "groups"},
        std::pair{DnTarget::Kind::services, "services"}}) {
    const Entry entry = container_entry(example_tree(), kind);
    EXPECT_EQ(entry.dn, std::string("ou=") + ou + ",dc=example,dc=com");
    EXPECT_THAT(values(entry, "objectClass"), ElementsAre("top", "organizationalUnit"));
    EXPECT_THAT(values(entry, "ou"), ElementsAre(ou));
  }
}

TEST(TreeRootDse, ListsWhatTheServerSupports) {
  const Entry entry = root_dse(example_tree());
  EXPECT_EQ(entry.dn, "");
  EXPECT_THAT(values(entry, "namingContexts"), ElementsAre("dc=example,dc=com"));
  EXPECT_THAT(values(entry, "supportedLDAPVersion"), ElementsAre("3"));
  EXPECT_THAT(values(entry, "supportedExtension"), ElementsAre("1.3.6.1.4.1.4203.1.11.1", "1.3.6.1.4.1.4203.1.11.3"));
  EXPECT_THAT(values(entry, "supportedControl"), ElementsAre("1.2.840.113556.1.4.319"));
  EXPECT_THAT(values(entry, "supportedSASLMechanisms"), IsEmpty());
  EXPECT_THAT(values(entry, "subschemaSubentry"), ElementsAre("cn=Subschema"));
  EXPECT_THAT(values(entry, "vendorName"), ElementsAre("dirproxy"));
  EXPECT_THAT(values(entry, "vendorVersion"), ElementsAre("1.2.3"));
}

TEST(TreeRootDse, ListsStartTlsOnlyWhenOffered) {
  TreeSettings tree = example_tree();
  tree.start_tls = true;
  EXPECT_THAT(values(root_dse(tree), "supportedExtension"),
              ElementsAre("1.3.6.1.4.1.1466.20037", "1.3.6.1.4.1.4203.1.11.1", "1.3.6.1.4.1.4203.1.11.3"));
}

TEST(TreeSubschema, DefinesEveryClassAndAttributeTheTreeServes) {
  const Entry schema = subschema_entry();
  EXPECT_EQ(schema.dn, "cn=Subschema");
  const auto classes = values(schema, "objectClasses");
  const auto attribute_types = values(schema, "attributeTypes");
  const auto defines = [](const std::vector<std::string>& definitions, const std::string& name) {
    return std::any_of(definitions.begin(), definitions.end(), [&](const std::string& definition) {
      return definition.find("'" + name + "'") != std::string::npos && definition.starts_with("( ") &&
             definition.ends_with(" )");
    });
  };
  TreeSettings tree = example_tree();
  tree.start_tls = true;
  std::vector<Entry> served = {user_entry(tree, alice_entry()), group_entry(tree, admins_entry()),
                               service_entry(tree, "grafana"), root_dse(tree), schema};
  for (auto kind : {DnTarget::Kind::base, DnTarget::Kind::people, DnTarget::Kind::groups, DnTarget::Kind::services}) {
    served.push_back(container_entry(tree, kind));
  }
  for (const auto& entry : served) {
    for (const auto& attribute : entry.attributes) {
      EXPECT_TRUE(defines(attribute_types, attribute.type)) << attribute.type << " in " << entry.dn;
      if (attribute.type != "objectClass") continue;
      for (const auto& object_class : attribute.values) {
        EXPECT_TRUE(defines(classes, object_class)) << object_class << " in " << entry.dn;
      }
    }
  }
}

TEST(TreeSubschema, PosixGroupIsAuxiliarySoItSharesAnEntryWithGroupOfNames) {
  const auto classes = values(subschema_entry(), "objectClasses");
  EXPECT_THAT(classes, ::testing::Contains(
                           ::testing::AllOf(::testing::HasSubstr("'posixGroup'"), ::testing::HasSubstr("AUXILIARY"))));
}

TEST(TreeOperational, MemberOfEntryUuidTimestampsAndSchemaAreOperational) {
  for (const char* type : {"memberOf", "MEMBEROF", "entryUUID", "createTimestamp", "modifyTimestamp",
                           "subschemaSubentry", "objectClasses", "attributeTypes", "namingContexts"}) {
    EXPECT_TRUE(attribute_is_operational(type)) << type;
  }
  for (const char* type : {"uid", "cn", "mail", "member", "memberUid", "objectClass", "unknownThing"}) {
    EXPECT_FALSE(attribute_is_operational(type)) << type;
  }
}

TEST(TreeSelect, NothingOrStarGivesTheUserAttributes) {
  const Entry entry = user_entry(example_tree(), alice_entry());
  const auto all_user = types(select_attributes(entry, {}));
  EXPECT_THAT(all_user, ElementsAre("objectClass", "uid", "cn", "displayName", "givenName", "sn", "mail", "uidNumber",
                                    "gidNumber", "homeDirectory", "loginShell", "gecos"));
  EXPECT_EQ(types(select_attributes(entry, {"*"})), all_user);
}

TEST(TreeSelect, PlusGivesTheOperationalAttributes) {
  const Entry entry = user_entry(example_tree(), alice_entry());
  EXPECT_THAT(types(select_attributes(entry, {"+"})),
              ElementsAre("entryUUID", "memberOf", "createTimestamp", "modifyTimestamp", "subschemaSubentry"));
  EXPECT_EQ(select_attributes(entry, {"*", "+"}).size(), entry.attributes.size());
}

TEST(TreeSelect, NamesAreCaseInsensitiveAndAliasesAndOidsWork) {
  const Entry entry = user_entry(example_tree(), alice_entry());
  EXPECT_THAT(types(select_attributes(entry, {"UID", "memberof", "commonName", "0.9.2342.19200300.100.1.3"})),
              ElementsAre("uid", "cn", "mail", "memberOf"));
  EXPECT_THAT(types(select_attributes(entry, {"*", "entryUUID"})), ::testing::Contains("entryUUID"));
  EXPECT_THAT(types(select_attributes(entry, {"nosuch"})), IsEmpty());
}

TEST(TreeSelect, OneOneAloneGivesNoAttributes) {
  const Entry entry = user_entry(example_tree(), alice_entry());
  EXPECT_THAT(select_attributes(entry, {"1.1"}), IsEmpty());
  EXPECT_THAT(types(select_attributes(entry, {"1.1", "uid"})), ElementsAre("uid"));
}

TEST(TreeSelect, RootDseGivesEverythingForStarNothingOrPlus) {
  const Entry entry = root_dse(example_tree());
  EXPECT_EQ(select_attributes(entry, {}).size(), entry.attributes.size());
  EXPECT_EQ(select_attributes(entry, {"*"}).size(), entry.attributes.size());
  EXPECT_EQ(select_attributes(entry, {"+"}).size(), entry.attributes.size());
  EXPECT_THAT(types(select_attributes(entry, {"namingContexts"})), ElementsAre("namingContexts"));
}

TEST(TreeSelect, SubschemaDefinitionsComeWhenAskedFor) {
  const Entry schema = subschema_entry();
  EXPECT_THAT(types(select_attributes(schema, {})), ElementsAre("objectClass", "cn"));
  EXPECT_THAT(types(select_attributes(schema, {"objectClasses", "attributeTypes"})),
              ElementsAre("objectClasses", "attributeTypes"));
}

}  // namespace
}  // namespace dirproxy::ldap
