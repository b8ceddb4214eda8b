// The directories list: required keys, per-type keys and defaults, the
// rules between directories, and Active Directory's presets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::load;
using testing::load_ok;

const std::string kInternal =
    "directories:\n"
    "  - name: internal\n"
    "    type: internal\n";
// An ldap entry to append to kInternal: lines 4 to 7.
const std::string kLdap =
    "  - name: corp\n"
    "    type: ldap\n"
    "    uri: ldap://ldap.example.com\n"
    "    base_dn: dc=example,dc=com\n";

TEST(Directories, AreRequired) {
  EXPECT_THAT(load("log:\n  level: info\n").errors,
              ElementsAre("dirproxy.yaml:1:1: directories: required but missing"));
}

TEST(Directories, MustNotBeEmpty) {
  EXPECT_THAT(load("directories: []\n").errors,
              ElementsAre("dirproxy.yaml:1:14: directories: at least one directory is required"));
}

TEST(Directories, MustBeAList) {
  EXPECT_THAT(load("directories:\n  internal:\n    type: internal\n").errors,
              ElementsAre("dirproxy.yaml:2:3: directories: expected a list of directories, got a mapping"));
}

TEST(Directories, EntryMustBeAMapping) {
  EXPECT_THAT(load("directories:\n  - internal\n").errors,
              ElementsAre("dirproxy.yaml:2:5: directories[0]: expected a mapping, got a single value"));
}

TEST(Directories, NameAndTypeAreRequired) {
  EXPECT_THAT(load("directories:\n  - permissions: read_only\n").errors,
              ElementsAre("dirproxy.yaml:2:5: directories[0].name: required but missing",
                          "dirproxy.yaml:2:5: directories[0].type: required but missing"));
}

TEST(Directories, UnknownTypeListsTheTypes) {
  EXPECT_THAT(load("directories:\n  - name: x\n    type: sql\n    whatever: 1\n").errors,
              ElementsAre("dirproxy.yaml:3:11: directories[0].type: expected one of internal|ldap, got 'sql'"));
}

TEST(Directories, NameMustUseLowerCaseLettersDigitsDashAndUnderscore) {
  EXPECT_THAT(load("directories:\n  - name: Corp.LDAP\n    type: internal\n").errors,
              ElementsAre("dirproxy.yaml:2:11: directories[0].name: must match [a-z0-9_-]+, got 'Corp.LDAP'"));
}

TEST(Directories, NamesAreUnique) {
  const std::string yaml = kInternal +
                           "  - name: internal\n"
                           "    type: ldap\n"
                           "    uri: ldap://x\n"
                           "    base_dn: dc=x\n";
  EXPECT_THAT(load(yaml).errors,
              ElementsAre("dirproxy.yaml:4:11: directories[1].name: duplicate directory name 'internal' "
                          "(directories[0] has it too)"));
}

TEST(Directories, AtMostOneInternal) {
  const std::string yaml = kInternal + "  - name: second\n    type: internal\n";
  EXPECT_THAT(load(yaml).errors,
              ElementsAre("dirproxy.yaml:5:11: directories[1].type: at most one directory of type internal "
                          "(directories[0] is one)"));
}

TEST(Directories, InternalDefaultsToReadWrite) {
  EXPECT_EQ(load_ok(kInternal).directories[0].permissions, Permissions::read_write);
}

TEST(Directories, InternalMayBeReadOnly) {
  EXPECT_EQ(load_ok(kInternal + "    permissions: read_only\n").directories[0].permissions, Permissions::read_only);
}

TEST(Directories, InternalRefusesReadOnlyLocalGroups) {
  EXPECT_THAT(load(kInternal + "    permissions: read_only_local_groups\n").errors,
              ElementsAre("dirproxy.yaml:4:18: directories[0].permissions: expected one of "
                          "read_only|read_write, got 'read_only_local_groups'"));
}

TEST(Directories, LdapOnlyKeysAreErrorsOnAnInternalDirectory) {
  const std::string yaml = kInternal +
                           "    uri: ldap://x\n"
                           "    base_dn: dc=x\n"
                           "    users:\n"
                           "      base: ou=people\n"
                           "    pool_size: 2\n";
  EXPECT_THAT(load(yaml).errors, ElementsAre("dirproxy.yaml:4:5: directories[0].uri: only valid for type ldap",
                                             "dirproxy.yaml:5:5: directories[0].base_dn: only valid for type ldap",
                                             "dirproxy.yaml:6:5: directories[0].users: only valid for type ldap",
                                             "dirproxy.yaml:8:5: directories[0].pool_size: only valid for type ldap"));
}

TEST(Directories, UnknownKeyOnAnInternalDirectoryIsStillUnknown) {
  EXPECT_THAT(load(kInternal + "    colour: red\n").errors,
              ElementsAre("dirproxy.yaml:4:5: directories[0].colour: unknown key 'colour'"));
}

TEST(Directories, LdapNeedsUriAndBaseDn) {
  EXPECT_THAT(load("directories:\n  - name: corp\n    type: ldap\n").errors,
              ElementsAre("dirproxy.yaml:2:5: directories[0].uri: required but missing",
                          "dirproxy.yaml:2:5: directories[0].base_dn: required but missing"));
}

TEST(Directories, LdapDefaults) {
  const Config config = load_ok(kInternal + kLdap);
  const DirectoryConfig& corp = config.directories[1];
  EXPECT_EQ(corp.type, DirectoryType::ldap);
  EXPECT_EQ(corp.permissions, Permissions::read_only);
  EXPECT_EQ(corp.on_unavailable, OnUnavailable::fail);
  EXPECT_THAT(corp.ldap.uri, ElementsAre("ldap://ldap.example.com"));
  EXPECT_EQ(corp.ldap.base_dn, "dc=example,dc=com");
  EXPECT_EQ(corp.ldap.users.username_attribute, "uid");
  EXPECT_EQ(corp.ldap.pool_size, 4u);
}

TEST(Directories, UriMayBeAList) {
  const std::string yaml =
      "directories:\n  - name: corp\n    type: ldap\n    base_dn: dc=x\n"
      "    uri: [ldap://a:389, LDAPS://b:636]\n";
  EXPECT_THAT(load_ok(yaml).directories[0].ldap.uri, ElementsAre("ldap://a:389", "LDAPS://b:636"));
}

TEST(Directories, UriMustBeLdapOrLdaps) {
  const std::string yaml =
      "directories:\n  - name: corp\n    type: ldap\n    base_dn: dc=x\n"
      "    uri: [ldap://a, http://b]\n";
  EXPECT_THAT(load(yaml).errors,
              ElementsAre("dirproxy.yaml:5:21: directories[0].uri[1]: expected a URI starting with ldap:// or "
                          "ldaps://, got 'http://b'"));
}

TEST(Directories, UriListMustNotBeEmpty) {
  const std::string yaml = "directories:\n  - name: corp\n    type: ldap\n    base_dn: dc=x\n    uri: []\n";
  EXPECT_THAT(load(yaml).errors, ElementsAre("dirproxy.yaml:5:10: directories[0].uri: must name at least one URI"));
}

TEST(Directories, StartTlsWithLdapsIsAnError) {
  const std::string yaml =
      "directories:\n  - name: corp\n    type: ldap\n    base_dn: dc=x\n"
      "    uri: ldaps://a\n    start_tls: true\n";
  EXPECT_THAT(load(yaml).errors,
              ElementsAre("dirproxy.yaml:6:16: directories[0].start_tls: StartTLS is for ldap:// only "
                          "(ldaps:// is TLS from the start)"));
}

TEST(Directories, LdapReadWriteRequiresBindDn) {
  EXPECT_THAT(load(kInternal + kLdap + "    permissions: read_write\n").errors,
              ElementsAre("dirproxy.yaml:8:18: directories[1].permissions: read_write requires bind_dn "
                          "(writes need a service account)"));
  EXPECT_THAT(load(kInternal + kLdap + "    permissions: read_write\n    bind_dn: cn=svc,dc=example,dc=com\n").errors,
              IsEmpty());
}

TEST(Directories, ActiveDirectoryReadWriteRequiresTlsNamingThePlainUris) {
  const std::string ad = "    permissions: read_write\n    bind_dn: cn=svc,dc=example,dc=com\n"
                         "    schema: active_directory\n";
  EXPECT_THAT(load(kInternal + kLdap + ad).errors,
              ElementsAre("dirproxy.yaml:8:18: directories[1].permissions: read_write with schema active_directory "
                          "needs TLS, since Active Directory takes passwords only over an encrypted connection: use "
                          "ldaps:// URIs or start_tls: true (not encrypted: ldap://ldap.example.com)"));
  EXPECT_THAT(load(kInternal + kLdap + ad + "    start_tls: true\n").errors, IsEmpty());
}

TEST(Directories, ActiveDirectoryReadWriteOverLdapsIsAccepted) {
  const std::string yaml = kInternal +
                           "  - name: ad\n    type: ldap\n    uri: [ldaps://dc1.example.com, ldaps://dc2.example.com]\n"
                           "    base_dn: dc=example,dc=com\n    permissions: read_write\n"
                           "    bind_dn: cn=svc,dc=example,dc=com\n    schema: active_directory\n";
  EXPECT_THAT(load(yaml).errors, IsEmpty());
}

TEST(Directories, ReadOnlyLocalGroupsRequiresAWritableInternalDirectory) {
  const std::string ldap_local_groups = kLdap + "    permissions: read_only_local_groups\n";
  EXPECT_THAT(load(kInternal + ldap_local_groups).errors, IsEmpty());
  EXPECT_THAT(load(kInternal + "    permissions: read_only\n" + ldap_local_groups).errors,
              ElementsAre("dirproxy.yaml:9:18: directories[1].permissions: read_only_local_groups requires a "
                          "directory of type internal with permissions read_write (the local groups live there)"));
  EXPECT_THAT(load("directories:\n" + ldap_local_groups).errors,
              ElementsAre("dirproxy.yaml:6:18: directories[0].permissions: read_only_local_groups requires a "
                          "directory of type internal with permissions read_write (the local groups live there)"));
}

TEST(Directories, LdapNumbersAreRangeChecked) {
  const std::string yaml = kInternal + kLdap +
                           "    nested_max_depth: 0\n"
                           "    pool_size: 257\n"
                           "    page_size: 100001\n"
                           "    timeouts:\n"
                           "      connect: 0s\n"
                           "    retry_backoff: 0\n";
  EXPECT_THAT(load(yaml).errors,
              ElementsAre("dirproxy.yaml:8:23: directories[1].nested_max_depth: must be at least 1",
                          "dirproxy.yaml:9:16: directories[1].pool_size: must be at most 256",
                          "dirproxy.yaml:10:16: directories[1].page_size: must be at most 100000",
                          "dirproxy.yaml:12:16: directories[1].timeouts.connect: must be greater than 0",
                          "dirproxy.yaml:13:20: directories[1].retry_backoff: must be greater than 0"));
}

TEST(Directories, BadTimeoutNamesTheDirectoryIndex) {
  EXPECT_THAT(load(kInternal + kLdap + "    timeouts:\n      connect: soon\n").errors,
              ElementsAre("dirproxy.yaml:9:16: directories[1].timeouts.connect: expected a duration like 5s"));
}

TEST(Directories, CacheTtlZeroTurnsCachingOff) {
  const Config config = load_ok(kInternal + kLdap + "    cache:\n      ttl: 0\n      max_entries: 0\n");
  EXPECT_EQ(config.directories[1].ldap.cache.ttl.count(), 0);
  EXPECT_EQ(config.directories[1].ldap.cache.max_entries, 0u);
}

TEST(Directories, UnknownKeyInsideUsersIsReportedWithItsPath) {
  EXPECT_THAT(load(kInternal + kLdap + "    users:\n      objectclass: person\n").errors,
              ElementsAre("dirproxy.yaml:9:7: directories[1].users.objectclass: unknown key 'objectclass' "
                          "(did you mean 'object_class'?)"));
}

TEST(Directories, ActiveDirectorySchemaAppliesItsPresets) {
  const Config config = load_ok(kInternal + kLdap + "    schema: active_directory\n");
  const LdapSettings& ldap = config.directories[1].ldap;
  EXPECT_EQ(ldap.schema, LdapSchema::active_directory);
  EXPECT_EQ(ldap.users.object_class, "user");
  EXPECT_EQ(ldap.users.username_attribute, "sAMAccountName");
  EXPECT_EQ(ldap.users.display_name_attribute, "displayName");
  EXPECT_EQ(ldap.users.rdn_attribute, "cn");
  EXPECT_THAT(ldap.users.create_object_classes, ElementsAre("top", "person", "organizationalPerson", "user"));
  EXPECT_EQ(ldap.users.disabled_attribute, "userAccountControl");
  EXPECT_EQ(ldap.users.disabled_bitmask, 2u);
  EXPECT_EQ(ldap.groups.object_class, "group");
  EXPECT_EQ(ldap.groups.user_membership_attribute, "memberOf");
  EXPECT_EQ(ldap.users.email_attribute, "mail");  // the same in both schemas
}

TEST(Directories, ExplicitKeysOverrideActiveDirectoryPresets) {
  // The schema key comes last on purpose: presets never depend on key order.
  const Config config = load_ok(kInternal + kLdap +
                                "    users:\n"
                                "      username_attribute: userPrincipalName\n"
                                "    groups:\n"
                                "      user_membership_attribute: \"\"\n"
                                "    schema: active_directory\n");
  const LdapSettings& ldap = config.directories[1].ldap;
  EXPECT_EQ(ldap.users.username_attribute, "userPrincipalName");
  EXPECT_EQ(ldap.groups.user_membership_attribute, "");
  EXPECT_EQ(ldap.users.object_class, "user");
}

TEST(Directories, OpenLdapSchemaKeepsTheDefaults) {
  const Config config = load_ok(kInternal + kLdap + "    schema: openldap\n");
  EXPECT_EQ(config.directories[1].ldap.users.object_class, "inetOrgPerson");
  EXPECT_EQ(config.directories[1].ldap.groups.user_membership_attribute, "");
}

TEST(Directories, OnUnavailableSkipIsRead) {
  EXPECT_EQ(load_ok(kInternal + kLdap + "    on_unavailable: skip\n").directories[1].on_unavailable,
            OnUnavailable::skip);
}

}  // namespace
}  // namespace dirproxy::config
