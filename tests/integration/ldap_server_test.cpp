// The LDAP front end (docs/ldap-server.md) through the clients people run:
// ldap-utils' ldapsearch, ldapwhoami, ldapcompare and ldappasswd against a
// real dirproxyd, with a test CA for StartTLS and ldaps://, and raw bytes
// for what no well-behaved client sends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/daemon_harness.hpp"
#include "integration/ldap_test_support.hpp"
#include "support/slapd_server.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kBase = "dc=example,dc=com";
constexpr const char* kServicePassword = "grafana service secret";

std::string argon2id(const std::string& password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), 1, 8192) != 0) throw std::runtime_error("hash");
  return hash;
}

class LdapServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<UniqueFd> held;
    port_ = testing::free_port(held);
    ldaps_port_ = testing::free_port(held);
    tls_dir_ = daemon_.dir() + "/tls";
    testing::make_test_certificates(tls_dir_);
  }

  Json config() const {
    Json config = daemon_.default_config();
    config["ldap_server"] = ldap_server_section(kBase, port_, ldaps_port_, tls_dir_);
    config["ldap_server"]["limits"] = {{"size_limit", 20}};
    config["applications"] = Json::array(
        {{{"name", "grafana"}, {"ldap", {{"password_hash", argon2id(kServicePassword)}}}},
         {{"name", "provisioner"}, {"ldap", {{"password_hash", argon2id(kServicePassword)}, {"may_write", true}}}}});
    return config;
  }

  void start() { daemon_.start(config()); }

  // A plain TCP connection to the ldap:// listener, -1 when it fails.
  int connect_plain() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // Sends a Who am I request (message id 1) on `fd` and returns what comes
  // back within 10 s (empty when the connection was closed).
  static std::string who_am_i(int fd) {
    // LDAPMessage { 1, extendedReq { requestName "1.3.6.1.4.1.4203.1.11.3" } }
    std::string pdu = "\x30\x1e\x02\x01\x01\x77\x19\x80\x17";
    pdu += "1.3.6.1.4.1.4203.1.11.3";
    if (::write(fd, pdu.data(), pdu.size()) != static_cast<ssize_t>(pdu.size())) return {};
    timeval wait{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    char buffer[256];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

  std::string uri() const { return "ldap://127.0.0.1:" + std::to_string(port_); }
  std::string ldaps_uri() const { return "ldaps://127.0.0.1:" + std::to_string(ldaps_port_); }
  static std::string service_dn(const std::string& name) { return "cn=" + name + ",ou=services," + kBase; }
  static std::string user_dn(const std::string& name) { return "uid=" + name + ",ou=people," + kBase; }

  ProcessOutput tool(const std::string& program, std::vector<std::string> args) const {
    RunOptions options;
    options.env = {{"LDAPTLS_CACERT", tls_dir_ + "/ca.crt"}, {"LDAPTLS_REQCERT", "demand"}, {"LDAPCONF", "/dev/null"},
                   {"LDAPRC", "/dev/null"}};
    options.timeout = 30s;
    return run_program(program, args, options);
  }

  // ldapsearch bound as `dn` (anonymous when empty); -LLL output.
  ProcessOutput search(const std::string& dn, const std::string& password, const std::string& base,
                       const std::vector<std::string>& rest) const {
    std::vector<std::string> args = {"-x", "-LLL", "-o", "ldif-wrap=no", "-H", uri(), "-b", base};
    if (!dn.empty()) args.insert(args.end(), {"-D", dn, "-w", password});
    args.insert(args.end(), rest.begin(), rest.end());
    return tool("ldapsearch", args);
  }

  void add_user(const std::string& name, const std::string& password, const std::vector<std::string>& groups = {}) {
    Json request = {{"op", "add_user"},
                    {"username", name},
                    {"email", name + "@example.com"},
                    {"display_name", "User " + name},
                    {"password", password},
                    {"notify", false}};
    if (!groups.empty()) request["groups"] = groups;
    const Json response = daemon_.call(request);
    ASSERT_EQ(response.value("ok", false), true) << response.dump();
  }

  void add_group(const std::string& name) {
    const Json response = daemon_.call({{"op", "add_group"}, {"name", name}});
    ASSERT_EQ(response.value("ok", false), true) << response.dump();
  }

  DaemonHarness daemon_;
  int port_ = 0;
  int ldaps_port_ = 0;
  std::string tls_dir_;
};

TEST_F(LdapServerTest, RootDseIsReadableWithoutBindingAndNamesTheTree) {
  start();
  const auto result = search("", "", "", {"-s", "base", "+"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(lines_with(result.out, "namingContexts:"), std::vector<std::string>{"namingContexts: dc=example,dc=com"});
  const auto extensions = lines_with(result.out, "supportedExtension:");
  EXPECT_NE(std::find(extensions.begin(), extensions.end(), "supportedExtension: 1.3.6.1.4.1.1466.20037"),
            extensions.end());
  EXPECT_NE(std::find(extensions.begin(), extensions.end(), "supportedExtension: 1.3.6.1.4.1.4203.1.11.3"),
            extensions.end());
  EXPECT_EQ(lines_with(result.out, "supportedControl:"),
            std::vector<std::string>{"supportedControl: 1.2.840.113556.1.4.319"});
}

TEST_F(LdapServerTest, AnonymousClientsCannotReadTheTree) {
  start();
  add_user("alice", "alice password 1");
  const auto result = search("", "", kBase, {"(uid=alice)"});
  EXPECT_EQ(result.exit_code, 50) << result.out << result.err;  // insufficientAccessRights
}

TEST_F(LdapServerTest, UsersBindByDnUsernameOrEmailAndWhoAmISaysTheirDn) {
  start();
  add_user("alice", "alice password 1");
  for (const std::string& name : {user_dn("alice"), std::string("UID=Alice, OU=People, DC=Example, DC=Com"),
                                 std::string("alice"), std::string("alice@example.com")}) {
    const auto result = tool("ldapwhoami", {"-x", "-H", uri(), "-D", name, "-w", "alice password 1"});
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.err;
    EXPECT_EQ(result.out, "dn:" + user_dn("alice") + "\n") << name;
  }
}

TEST_F(LdapServerTest, WrongPasswordUnknownUserAndEmptyPasswordAreRefused) {
  start();
  add_user("alice", "alice password 1");
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", user_dn("alice"), "-w", "wrong password"}).exit_code, 49);
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", user_dn("nobody"), "-w", "whatever pw"}).exit_code, 49);
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", service_dn("grafana"), "-w", "wrong"}).exit_code, 49);
  // A name without a password is an unauthenticated bind: refused, never anonymous.
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", user_dn("alice"), "-w", ""}).exit_code, 53);
}

TEST_F(LdapServerTest, ServiceAccountSearchThenBindFlowOfGrafanaAndGitea) {
  start();
  add_group("grafana-users");
  add_user("alice", "alice password 1", {"grafana-users"});
  add_user("bob", "bob password 123");
  // Bind as the application, find the user by uid or mail, read memberOf.
  const auto found = search(service_dn("grafana"), kServicePassword, kBase,
                            {"(|(uid=alice@example.com)(mail=alice@example.com))", "dn", "memberOf"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(lines_with(found.out, "dn:"), std::vector<std::string>{"dn: " + user_dn("alice")});
  EXPECT_EQ(lines_with(found.out, "memberOf:"),
            std::vector<std::string>{"memberOf: cn=grafana-users,ou=groups,dc=example,dc=com"});
  // Then bind as the DN found.
  const auto bound = tool("ldapwhoami", {"-x", "-H", uri(), "-D", user_dn("alice"), "-w", "alice password 1"});
  EXPECT_EQ(bound.exit_code, 0) << bound.err;
}

// A search by uid asks the service for the user's groups only when it needs
// them: memberOf asked for (by name or "+") or tested by the filter.
TEST_F(LdapServerTest, SearchByUidHasMemberOfWhenAskedOrFilteredOn) {
  start();
  add_group("grafana-users");
  add_user("alice", "alice password 1", {"grafana-users"});
  const std::string group = "cn=grafana-users,ou=groups,dc=example,dc=com";
  for (int round = 0; round < 2; ++round) {  // the second from memory
    const auto plain = search(service_dn("grafana"), kServicePassword, kBase, {"(uid=alice)"});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(lines_with(plain.out, "dn:"), std::vector<std::string>{"dn: " + user_dn("alice")});
    EXPECT_EQ(lines_with(plain.out, "memberOf:"), std::vector<std::string>{});
    const auto filtered =
        search(service_dn("grafana"), kServicePassword, kBase, {"(&(uid=alice)(memberOf=" + group + "))", "uid"});
    ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
    EXPECT_EQ(lines_with(filtered.out, "dn:"), std::vector<std::string>{"dn: " + user_dn("alice")});
    const auto excluded =
        search(service_dn("grafana"), kServicePassword, kBase, {"(&(uid=alice)(!(memberOf=" + group + ")))", "uid"});
    ASSERT_EQ(excluded.exit_code, 0) << excluded.err;
    EXPECT_EQ(lines_with(excluded.out, "dn:"), std::vector<std::string>{});
    const auto operational = search(service_dn("grafana"), kServicePassword, user_dn("alice"), {"-s", "base", "(objectClass=*)", "+"});
    ASSERT_EQ(operational.exit_code, 0) << operational.err;
    EXPECT_EQ(lines_with(operational.out, "memberOf:"), std::vector<std::string>{"memberOf: " + group});
  }
}

TEST_F(LdapServerTest, PosixAttributesAreStableAcrossRestarts) {
  start();
  add_user("alice", "alice password 1");
  auto read = [&] {
    const auto result = search(service_dn("grafana"), kServicePassword, user_dn("alice"),
                               {"-s", "base", "(objectClass=posixAccount)", "uidNumber", "entryUUID", "homeDirectory"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return lines_with(result.out, "uidNumber:").size() == 1 ? result.out : std::string("missing: " + result.out);
  };
  const std::string before = read();
  EXPECT_EQ(lines_with(before, "homeDirectory:"), std::vector<std::string>{"homeDirectory: /home/alice"});
  daemon_.restart();
  EXPECT_EQ(read(), before);
}

TEST_F(LdapServerTest, AUserReadsItsOwnEntryButNotOthers) {
  start();
  add_user("alice", "alice password 1");
  add_user("bob", "bob password 123");
  const auto self = search(user_dn("alice"), "alice password 1", kBase, {"(uid=*)", "uid"});
  ASSERT_EQ(self.exit_code, 0) << self.err;
  EXPECT_EQ(lines_with(self.out, "uid:"), std::vector<std::string>{"uid: alice"});
  const auto other = search(user_dn("alice"), "alice password 1", user_dn("bob"), {"-s", "base"});
  EXPECT_EQ(other.exit_code, 32) << other.out;  // noSuchObject: it does not learn bob exists
}

TEST_F(LdapServerTest, PagedResultsReturnEveryEntryBeyondTheSizeLimit) {
  start();
  for (int i = 0; i < 30; ++i) add_user("user" + std::to_string(100 + i), "a good password");
  // Without paging the size limit (20) stops the search.
  const auto limited = search(service_dn("grafana"), kServicePassword, std::string("ou=people,") + kBase,
                              {"-s", "one", "(objectClass=inetOrgPerson)", "uid"});
  EXPECT_EQ(limited.exit_code, 4) << limited.err;  // sizeLimitExceeded
  EXPECT_EQ(lines_with(limited.out, "uid:").size(), 20U);
  const auto paged = search(service_dn("grafana"), kServicePassword, std::string("ou=people,") + kBase,
                            {"-E", "pr=7/noprompt", "-s", "one", "(objectClass=inetOrgPerson)", "uid"});
  ASSERT_EQ(paged.exit_code, 0) << paged.err;
  EXPECT_EQ(lines_with(paged.out, "uid:").size(), 30U);
}

TEST_F(LdapServerTest, CompareAnswersApachesRequireLdapGroup) {
  start();
  add_group("staff");
  add_user("alice", "alice password 1", {"staff"});
  add_user("bob", "bob password 123");
  const std::string group = std::string("cn=staff,ou=groups,") + kBase;
  auto compare = [&](const std::string& member) {
    return tool("ldapcompare", {"-x", "-H", uri(), "-D", service_dn("grafana"), "-w", kServicePassword, group,
                                "member:" + member})
        .exit_code;
  };
  EXPECT_EQ(compare(user_dn("alice")), 6);  // compareTrue
  EXPECT_EQ(compare("UID=alice,OU=people,DC=example,DC=com"), 6);
  EXPECT_EQ(compare(user_dn("bob")), 5);  // compareFalse
}

TEST_F(LdapServerTest, StartTlsAndLdapsWithTheTestCa) {
  start();
  add_user("alice", "alice password 1");
  const auto start_tls = tool("ldapwhoami", {"-x", "-ZZ", "-H", uri(), "-D", "alice", "-w", "alice password 1"});
  EXPECT_EQ(start_tls.exit_code, 0) << start_tls.err;
  EXPECT_EQ(start_tls.out, "dn:" + user_dn("alice") + "\n");
  const auto ldaps = tool("ldapwhoami", {"-x", "-H", ldaps_uri(), "-D", "alice", "-w", "alice password 1"});
  EXPECT_EQ(ldaps.exit_code, 0) << ldaps.err;
  EXPECT_EQ(ldaps.out, "dn:" + user_dn("alice") + "\n");
}

TEST_F(LdapServerTest, PasswordModifyChangesTheUsersOwnPassword) {
  start();
  add_user("alice", "alice password 1");
  const auto changed = tool("ldappasswd", {"-x", "-H", uri(), "-D", user_dn("alice"), "-w", "alice password 1", "-a",
                                           "alice password 1", "-s", "alice password 2"});
  ASSERT_EQ(changed.exit_code, 0) << changed.out << changed.err;
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", "alice", "-w", "alice password 2"}).exit_code, 0);
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", "alice", "-w", "alice password 1"}).exit_code, 49);
  // Without a new password: dirproxy generates none (ldappasswd exits 1 and
  // prints the result code).
  const auto refused = tool("ldappasswd", {"-x", "-H", uri(), "-D", user_dn("alice"), "-w", "alice password 2", "-a",
                                           "alice password 2"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("Server is unwilling to perform (53)"), std::string::npos) << refused.out;
}

TEST_F(LdapServerTest, UnknownCriticalControlIsRefused) {
  start();
  const auto result = search(service_dn("grafana"), kServicePassword, kBase, {"-e", "!1.2.3.4.5", "(uid=x)"});
  EXPECT_EQ(result.exit_code, 12) << result.err;  // unavailableCriticalExtension
}

TEST_F(LdapServerTest, MalformedPduEndsThatConnectionOnly) {
  start();
  add_user("alice", "alice password 1");
  const int fd = connect_plain();
  ASSERT_GE(fd, 0);
  // A SEQUENCE whose contents are not an LDAPMessage.
  const unsigned char garbage[] = {0x30, 0x05, 0x04, 0x03, 'a', 'b', 'c'};
  ASSERT_EQ(::write(fd, garbage, sizeof garbage), static_cast<ssize_t>(sizeof garbage));
  std::string answer;
  char buffer[512];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  // The Notice of Disconnection names its OID, then the server closed.
  EXPECT_NE(answer.find("1.3.6.1.4.1.1466.20036"), std::string::npos);
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", "alice", "-w", "alice password 1"}).exit_code, 0);
}

TEST_F(LdapServerTest, ApplicationWithMayWriteAddsAndDeletesUsers) {
  start();
  const std::string ldif = std::string("dn: uid=carol,ou=people,") + kBase +
                           "\nobjectClass: inetOrgPerson\nuid: carol\ncn: Carol C\nsn: C\nmail: carol@example.com\n"
                           "userPassword: carol password 1\n";
  RunOptions options;
  options.stdin_text = ldif;
  const auto refused = run_program(
      "ldapadd", {"-x", "-H", uri(), "-D", service_dn("grafana"), "-w", kServicePassword}, options);
  EXPECT_EQ(refused.exit_code, 50) << refused.err;  // grafana may not write
  const auto added = run_program(
      "ldapadd", {"-x", "-H", uri(), "-D", service_dn("provisioner"), "-w", kServicePassword}, options);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", "carol", "-w", "carol password 1"}).exit_code, 0);
  const auto deleted = tool("ldapdelete", {"-x", "-H", uri(), "-D", service_dn("provisioner"), "-w", kServicePassword,
                                           user_dn("carol")});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-H", uri(), "-D", "carol", "-w", "carol password 1"}).exit_code, 49);
}

TEST_F(LdapServerTest, AReloadReplacesTheCertificateWithoutDroppingConnections) {
  start();
  add_user("alice", "alice password 1");
  const int open = connect_plain();
  ASSERT_GE(open, 0);
  ASSERT_FALSE(who_am_i(open).empty());
  // A new CA and certificate at the same paths, then a reload.
  const std::string old_ca = daemon_.dir() + "/old-ca.crt";
  std::filesystem::copy_file(tls_dir_ + "/ca.crt", old_ca);
  testing::make_test_certificates(tls_dir_);
  daemon_.signal(SIGHUP);
  ASSERT_TRUE(daemon_.wait_for_log("configuration reloaded", 10s)) << daemon_.log_tail();
  // The connection opened before the reload still answers.
  EXPECT_FALSE(who_am_i(open).empty());
  ::close(open);
  // New handshakes use the new certificate: the new CA trusts it, the old one does not.
  EXPECT_EQ(tool("ldapwhoami", {"-x", "-ZZ", "-H", uri(), "-D", "alice", "-w", "alice password 1"}).exit_code, 0);
  RunOptions old_trust;
  old_trust.env = {{"LDAPTLS_CACERT", old_ca}, {"LDAPTLS_REQCERT", "demand"}, {"LDAPCONF", "/dev/null"},
                   {"LDAPRC", "/dev/null"}};
  EXPECT_NE(run_program("ldapwhoami", {"-x", "-ZZ", "-H", uri(), "-D", "alice", "-w", "alice password 1"}, old_trust)
                .exit_code,
            0);
}

TEST_F(LdapServerTest, AConnectionIdleLongerThanTheIdleTimeoutIsClosed) {
  Json settings = config();
  settings["ldap_server"]["limits"]["idle_timeout"] = "1s";
  daemon_.start(settings);
  const int fd = connect_plain();
  ASSERT_GE(fd, 0);
  timeval wait{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  char byte = 0;
  // The server closes it (EOF), well before the read's own 15 s limit.
  EXPECT_EQ(::read(fd, &byte, 1), 0);
  ::close(fd);
}

TEST_F(LdapServerTest, ListensOnIpv6) {
  const int probe = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 loopback{};
  loopback.sin6_family = AF_INET6;
  loopback.sin6_addr = in6addr_loopback;
  const bool ipv6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&loopback), sizeof loopback) == 0;
  if (probe >= 0) ::close(probe);
  if (!ipv6) GTEST_SKIP() << "this machine has no IPv6 loopback";
  Json settings = config();
  settings["ldap_server"]["listen"] = {"ldap://[::1]:" + std::to_string(port_)};
  daemon_.start(settings);
  add_user("alice", "alice password 1");
  const auto result =
      tool("ldapwhoami", {"-x", "-H", "ldap://[::1]:" + std::to_string(port_), "-D", "alice", "-w", "alice password 1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "dn:" + user_dn("alice") + "\n");
}

TEST_F(LdapServerTest, AClientThatReadsNoAnswersIsClosedAfterTheIdleTimeout) {
  Json settings = config();
  settings["ldap_server"]["limits"]["idle_timeout"] = "5s";
  daemon_.start(settings);
  const int fd = connect_plain();
  ASSERT_GE(fd, 0);
  // 30,000 reads of cn=Subschema (message ids 256..30255, all attributes),
  // far more answers than the sockets' buffers hold, and none of them read.
  std::string requests;
  for (int id = 256; id < 256 + 30000; ++id) {
    const char search[] = "\x63\x32\x04\x0c" "cn=Subschema" "\x0a\x01\x00\x0a\x01\x00\x02\x01\x00\x02\x01\x00"
                          "\x01\x01\x00\x87\x0bobjectClass\x30\x06\x04\x01*\x04\x01+";
    requests += "\x30\x38\x02\x02";
    requests += static_cast<char>(id >> 8);
    requests += static_cast<char>(id & 0xff);
    requests.append(search, sizeof search - 1);
  }
  timeval send_limit{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);
  std::size_t sent = 0;
  while (sent < requests.size()) {
    const ssize_t n = ::send(fd, requests.data() + sent, requests.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server stopped reading: enough is queued
    sent += static_cast<std::size_t>(n);
  }
  std::this_thread::sleep_for(8s);
  // Closed by the server after 5 s without progress: what it had written
  // drains, then EOF or a reset. Were it still open, it would go on writing
  // as the answers are read, then stay quiet for 5 s: the read's 3 s limit
  // would end the drain first.
  timeval read_limit{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_limit, sizeof read_limit);
  char buffer[65536];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
  }
  const int error = n < 0 ? errno : 0;
  ::close(fd);
  EXPECT_TRUE(n == 0 || error == ECONNRESET) << "the connection was still open (errno " << error << ")";
  EXPECT_TRUE(daemon_.wait_for_log("read none of its answers", 1s));
}

}  // namespace
}  // namespace dirproxy::integration
