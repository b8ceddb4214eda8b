// LDAP servers that go away, through the socket of the real dirproxyd: a
// stopped server under on_unavailable fail and skip (docs/design.md rule 2) and
// its recovery after retry_backoff; a paused (SIGSTOPped) server, which
// accepts connections and never answers, costs one lookup its operation
// timeout while the daemon keeps answering everything else at once; and a
// dead URI is remembered instead of being retried on every request. Each
// test has slapd servers of its own, since it stops or pauses them.
#include <poll.h>

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ldap_test_support.hpp"

namespace dirproxy::integration {
namespace {

using Clock = std::chrono::steady_clock;

// Whether a response line is waiting on `client` (without reading it).
bool has_pending_response(const ProtocolClient& client) {
  pollfd socket{};
  socket.fd = client.native_handle();
  socket.events = POLLIN;
  return ::poll(&socket, 1, /*timeout=*/0) > 0;
}

class LdapAvailability : public DaemonTest {
 protected:
  // "corp" on this test's own OpenLDAP-style server, without a cache, so
  // that every lookup reaches the server.
  Json corp(const std::string& on_unavailable = "fail") {
    Json directory = ldap_directory(daemon_, "corp", openldap_);
    directory["on_unavailable"] = on_unavailable;
    directory["cache"] = {{"ttl", 0}, {"negative_ttl", 0}};
    return directory;
  }

  void start_with(Json directories) { daemon_.start(config_with_directories(daemon_, std::move(directories))); }

  Json list_directories() { return send({{"op", "list_directories"}}); }

  // corp ahead of the internal directory, so that get_user waits for it on
  // the connection's event loop, with this operation timeout; started, with
  // one pooled connection to the server idle, and the server then paused.
  void start_with_corp_first_then_pause(const std::string& operation_timeout, unsigned workers = 0) {
    Json directory = corp("fail");
    directory["timeouts"] = {{"connect", "1s"}, {"operation", operation_timeout}};
    Json config = config_with_directories(daemon_, Json::array({directory, internal_directory()}));
    if (workers != 0) config["server"]["workers"] = workers;
    daemon_.start(config);
    ASSERT_EQ(outcome_of(get_user("bob")), "ok");
    openldap_.pause();
  }

  // A connection with get_user of "alice" (id "slow-lookup") sent, once the
  // daemon has logged it; the answer is left to the test to read.
  ProtocolClient send_slow_lookup() {
    ProtocolClient slow = daemon_.connect(10s);
    EXPECT_TRUE(slow.send_raw(R"({"op": "get_user", "id": "slow-lookup", "username": "alice"})"
                              "\n"));
    EXPECT_TRUE(daemon_.wait_for_log(R"(id="slow-lookup")")) << daemon_.log_tail();
    return slow;
  }

  SlapdServer openldap_{dirproxy::testing::openldap_test_options()};
};

// --- A stopped server ---------------------------------------------------------------

TEST_F(LdapAvailability, StoppedServerUnderFailAnswersDirectoryUnavailableNamingIt) {
  start_with(Json::array({internal_directory(), corp("fail")}));
  openldap_.stop();

  auto response = get_user("alice");

  EXPECT_EQ(outcome_of(response), "directory_unavailable") << response;
  EXPECT_EQ(response["directory"], "corp") << response;
}

TEST_F(LdapAvailability, StoppedServerUnderFailStillLetsEarlierDirectoriesAnswer) {
  start_with(Json::array({internal_directory(), corp("fail")}));
  add_user("local");
  openldap_.stop();

  auto response = get_user("local");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["directory"], "internal");
}

TEST_F(LdapAvailability, StoppedServerIsListedDownWithTheReason) {
  start_with(Json::array({internal_directory(), corp("fail")}));
  openldap_.stop();
  ASSERT_EQ(outcome_of(get_user("alice")), "directory_unavailable");

  auto response = list_directories();

  ASSERT_EQ(outcome_of(response), "ok") << response;
  Json entry = directory_entry(response, "corp");
  EXPECT_EQ(entry["type"], "ldap") << response;
  EXPECT_EQ(entry["permissions"], "read_only") << response;
  EXPECT_EQ(entry["status"], "down") << response;
  ASSERT_TRUE(entry["detail"].is_string()) << response;
  EXPECT_NE(entry["detail"].get<std::string>().find(openldap_.uri() + ": Can't contact LDAP server"), std::string::npos)
      << response;
}

TEST_F(LdapAvailability, StoppedServerUnderSkipLetsALaterDirectoryAnswer) {
  SlapdServer later(dirproxy::testing::active_directory_test_options());
  start_with(Json::array(
      {internal_directory(), corp("skip"), ldap_directory(daemon_, "ad", later, /*active_directory=*/true)}));
  openldap_.stop();

  auto response = get_user("alice");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["directory"], "ad");
  EXPECT_EQ(response["user"]["email"], "alice@corp.example");
}

TEST_F(LdapAvailability, SkipNeverPassesAuthenticationOfAUserItOwnsToALaterDirectory) {
  SlapdServer later(dirproxy::testing::active_directory_test_options());
  Json directory = corp("skip");
  directory["cache"] = {{"ttl", "5m"}};
  start_with(
      Json::array({internal_directory(), directory, ldap_directory(daemon_, "ad", later, /*active_directory=*/true)}));
  // corp owns alice, and still knows it (cached) once its server is gone.
  ASSERT_EQ(get_user("alice")["user"]["directory"], "corp");
  openldap_.stop();

  // The later directory's alice would accept this password.
  auto response = authenticate("alice", "alice-password-corp");

  EXPECT_EQ(outcome_of(response), "directory_unavailable") << response;
  EXPECT_EQ(response["directory"], "corp") << response;
}

TEST_F(LdapAvailability, RestartedServerAnswersAgainAfterTheRetryBackoff) {
  start_with(Json::array({internal_directory(), corp("fail")}));
  openldap_.stop();
  ASSERT_EQ(outcome_of(get_user("alice")), "directory_unavailable");

  openldap_.start();
  Json last;
  const bool recovered = eventually([&] {
    last = get_user("alice");
    return outcome_of(last) == "ok";
  });

  ASSERT_TRUE(recovered) << last;
  EXPECT_EQ(last["user"]["directory"], "corp");
  EXPECT_EQ(directory_entry(list_directories(), "corp")["status"], "up");
}

// --- A paused server --------------------------------------------------------------------

TEST_F(LdapAvailability, PausedServerCostsALookupItsOperationTimeoutWhileOtherRequestsAreAnswered) {
  start_with(Json::array({internal_directory(), corp("fail")}));
  add_user("local");
  ASSERT_EQ(outcome_of(get_user("bob")), "ok");  // a pooled connection to the server
  openldap_.pause();

  // Connection A: a lookup that reaches the paused server.
  const auto sent = Clock::now();
  ProtocolClient slow = send_slow_lookup();
  // Connection B, meanwhile: the daemon answers at once.
  ProtocolClient other = daemon_.connect(10s);
  Json ping = call_on(other, {{"op", "ping"}, {"id", "ping"}});
  Json local = call_on(other, {{"op", "get_user"}, {"id", "local"}, {"username", "local"}});
  const bool slow_answered_first = has_pending_response(slow);
  Json slow_response = next_response(slow);
  const auto slow_took = Clock::now() - sent;

  EXPECT_EQ(outcome_of(ping), "ok") << ping;
  ASSERT_EQ(outcome_of(local), "ok") << local;
  EXPECT_EQ(local["user"]["directory"], "internal");
  EXPECT_FALSE(slow_answered_first) << "the lookup of the paused server was answered before the other requests";
  EXPECT_EQ(slow_response["id"], "slow-lookup");
  EXPECT_EQ(outcome_of(slow_response), "directory_unavailable") << slow_response;
  EXPECT_EQ(slow_response["directory"], "corp") << slow_response;
  EXPECT_LT(slow_took, 5s);
}

TEST_F(LdapAvailability, LookupOfAPausedServerAheadOfTheInternalDirectoryHoldsNoWorker) {
  // corp comes first, so get_user waits for it on the connection's event
  // loop, not on a worker: with a single worker, work that needs one is
  // still answered at once while the lookup waits out its timeout.
  start_with_corp_first_then_pause("2s", /*workers=*/1);

  const auto sent = Clock::now();
  ProtocolClient slow = send_slow_lookup();
  ProtocolClient other = daemon_.connect(10s);
  Json options = call_on(other, {{"op", "signup_options"}, {"id", "options"}});
  const auto options_took = Clock::now() - sent;
  const bool slow_answered_first = has_pending_response(slow);
  Json slow_response = next_response(slow);
  const auto slow_took = Clock::now() - sent;

  EXPECT_EQ(outcome_of(options), "ok") << options;
  EXPECT_LT(options_took, 1500ms);
  EXPECT_FALSE(slow_answered_first);
  EXPECT_EQ(slow_response["id"], "slow-lookup");
  EXPECT_EQ(outcome_of(slow_response), "directory_unavailable") << slow_response;
  EXPECT_EQ(slow_response["directory"], "corp") << slow_response;
  EXPECT_GE(slow_took, 2s);
  EXPECT_LT(slow_took, 8s);
}

TEST_F(LdapAvailability, StopWhileALookupWaitsForAPausedServerAnswersItThenExitsCleanly) {
  // SIGTERM while get_user waits on the event loop for a server that does
  // not answer: the lookup runs to its timeout within the shutdown grace,
  // its client gets the answer, and the daemon exits 0.
  start_with_corp_first_then_pause("1s");
  ProtocolClient slow = send_slow_lookup();

  const int exit_code = daemon_.stop(15s);
  Json slow_response = next_response(slow);

  EXPECT_EQ(exit_code, 0) << daemon_.log_tail();
  EXPECT_EQ(slow_response["id"], "slow-lookup");
  EXPECT_EQ(outcome_of(slow_response), "directory_unavailable") << slow_response;
}

TEST_F(LdapAvailability, StopWhileALookupOutlastsTheShutdownGraceStillExitsCleanly) {
  // The lookup would wait 30 s; the shutdown grace (10 s) ends first, and
  // the daemon drops the waiting lookup (abandoning it on its connection)
  // and exits 0 instead of crashing on the way out.
  start_with_corp_first_then_pause("30s");
  ProtocolClient slow = send_slow_lookup();

  const int exit_code = daemon_.stop(25s);

  EXPECT_EQ(exit_code, 0) << daemon_.log_tail();
  EXPECT_NE(daemon_.log_tail().find("still busy after"), std::string::npos) << daemon_.log_tail();
  openldap_.resume();
}

TEST_F(LdapAvailability, ResumedServerAnswersAgain) {
  start_with(Json::array({internal_directory(), corp("fail")}));
  openldap_.pause();
  ASSERT_EQ(outcome_of(get_user("alice")), "directory_unavailable");

  openldap_.resume();
  Json last;
  const bool recovered = eventually([&] {
    last = get_user("alice");
    return outcome_of(last) == "ok";
  });

  ASSERT_TRUE(recovered) << last;
  EXPECT_EQ(last["user"]["directory"], "corp");
}

// --- A dead URI is remembered ------------------------------------------------------------

TEST_F(LdapAvailability, HungFirstUriIsNotRetriedOnEveryRequest) {
  // The first URI accepts connections and never answers: each attempt on it
  // costs the whole operation timeout (2s here).
  SlapdServer hung(dirproxy::testing::openldap_test_options());
  hung.pause();
  Json directory = corp();
  directory["uri"] = Json::array({hung.uri(), openldap_.uri()});
  directory["timeouts"] = {{"connect", "500ms"}, {"operation", "2s"}};
  directory["retry_backoff"] = "1m";
  directory["pool_size"] = 1;
  start_with(Json::array({internal_directory(), directory}));
  ASSERT_EQ(outcome_of(get_user("alice")), "ok");  // pays for the hung URI once

  const auto started = Clock::now();
  for (const std::string username : {"bob", "carol", "dave"}) {
    auto response = get_user(username);
    EXPECT_EQ(outcome_of(response), "ok") << response;
    EXPECT_EQ(response["user"]["directory"], "corp");
  }
  const auto took = Clock::now() - started;

  // Three lookups together well within one operation timeout: none went to
  // the hung server again.
  EXPECT_LT(took, 2s);
}

}  // namespace
}  // namespace dirproxy::integration
