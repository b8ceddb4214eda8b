// LdapConnectionPool against real slapd servers (tests/support/slapd_server):
// service and anonymous binds, failover to the next URI and skipping a dead
// one, backoff and recovery, a hung (SIGSTOPped) server, StartTLS and
// ldaps:// with certificate verification, the pool_size bound, and the
// connections for user binds (kept apart from the service connections).
#include "directories/ldap/ldap_connection_pool.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/slapd_server.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using std::chrono::milliseconds;
using testing::SlapdServer;

constexpr milliseconds kConnectTimeout{500};
constexpr milliseconds kOperationTimeout{1000};
constexpr milliseconds kRetryBackoff{200};

// The backoff's time source, advanced by hand so that tests never sleep
// through a backoff (and never race one).
class FakeClock final {
 public:
  LdapServerList::Clock function() {
    return [this] { return now_; };
  }
  void advance(milliseconds duration) { now_ += duration; }

 private:
  LdapServerList::TimePoint now_ = std::chrono::steady_clock::now();
};

// An ldap:// URI on 127.0.0.1 where nothing listens: a port the kernel just
// handed out and that was closed again, so connecting is refused at once.
std::string dead_uri() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return "ldap://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

// The authorization identity of `connection` (RFC 4532 Who am I?): "dn:..."
// when bound, "" when anonymous, "error: ..." when the operation failed.
std::string who_am_i(LDAP* connection) {
  berval* raw = nullptr;
  const int rc = ldap_whoami_s(connection, &raw, /*sctrls=*/nullptr, /*cctrls=*/nullptr);
  const BerValPtr identity(raw);
  if (rc != LDAP_SUCCESS) {
    return "error: " + std::string(ldap_err2string(rc));
  }
  return identity != nullptr ? std::string(identity->bv_val, identity->bv_len) : std::string();
}

// A base search of `base` with no timeout of its own (LDAP_OPT_TIMEOUT
// applies); the result code.
int read_entry(LDAP* connection, const std::string& base) {
  LDAPMessage* raw = nullptr;
  const int rc = ldap_search_ext_s(connection, base.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                                   /*attrs=*/nullptr, /*attrsonly=*/0, /*serverctrls=*/nullptr,
                                   /*clientctrls=*/nullptr, /*timeout=*/nullptr,
                                   /*sizelimit=*/0, &raw);
  const LdapMessagePtr result(raw);
  return rc;
}

int simple_bind(LDAP* connection, const std::string& dn, const std::string& password) {
  berval credentials{};
  credentials.bv_len = static_cast<ber_len_t>(password.size());
  credentials.bv_val = const_cast<char*>(password.data());
  return ldap_sasl_bind_s(connection, dn.c_str(), LDAP_SASL_SIMPLE, &credentials,
                          /*serverctrls=*/nullptr, /*clientctrls=*/nullptr,
                          /*servercredp=*/nullptr);
}

class LdapConnectionPoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // As dirproxyd does (daemon.cpp): libldap writes to sockets with write(),
    // and a write to a connection the server closed must be an error value
    // for the pool, not the end of the test process.
    std::signal(SIGPIPE, SIG_IGN);
  }

  static testing::SlapdOptions server_options(bool tls = false) {
    testing::SlapdOptions options = testing::openldap_test_options();
    options.tls = tls;
    return options;
  }

  // Settings bound as the test data's service account, with small timeouts.
  static config::LdapSettings settings_for(std::vector<std::string> uris) {
    config::LdapSettings settings;
    settings.uri = std::move(uris);
    settings.bind_dn = kServiceDn;
    settings.bind_password = kServicePassword;
    settings.base_dn = "dc=example,dc=com";
    settings.timeouts.connect = kConnectTimeout;
    settings.timeouts.operation = kOperationTimeout;
    settings.retry_backoff = kRetryBackoff;
    settings.pool_size = 2;
    return settings;
  }

  static constexpr const char* kServiceDn = "cn=dirproxy,ou=service,dc=example,dc=com";
  static constexpr const char* kServicePassword = "dirproxy-service-password";

  FakeClock clock_;
};

// ---- binds ----

TEST_F(LdapConnectionPoolTest, AcquireGivesAConnectionBoundAsTheServiceAccount) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}));

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(who_am_i(lease->get()), std::string("dn:") + kServiceDn);
  EXPECT_EQ(lease->uri(), server.uri());
}

TEST_F(LdapConnectionPoolTest, WrongServicePasswordIsDirectoryUnavailableNamingTheBind) {
  SlapdServer server(server_options());
  config::LdapSettings settings = settings_for({server.uri()});
  settings.bind_password = "not-the-service-password";
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(lease.error().directory, "corp");
  EXPECT_NE(lease.error().message.find(std::string("service bind as ") + kServiceDn + " failed: Invalid credentials"),
            std::string::npos)
      << lease.error().message;
  EXPECT_EQ(lease.error().message.find("not-the-service-password"), std::string::npos);
  EXPECT_FALSE(pool.status().up);
  EXPECT_EQ(pool.status().detail.find("not-the-service-password"), std::string::npos);
}

TEST_F(LdapConnectionPoolTest, EmptyBindDnBindsAnonymously) {
  SlapdServer server(server_options());
  config::LdapSettings settings = settings_for({server.uri()});
  settings.bind_dn.clear();
  settings.bind_password.clear();
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(who_am_i(lease->get()), "");
  // The anonymous bind itself reached the server: it proves the server answers.
  EXPECT_TRUE(server.wait_for_log("BIND dn=\"\" method=128"));
}

// ---- reuse and the pool_size bound ----

TEST_F(LdapConnectionPoolTest, ReturnedConnectionIsReusedInsteadOfOpeningAnother) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}));
  LDAP* first_connection = nullptr;
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease.has_value()) << lease.error().message;
    first_connection = lease->get();
  }

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(lease->get(), first_connection);
  EXPECT_EQ(pool.open_connections(), 1u);
  EXPECT_EQ(pool.server_states()[0].attempts, 1u);
}

TEST_F(LdapConnectionPoolTest, AcquireWaitsForTheOnlyConnectionAndGetsItWhenGivenBack) {
  SlapdServer server(server_options());
  config::LdapSettings settings = settings_for({server.uri()});
  settings.pool_size = 1;
  LdapConnectionPool pool("corp", settings);
  auto first = pool.acquire();
  ASSERT_TRUE(first.has_value()) << first.error().message;
  LDAP* const only_connection = first->get();

  auto second = std::async(std::launch::async, [&pool] { return pool.acquire(); });
  const bool waited = second.wait_for(milliseconds(200)) == std::future_status::timeout;
  { auto given_back = std::move(*first); }
  auto lease = second.get();

  EXPECT_TRUE(waited);
  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(lease->get(), only_connection);
  EXPECT_EQ(pool.open_connections(), 1u);
}

TEST_F(LdapConnectionPoolTest, AcquireGivesUpAfterTheOperationTimeoutWhenNoConnectionIsFree) {
  SlapdServer server(server_options());
  config::LdapSettings settings = settings_for({server.uri()});
  settings.pool_size = 1;
  LdapConnectionPool pool("corp", settings);
  auto held = pool.acquire();
  ASSERT_TRUE(held.has_value()) << held.error().message;

  const auto started = std::chrono::steady_clock::now();
  auto lease = pool.acquire();
  const auto waited = std::chrono::steady_clock::now() - started;

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(lease.error().directory, "corp");
  EXPECT_NE(lease.error().message.find("in use"), std::string::npos) << lease.error().message;
  EXPECT_GE(waited, kOperationTimeout - milliseconds(50));
  EXPECT_LT(waited, kOperationTimeout * 3);
  EXPECT_EQ(pool.open_connections(), 1u);
}

TEST_F(LdapConnectionPoolTest, ConcurrentWorkersShareAtMostPoolSizeConnections) {
  SlapdServer server(server_options());
  config::LdapSettings settings = settings_for({server.uri()});
  settings.pool_size = 2;
  LdapConnectionPool pool("corp", settings);
  constexpr int kWorkers = 6;
  constexpr int kRequestsEach = 15;
  std::atomic<int> answered{0};
  std::atomic<std::size_t> most_open{0};

  std::vector<std::thread> workers;
  for (int worker = 0; worker < kWorkers; ++worker) {
    workers.emplace_back([&] {
      for (int request = 0; request < kRequestsEach; ++request) {
        auto lease = pool.acquire();
        if (!lease) {
          continue;
        }
        std::size_t open = pool.open_connections();
        std::size_t seen = most_open.load();
        while (open > seen && !most_open.compare_exchange_weak(seen, open)) {
        }
        if (read_entry(lease->get(), "dc=example,dc=com") == LDAP_SUCCESS) {
          ++answered;
        }
      }
    });
  }
  for (std::thread& worker : workers) {
    worker.join();
  }

  EXPECT_EQ(answered.load(), kWorkers * kRequestsEach);
  EXPECT_LE(most_open.load(), 2u);
  EXPECT_LE(pool.server_states()[0].attempts, 2u);
  EXPECT_EQ(pool.idle_connections(), pool.open_connections());
}

TEST_F(LdapConnectionPoolTest, ConnectionTheServerClosedWhileIdleIsReplacedNotUsed) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}));
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease.has_value()) << lease.error().message;
  }
  server.stop();  // closes every connection, like a restart or an idle timeout
  server.start();

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(who_am_i(lease->get()), std::string("dn:") + kServiceDn);
  EXPECT_EQ(pool.server_states()[0].attempts, 2u);
  EXPECT_TRUE(pool.server_states()[0].up);
  EXPECT_EQ(pool.open_connections(), 1u);
}

// ---- failover and backoff ----

TEST_F(LdapConnectionPoolTest, DeadFirstUriFailsOverToTheSecond) {
  SlapdServer server(server_options());
  const std::string dead = dead_uri();
  LdapConnectionPool pool("corp", settings_for({dead, server.uri()}));

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(lease->uri(), server.uri());
  EXPECT_EQ(who_am_i(lease->get()), std::string("dn:") + kServiceDn);
  const auto states = pool.server_states();
  EXPECT_FALSE(states[0].up);
  EXPECT_NE(states[0].last_error.find("Can't contact LDAP server"), std::string::npos) << states[0].last_error;
  EXPECT_TRUE(states[1].up);
  EXPECT_TRUE(pool.status().up);
}

TEST_F(LdapConnectionPoolTest, DeadUriIsSkippedByTheNextNewConnection) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({dead_uri(), server.uri()}), clock_.function());
  auto first = pool.acquire();
  ASSERT_TRUE(first.has_value()) << first.error().message;

  auto second = pool.acquire();  // the first is still held: a second connection

  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_NE(second->get(), first->get());
  EXPECT_EQ(second->uri(), server.uri());
  const auto states = pool.server_states();
  EXPECT_EQ(states[0].attempts, 1u);  // not tried again
  EXPECT_EQ(states[1].attempts, 2u);
}

TEST_F(LdapConnectionPoolTest, EveryUriDownAnswersAtOnceWithoutNewAttempts) {
  const std::string first_dead = dead_uri();
  const std::string second_dead = dead_uri();
  LdapConnectionPool pool("corp", settings_for({first_dead, second_dead}), clock_.function());
  auto first_try = pool.acquire();
  ASSERT_FALSE(first_try.has_value());

  auto lease = pool.acquire();
  auto unbound = pool.open_unbound();

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(lease.error().directory, "corp");
  const std::string& message = lease.error().message;
  EXPECT_NE(message.find(first_dead + ": Can't contact LDAP server (retry in 200ms)"), std::string::npos) << message;
  EXPECT_NE(message.find(second_dead + ": Can't contact LDAP server (retry in 200ms)"), std::string::npos) << message;
  ASSERT_FALSE(unbound.has_value());
  EXPECT_EQ(unbound.error().code, ErrorCode::directory_unavailable);
  const auto states = pool.server_states();
  EXPECT_EQ(states[0].attempts, 1u);
  EXPECT_EQ(states[1].attempts, 1u);
  EXPECT_EQ(pool.open_connections(), 0u);
}

TEST_F(LdapConnectionPoolTest, BackoffDoublesWithEachFailedRetry) {
  LdapConnectionPool pool("corp", settings_for({dead_uri()}), clock_.function());
  std::vector<milliseconds> backoffs;

  for (int retry = 0; retry < 4; ++retry) {
    ASSERT_FALSE(pool.acquire().has_value());
    backoffs.push_back(pool.server_states()[0].backoff);
    clock_.advance(backoffs.back());
  }

  EXPECT_EQ(backoffs,
            (std::vector<milliseconds>{milliseconds(200), milliseconds(400), milliseconds(800), milliseconds(1600)}));
  EXPECT_EQ(pool.server_states()[0].attempts, 4u);
}

TEST_F(LdapConnectionPoolTest, StatusReportsTheLastErrorAndTheRetryTimeWhileDown) {
  const std::string dead = dead_uri();
  LdapConnectionPool pool("corp", settings_for({dead}), clock_.function());
  const DirectoryStatus before = pool.status();
  ASSERT_FALSE(pool.acquire().has_value());
  clock_.advance(milliseconds(50));

  const DirectoryStatus after = pool.status();

  EXPECT_TRUE(before.up);
  EXPECT_FALSE(after.up);
  EXPECT_EQ(after.detail, dead + ": Can't contact LDAP server (retry in 150ms)");
}

TEST_F(LdapConnectionPoolTest, StoppedServerIsUsedAgainAfterItsBackoffOnceItIsBack) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}), clock_.function());
  server.stop();
  ASSERT_FALSE(pool.acquire().has_value());
  server.start();

  auto during_backoff = pool.acquire();
  clock_.advance(kRetryBackoff);
  auto after_backoff = pool.acquire();

  EXPECT_FALSE(during_backoff.has_value());
  ASSERT_TRUE(after_backoff.has_value()) << after_backoff.error().message;
  EXPECT_EQ(who_am_i(after_backoff->get()), std::string("dn:") + kServiceDn);
  const auto state = pool.server_states()[0];
  EXPECT_TRUE(state.up);
  EXPECT_EQ(state.consecutive_failures, 0u);
  EXPECT_EQ(state.attempts, 2u);
  EXPECT_TRUE(pool.status().up);
}

TEST_F(LdapConnectionPoolTest, NewConnectionsFailBackToTheFirstUriOnceItsBackoffExpires) {
  SlapdServer primary(server_options());
  SlapdServer secondary(server_options());
  LdapConnectionPool pool("corp", settings_for({primary.uri(), secondary.uri()}), clock_.function());
  primary.stop();
  auto lease = pool.acquire();
  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  ASSERT_EQ(lease->uri(), secondary.uri());
  primary.start();
  clock_.advance(kRetryBackoff);

  { auto given_back = std::move(*lease); }  // not kept: the primary is preferred again
  auto next = pool.acquire();

  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(next->uri(), primary.uri());
  EXPECT_EQ(pool.open_connections(), 1u);
}

// ---- a hung server ----

TEST_F(LdapConnectionPoolTest, OperationOnAPausedServerTimesOutAndDiscardMarksItDown) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}), clock_.function());
  auto lease = pool.acquire();
  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  server.pause();

  const auto started = std::chrono::steady_clock::now();
  const int rc = read_entry(lease->get(), "dc=example,dc=com");
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(LdapConnectionPool::is_connection_error(rc)) << ldap_err2string(rc);
  lease->discard(ldap_err2string(rc));
  const auto down_started = std::chrono::steady_clock::now();
  auto next = pool.acquire();
  const auto refused_after = std::chrono::steady_clock::now() - down_started;

  EXPECT_EQ(rc, LDAP_TIMEOUT);
  EXPECT_GE(took, kOperationTimeout - milliseconds(50));
  EXPECT_LT(took, kOperationTimeout * 3);
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code, ErrorCode::directory_unavailable);
  EXPECT_NE(next.error().message.find("Timed out"), std::string::npos) << next.error().message;
  EXPECT_LT(refused_after, kConnectTimeout);  // no connection attempt at all:
  EXPECT_EQ(pool.server_states()[0].attempts, 1u);
  EXPECT_FALSE(pool.status().up);
  EXPECT_EQ(pool.open_connections(), 0u);
}

TEST_F(LdapConnectionPoolTest, NewConnectionToAPausedServerFailsWithinTheTimeouts) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}), clock_.function());
  server.pause();

  const auto started = std::chrono::steady_clock::now();
  auto lease = pool.acquire();
  const auto took = std::chrono::steady_clock::now() - started;

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  // The kernel accepts the connection; the bind gets no answer.
  EXPECT_NE(lease.error().message.find("Timed out"), std::string::npos) << lease.error().message;
  EXPECT_LT(took, (kConnectTimeout + kOperationTimeout) * 2);
  EXPECT_FALSE(pool.server_states()[0].up);
}

TEST_F(LdapConnectionPoolTest, ResumedServerIsUsedAgainAfterTheBackoff) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}), clock_.function());
  auto lease = pool.acquire();
  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  server.pause();
  const int rc = read_entry(lease->get(), "dc=example,dc=com");
  ASSERT_TRUE(LdapConnectionPool::is_connection_error(rc)) << ldap_err2string(rc);
  lease->discard(ldap_err2string(rc));
  server.resume();

  auto during_backoff = pool.acquire();
  clock_.advance(kRetryBackoff);
  auto after_backoff = pool.acquire();

  EXPECT_FALSE(during_backoff.has_value());
  ASSERT_TRUE(after_backoff.has_value()) << after_backoff.error().message;
  EXPECT_EQ(read_entry(after_backoff->get(), "dc=example,dc=com"), LDAP_SUCCESS);
  EXPECT_TRUE(pool.server_states()[0].up);
}

// ---- TLS ----

TEST_F(LdapConnectionPoolTest, StartTlsWithTheCaFileEncryptsBeforeTheBind) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings settings = settings_for({server.uri()});
  settings.start_tls = true;
  settings.tls_ca_file = server.ca_file();
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(ldap_tls_inplace(lease->get()), 1);
  EXPECT_EQ(who_am_i(lease->get()), std::string("dn:") + kServiceDn);
}

TEST_F(LdapConnectionPoolTest, IdleTlsConnectionsAreReused) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings start_tls_settings = settings_for({server.uri()});
  start_tls_settings.start_tls = true;
  start_tls_settings.tls_ca_file = server.ca_file();
  config::LdapSettings ldaps_settings = settings_for({server.ldaps_uri()});
  ldaps_settings.tls_ca_file = server.ca_file();

  for (const config::LdapSettings& settings : {start_tls_settings, ldaps_settings}) {
    LdapConnectionPool pool("corp", settings);
    LDAP* first_connection = nullptr;
    {
      auto lease = pool.acquire();
      ASSERT_TRUE(lease.has_value()) << lease.error().message;
      first_connection = lease->get();
    }

    auto lease = pool.acquire();

    ASSERT_TRUE(lease.has_value()) << lease.error().message;
    EXPECT_EQ(lease->get(), first_connection) << settings.uri.front();
    EXPECT_EQ(pool.server_states()[0].attempts, 1u) << settings.uri.front();
    EXPECT_EQ(who_am_i(lease->get()), std::string("dn:") + kServiceDn);
  }
}

TEST_F(LdapConnectionPoolTest, LdapsWithTheCaFileConnects) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings settings = settings_for({server.ldaps_uri()});
  settings.tls_ca_file = server.ca_file();
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(ldap_tls_inplace(lease->get()), 1);
  EXPECT_EQ(who_am_i(lease->get()), std::string("dn:") + kServiceDn);
}

// A CA of its own that signed nothing the server presents.
std::string write_unrelated_ca(const testing::TemporaryDirectory& directory) {
  const std::string key = (directory.path() / "other-ca.key").string();
  const std::string certificate = (directory.path() / "other-ca.pem").string();
  const auto made = testing::run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                                          "-out", certificate, "-days", "1", "-subj", "/CN=Unrelated Test CA"});
  if (made.exit_code != 0) {
    throw std::runtime_error("openssl req failed: " + made.err);
  }
  return certificate;
}

TEST_F(LdapConnectionPoolTest, StartTlsWithTheWrongCaFailsWithoutFallingBackToPlaintext) {
  SlapdServer server(server_options(/*tls=*/true));
  const testing::TemporaryDirectory directory("dp-pool");
  config::LdapSettings settings = settings_for({server.uri()});
  settings.start_tls = true;
  settings.tls_ca_file = write_unrelated_ca(directory);
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  EXPECT_NE(lease.error().message.find("StartTLS failed: TLS handshake failed"), std::string::npos)
      << lease.error().message;
  EXPECT_EQ(server.log().find(std::string("BIND dn=\"") + kServiceDn), std::string::npos);
}

TEST_F(LdapConnectionPoolTest, StartTlsRefusedByTheServerFailsWithoutFallingBackToPlaintext) {
  SlapdServer server(server_options(/*tls=*/false));
  config::LdapSettings settings = settings_for({server.uri()});
  settings.start_tls = true;
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  EXPECT_NE(lease.error().message.find("StartTLS failed"), std::string::npos) << lease.error().message;
  EXPECT_EQ(server.log().find(std::string("BIND dn=\"") + kServiceDn), std::string::npos);
}

TEST_F(LdapConnectionPoolTest, LdapsWithoutTheServersCaFailsWhenVerifying) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings settings = settings_for({server.ldaps_uri()});
  settings.tls_ca_file.clear();  // the system's CAs never signed the test CA
  settings.tls_verify = true;
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  EXPECT_NE(lease.error().message.find("TLS handshake failed"), std::string::npos) << lease.error().message;
  EXPECT_EQ(server.log().find(std::string("BIND dn=\"") + kServiceDn), std::string::npos);
}

TEST_F(LdapConnectionPoolTest, NewLdapsConnectionToAPausedServerFailsWithinTheConnectTimeout) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings settings = settings_for({server.ldaps_uri()});
  settings.tls_ca_file = server.ca_file();
  LdapConnectionPool pool("corp", settings);
  server.pause();

  const auto started = std::chrono::steady_clock::now();
  auto lease = pool.acquire();
  const auto took = std::chrono::steady_clock::now() - started;

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  // The kernel accepts the connection; the TLS handshake gets no answer.
  EXPECT_NE(lease.error().message.find("TLS handshake timed out after 500ms"), std::string::npos)
      << lease.error().message;
  EXPECT_LT(took, kConnectTimeout * 4);
  EXPECT_FALSE(pool.server_states()[0].up);
}

TEST_F(LdapConnectionPoolTest, NewStartTlsConnectionToAPausedServerFailsWithinTheTimeouts) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings settings = settings_for({server.uri()});
  settings.start_tls = true;
  settings.tls_ca_file = server.ca_file();
  LdapConnectionPool pool("corp", settings);
  server.pause();

  const auto started = std::chrono::steady_clock::now();
  auto lease = pool.acquire();
  const auto took = std::chrono::steady_clock::now() - started;

  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::directory_unavailable);
  EXPECT_NE(lease.error().message.find("StartTLS failed: Timed out"), std::string::npos) << lease.error().message;
  EXPECT_LT(took, (kConnectTimeout + kOperationTimeout) * 2);
  EXPECT_FALSE(pool.server_states()[0].up);
}

TEST_F(LdapConnectionPoolTest, MissingCaFileFailsNamingIt) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings settings = settings_for({server.ldaps_uri()});
  settings.tls_ca_file = "/nonexistent/dirproxy-test-ca.pem";
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_FALSE(lease.has_value());
  EXPECT_NE(lease.error().message.find("tls_ca_file '/nonexistent/dirproxy-test-ca.pem'"), std::string::npos)
      << lease.error().message;
}

TEST_F(LdapConnectionPoolTest, TlsVerifyOffAcceptsACertificateFromAnUnknownCa) {
  SlapdServer server(server_options(/*tls=*/true));
  const testing::TemporaryDirectory directory("dp-pool");
  config::LdapSettings settings = settings_for({server.uri()});
  settings.start_tls = true;
  settings.tls_ca_file = write_unrelated_ca(directory);
  settings.tls_verify = false;
  LdapConnectionPool pool("corp", settings);

  auto lease = pool.acquire();

  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_EQ(ldap_tls_inplace(lease->get()), 1);
}

// ---- unbound connections for user binds ----

TEST_F(LdapConnectionPoolTest, OpenUnboundGivesAFreshConnectionOutsideThePool) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}));
  auto lease = pool.acquire();
  ASSERT_TRUE(lease.has_value()) << lease.error().message;

  auto unbound = pool.open_unbound();

  ASSERT_TRUE(unbound.has_value()) << unbound.error().message;
  EXPECT_NE(unbound->get(), lease->get());
  EXPECT_EQ(who_am_i(unbound->get()), "");
  EXPECT_EQ(pool.open_connections(), 1u);
}

TEST_F(LdapConnectionPoolTest, UserBindOnAnUnboundConnectionLeavesTheServiceConnectionAlone) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}));
  auto lease = pool.acquire();
  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  auto unbound = pool.open_unbound();
  ASSERT_TRUE(unbound.has_value()) << unbound.error().message;

  const int rc = simple_bind(unbound->get(), "uid=alice,ou=people,dc=example,dc=com", "alice-password");

  EXPECT_EQ(rc, LDAP_SUCCESS);
  EXPECT_EQ(who_am_i(unbound->get()), "dn:uid=alice,ou=people,dc=example,dc=com");
  EXPECT_EQ(who_am_i(lease->get()), std::string("dn:") + kServiceDn);
}

TEST_F(LdapConnectionPoolTest, UserBindConnectionIsKeptAndReusedForTheNextUserBind) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}));
  LDAP* first_connection = nullptr;
  {
    auto first = pool.acquire_for_user_bind();
    ASSERT_TRUE(first.has_value()) << first.error().message;
    ASSERT_EQ(simple_bind(first->get(), "uid=alice,ou=people,dc=example,dc=com", "alice-password"), LDAP_SUCCESS);
    first_connection = first->get();
  }

  auto second = pool.acquire_for_user_bind();

  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->get(), first_connection);
  EXPECT_EQ(pool.idle_user_bind_connections(), 0u);
  EXPECT_EQ(pool.open_connections(), 0u);  // no service connection was opened
}

TEST_F(LdapConnectionPoolTest, UserBindConnectionsAreNeverServiceConnections) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}));
  {
    auto user_bind = pool.acquire_for_user_bind();
    ASSERT_TRUE(user_bind.has_value()) << user_bind.error().message;
    ASSERT_EQ(simple_bind(user_bind->get(), "uid=alice,ou=people,dc=example,dc=com", "alice-password"), LDAP_SUCCESS);
  }
  ASSERT_EQ(pool.idle_user_bind_connections(), 1u);

  auto service = pool.acquire();
  auto user_bind = pool.acquire_for_user_bind();

  ASSERT_TRUE(service.has_value()) << service.error().message;
  ASSERT_TRUE(user_bind.has_value()) << user_bind.error().message;
  EXPECT_NE(service->get(), user_bind->get());
  EXPECT_EQ(who_am_i(service->get()), std::string("dn:") + kServiceDn);
  EXPECT_EQ(who_am_i(user_bind->get()), "dn:uid=alice,ou=people,dc=example,dc=com");
}

TEST_F(LdapConnectionPoolTest, DiscardedUserBindConnectionMarksItsUriDownAndIsNotKept) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({server.uri()}), clock_.function());
  auto user_bind = pool.acquire_for_user_bind();
  ASSERT_TRUE(user_bind.has_value()) << user_bind.error().message;

  user_bind->discard("Timed out");

  EXPECT_EQ(pool.idle_user_bind_connections(), 0u);
  const auto state = pool.server_states()[0];
  EXPECT_FALSE(state.up);
  EXPECT_EQ(state.last_error, "Timed out");
  EXPECT_FALSE(pool.acquire_for_user_bind().has_value());
}

TEST_F(LdapConnectionPoolTest, OpenUnboundUsesStartTlsToo) {
  SlapdServer server(server_options(/*tls=*/true));
  config::LdapSettings settings = settings_for({server.uri()});
  settings.start_tls = true;
  settings.tls_ca_file = server.ca_file();
  LdapConnectionPool pool("corp", settings);

  auto unbound = pool.open_unbound();

  ASSERT_TRUE(unbound.has_value()) << unbound.error().message;
  EXPECT_EQ(ldap_tls_inplace(unbound->get()), 1);
}

TEST_F(LdapConnectionPoolTest, OpenUnboundFailsOverPastADeadUri) {
  SlapdServer server(server_options());
  LdapConnectionPool pool("corp", settings_for({dead_uri(), server.uri()}));

  auto unbound = pool.open_unbound();

  ASSERT_TRUE(unbound.has_value()) << unbound.error().message;
  EXPECT_EQ(simple_bind(unbound->get(), "uid=alice,ou=people,dc=example,dc=com", "alice-password"), LDAP_SUCCESS);
  EXPECT_FALSE(pool.server_states()[0].up);
}

TEST_F(LdapConnectionPoolTest, ReportBrokenMarksTheUnboundConnectionsUriDown) {
  SlapdServer server(server_options());
  // libldap spells this URI back with an explicit port and no trailing slash.
  const std::string uri = server.uri();
  LdapConnectionPool pool("corp", settings_for({uri}), clock_.function());
  auto unbound = pool.open_unbound();
  ASSERT_TRUE(unbound.has_value()) << unbound.error().message;

  pool.report_broken(unbound->get(), "Timed out");

  const auto state = pool.server_states()[0];
  EXPECT_FALSE(state.up);
  EXPECT_EQ(state.last_error, "Timed out");
  EXPECT_FALSE(pool.acquire().has_value());
}

// ---- result codes ----

TEST(LdapConnectionPoolErrors, ConnectionErrorsAreTheCodesThatMeanTheServerIsGone) {
  EXPECT_TRUE(LdapConnectionPool::is_connection_error(LDAP_SERVER_DOWN));
  EXPECT_TRUE(LdapConnectionPool::is_connection_error(LDAP_TIMEOUT));
  EXPECT_TRUE(LdapConnectionPool::is_connection_error(LDAP_CONNECT_ERROR));
  EXPECT_TRUE(LdapConnectionPool::is_connection_error(LDAP_UNAVAILABLE));
  EXPECT_FALSE(LdapConnectionPool::is_connection_error(LDAP_SUCCESS));
  EXPECT_FALSE(LdapConnectionPool::is_connection_error(LDAP_NO_SUCH_OBJECT));
  EXPECT_FALSE(LdapConnectionPool::is_connection_error(LDAP_INVALID_CREDENTIALS));
  EXPECT_FALSE(LdapConnectionPool::is_connection_error(LDAP_SIZELIMIT_EXCEEDED));
  EXPECT_FALSE(LdapConnectionPool::is_connection_error(LDAP_FILTER_ERROR));
}

TEST_F(LdapConnectionPoolTest, CountsWaitsForAFreeConnectionAndWaitsThatEndWithout) {
  SlapdServer server(server_options());
  config::LdapSettings settings = settings_for({server.uri()});
  settings.pool_size = 1;
  metrics::Counter waits;
  metrics::Counter wait_timeouts;
  LdapConnectionPool pool("corp", settings, {}, PoolCounters{&waits, &wait_timeouts});
  auto held = pool.acquire();
  ASSERT_TRUE(held.has_value()) << held.error().message;

  ASSERT_FALSE(pool.acquire().has_value());

  EXPECT_EQ(waits.value(), 1u);
  EXPECT_EQ(wait_timeouts.value(), 1u);
}

TEST_F(LdapConnectionPoolTest, UseCountsServiceConnectionsLentOutAndIdle) {
  SlapdServer server(server_options());
  config::LdapSettings settings = settings_for({server.uri()});
  settings.pool_size = 3;
  LdapConnectionPool pool("corp", settings);
  auto first = pool.acquire();
  auto second = pool.acquire();
  ASSERT_TRUE(first.has_value() && second.has_value());
  { auto given_back = std::move(*second); }

  const ConnectionPoolUse use = pool.use();

  EXPECT_EQ(use.size, 3u);
  EXPECT_EQ(use.in_use, 1u);
  EXPECT_EQ(use.idle, 1u);
}

}  // namespace
}  // namespace dirproxy
