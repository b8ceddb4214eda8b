// ldap_server, the LDAP front end's settings (LDAP.md "Configuration"): its
// defaults, the listen URIs, the base DN, TLS files, and every refusal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::load_ok;
using testing::ScopedEnvironment;
using testing::ScratchDirectory;

// kMinimal and the smallest ldap_server (lines 4-6); more keys go on line 7.
const std::string kLdapServer = kMinimal +
                                "ldap_server:\n"
                                "  listen: [ldap://127.0.0.1:389]\n"
                                "  base_dn: dc=example,dc=com\n";

std::vector<std::string> errors_of(const std::string& yaml, const std::filesystem::path& base_dir = "/etc/dirproxy") {
  return load(yaml, base_dir).errors;
}

// An ldap_server whose one listen URI is `uri` (line 5, from column 12),
// quoted: in a flow list, YAML would take the brackets of an IPv6 address
// for its own.
std::string listening_on(const std::string& uri) {
  return kMinimal + "ldap_server:\n  listen: [\"" + uri + "\"]\n  base_dn: dc=example,dc=com\n";
}

// The message for a listen URI that is not one, at line 5, column 12.
std::string bad_listen_uri(const std::string& uri, const std::string& why = "") {
  return "dirproxy.yaml:5:12: ldap_server.listen[0]: expected ldap://HOST[:PORT] or ldaps://HOST[:PORT] with HOST "
         "an IPv4 address, [IPv6] address or DNS name, got '" +
         uri + "'" + why;
}

// --- defaults ----------------------------------------------------------------

TEST(LdapServer, AbsentMeansNoListener) { EXPECT_FALSE(load_ok(kMinimal).ldap_server.has_value()); }

TEST(LdapServer, ListenAndBaseDnAloneTakeEveryDefault) {
  const Config config = load_ok(kLdapServer);

  ASSERT_TRUE(config.ldap_server.has_value());
  const LdapServer& server = *config.ldap_server;
  ASSERT_EQ(server.listen.size(), 1u);
  EXPECT_EQ(server.listen[0].uri, "ldap://127.0.0.1:389");
  EXPECT_EQ(server.base_dn, "dc=example,dc=com");
  EXPECT_FALSE(server.tls.has_value());
  EXPECT_EQ(server.plaintext_binds, PlaintextBinds::loopback);
  EXPECT_EQ(server.anonymous, AnonymousAccess::root_dse);
  EXPECT_EQ(server.user_read, UserRead::self);
  EXPECT_EQ(server.posix.uid_number_min, 10000u);
  EXPECT_EQ(server.posix.gid_number_min, 10000u);
  EXPECT_EQ(server.posix.home_directory, "/home/{username}");
  EXPECT_EQ(server.posix.login_shell, "/bin/bash");
  EXPECT_EQ(server.limits.max_connections, 4096u);
  EXPECT_EQ(server.limits.idle_timeout, std::chrono::minutes(5));
  EXPECT_EQ(server.limits.max_request_bytes_anonymous, 262143u);
  EXPECT_EQ(server.limits.max_request_bytes, 4194303u);
  EXPECT_EQ(server.limits.size_limit, 1000u);
  EXPECT_EQ(server.limits.time_limit, std::chrono::seconds(30));
}

TEST(LdapServer, EverySettingIsRead) {
  const Config config = load_ok(kLdapServer +
                                "  plaintext_binds: never\n"
                                "  anonymous: read\n"
                                "  user_read: all\n"
                                "  posix:\n"
                                "    uid_number_min: 2000\n"
                                "    gid_number_min: 3000\n"
                                "    home_directory: /srv/home/{username}\n"
                                "    login_shell: /bin/zsh\n"
                                "  limits:\n"
                                "    max_connections: 100\n"
                                "    idle_timeout: 90s\n"
                                "    max_request_bytes_anonymous: 4096\n"
                                "    max_request_bytes: 8192\n"
                                "    size_limit: 50\n"
                                "    time_limit: 2m\n");

  const LdapServer& server = *config.ldap_server;
  EXPECT_EQ(server.plaintext_binds, PlaintextBinds::never);
  EXPECT_EQ(server.anonymous, AnonymousAccess::read);
  EXPECT_EQ(server.user_read, UserRead::all);
  EXPECT_EQ(server.posix.uid_number_min, 2000u);
  EXPECT_EQ(server.posix.gid_number_min, 3000u);
  EXPECT_EQ(server.posix.home_directory, "/srv/home/{username}");
  EXPECT_EQ(server.posix.login_shell, "/bin/zsh");
  EXPECT_EQ(server.limits.max_connections, 100u);
  EXPECT_EQ(server.limits.idle_timeout, std::chrono::seconds(90));
  EXPECT_EQ(server.limits.max_request_bytes_anonymous, 4096u);
  EXPECT_EQ(server.limits.max_request_bytes, 8192u);
  EXPECT_EQ(server.limits.size_limit, 50u);
  EXPECT_EQ(server.limits.time_limit, std::chrono::minutes(2));
}

TEST(LdapServer, PlaintextBindsAlwaysIsAccepted) {
  EXPECT_EQ(load_ok(kLdapServer + "  plaintext_binds: always\n").ldap_server->plaintext_binds, PlaintextBinds::always);
}

// --- listen ------------------------------------------------------------------

TEST(LdapServerListen, EachUriKeepsItsTextBesideSchemeHostAndPort) {
  const Config config = load_ok(kMinimal +
                                "ldap_server:\n"
                                "  listen:\n"
                                "    - ldap://127.0.0.1\n"
                                "    - LDAP://Ldap.Example.com:3389/\n"
                                "    - ldap://[::1]:10389\n"
                                "  base_dn: dc=example,dc=com\n");

  const auto& listen = config.ldap_server->listen;
  ASSERT_EQ(listen.size(), 3u);
  EXPECT_EQ(listen[0].uri, "ldap://127.0.0.1");
  EXPECT_EQ(listen[0].scheme, LdapListenScheme::ldap);
  EXPECT_EQ(listen[0].host, "127.0.0.1");
  EXPECT_EQ(listen[0].port, 389);
  EXPECT_EQ(listen[1].uri, "LDAP://Ldap.Example.com:3389/");
  EXPECT_EQ(listen[1].scheme, LdapListenScheme::ldap);
  EXPECT_EQ(listen[1].host, "Ldap.Example.com");
  EXPECT_EQ(listen[1].port, 3389);
  EXPECT_EQ(listen[2].host, "::1");
  EXPECT_EQ(listen[2].port, 10389);
}

TEST(LdapServerListen, LdapsDefaultsToPort636) {
  ScratchDirectory scratch;
  scratch.write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  scratch.write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  const Config config =
      load_ok(listening_on("ldaps://[2001:db8::1]") + "  tls:\n    certificate_file: cert.pem\n    key_file: key.pem\n",
              scratch.path());

  const LdapListenUri& listen = config.ldap_server->listen[0];
  EXPECT_EQ(listen.scheme, LdapListenScheme::ldaps);
  EXPECT_EQ(listen.host, "2001:db8::1");
  EXPECT_EQ(listen.port, 636);
}

TEST(LdapServerListen, IsRequired) {
  EXPECT_THAT(errors_of(kMinimal + "ldap_server:\n  base_dn: dc=example,dc=com\n"),
              ElementsAre("dirproxy.yaml:5:3: ldap_server.listen: required but missing"));
}

TEST(LdapServerListen, MustBeANonEmptyList) {
  EXPECT_THAT(errors_of(kMinimal + "ldap_server:\n  listen: []\n  base_dn: dc=example,dc=com\n"),
              ElementsAre("dirproxy.yaml:5:11: ldap_server.listen: must name at least one URI"));
  EXPECT_THAT(errors_of(kMinimal + "ldap_server:\n  listen: ldap://127.0.0.1\n  base_dn: dc=example,dc=com\n"),
              ElementsAre("dirproxy.yaml:5:11: ldap_server.listen: expected a list, got a single value"));
}

TEST(LdapServerListen, OnlyLdapAndLdapsSchemes) {
  EXPECT_THAT(errors_of(listening_on("ldapi://%2Frun%2Fldapi")), ElementsAre(bad_listen_uri("ldapi://%2Frun%2Fldapi")));
  EXPECT_THAT(errors_of(listening_on("http://127.0.0.1")), ElementsAre(bad_listen_uri("http://127.0.0.1")));
  EXPECT_THAT(errors_of(listening_on("127.0.0.1:389")), ElementsAre(bad_listen_uri("127.0.0.1:389")));
}

TEST(LdapServerListen, HostMustBeAnAddressOrADnsName) {
  EXPECT_THAT(errors_of(listening_on("ldap://:389")), ElementsAre(bad_listen_uri("ldap://:389", " (no host)")));
  EXPECT_THAT(errors_of(listening_on("ldap://")), ElementsAre(bad_listen_uri("ldap://", " (no host)")));
  EXPECT_THAT(errors_of(listening_on("ldap://10.0.0")), ElementsAre(bad_listen_uri("ldap://10.0.0")));
  EXPECT_THAT(errors_of(listening_on("ldap://256.0.0.1")), ElementsAre(bad_listen_uri("ldap://256.0.0.1")));
  EXPECT_THAT(errors_of(listening_on("ldap://under_score.example")),
              ElementsAre(bad_listen_uri("ldap://under_score.example")));
  EXPECT_THAT(errors_of(listening_on("ldap://admin@example.com")),
              ElementsAre(bad_listen_uri("ldap://admin@example.com")));
}

TEST(LdapServerListen, Ipv6MustBeALiteralInBrackets) {
  EXPECT_THAT(errors_of(listening_on("ldap://[::1")),
              ElementsAre(bad_listen_uri("ldap://[::1", " (no ']' after the IPv6 address)")));
  EXPECT_THAT(errors_of(listening_on("ldap://[localhost]:389")),
              ElementsAre(bad_listen_uri("ldap://[localhost]:389", " (not an IPv6 address in the brackets)")));
  EXPECT_THAT(errors_of(listening_on("ldap://[::1]389")), ElementsAre(bad_listen_uri("ldap://[::1]389")));
  EXPECT_THAT(errors_of(listening_on("ldap://::1:389")), ElementsAre(bad_listen_uri("ldap://::1:389", " (no host)")));
}

TEST(LdapServerListen, PortMustBe1To65535) {
  const std::string why = " (the port must be 1 to 65535)";
  EXPECT_THAT(errors_of(listening_on("ldap://127.0.0.1:0")), ElementsAre(bad_listen_uri("ldap://127.0.0.1:0", why)));
  EXPECT_THAT(errors_of(listening_on("ldap://127.0.0.1:65536")),
              ElementsAre(bad_listen_uri("ldap://127.0.0.1:65536", why)));
  EXPECT_THAT(errors_of(listening_on("ldap://127.0.0.1:")), ElementsAre(bad_listen_uri("ldap://127.0.0.1:", why)));
  EXPECT_THAT(errors_of(listening_on("ldap://[::1]:ldap")), ElementsAre(bad_listen_uri("ldap://[::1]:ldap", why)));
}

TEST(LdapServerListen, NothingMayFollowThePortButOneSlash) {
  EXPECT_THAT(errors_of(listening_on("ldap://127.0.0.1:389/dc=example,dc=com")),
              ElementsAre(bad_listen_uri("ldap://127.0.0.1:389/dc=example,dc=com", " (the port must be 1 to 65535)")));
  EXPECT_THAT(errors_of(listening_on("ldap://localhost/dc=example")),
              ElementsAre(bad_listen_uri("ldap://localhost/dc=example")));
}

TEST(LdapServerListen, EveryBadUriGetsItsOwnMessage) {
  EXPECT_THAT(errors_of(kMinimal + "ldap_server:\n  listen:\n    - ldap://a..b\n    - ldap://127.0.0.1\n"
                                   "    - ldap://c:0\n  base_dn: dc=example,dc=com\n"),
              ElementsAre("dirproxy.yaml:6:7: ldap_server.listen[0]: expected ldap://HOST[:PORT] or "
                          "ldaps://HOST[:PORT] with HOST an IPv4 address, [IPv6] address or DNS name, got "
                          "'ldap://a..b'",
                          "dirproxy.yaml:8:7: ldap_server.listen[2]: expected ldap://HOST[:PORT] or "
                          "ldaps://HOST[:PORT] with HOST an IPv4 address, [IPv6] address or DNS name, got "
                          "'ldap://c:0' (the port must be 1 to 65535)"));
}

TEST(LdapServerListen, TwoUrisOnTheSameHostAndPortAreRefused) {
  EXPECT_THAT(errors_of(kMinimal + "ldap_server:\n  listen: [ldap://LocalHost:10389, ldap://localhost:10389]\n"
                                   "  base_dn: dc=example,dc=com\n"),
              ElementsAre("dirproxy.yaml:5:36: ldap_server.listen[1]: the same host and port as listen[0]"));
}

// --- base_dn -----------------------------------------------------------------

TEST(LdapServerBaseDn, IsRequired) {
  EXPECT_THAT(errors_of(kMinimal + "ldap_server:\n  listen: [ldap://127.0.0.1]\n"),
              ElementsAre("dirproxy.yaml:5:3: ldap_server.base_dn: required but missing"));
}

TEST(LdapServerBaseDn, IsKeptAsWrittenWhenLibldapParsesIt) {
  const Config config = load_ok(kMinimal +
                                "ldap_server:\n  listen: [ldap://127.0.0.1]\n"
                                "  base_dn: \"O=Example\\\\, Inc. , C=DE\"\n");
  EXPECT_EQ(config.ldap_server->base_dn, "O=Example\\, Inc. , C=DE");
}

TEST(LdapServerBaseDn, MustBeAnLdapV3Dn) {
  auto errors_for = [](const std::string& dn) {
    return errors_of(kMinimal + "ldap_server:\n  listen: [ldap://127.0.0.1]\n  base_dn: \"" + dn + "\"\n");
  };
  auto message = [](const std::string& dn) {
    return "dirproxy.yaml:6:12: ldap_server.base_dn: not a valid LDAPv3 distinguished name (RFC 4514), got '" + dn +
           "'";
  };
  EXPECT_THAT(errors_for("example.com"), ElementsAre(message("example.com")));
  EXPECT_THAT(errors_for("dc=example,,dc=com"), ElementsAre(message("dc=example,,dc=com")));
  EXPECT_THAT(errors_for("dc=example;dc=com;"), ElementsAre(message("dc=example;dc=com;")));
  EXPECT_THAT(errors_for("uid=#"), ElementsAre(message("uid=#")));
  EXPECT_THAT(errors_for(""), ElementsAre("dirproxy.yaml:6:12: ldap_server.base_dn: must not be empty"));
}

// --- tls ---------------------------------------------------------------------

TEST(LdapServerTls, LdapsRequiresTls) {
  EXPECT_THAT(errors_of(listening_on("ldaps://127.0.0.1")),
              ElementsAre("dirproxy.yaml:5:3: ldap_server.tls: required when a listen URI is ldaps:// "
                          "(certificate_file and key_file)"));
}

TEST(LdapServerTls, FilesAreResolvedAgainstTheFilesDirectoryAndKept) {
  ScratchDirectory scratch;
  scratch.write("tls/cert.pem", "-----BEGIN CERTIFICATE-----\n");
  scratch.write("tls/key.pem", "-----BEGIN PRIVATE KEY-----\n");
  const Config config =
      load_ok(kLdapServer + "  tls:\n    certificate_file: tls/cert.pem\n    key_file: tls/key.pem\n", scratch.path());

  ASSERT_TRUE(config.ldap_server->tls.has_value());
  EXPECT_EQ(config.ldap_server->tls->certificate_file, (scratch.path() / "tls/cert.pem").string());
  EXPECT_EQ(config.ldap_server->tls->key_file, (scratch.path() / "tls/key.pem").string());
}

TEST(LdapServerTls, CredentialsDirectoryPrefixIsExpanded) {
  ScratchDirectory scratch;
  scratch.write("ldap-cert", "-----BEGIN CERTIFICATE-----\n");
  scratch.write("ldap-key", "-----BEGIN PRIVATE KEY-----\n");
  ScopedEnvironment credentials("CREDENTIALS_DIRECTORY", scratch.path().c_str());
  const Config config = load_ok(listening_on("ldaps://127.0.0.1") +
                                "  tls:\n"
                                "    certificate_file: $CREDENTIALS_DIRECTORY/ldap-cert\n"
                                "    key_file: $CREDENTIALS_DIRECTORY/ldap-key\n");

  EXPECT_EQ(config.ldap_server->tls->certificate_file, (scratch.path() / "ldap-cert").string());
  EXPECT_EQ(config.ldap_server->tls->key_file, (scratch.path() / "ldap-key").string());
}

TEST(LdapServerTls, BothFilesMustBeReadable) {
  EXPECT_THAT(
      errors_of(kLdapServer + "  tls:\n    certificate_file: cert.pem\n    key_file: /dev/zero\n", "/nonexistent"),
      ElementsAre("dirproxy.yaml:8:23: ldap_server.tls.certificate_file: cannot read /nonexistent/cert.pem: No such "
                  "file or directory",
                  "dirproxy.yaml:9:15: ldap_server.tls.key_file: cannot read /dev/zero: not a regular file"));
}

TEST(LdapServerTls, BothFilesAreRequired) {
  ScratchDirectory scratch;
  scratch.write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  EXPECT_THAT(errors_of(kLdapServer + "  tls:\n    certificate_file: cert.pem\n", scratch.path()),
              ElementsAre("dirproxy.yaml:8:5: ldap_server.tls.key_file: required but missing"));
  EXPECT_THAT(errors_of(kLdapServer + "  tls:\n    certificate_file: \"\"\n    key_file: \"\"\n"),
              ElementsAre("dirproxy.yaml:8:23: ldap_server.tls.certificate_file: must not be empty",
                          "dirproxy.yaml:9:15: ldap_server.tls.key_file: must not be empty"));
}

// --- access words, posix, limits -----------------------------------------------

TEST(LdapServer, AccessWordsAreTheContractsOnly) {
  EXPECT_THAT(errors_of(kLdapServer + "  plaintext_binds: yes\n  anonymous: none\n  user_read: groups\n"),
              ElementsAre("dirproxy.yaml:7:20: ldap_server.plaintext_binds: expected one of never|loopback|always, "
                          "got 'yes'",
                          "dirproxy.yaml:8:14: ldap_server.anonymous: expected one of root_dse|read, got 'none'",
                          "dirproxy.yaml:9:14: ldap_server.user_read: expected one of self|all, got 'groups'"));
}

TEST(LdapServerPosix, NumbersAre1To2147483647) {
  EXPECT_THAT(errors_of(kLdapServer + "  posix:\n    uid_number_min: 0\n    gid_number_min: 2147483648\n"),
              ElementsAre("dirproxy.yaml:8:21: ldap_server.posix.uid_number_min: must be at least 1",
                          "dirproxy.yaml:9:21: ldap_server.posix.gid_number_min: must be at most 2147483647"));
  EXPECT_EQ(load_ok(kLdapServer + "  posix:\n    uid_number_min: 2147483647\n").ldap_server->posix.uid_number_min,
            2147483647u);
}

TEST(LdapServerPosix, HomeDirectoryMustBeAbsolute) {
  EXPECT_THAT(errors_of(kLdapServer + "  posix:\n    home_directory: home/{username}\n"),
              ElementsAre("dirproxy.yaml:8:21: ldap_server.posix.home_directory: must be an absolute path (starting "
                          "with '/'), got 'home/{username}'"));
}

TEST(LdapServerPosix, LoginShellMustNotBeEmpty) {
  EXPECT_THAT(errors_of(kLdapServer + "  posix:\n    login_shell: \"\"\n"),
              ElementsAre("dirproxy.yaml:8:18: ldap_server.posix.login_shell: must not be empty"));
}

TEST(LdapServerLimits, NumbersAndDurationsAreRangeChecked) {
  EXPECT_THAT(errors_of(kLdapServer + "  limits:\n"
                                      "    max_connections: 0\n"
                                      "    idle_timeout: 0s\n"
                                      "    max_request_bytes_anonymous: 1023\n"
                                      "    max_request_bytes: many\n"
                                      "    size_limit: 0\n"
                                      "    time_limit: 0\n"),
              ElementsAre("dirproxy.yaml:8:22: ldap_server.limits.max_connections: must be at least 1",
                          "dirproxy.yaml:9:19: ldap_server.limits.idle_timeout: must be greater than 0",
                          "dirproxy.yaml:10:34: ldap_server.limits.max_request_bytes_anonymous: must be at least 1024",
                          "dirproxy.yaml:11:24: ldap_server.limits.max_request_bytes: expected a whole number, got "
                          "'many'",
                          "dirproxy.yaml:12:17: ldap_server.limits.size_limit: must be at least 1",
                          "dirproxy.yaml:13:17: ldap_server.limits.time_limit: must be greater than 0"));
}

TEST(LdapServerLimits, MaxRequestBytesMustBeAtLeastTheAnonymousOne) {
  EXPECT_THAT(errors_of(kLdapServer + "  limits:\n    max_request_bytes: 100000\n"),
              ElementsAre("dirproxy.yaml:8:24: ldap_server.limits.max_request_bytes: max_request_bytes (100000) must "
                          "be at least max_request_bytes_anonymous (262143)"));
  EXPECT_THAT(errors_of(kLdapServer + "  limits:\n    max_request_bytes_anonymous: 5000000\n"),
              ElementsAre("dirproxy.yaml:8:34: ldap_server.limits.max_request_bytes_anonymous: max_request_bytes "
                          "(4194303) must be at least max_request_bytes_anonymous (5000000)"));
  const Config equal =
      load_ok(kLdapServer + "  limits:\n    max_request_bytes_anonymous: 65536\n    max_request_bytes: 65536\n");
  EXPECT_EQ(equal.ldap_server->limits.max_request_bytes, 65536u);
}

TEST(LdapServerLimits, AnInvalidRequestSizeIsNotComparedToo) {
  EXPECT_THAT(errors_of(kLdapServer + "  limits:\n    max_request_bytes_anonymous: 9999999999999999999999\n"),
              ElementsAre("dirproxy.yaml:8:34: ldap_server.limits.max_request_bytes_anonymous: must be at most " +
                          std::to_string(std::numeric_limits<std::size_t>::max())));
}

// --- unknown keys --------------------------------------------------------------

TEST(LdapServer, UnknownKeysAreRefusedAtEveryLevel) {
  EXPECT_THAT(errors_of(kLdapServer + "  base: dc=example,dc=org\n"
                                      "  posix:\n    login_shel: /bin/sh\n"
                                      "  limits:\n    sizelimit: 5\n"),
              ElementsAre("dirproxy.yaml:7:3: ldap_server.base: unknown key 'base'",
                          "dirproxy.yaml:9:5: ldap_server.posix.login_shel: unknown key 'login_shel' (did you mean "
                          "'login_shell'?)",
                          "dirproxy.yaml:11:5: ldap_server.limits.sizelimit: unknown key 'sizelimit' (did you mean "
                          "'size_limit'?)"));
}

TEST(LdapServer, MustBeAMapping) {
  EXPECT_THAT(errors_of(kMinimal + "ldap_server: ldap://127.0.0.1\n"),
              ElementsAre("dirproxy.yaml:4:14: ldap_server: expected a mapping, got a single value"));
}

}  // namespace
}  // namespace dirproxy::config
