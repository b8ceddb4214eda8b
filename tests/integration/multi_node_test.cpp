// Two real dirproxyd processes over one state database (SQLite in WAL mode
// lets two processes share the file, as PostgreSQL lets several nodes share
// one database): each keeps its row in nodes while it runs, they deliver
// one outbox to a real SMTP server (aiosmtpd) with every message captured
// exactly once, and a message whose sender was killed in the middle of the
// SMTP exchange is sent by the other once the dead sender's lease ends.
#include <functional>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "mail/outbox.hpp"
#include "protocol_test_support.hpp"
#include "storage/state_database.hpp"
#include "support/smtp_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::SmtpServer;
using Clock = std::chrono::steady_clock;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

class TwoNodes : public ::testing::Test {
 protected:
  // The default configuration of `node`, its state in node_a_'s state_dir,
  // sending through `smtp` with mail.timeout `timeout`.
  Json config_for(const DaemonHarness& node, const SmtpServer& smtp, const std::string& timeout = "3s") const {
    Json config = node.default_config();
    config["state_dir"] = node_a_.state_dir();
    config["site"] = {{"name", "Example Site"}, {"base_url", "https://dir.example.com"}};
    config["mail"] = {{"smtp_url", smtp.url()},  {"from", "Example Site <noreply@example.com>"},
                      {"starttls", "none"},      {"retry_backoff", "1s"},
                      {"timeout", timeout},         {"max_attempts", 10}};
    return config;
  }

  StateDatabase& database() {
    if (!database_) {
      auto opened = StateDatabase::open(node_a_.state_dir(), 1);
      if (!opened) throw std::runtime_error("cannot open the state database: " + opened.error().message);
      database_ = std::move(*opened);
    }
    return *database_;
  }

  // Queues one message to each recipient, all in one transaction, due now.
  void enqueue(const std::vector<std::string>& recipients) {
    const std::int64_t now = system_clock()->unix_seconds();
    auto lease = database().acquire();
    auto queued = lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
      for (const auto& to : recipients) {
        const std::string text = "From: noreply@example.com\r\nTo: " + to + "\r\nSubject: hello " + to +
                                 "\r\n\r\nhello\r\n";
        RETURN_IF_ERROR(enqueue_mail(lease, OutgoingMail{"invitation", to, text}, now));
      }
      return {};
    });
    if (!queued) throw std::runtime_error(queued.error().message);
  }

  std::int64_t count(const std::string& sql) {
    auto lease = database().acquire();
    auto select = lease.prepare(sql);
    if (!select) throw std::runtime_error(select.error().message);
    auto row = select->step();
    if (!row || !*row) throw std::runtime_error("no answer to " + sql);
    return select->column_int64(0);
  }

  void execute(const std::string& sql) {
    auto lease = database().acquire();
    if (auto done = lease.execute(sql); !done) throw std::runtime_error(done.error().message);
  }

  DaemonHarness node_a_;
  DaemonHarness node_b_;
  std::shared_ptr<StateDatabase> database_;
};

TEST_F(TwoNodes, EachRunningNodeHasItsRowAndACleanStopRemovesIt) {
  SmtpServer smtp;
  node_a_.start(config_for(node_a_, smtp));
  node_b_.start(config_for(node_b_, smtp));

  const std::int64_t both = count("SELECT count(*) FROM nodes");
  const std::int64_t rows_of_a = count("SELECT count(*) FROM nodes WHERE pid = " + std::to_string(node_a_.pid()));
  const std::int64_t rows_of_b = count("SELECT count(*) FROM nodes WHERE pid = " + std::to_string(node_b_.pid()));
  const pid_t pid_of_b = node_b_.pid();
  ASSERT_EQ(node_a_.stop(), 0);

  EXPECT_EQ(both, 2);
  EXPECT_EQ(rows_of_a, 1);
  EXPECT_EQ(rows_of_b, 1);
  EXPECT_EQ(count("SELECT count(*) FROM nodes"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM nodes WHERE pid = " + std::to_string(pid_of_b)), 1);
}

TEST_F(TwoNodes, BothDeliverFromOneOutboxAndEveryMessageIsCapturedExactlyOnce) {
  SmtpServer smtp;
  node_a_.start(config_for(node_a_, smtp));
  node_b_.start(config_for(node_b_, smtp));
  constexpr int kMessages = 60;
  std::vector<std::string> recipients;
  for (int i = 0; i < kMessages; ++i) recipients.push_back("user" + std::to_string(i) + "@example.com");

  enqueue(recipients);  // each sender looks every second

  ASSERT_EQ(smtp.wait_for_messages(kMessages, 30s).size(), static_cast<std::size_t>(kMessages));
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM outbox WHERE state = 'sent'") == kMessages; }, 10s));
  std::this_thread::sleep_for(2s);  // time for a second delivery, were there one
  std::map<std::string, int> received;
  for (const auto& mail : smtp.messages()) {
    for (const auto& to : mail.envelope_to) ++received[to];
  }
  EXPECT_EQ(received.size(), static_cast<std::size_t>(kMessages));
  for (const auto& to : recipients) EXPECT_EQ(received[to], 1) << to;
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL OR lease_until IS NOT NULL"), 0);
}

TEST_F(TwoNodes, AMessageOfANodeKilledMidDeliveryIsSentByTheOtherOnceTheLeaseEnds) {
  SmtpServer smtp;
  node_a_.start(config_for(node_a_, smtp, "20s"));
  smtp.pause();  // node a's SMTP exchange hangs, for longer than the test waits
  enqueue({"bob@example.com"});
  ASSERT_TRUE(wait_until([&] { return count("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL") == 1; },
                         10s));
  const std::int64_t lease_until = count("SELECT lease_until FROM outbox");
  const std::int64_t claimed_at = system_clock()->unix_seconds();

  node_a_.kill9();
  node_b_.start(config_for(node_b_, smtp));
  smtp.resume();
  std::this_thread::sleep_for(2s);
  const std::size_t while_leased = smtp.messages().size();
  // Rather than wait out the whole lease (2 × 20 s + 60 s), let it end in 2 s.
  execute("UPDATE outbox SET lease_until = " + std::to_string(system_clock()->unix_seconds() + 2));
  const auto after_lease = smtp.wait_for_messages(1, 15s);

  EXPECT_GE(lease_until, claimed_at + 2 * 20 + 60 - 5) << "the lease outlasts twice the timeout by a minute";
  EXPECT_LE(lease_until, claimed_at + 2 * 20 + 60);
  EXPECT_EQ(while_leased, 0u) << "nobody sends a message whose lease runs";
  ASSERT_EQ(after_lease.size(), 1u);
  EXPECT_EQ(after_lease[0].envelope_to, std::vector<std::string>{"bob@example.com"});
  EXPECT_TRUE(wait_until([&] { return count("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1; }, 10s));
  EXPECT_EQ(count("SELECT attempts FROM outbox"), 0);
}

}  // namespace
}  // namespace dirproxy::integration
