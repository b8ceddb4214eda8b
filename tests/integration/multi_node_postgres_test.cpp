// Three real dirproxyd processes sharing one PostgreSQL database
// (SCALE.md): each node has its own state_dir, socket and configuration
// file, and state.backend postgresql on a fresh database of the ctest run's
// cluster (support/postgres_server.hpp). The account life cycle spread over
// the nodes, many concurrent clients on every node, one invitation redeemed
// on three nodes at once, a node killed in the middle of an SMTP exchange,
// and a failover from a primary to its promoted synchronous standby.
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "account_test_support.hpp"
#include "support/postgres_server.hpp"
#include "support/smtp_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::CapturedMail;
using dirproxy::testing::PostgresCluster;
using dirproxy::testing::PostgresDatabase;
using dirproxy::testing::SmtpServer;
using Clock = std::chrono::steady_clock;

constexpr const char* kNewPassword = "a brand new passphrase";
constexpr const char* kWrong = "not the password";
constexpr int kNodes = 3;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// psql's output without its final line break.
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string token_in_mail(const CapturedMail& mail) {
  auto link = dirproxy::testing::first_link(mail.body);
  if (!link) throw std::runtime_error("no link in mail: " + mail.body);
  return token_in_link(*link);
}

class ThreeNodesOnPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PostgresCluster::unavailable_reason()) GTEST_SKIP() << *why;
  }

  // The database of the test, made on first use on the shared cluster.
  PostgresDatabase& database() {
    if (!database_) database_.emplace(PostgresCluster::shared().create_database());
    return *database_;
  }

  // node i's default configuration with its state in PostgreSQL at `url`,
  // mail through smtp_ (mail.timeout `mail_timeout`) and single-use
  // invitations mailed one per recipient.
  Json config_for(int i, const std::string& url, const std::string& mail_timeout = "10s") const {
    Json config = nodes_[i].default_config();
    config["state"] = {{"backend", "postgresql"},
                       {"postgresql", {{"url", url}, {"connect_timeout", "2s"}, {"statement_timeout", "3s"}}}};
    config["site"] = {{"name", "Test Site"}, {"base_url", "https://dir.example"}};
    config["mail"] = {{"smtp_url", smtp_.url()},        {"starttls", "none"},
                      {"from", "dirproxy <dirproxy@dir.example>"}, {"retry_backoff", "1s"},
                      {"timeout", mail_timeout},        {"max_attempts", 10}};
    config["invitations"] = {{"per_recipient", true}};
    config["security"] = {{"lockout", {{"max_failures", 3}, {"window", "1m"}, {"duration", "1m"}}}};
    return config;
  }

  // Starts the nodes given by `which` at once (the first to reach the
  // database migrates it, the others wait for it), each with
  // config_for(i, url) as `adjust` leaves it.
  void start_nodes(const std::vector<int>& which, const std::string& url,
                   const std::function<void(Json&)>& adjust = [](Json&) {}) {
    for (int i : which) {
      Json config = config_for(i, url);
      adjust(config);
      nodes_[i].write_config(config);
      nodes_[i].spawn();
    }
    for (int i : which) nodes_[i].wait_until_ready(20s);
  }

  void start_all(const std::function<void(Json&)>& adjust = [](Json&) {}) {
    start_nodes({0, 1, 2}, database().url(), adjust);
  }

  // Sends `request` (id 1) to node i.
  Json send(int i, Json request) {
    if (!request.contains("id")) request["id"] = 1;
    return nodes_[i].call(request);
  }

  Json arrange(int i, const Json& request) {
    Json response = send(i, request);
    if (outcome_of(response) != "ok") {
      throw std::runtime_error("arranging request failed: " + request.dump() + " -> " + response.dump());
    }
    return response;
  }

  Json authenticate(int i, const std::string& username, const std::string& password) {
    return send(i, {{"op", "authenticate"}, {"username", username}, {"password", password}});
  }

  Json signup(int i, const std::string& username, const std::string& token) {
    return send(i, {{"op", "signup"},
                    {"username", username},
                    {"email", username + "@example.com"},
                    {"display_name", "User " + username},
                    {"password", kPassword},
                    {"token", token}});
  }

  // One number from the database of the test.
  std::int64_t count(const std::string& sql) { return std::stoll(trimmed(database().psql(sql))); }

  // Declared first so that the nodes stop before the database is dropped.
  std::optional<PostgresDatabase> database_;
  SmtpServer smtp_;
  std::array<DaemonHarness, kNodes> nodes_;
};

TEST_F(ThreeNodesOnPostgres, TheAccountLifeCycleSpreadOverTheNodesHoldsOnEveryNode) {
  start_all();
  for (int i = 0; i < kNodes; ++i) {
    auto directories = nodes_[i].run_ctl({"directories"});
    ASSERT_EQ(directories.exit_code, 0) << directories.err;
    EXPECT_NE(directories.out.find("state: postgresql postgresql://127.0.0.1:" +
                                   std::to_string(PostgresCluster::shared().port()) + "/" + database().name() + "\n"),
              std::string::npos)
        << directories.out;
  }

  // Invited on node 1, redeemed on node 2 through the mailed link.
  Json invited = arrange(0, {{"op", "send_invitations"}, {"emails", "carol@example.com"}});
  EXPECT_EQ(invited["sent"], Json({"carol@example.com"}));
  auto mails = smtp_.wait_for_messages(1, 15s);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope_to, std::vector<std::string>{"carol@example.com"});
  EXPECT_EQ(mails[0].subject, "You are invited to join Test Site");
  Json redeemed = signup(1, "carol", token_in_mail(mails[0]));
  ASSERT_EQ(outcome_of(redeemed), "ok") << redeemed.dump();
  EXPECT_EQ(redeemed["status"], "created");

  // Authenticated on node 3; a reset asked for there and completed on node 1.
  EXPECT_EQ(outcome_of(authenticate(2, "carol", kPassword)), "ok");
  EXPECT_EQ(send(2, {{"op", "request_password_reset"}, {"username", "carol"}}), (Json{{"id", 1}, {"ok", true}}));
  mails = smtp_.wait_for_messages(2, 15s);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[1].envelope_to, std::vector<std::string>{"carol@example.com"});
  EXPECT_EQ(mails[1].subject.rfind("Reset your password", 0), 0u) << mails[1].subject;
  EXPECT_EQ(outcome_of(send(0, {{"op", "reset_password"}, {"token", token_in_mail(mails[1])}, {"password", kNewPassword}})),
            "ok");
  EXPECT_EQ(outcome_of(authenticate(1, "carol", kNewPassword)), "ok");

  // A lockout reached through node 1 holds on node 2, for the right password.
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSERT_EQ(outcome_of(authenticate(0, "carol", kWrong)), "invalid_credentials");
  }
  Json locked = authenticate(1, "carol", kNewPassword);
  EXPECT_EQ(outcome_of(locked), "account_locked") << locked.dump();
  EXPECT_GE(locked.value("retry_after", 0), 58);
  EXPECT_EQ(outcome_of(authenticate(2, "carol", kNewPassword)), "account_locked");

  // An admin's changes on node 2 are what node 3 answers.
  arrange(1, {{"op", "update_user"}, {"username", "carol"}, {"display_name", "Carol Changed"}});
  arrange(1, {{"op", "add_group"}, {"name", "editors"}});
  arrange(1, {{"op", "add_member"}, {"group", "editors"}, {"username", "carol"}});
  Json seen = send(2, {{"op", "get_user"}, {"username", "carol"}});
  ASSERT_EQ(outcome_of(seen), "ok") << seen.dump();
  EXPECT_EQ(seen["user"]["display_name"], "Carol Changed");
  EXPECT_EQ(send(2, {{"op", "get_user_groups"}, {"username", "carol"}})["groups"], Json({"editors"}));
  EXPECT_EQ(smtp_.messages().size(), 2u);
}


TEST_F(ThreeNodesOnPostgres, ThirtyTwoClientsPerNodeOfMixedRequestsLeaveAConsistentState) {
  start_all();
  arrange(0, add_user_request("seed"));
  arrange(1, {{"op", "add_group"}, {"name", "team"}});
  constexpr int kClients = 32;
  constexpr int kContested = 8;  // usernames every node's clients try to create
  // What went wrong, one line per unexpected outcome; and who got each contested name.
  std::mutex results_mutex;
  std::vector<std::string> unexpected;
  std::map<std::string, int> contested_created;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> clients;
  for (int node = 0; node < kNodes; ++node) {
    for (int k = 0; k < kClients; ++k) {
      clients.emplace_back([&, node, k] {
        auto client = nodes_[node].connect();
        ++ready;
        while (!go.load()) std::this_thread::yield();
        int id = 0;
        auto expect = [&](Json request, const std::string& expected) {
          request["id"] = ++id;
          Json response = call_on(client, request);
          const std::string outcome = outcome_of(response);
          if (outcome != expected || response["id"] != id) {
            std::lock_guard lock(results_mutex);
            unexpected.push_back("node " + std::to_string(node + 1) + ": " + request.dump() + " -> " + response.dump());
          }
          return response;
        };
        const std::string me = "u" + std::to_string(node) + "_" + std::to_string(k);
        expect(add_user_request(me), "ok");
        expect({{"op", "authenticate"}, {"username", me}, {"password", kPassword}}, "ok");
        Json seed = expect({{"op", "get_user"}, {"username", "seed"}}, "ok");
        Json found = expect({{"op", "find_users"}, {"query", "seed"}}, "ok");
        expect({{"op", "add_member"}, {"group", "team"}, {"username", me}}, "ok");
        const std::string contested = "contested" + std::to_string(k % kContested);
        Json request = add_user_request(contested);
        request["id"] = ++id;
        Json created = call_on(client, request);
        expect({{"op", "authenticate"}, {"username", "seed"}, {"password", kPassword}}, "ok");
        if (k % 2 == 1) {
          expect({{"op", "delete_user"}, {"username", me}}, "ok");
        } else if (k % 4 == 0) {
          expect({{"op", "remove_member"}, {"group", "team"}, {"username", me}}, "ok");
        }
        std::lock_guard lock(results_mutex);
        if (seed["user"]["username"] != "seed") unexpected.push_back("get_user seed: " + seed.dump());
        if (found["users"].size() != 1) unexpected.push_back("find_users seed: " + found.dump());
        if (outcome_of(created) == "ok") {
          ++contested_created[contested];
        } else if (outcome_of(created) != "conflict") {
          unexpected.push_back("add_user " + contested + ": " + created.dump());
        }
      });
    }
  }
  ASSERT_TRUE(wait_until([&] { return ready.load() == kNodes * kClients; }, 20s));
  go = true;
  for (auto& client : clients) client.join();

  EXPECT_EQ(unexpected, std::vector<std::string>{});
  EXPECT_EQ(contested_created.size(), static_cast<std::size_t>(kContested));
  for (const auto& [name, created] : contested_created) EXPECT_EQ(created, 1) << name;
  // Of the 32 per node, the 16 odd ones deleted themselves and 8 of the even
  // ones left the team: 48 users left, 24 of them in the team.
  EXPECT_EQ(count("SELECT count(*) FROM users WHERE username LIKE 'u%'"), 48);
  EXPECT_EQ(count("SELECT count(*) FROM users WHERE username LIKE 'contested%'"), kContested);
  EXPECT_EQ(count("SELECT count(*) FROM (SELECT lower(username::text) FROM users GROUP BY 1 HAVING count(*) > 1) d"),
            0);
  Json team = send(2, {{"op", "get_group"}, {"name", "team"}});
  ASSERT_EQ(outcome_of(team), "ok") << team.dump();
  std::set<std::string> members;
  for (const auto& member : team["group"]["members"]) members.insert(member.get<std::string>());
  std::set<std::string> expected_members;
  for (int node = 0; node < kNodes; ++node) {
    for (int k = 2; k < kClients; k += 4) expected_members.insert("u" + std::to_string(node) + "_" + std::to_string(k));
  }
  EXPECT_EQ(members, expected_members);
  for (int node = 0; node < kNodes; ++node) {
    EXPECT_EQ(outcome_of(send(node, {{"op", "get_user"}, {"username", "u0_1"}})), "not_found");
    EXPECT_EQ(outcome_of(authenticate(node, "u2_30", kPassword)), "ok");
  }
}

TEST_F(ThreeNodesOnPostgres, OneInvitationRedeemedOnThreeNodesAtOnceCreatesExactlyOneAccount) {
  start_all();
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    const std::string token = arrange(0, {{"op", "create_invitation"}})["token"];
    std::array<Json, kNodes> responses;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> racers;
    for (int node = 0; node < kNodes; ++node) {
      racers.emplace_back([&, node] {
        auto client = nodes_[node].connect();
        ++ready;
        while (!go.load()) std::this_thread::yield();
        const std::string name = "racer" + std::to_string(round) + "n" + std::to_string(node);
        responses[node] = call_on(client, {{"op", "signup"},
                                           {"id", node},
                                           {"username", name},
                                           {"email", name + "@example.com"},
                                           {"display_name", name},
                                           {"password", kPassword},
                                           {"token", token}});
      });
    }
    while (ready.load() < kNodes) std::this_thread::yield();
    go = true;
    for (auto& racer : racers) racer.join();

    int created = 0;
    for (const auto& response : responses) {
      if (outcome_of(response) == "ok") {
        ++created;
        EXPECT_EQ(response["status"], "created");
      } else {
        EXPECT_EQ(outcome_of(response), "invalid_token") << response.dump();
        EXPECT_EQ(field_of(response), "token");
      }
    }
    EXPECT_EQ(created, 1) << "round " << round;
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE username LIKE 'racer" + std::to_string(round) + "n%'"), 1);
  }
  EXPECT_EQ(count("SELECT count(*) FROM invitations WHERE used_at IS NULL"), 0);
}


TEST_F(ThreeNodesOnPostgres, ANodeKilledMidDeliveryLeavesEveryMessageSentExactlyOnceByTheOthers) {
  // A long mail.timeout: the SMTP exchanges held up below must outlast the
  // pause rather than fail.
  start_all([](Json& config) { config["mail"]["timeout"] = "20s"; });
  smtp_.pause();  // every node's first SMTP exchange hangs
  constexpr int kMessages = 30;
  std::vector<std::string> recipients;
  std::string emails;
  for (int i = 0; i < kMessages; ++i) {
    recipients.push_back("guest" + std::to_string(i) + "@example.com");
    emails += (i == 0 ? "" : ",") + recipients.back();
  }
  ASSERT_EQ(arrange(1, {{"op", "send_invitations"}, {"emails", emails}})["sent"].size(),
            static_cast<std::size_t>(kMessages));
  const std::string victim =
      trimmed(database().psql("SELECT process FROM nodes WHERE pid = " + std::to_string(nodes_[0].pid())));
  ASSERT_FALSE(victim.empty());
  // Each node claims one message and hangs in its SMTP exchange.
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL") == kNodes; },
                         15s));
  ASSERT_EQ(count("SELECT count(*) FROM outbox WHERE lease_owner = '" + victim + "'"), 1);

  nodes_[0].kill9();
  smtp_.resume();

  // The two others send everything but the message the dead node held...
  ASSERT_EQ(smtp_.wait_for_messages(kMessages - 1, 30s).size(), static_cast<std::size_t>(kMessages - 1));
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM outbox WHERE state = 'sent'") == kMessages - 1; },
                         10s));
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE state = 'pending' AND lease_owner = '" + victim + "'"), 1);
  EXPECT_EQ(smtp_.messages().size(), static_cast<std::size_t>(kMessages - 1)) << "nobody sends a leased message";
  // ...and that one once its lease ends: rather than wait out the whole
  // lease (2 × 20 s + 60 s), let it end in a second.
  database().psql("UPDATE outbox SET lease_until = extract(epoch FROM now())::bigint + 1 WHERE lease_owner = '" +
                  victim + "'");
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM outbox WHERE state = 'sent'") == kMessages; }, 15s));

  // Captured before it was marked sent, so every delivery is in by now.
  std::map<std::string, int> received;
  for (const auto& mail : smtp_.messages()) {
    for (const auto& to : mail.envelope_to) ++received[to];
  }
  EXPECT_EQ(received.size(), static_cast<std::size_t>(kMessages));
  for (const auto& to : recipients) EXPECT_EQ(received[to], 1) << to;
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL OR lease_until IS NOT NULL"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE attempts <> 0"), 0);
}

TEST_F(ThreeNodesOnPostgres, AfterTheStandbyIsPromotedEveryNodeCarriesOnWithoutARestart) {
  // The recipe of PostgresFailover (tests/storage): remote_apply on the
  // primary's command line, the database made before the base backup, then
  // the standby made synchronous.
  PostgresCluster::Options primary_settings;
  primary_settings.settings = {"synchronous_commit=remote_apply"};
  auto primary = PostgresCluster::start_private(primary_settings);
  PostgresDatabase shared = primary->create_database();
  PostgresCluster::Options named;
  named.settings = {"cluster_name=standby1"};
  auto standby = primary->start_standby(named);
  primary->psql("postgres", "ALTER SYSTEM SET synchronous_standby_names = 'standby1'; SELECT pg_reload_conf();");
  ASSERT_TRUE(wait_until(
      [&] { return trimmed(primary->psql("postgres", "SELECT sync_state FROM pg_stat_replication")) == "sync"; }, 10s));
  const std::string url = "postgresql://postgres@127.0.0.1:" + std::to_string(primary->port()) + ",127.0.0.1:" +
                          std::to_string(standby->port()) + "/" + shared.name() + "?target_session_attrs=read-write";
  start_nodes({0, 1, 2}, url);
  for (int i = 0; i < kNodes; ++i) arrange(i, add_user_request("before" + std::to_string(i)));

  primary->halt();
  // The switch: a request fails cleanly, well within statement_timeout (3 s).
  for (int i = 0; i < kNodes; ++i) {
    const auto started = Clock::now();
    Json during = send(i, add_user_request("during" + std::to_string(i)));
    EXPECT_EQ(outcome_of(during), "directory_unavailable") << during.dump();
    EXPECT_LT(Clock::now() - started, 3s) << "node " << i + 1;
  }
  standby->promote();

  for (int i = 0; i < kNodes; ++i) {
    const std::string after = "after" + std::to_string(i);
    Json written = send(i, add_user_request(after));
    EXPECT_EQ(outcome_of(written), "ok") << "node " << i + 1 << ": " << written.dump();
    EXPECT_EQ(outcome_of(authenticate(i, "before" + std::to_string((i + 1) % kNodes), kPassword)), "ok")
        << "node " << i + 1;
    EXPECT_EQ(outcome_of(authenticate(i, after, kPassword)), "ok") << "node " << i + 1;
  }
  // Each node names the server it now writes to.
  for (int i = 0; i < kNodes; ++i) {
    auto directories = nodes_[i].run_ctl({"directories"});
    EXPECT_NE(directories.out.find("state: postgresql postgresql://127.0.0.1:" + std::to_string(standby->port()) + "/" +
                                   shared.name() + "\n"),
              std::string::npos)
        << "node " << i + 1 << ": " << directories.out;
  }
  EXPECT_EQ(trimmed(standby->psql(shared.name(), "SELECT string_agg(username::text, ',' ORDER BY username) FROM users")),
            "after0,after1,after2,before0,before1,before2");
}

}  // namespace
}  // namespace dirproxy::integration
