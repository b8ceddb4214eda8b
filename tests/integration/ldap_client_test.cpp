// The LDAP front end under real clients and hostile input, against a real
// dirproxyd (docs/ldap-server.md, /work/shared/LDAP.md "Robustness").
//
// Most checks are Python scripts in tests/integration/ldap/, run here with
// the port and credentials; each asserts exact outcomes and prints JSON, and
// the test asserts its exit code. Python because python3-ldap3 is a client
// real applications use (its paging, its parsing of our answers), and
// because the PDUs no library sends (several requests in one write, a
// reused message id, unknown controls and operations, truncated and
// oversized PDUs) are a few lines of BER in ldap_wire.py, where liblber
// from C++ would be many. The 10,000 connections are C++: this process
// raises its own descriptor limit and holds them.
//
// The data set (one dirproxyd for the suite; no test changes it): users
// alice (in staff and admins), bob (in staff), carol, dave, each with a
// first and last name and the password "NAME password 1", and 300 users
// bulk000..bulk299 with neither, in no group; groups staff and admins; the
// application grafana (read only); limits.size_limit 50.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "integration/daemon_harness.hpp"
#include "integration/ldap_test_support.hpp"
#include "support/slapd_server.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kBase = "dc=example,dc=com";
constexpr const char* kServiceDn = "cn=grafana,ou=services,dc=example,dc=com";
constexpr const char* kServicePassword = "grafana service secret";
constexpr int kSizeLimit = 50;
constexpr int kBulkUsers = 300;
// The interpreter that has python3-ldap3 (the Debian package), whatever
// python3 comes first on PATH.
constexpr const char* kPython = "/usr/bin/python3";

std::string argon2id(const std::string& password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), 1, 8192) != 0) throw std::runtime_error("hash");
  return hash;
}

std::string script(const std::string& name) {
  return std::string(DIRPROXY_SOURCE_DIR) + "/tests/integration/ldap/" + name;
}

// A config with an LDAP listener on `port` and the grafana application.
Json ldap_config(const DaemonHarness& daemon, int port, Json limits) {
  Json config = daemon.default_config();
  config["ldap_server"] = {
      {"listen", {"ldap://127.0.0.1:" + std::to_string(port)}},
      {"base_dn", kBase},
      {"limits", std::move(limits)},
  };
  config["applications"] =
      Json::array({{{"name", "grafana"}, {"ldap", {{"password_hash", argon2id(kServicePassword)}}}}});
  return config;
}

void add_user(const DaemonHarness& daemon, const Json& request) {
  const Json response = daemon.call(request);
  if (!response.value("ok", false)) throw std::runtime_error("add_user: " + response.dump());
}

class LdapClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = std::make_unique<DaemonHarness>();
    std::vector<UniqueFd> held;
    port_ = testing::free_port(held);
    held.clear();
    daemon_->start(ldap_config(*daemon_, port_, {{"size_limit", kSizeLimit}}));
    for (const std::string group : {"staff", "admins"}) {
      const Json response = daemon_->call({{"op", "add_group"}, {"name", group}});
      if (!response.value("ok", false)) throw std::runtime_error("add_group: " + response.dump());
    }
    const struct {
      const char* name;
      const char* first;
      const char* last;
      const char* email;
      std::vector<std::string> groups;
    } people[] = {{"alice", "Alice", "Anderson", "alice@example.com", {"staff", "admins"}},
                  {"bob", "Bob", "Brown", "bob@example.com", {"staff"}},
                  {"carol", "Carol", "Clark", "carol@example.org", {}},
                  {"dave", "Dave", "Davis", "dave@example.com", {}}};
    for (const auto& person : people) {
      Json request = {{"op", "add_user"},
                      {"username", person.name},
                      {"email", person.email},
                      {"display_name", std::string(person.first) + " " + person.last},
                      {"first_name", person.first},
                      {"last_name", person.last},
                      {"password", std::string(person.name) + " password 1"},
                      {"notify", false}};
      if (!person.groups.empty()) request["groups"] = person.groups;
      add_user(*daemon_, request);
    }
    for (int i = 0; i < kBulkUsers; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "bulk%03d", i);
      add_user(*daemon_, {{"op", "add_user"},
                          {"username", name},
                          {"email", std::string(name) + "@example.com"},
                          {"display_name", std::string("Bulk ") + name},
                          {"notify", false}});
    }
  }

  static void TearDownTestSuite() { daemon_.reset(); }

  // Runs `file`'s `scenario`; the JSON it printed is in the failure message.
  static void run_scenario(const std::string& file, const std::string& scenario) {
    // ASan holds freed memory in quarantine (up to 256 MiB): the daemon's
    // growth says nothing there, so the scenarios do not measure it.
    const pid_t measured = dirproxy::testing::binaries_under_test_are_sanitized() ? 0 : daemon_->pid();
    RunOptions options;
    options.timeout = 180s;
    options.env = {{"PYTHONDONTWRITEBYTECODE", "1"}};  // nothing left in the source tree
    const auto result = run_program(kPython,
                                    {script(file), scenario, "--port", std::to_string(port_), "--base", kBase,
                                     "--service-dn", kServiceDn, "--password", kServicePassword, "--size-limit",
                                     std::to_string(kSizeLimit), "--pid", std::to_string(measured)},
                                    options);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    ASSERT_TRUE(daemon_->running());
    ASSERT_FALSE(daemon_->wait_exit(0ms).has_value()) << "dirproxyd exited\n" << daemon_->log_tail();
  }

  static inline std::unique_ptr<DaemonHarness> daemon_;
  static inline int port_ = 0;
};

TEST_F(LdapClientTest, EveryFilterKindSelectsExactlyTheEntriesItNames) {
  run_scenario("ldap_client_checks.py", "filters");
}

TEST_F(LdapClientTest, AttributeSelectionStarPlusNoneNamedAndTypesOnly) {
  run_scenario("ldap_client_checks.py", "attributes");
}

TEST_F(LdapClientTest, KeycloakSyncAndNextcloudUserReadWithLdap3) {
  run_scenario("ldap_client_checks.py", "applications");
}

TEST_F(LdapClientTest, PagedResultsCookiesSizeZeroAndForeignCookies) {
  run_scenario("ldap_client_checks.py", "paging");
}

TEST_F(LdapClientTest, ConcurrentRequestsAbandonAndBindDuringASearchOnOneConnection) {
  run_scenario("ldap_client_checks.py", "concurrency");
}

TEST_F(LdapClientTest, TruncatedGarbageAndUnknownOperationsEndOnlyThatConnection) {
  run_scenario("ldap_hostile_checks.py", "malformed");
}

TEST_F(LdapClientTest, OversizedPdusBeforeAndAfterBind) { run_scenario("ldap_hostile_checks.py", "oversized"); }

TEST_F(LdapClientTest, UnknownCriticalControlsOnEveryOperationAndNonCriticalOnesIgnored) {
  run_scenario("ldap_hostile_checks.py", "controls");
}

TEST_F(LdapClientTest, ReusedMessageIds) { run_scenario("ldap_hostile_checks.py", "message_ids"); }

TEST_F(LdapClientTest, AClientThatNeverReadsHoldsBackOnlyItself) {
  run_scenario("ldap_hostile_checks.py", "never_reads");
}

// Many connections ------------------------------------------------------------

constexpr int kConnections = 10000;

UniqueFd connect_to(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  return fd;
}

// Everything `fd` receives until the peer closes or `timeout` passes with
// nothing arriving.
std::string read_until_closed(int fd, std::chrono::milliseconds timeout) {
  std::string got;
  char buffer[4096];
  for (;;) {
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(timeout.count())) <= 0) return got;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return got;
    got.append(buffer, static_cast<std::size_t>(n));
  }
}

// The Who am I request, message id 1.
const std::string kWhoAmI("\x30\x1e\x02\x01\x01\x77\x19\x80\x17" "1.3.6.1.4.1.4203.1.11.3", 32);

class LdapManyConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original_), 0);
    // This process and dirproxyd each hold kConnections descriptors and a
    // few hundred more of their own.
    if (original_.rlim_max < kConnections + 500) {
      GTEST_SKIP() << "the hard descriptor limit (" << original_.rlim_max << ") is below " << kConnections + 500;
    }
  }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &original_); }

  rlimit original_{};
  DaemonHarness daemon_;
};

TEST_F(LdapManyConnectionsTest, TenThousandOpenConnectionsAndAFreshClientIsStillAnswered) {
  std::vector<UniqueFd> held;
  const int port = testing::free_port(held);
  held.clear();
  // dirproxyd starts with the soft limit of 1024 a service gets, and must
  // raise it itself.
  rlimit low = original_;
  low.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  daemon_.start(ldap_config(daemon_, port, {{"max_connections", kConnections + 1}}));
  rlimit high = original_;
  high.rlim_cur = high.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &high), 0);
  EXPECT_TRUE(daemon_.wait_for_log("raised the open file limit from 1024 to")) << daemon_.log_tail();
  add_user(daemon_, {{"op", "add_user"},
                     {"username", "alice"},
                     {"email", "alice@example.com"},
                     {"display_name", "Alice"},
                     {"password", "alice password 1"},
                     {"notify", false}});

  std::vector<UniqueFd> connections;
  connections.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) connections.push_back(connect_to(port));
  // Every one of them is served: each answers a Who am I.
  for (auto& fd : connections) {
    ASSERT_EQ(::write(fd.get(), kWhoAmI.data(), kWhoAmI.size()), static_cast<ssize_t>(kWhoAmI.size()));
  }
  int answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  for (auto& fd : connections) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd waiting{fd.get(), POLLIN, 0};
    char buffer[256];
    if (left.count() <= 0 || ::poll(&waiting, 1, static_cast<int>(left.count())) != 1) break;
    if (::read(fd.get(), buffer, sizeof buffer) > 0 && buffer[0] == 0x30) ++answered;
  }
  EXPECT_EQ(answered, kConnections);

  // A fresh client (the 10,001st connection) binds and searches.
  RunOptions options;
  options.timeout = 120s;
  options.env = {{"LDAPCONF", "/dev/null"}, {"LDAPRC", "/dev/null"}};
  const auto search = run_program("ldapsearch",
                                  {"-x", "-LLL", "-H", "ldap://127.0.0.1:" + std::to_string(port), "-D", "alice", "-w",
                                   "alice password 1", "-b", std::string("ou=people,") + kBase, "(uid=alice)", "uid"},
                                  options);
  EXPECT_EQ(search.exit_code, 0) << search.err;
  EXPECT_NE(search.out.find("uid: alice"), std::string::npos) << search.out;

  // Take the last place (once the fresh client's connection is gone): a
  // connection that is not refused at once holds it.
  UniqueFd last;
  ASSERT_TRUE(eventually(
      [&] {
        UniqueFd candidate = connect_to(port);
        if (!read_until_closed(candidate.get(), 2s).empty()) return false;  // refused: busy
        last = std::move(candidate);
        return true;
      },
      60s));
  // Past max_connections: a Notice of Disconnection (busy, 51), then close.
  UniqueFd refused = connect_to(port);
  const std::string notice = read_until_closed(refused.get(), 30s);
  EXPECT_NE(notice.find("1.3.6.1.4.1.1466.20036"), std::string::npos);
  EXPECT_NE(notice.find(std::string("\x0a\x01\x33", 3)), std::string::npos);  // resultCode busy
  char byte;
  EXPECT_EQ(::read(refused.get(), &byte, 1), 0);  // closed
  EXPECT_FALSE(daemon_.wait_exit(0ms).has_value()) << daemon_.log_tail();
}

}  // namespace
}  // namespace dirproxy::integration
