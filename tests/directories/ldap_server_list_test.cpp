// The failover and backoff policy of an ldap directory's URIs, with a fake
// clock: which URI a new connection tries, how long a failed one is skipped,
// and that an outage is counted once.
#include "directories/ldap/ldap_server_list.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace dirproxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class FakeClock final {
 public:
  LdapServerList::Clock function() {
    return [this] { return now_; };
  }
  void advance(milliseconds duration) { now_ += duration; }
  LdapServerList::TimePoint now() const { return now_; }

 private:
  LdapServerList::TimePoint now_ = std::chrono::steady_clock::now();
};

class LdapServerListTest : public ::testing::Test {
 protected:
  LdapServerList make(std::vector<std::string> uris, milliseconds backoff = milliseconds(200)) {
    return LdapServerList(std::move(uris), backoff, clock_.function());
  }
  // Fails one attempt on `server`, which must be the one offered.
  void fail_attempt(LdapServerList& servers, std::size_t server, const std::string& error) {
    const auto attempt = servers.begin_attempt(server);
    ASSERT_TRUE(attempt.has_value());
    ASSERT_EQ(attempt->server, server);
    servers.failed(*attempt, error);
  }

  FakeClock clock_;
};

TEST_F(LdapServerListTest, FirstAttemptGoesToTheFirstUri) {
  LdapServerList servers = make({"ldap://a", "ldap://b"});

  const auto attempt = servers.begin_attempt();

  ASSERT_TRUE(attempt.has_value());
  EXPECT_EQ(attempt->server, 0u);
  EXPECT_FALSE(attempt->retry);
}

TEST_F(LdapServerListTest, FailedUriIsSkippedUntilItsBackoffExpires) {
  LdapServerList servers = make({"ldap://a", "ldap://b"});
  fail_attempt(servers, 0, "Can't contact LDAP server");

  const auto during_backoff = servers.begin_attempt();
  clock_.advance(milliseconds(200));
  const auto after_backoff = servers.begin_attempt();

  ASSERT_TRUE(during_backoff.has_value());
  EXPECT_EQ(during_backoff->server, 1u);
  ASSERT_TRUE(after_backoff.has_value());
  EXPECT_EQ(after_backoff->server, 0u);  // failback: the first URI again
  EXPECT_TRUE(after_backoff->retry);
}

TEST_F(LdapServerListTest, NoAttemptWhenEveryUriIsInBackoff) {
  LdapServerList servers = make({"ldap://a", "ldap://b"});
  fail_attempt(servers, 0, "refused a");
  fail_attempt(servers, 1, "refused b");

  EXPECT_FALSE(servers.begin_attempt().has_value());
  EXPECT_EQ(servers.states()[0].attempts, 1u);
  EXPECT_EQ(servers.states()[1].attempts, 1u);
}

TEST_F(LdapServerListTest, BackoffDoublesWithEachConsecutiveFailureUpToSixtySeconds) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));
  std::vector<milliseconds> backoffs;

  for (int failure = 0; failure < 12; ++failure) {
    fail_attempt(servers, 0, "refused");
    backoffs.push_back(servers.states()[0].backoff);
    clock_.advance(backoffs.back());
  }

  const std::vector<milliseconds> expected = {milliseconds(200),   milliseconds(400),   milliseconds(800),
                                              milliseconds(1600),  milliseconds(3200),  milliseconds(6400),
                                              milliseconds(12800), milliseconds(25600), milliseconds(51200),
                                              milliseconds(60000), milliseconds(60000), milliseconds(60000)};
  EXPECT_EQ(backoffs, expected);
}

TEST_F(LdapServerListTest, RetryIsOfferedExactlyWhenTheBackoffEnds) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));
  fail_attempt(servers, 0, "refused");

  clock_.advance(milliseconds(199));
  const bool offered_early = servers.begin_attempt().has_value();
  clock_.advance(milliseconds(1));
  const bool offered_on_time = servers.begin_attempt().has_value();

  EXPECT_FALSE(offered_early);
  EXPECT_TRUE(offered_on_time);
}

TEST_F(LdapServerListTest, RetryBackoffAboveTheCeilingIsKept) {
  LdapServerList servers = make({"ldap://a"}, seconds(90));

  fail_attempt(servers, 0, "refused");
  clock_.advance(seconds(90));
  fail_attempt(servers, 0, "refused");

  EXPECT_EQ(servers.states()[0].backoff, seconds(90));
}

TEST_F(LdapServerListTest, SuccessResetsTheBackoff) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));
  fail_attempt(servers, 0, "refused");
  clock_.advance(milliseconds(200));
  fail_attempt(servers, 0, "refused");  // backoff now 400ms
  clock_.advance(milliseconds(400));

  const auto retry = servers.begin_attempt();
  ASSERT_TRUE(retry.has_value());
  servers.succeeded(*retry);
  fail_attempt(servers, 0, "refused again");

  const auto state = servers.states()[0];
  EXPECT_EQ(state.consecutive_failures, 1u);
  EXPECT_EQ(state.backoff, milliseconds(200));
}

TEST_F(LdapServerListTest, OnlyOneRetryIsLetThroughWhileItRuns) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));
  fail_attempt(servers, 0, "refused");
  clock_.advance(milliseconds(200));

  const auto first = servers.begin_attempt();
  const auto second = servers.begin_attempt();

  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->retry);
  EXPECT_FALSE(second.has_value());
  EXPECT_TRUE(servers.states()[0].retry_in_progress);
}

TEST_F(LdapServerListTest, FailedRetryStartsTheNextLongerBackoff) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));
  fail_attempt(servers, 0, "refused");
  clock_.advance(milliseconds(200));

  fail_attempt(servers, 0, "still refused");

  const auto state = servers.states()[0];
  EXPECT_FALSE(state.retry_in_progress);
  EXPECT_EQ(state.backoff, milliseconds(400));
  EXPECT_EQ(state.retry_at, clock_.now() + milliseconds(400));
  EXPECT_EQ(state.last_error, "still refused");
}

TEST_F(LdapServerListTest, UpUriAllowsConcurrentAttempts) {
  LdapServerList servers = make({"ldap://a"});

  const auto first = servers.begin_attempt();
  const auto second = servers.begin_attempt();

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->server, 0u);
}

TEST_F(LdapServerListTest, OneOutageCountsOnceHoweverManyConnectionsReportIt) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));

  servers.connection_broke(0, "Timed out");
  servers.connection_broke(0, "Timed out");
  servers.connection_broke(0, "Can't contact LDAP server");

  const auto state = servers.states()[0];
  EXPECT_FALSE(state.up);
  EXPECT_EQ(state.consecutive_failures, 1u);
  EXPECT_EQ(state.backoff, milliseconds(200));
  EXPECT_EQ(state.last_error, "Can't contact LDAP server");
}

TEST_F(LdapServerListTest, AttemptBegunWhileUpDoesNotDoubleTheBackoffOfAnOutageSeenMeanwhile) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));
  const auto attempt = servers.begin_attempt();
  ASSERT_TRUE(attempt.has_value());
  servers.connection_broke(0, "Timed out");

  servers.failed(*attempt, "Timed out");

  EXPECT_EQ(servers.states()[0].consecutive_failures, 1u);
}

TEST_F(LdapServerListTest, EarlierUriIsPreferredOnceItsBackoffExpires) {
  LdapServerList servers = make({"ldap://a", "ldap://b"}, milliseconds(200));
  fail_attempt(servers, 0, "refused");

  const bool preferred_during_backoff = servers.has_preferred_before(1);
  clock_.advance(milliseconds(200));
  const bool preferred_after_backoff = servers.has_preferred_before(1);

  EXPECT_FALSE(preferred_during_backoff);
  EXPECT_TRUE(preferred_after_backoff);
  EXPECT_FALSE(servers.has_preferred_before(0));
}

TEST_F(LdapServerListTest, DescriptionNamesEachDownUriItsErrorAndItsRetryTime) {
  LdapServerList servers = make({"ldap://a", "ldap://b", "ldap://c"}, milliseconds(200));
  fail_attempt(servers, 0, "Can't contact LDAP server");
  clock_.advance(milliseconds(50));
  fail_attempt(servers, 2, "Timed out");

  EXPECT_EQ(servers.describe_failures(),
            "ldap://a: Can't contact LDAP server (retry in 150ms); "
            "ldap://c: Timed out (retry in 200ms)");
  EXPECT_TRUE(servers.any_up());
}

TEST_F(LdapServerListTest, DescriptionSaysWhenARetryIsDue) {
  LdapServerList servers = make({"ldap://a"}, milliseconds(200));
  fail_attempt(servers, 0, "refused");
  clock_.advance(milliseconds(300));

  EXPECT_EQ(servers.describe_failures(), "ldap://a: refused (retry at the next request)");
  EXPECT_FALSE(servers.any_up());
}

}  // namespace
}  // namespace dirproxy
