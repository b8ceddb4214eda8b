// applications (APPLICATIONS.md): names, the LDAP identity of each, and the
// keys of the contract that are not built yet, which are refused so that
// nobody believes a restriction is in force when it is not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::load_ok;
using ::testing::Not;

// What `dirproxyctl hash-password` prints (at a tiny cost, for speed).
const std::string kHash =
    "$argon2id$v=19$m=8,t=1,p=1$bhNcD2pNRi4ozbkdwZ+PZg$lzXwQ0EVs/vXb7F49LfMGkbTrNpO2sSp3+jf7SAgLoc";

// kMinimal, an ldap_server (lines 4-6) and `applications` (from line 7).
const std::string kWithLdapServer = kMinimal +
                                    "ldap_server:\n"
                                    "  listen: [ldap://127.0.0.1:389]\n"
                                    "  base_dn: dc=example,dc=com\n";

std::vector<std::string> errors_of(const std::string& applications) {
  return load(kWithLdapServer + applications).errors;
}

// One application named grafana (line 8) whose ldap section holds `ldap`
// after its password hash (line 10); more keys of ldap go on line 11.
std::string grafana_ldap(const std::string& ldap = "") {
  return "applications:\n"
         "  - name: grafana\n"
         "    ldap:\n"
         "      password_hash: \"" +
         kHash + "\"\n" + ldap;
}

TEST(Applications, AbsentOrEmptyMeansNone) {
  EXPECT_THAT(load_ok(kMinimal).applications, IsEmpty());
  EXPECT_THAT(load_ok(kMinimal + "applications: []\n").applications, IsEmpty());
}

TEST(Applications, EachHasANameAndMaybeAnLdapIdentity) {
  const Config config = load_ok(kWithLdapServer +
                                "applications:\n"
                                "  - name: grafana\n"
                                "    ldap:\n"
                                "      password_hash: \"" +
                                kHash +
                                "\"\n"
                                "  - name: nextcloud_2\n"
                                "    ldap:\n"
                                "      password_hash: \"" +
                                kHash +
                                "\"\n"
                                "      may_write: true\n"
                                "  - name: mail-relay\n");

  ASSERT_EQ(config.applications.size(), 3u);
  EXPECT_EQ(config.applications[0].name, "grafana");
  ASSERT_TRUE(config.applications[0].ldap.has_value());
  EXPECT_EQ(config.applications[0].ldap->password_hash, kHash);
  EXPECT_FALSE(config.applications[0].ldap->may_write);
  EXPECT_EQ(config.applications[1].name, "nextcloud_2");
  EXPECT_TRUE(config.applications[1].ldap->may_write);
  EXPECT_EQ(config.applications[2].name, "mail-relay");
  EXPECT_FALSE(config.applications[2].ldap.has_value());
}

TEST(Applications, MustBeAList) {
  EXPECT_THAT(errors_of("applications:\n  name: grafana\n"),
              ElementsAre("dirproxy.yaml:8:3: applications: expected a list of applications, got a mapping"));
}

// --- name --------------------------------------------------------------------

TEST(ApplicationName, IsRequired) {
  EXPECT_THAT(errors_of("applications:\n  - ldap:\n      password_hash: \"" + kHash + "\"\n"),
              ElementsAre("dirproxy.yaml:8:5: applications[0].name: required but missing"));
}

TEST(ApplicationName, IsLowerCaseLettersDigitsUnderscoresAndDashes) {
  EXPECT_THAT(errors_of("applications:\n  - name: Grafana\n  - name: my app\n  - name: \"\"\n"),
              ElementsAre("dirproxy.yaml:8:11: applications[0].name: must match [a-z0-9_-]+, got 'Grafana'",
                          "dirproxy.yaml:9:11: applications[1].name: must match [a-z0-9_-]+, got 'my app'",
                          "dirproxy.yaml:10:11: applications[2].name: must not be empty"));
}

TEST(ApplicationName, IsAtMost64Characters) {
  EXPECT_EQ(load_ok(kMinimal + "applications:\n  - name: " + std::string(64, 'a') + "\n").applications[0].name,
            std::string(64, 'a'));
  EXPECT_THAT(errors_of("applications:\n  - name: " + std::string(65, 'a') + "\n"),
              ElementsAre("dirproxy.yaml:8:11: applications[0].name: must be at most 64 characters"));
}

TEST(ApplicationName, IsUnique) {
  EXPECT_THAT(errors_of("applications:\n  - name: grafana\n  - name: gitea\n  - name: grafana\n"),
              ElementsAre("dirproxy.yaml:10:11: applications[2].name: duplicate application name 'grafana' "
                          "(applications[0] has it too)"));
}

// --- ldap --------------------------------------------------------------------

TEST(ApplicationLdap, PasswordHashIsRequired) {
  EXPECT_THAT(errors_of("applications:\n  - name: grafana\n    ldap:\n      may_write: true\n"),
              ElementsAre("dirproxy.yaml:10:7: applications[0].ldap.password_hash: required but missing"));
}

TEST(ApplicationLdap, PasswordHashMustBeAnArgon2idString) {
  const std::string message =
      ": applications[0].ldap.password_hash: expected an Argon2id string starting with $argon2id$ (dirproxyctl "
      "hash-password prints one)";
  auto errors_for = [](const std::string& hash) {
    return errors_of("applications:\n  - name: grafana\n    ldap:\n      password_hash: \"" + hash + "\"\n");
  };
  EXPECT_THAT(errors_for("grafana-secret"), ElementsAre("dirproxy.yaml:10:22" + message));
  // Argon2i, and bcrypt: other algorithms are refused, not verified some other way.
  EXPECT_THAT(
      errors_for("$argon2i$v=19$m=8,t=3,p=1$bhNcD2pNRi4ozbkdwZ+PZg$lzXwQ0EVs/vXb7F49LfMGkbTrNpO2sSp3+jf7SAgLoc"),
      ElementsAre("dirproxy.yaml:10:22" + message));
  EXPECT_THAT(errors_for("$2y$10$abcdefghijklmnopqrstuuMuJxF1E6RgSwiadE9kTnjgpyoT4mFay"),
              ElementsAre("dirproxy.yaml:10:22" + message));
  // Right prefix, but cut short or mangled: libsodium's decoder refuses it.
  EXPECT_THAT(errors_for(kHash.substr(0, 40)), ElementsAre("dirproxy.yaml:10:22" + message));
  EXPECT_THAT(
      errors_for("$argon2id$v=19$m=8,t=one,p=1$bhNcD2pNRi4ozbkdwZ+PZg$lzXwQ0EVs/vXb7F49LfMGkbTrNpO2sSp3+jf7SAgLoc"),
      ElementsAre("dirproxy.yaml:10:22" + message));
  EXPECT_THAT(errors_for(""),
              ElementsAre("dirproxy.yaml:10:22: applications[0].ldap.password_hash: must not be empty"));
}

TEST(ApplicationLdap, ARefusedHashIsNeverQuoted) {
  const std::string almost = kHash.substr(0, kHash.size() - 3);
  const LoadResult result =
      load(kWithLdapServer + "applications:\n  - name: grafana\n    ldap:\n      password_hash: \"" + almost + "x\"\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0], Not(HasSubstr("bhNcD2pNRi4ozbkdwZ")));
}

TEST(ApplicationLdap, MayWriteIsABoolean) {
  EXPECT_THAT(errors_of(grafana_ldap("      may_write: yes\n")),
              ElementsAre("dirproxy.yaml:11:18: applications[0].ldap.may_write: expected true or false, got 'yes'"));
}

TEST(ApplicationLdap, WithoutAnLdapServerItIsAWarning) {
  const LoadResult result = load(kMinimal + grafana_ldap());
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre("dirproxy.yaml:7:7: applications[0].ldap: has no effect: there is no ldap_server section, "
                          "so nothing listens for LDAP binds"));
}

TEST(ApplicationLdap, WithAnLdapServerThereIsNoWarning) {
  EXPECT_THAT(load(kWithLdapServer + grafana_ldap()).warnings, IsEmpty());
}

// --- access groups and socket users ------------------------------------------

TEST(ApplicationAccess, AccessGroupsAndSocketUsersAreRead) {
  const LoadResult result = load(kMinimal +
                                 "applications:\n  - name: grafana\n    access_groups: [grafana-users, Admins]\n"
                                 "    socket_users: [root, \"4242\"]\n");
  ASSERT_THAT(result.errors, IsEmpty());
  const Application& grafana = result.config->applications.at(0);
  EXPECT_THAT(grafana.access_groups, ElementsAre("grafana-users", "Admins"));
  EXPECT_THAT(grafana.socket_users, ElementsAre("root", "4242"));
  EXPECT_THAT(grafana.socket_uids, ElementsAre(0u, 4242u));
}

TEST(ApplicationAccess, AnEmptyAccessGroupListMeansEveryone) {
  const LoadResult result = load(kMinimal + "applications:\n  - name: grafana\n    access_groups: []\n");
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.config->applications.at(0).access_groups, IsEmpty());
}

TEST(ApplicationAccess, AnUnknownLocalAccountIsAnError) {
  EXPECT_THAT(errors_of("applications:\n  - name: grafana\n    socket_users: [no-such-account-here]\n"),
              ElementsAre("dirproxy.yaml:9:20: applications[0].socket_users[0]: no local account "
                          "'no-such-account-here' (write a uid to name one that does not exist yet)"));
}

TEST(ApplicationAccess, AUidActsForOneApplicationOnly) {
  EXPECT_THAT(errors_of("applications:\n  - name: grafana\n    socket_users: [root]\n"
                        "  - name: gitea\n    socket_users: [\"0\"]\n"),
              ElementsAre("dirproxy.yaml:11:20: applications[1].socket_users[0]: uid 0 already acts for "
                          "application 'grafana'"));
}

TEST(ApplicationAccess, AnLdapBaseDnMustBeADn) {
  const LoadResult result = load(kWithLdapServer + grafana_ldap("      base_dn: dc=grafana,dc=example,dc=com\n"));
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config->applications.at(0).ldap->base_dn, "dc=grafana,dc=example,dc=com");
  EXPECT_THAT(errors_of(grafana_ldap("      base_dn: not a dn\n")),
              ElementsAre("dirproxy.yaml:11:16: applications[0].ldap.base_dn: not a valid LDAPv3 distinguished "
                          "name (RFC 4514), got 'not a dn'"));
}

// --- unknown keys --------------------------------------------------------------

TEST(Applications, UnknownKeysAreRefused) {
  EXPECT_THAT(errors_of(grafana_ldap("      may_wirte: true\n") + "    groups: [a]\n"),
              ElementsAre("dirproxy.yaml:11:7: applications[0].ldap.may_wirte: unknown key 'may_wirte' (did you "
                          "mean 'may_write'?)",
                          "dirproxy.yaml:12:5: applications[0].groups: unknown key 'groups'"));
}

}  // namespace
}  // namespace dirproxy::config
