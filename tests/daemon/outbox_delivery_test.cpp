// The mail sender's steps on a ManualClock: the retry back-off, giving up
// after max_attempts, the leases that let several nodes share the outbox and
// the purge of old records, each to the second and without waiting, against
// a real state database, in-memory directories and a real SMTP server
// (aiosmtpd).
#include "daemon/outbox_delivery.hpp"

#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "directories/in_memory_directory.hpp"
#include "mail/outbox.hpp"
#include "support/manual_clock.hpp"
#include "support/smtp_server.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::InMemoryDirectory;
using testing::ManualClock;
using testing::SmtpServer;

constexpr std::int64_t kDay = 24 * 3600;

struct OutboxRow {
  std::string state;
  std::int64_t attempts = 0;
  std::int64_t next_attempt_at = 0;
  std::string message;
};

class OutboxDeliveryTest : public ::testing::Test {
 protected:
  OutboxDeliveryTest() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
    users_ =
        std::make_shared<InMemoryDirectory>("local", config::DirectoryType::internal, config::Permissions::read_write);
    User alice;
    alice.username = "alice";
    alice.email = "alice@example.com";
    users_->put_user(alice, "correct horse battery");
  }

  // A Runtime on clock_ that sends through smtp_ with a 30 s back-off, on
  // `database` (default: database_).
  Runtime runtime(unsigned max_attempts = 10, StateDatabasePtr database = nullptr) {
    auto config = std::make_shared<config::Config>();
    config::Mail mail;
    mail.smtp_url = smtp_.url();
    mail.starttls = config::StartTls::none;
    mail.from = "Example Site <noreply@example.com>";
    mail.timeout = 5s;
    mail.retry_backoff = 30s;
    mail.max_attempts = max_attempts;
    config->mail = mail;
    auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
    auto chain = std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{users_}, ChainOptions{}, hasher);
    return Runtime{
        config, hasher, chain, AccountPolicy(config->accounts), database ? database : database_, nullptr,
        std::make_shared<RateLimiter>(),
        clock_};
  }

  // Queues a message to `recipient` at `at` (default: the clock's time),
  // held for `hold_for` when given; the row's id.
  std::int64_t enqueue(const std::string& recipient, std::optional<std::int64_t> at = std::nullopt,
                       const std::optional<std::string>& hold_for = std::nullopt) {
    auto lease = database_->acquire();
    const OutgoingMail mail{"invitation", recipient, "Subject: hello\r\n\r\nhello\r\n"};
    if (auto queued = enqueue_mail(lease, mail, at.value_or(now()), hold_for); !queued) {
      throw std::runtime_error(queued.error().message);
    }
    auto last = lease.prepare("SELECT max(id) FROM outbox");
    if (!last || !last->step()) throw std::runtime_error("cannot read the queued message's id");
    return last->column_int64(0);
  }

  // A row recording mail to `recipient` sent at `sent_at`.
  void sent_record(const std::string& recipient, std::int64_t sent_at) {
    (void)enqueue(recipient, sent_at);
    auto lease = database_->acquire();
    auto claimed = claim_due_mail(lease, "earlier", sent_at, 80);
    if (!claimed || !*claimed) throw std::runtime_error("cannot claim the row of " + recipient);
    auto sent = mark_mail_sent(lease, (*claimed)->id, "earlier", sent_at);
    if (!sent || !*sent) throw std::runtime_error("cannot mark the row of " + recipient + " sent");
  }

  struct MailLease {
    std::optional<std::string> owner;
    std::optional<std::int64_t> until;
  };
  MailLease lease_of(std::int64_t id) {
    auto lease = database_->acquire();
    auto select = lease.prepare("SELECT lease_owner, lease_until FROM outbox WHERE id = ?1", id);
    if (!select || !select->step().value()) throw std::runtime_error("no row " + std::to_string(id));
    return {select->column_optional_text(0), select->column_optional_int64(1)};
  }

  // Claims the next due row for `owner` as a sender would, and returns its id.
  std::int64_t claim_as(const std::string& owner, std::int64_t lease_seconds) {
    auto lease = database_->acquire();
    auto claimed = claim_due_mail(lease, owner, now(), lease_seconds);
    if (!claimed || !*claimed) throw std::runtime_error("nothing to claim for " + owner);
    return (*claimed)->id;
  }

  std::optional<OutboxRow> row(std::int64_t id) {
    auto lease = database_->acquire();
    auto select = lease.prepare("SELECT state, attempts, next_attempt_at, message FROM outbox WHERE id = ?1", id);
    if (!select) throw std::runtime_error(select.error().message);
    auto found = select->step();
    if (!found) throw std::runtime_error(found.error().message);
    if (!*found) return std::nullopt;
    return OutboxRow{select->column_text(0), select->column_int64(1), select->column_int64(2), select->column_text(3)};
  }

  std::vector<std::string> recipients_left() {
    auto lease = database_->acquire();
    auto select = lease.prepare("SELECT recipient FROM outbox ORDER BY id");
    std::vector<std::string> recipients;
    while (select && select->step().value()) recipients.push_back(select->column_text(0));
    return recipients;
  }

  std::int64_t now() const { return clock_->unix_seconds(); }

  const std::atomic<bool> not_aborted_{false};
  testing::TemporaryDirectory temp_{"dpd"};
  StateDatabasePtr database_;
  std::shared_ptr<InMemoryDirectory> users_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  SmtpServer smtp_;
};

// --- delivery and retries ------------------------------------------------------

TEST_F(OutboxDeliveryTest, DueMailIsSentAndMarkedWithTheClocksTime) {
  const Runtime rt = runtime();
  OutboxDelivery delivery("node-a");
  const std::int64_t id = enqueue("bob@example.com");

  delivery.step(rt, not_aborted_);

  const auto mails = smtp_.messages();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].envelope_to, std::vector<std::string>{"bob@example.com"});
  auto lease = database_->acquire();
  auto select = lease.prepare("SELECT state, sent_at FROM outbox WHERE id = ?1", id);
  ASSERT_TRUE(select && select->step().value());
  EXPECT_EQ(select->column_text(0), "sent");
  EXPECT_EQ(select->column_int64(1), now());
}

TEST_F(OutboxDeliveryTest, EachFailedAttemptSchedulesTheNextAfterADoublingBackoff) {
  smtp_.set_temporary_failure(true);
  const Runtime rt = runtime();
  OutboxDelivery delivery("node-a");
  const std::int64_t queued_at = now();
  const std::int64_t id = enqueue("bob@example.com");

  delivery.step(rt, not_aborted_);
  const OutboxRow first = *row(id);
  clock_->advance(29s);
  delivery.step(rt, not_aborted_);
  const OutboxRow before_due = *row(id);
  clock_->advance(1s);
  delivery.step(rt, not_aborted_);
  const OutboxRow second = *row(id);
  clock_->advance(60s);
  delivery.step(rt, not_aborted_);
  const OutboxRow third = *row(id);

  EXPECT_EQ(first.attempts, 1);
  EXPECT_EQ(first.next_attempt_at, queued_at + 30);
  EXPECT_EQ(before_due.attempts, 1) << "no attempt before the back-off has passed";
  EXPECT_EQ(second.attempts, 2);
  EXPECT_EQ(second.next_attempt_at, queued_at + 30 + 60);
  EXPECT_EQ(third.attempts, 3);
  EXPECT_EQ(third.next_attempt_at, queued_at + 30 + 60 + 120);
  EXPECT_EQ(third.state, "pending");
  EXPECT_TRUE(smtp_.messages().empty());
}

TEST_F(OutboxDeliveryTest, MailThatFailedMaxAttemptsTimesIsMarkedFailedAndLosesItsText) {
  smtp_.set_temporary_failure(true);
  const Runtime rt = runtime(/*max_attempts=*/2);
  OutboxDelivery delivery("node-a");
  const std::int64_t id = enqueue("bob@example.com");

  delivery.step(rt, not_aborted_);
  ASSERT_EQ(row(id)->state, "pending");
  clock_->advance(30s);
  delivery.step(rt, not_aborted_);

  const OutboxRow failed = *row(id);
  EXPECT_EQ(failed.state, "failed");
  EXPECT_EQ(failed.attempts, 2);
  EXPECT_EQ(failed.message, "");
  clock_->advance(kDay * 1s);
  delivery.step(rt, not_aborted_);
  EXPECT_EQ(row(id)->attempts, 2) << "a failed row is never tried again";
}

TEST_F(OutboxDeliveryTest, MailDueAgainIsSentOnceTheServerIsBack) {
  smtp_.set_temporary_failure(true);
  const Runtime rt = runtime();
  OutboxDelivery delivery("node-a");
  const std::int64_t id = enqueue("bob@example.com");
  delivery.step(rt, not_aborted_);
  smtp_.set_temporary_failure(false);

  clock_->advance(30s);
  delivery.step(rt, not_aborted_);

  EXPECT_EQ(row(id)->state, "sent");
  EXPECT_EQ(row(id)->attempts, 1);
  EXPECT_EQ(smtp_.messages().size(), 1u);
}

// --- several nodes --------------------------------------------------------------

TEST_F(OutboxDeliveryTest, TheLeaseOutlastsTwiceTheSmtpTimeoutByAMinute) {
  config::Mail mail;
  mail.timeout = 10s;
  const std::int64_t default_lease = mail_lease_seconds(mail);
  mail.timeout = 1500ms;
  const std::int64_t rounded_up = mail_lease_seconds(mail);

  EXPECT_EQ(default_lease, 80);
  EXPECT_EQ(rounded_up, 64);
}

TEST_F(OutboxDeliveryTest, TwoNodesSendingAtOnceDeliverEveryMessageExactlyOnce) {
  // Two senders as two nodes would run them: each with a database handle of
  // its own over the one file, at the same time.
  auto opened = StateDatabase::open(temp_.path() / "state", 2);
  ASSERT_TRUE(opened) << opened.error().message;
  const Runtime node_a = runtime();
  const Runtime node_b = runtime(10, *opened);
  constexpr int kMessages = 40;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kMessages; ++i) ids.push_back(enqueue("user" + std::to_string(i) + "@example.com"));
  OutboxDelivery sender_a("node-a");
  OutboxDelivery sender_b("node-b");

  std::thread b([&] { sender_b.step(node_b, not_aborted_); });
  sender_a.step(node_a, not_aborted_);
  b.join();

  std::map<std::string, int> received;
  for (const auto& mail : smtp_.messages()) {
    for (const auto& to : mail.envelope_to) ++received[to];
  }
  ASSERT_EQ(received.size(), static_cast<std::size_t>(kMessages));
  for (const auto& [recipient, count] : received) EXPECT_EQ(count, 1) << recipient;
  for (const std::int64_t id : ids) {
    EXPECT_EQ(row(id)->state, "sent") << id;
    EXPECT_EQ(lease_of(id).owner, std::nullopt) << id;
  }
}

TEST_F(OutboxDeliveryTest, AMessageClaimedByANodeThatDiedIsSentByAnotherOnceTheLeaseEnds) {
  const Runtime rt = runtime();
  const std::int64_t lease_seconds = mail_lease_seconds(*rt.config->mail);
  OutboxDelivery survivor("node-a");
  const std::int64_t id = enqueue("bob@example.com");
  (void)claim_as("dead-node", lease_seconds);  // it died before the SMTP exchange ended

  survivor.step(rt, not_aborted_);
  const std::size_t while_leased = smtp_.messages().size();
  clock_->advance(std::chrono::seconds(lease_seconds - 1));
  survivor.step(rt, not_aborted_);
  const std::size_t just_before = smtp_.messages().size();
  clock_->advance(1s);
  survivor.step(rt, not_aborted_);

  EXPECT_EQ(while_leased, 0u);
  EXPECT_EQ(just_before, 0u);
  ASSERT_EQ(smtp_.messages().size(), 1u);
  EXPECT_EQ(smtp_.messages()[0].envelope_to, std::vector<std::string>{"bob@example.com"});
  EXPECT_EQ(row(id)->state, "sent");
  EXPECT_EQ(row(id)->attempts, 0) << "the dead node's attempt never finished, so it does not count";
}

TEST_F(OutboxDeliveryTest, AFailedAttemptGivesUpTheLeaseSoTheRetryMayBeAnyNodes) {
  smtp_.set_temporary_failure(true);
  const Runtime rt = runtime();
  OutboxDelivery delivery("node-a");
  const std::int64_t id = enqueue("bob@example.com");

  delivery.step(rt, not_aborted_);

  EXPECT_EQ(row(id)->attempts, 1);
  EXPECT_EQ(lease_of(id).owner, std::nullopt);
  EXPECT_EQ(lease_of(id).until, std::nullopt);
  clock_->advance(30s);
  EXPECT_EQ(claim_as("node-b", 80), id) << "due again at its next attempt, for whichever node comes first";
}

// --- purge ---------------------------------------------------------------------

TEST_F(OutboxDeliveryTest, RecordsOfSentMailArePurgedThirtyDaysAfterDelivery) {
  const Runtime rt = runtime();
  OutboxDelivery delivery("node-a");
  sent_record("old@example.com", now() - 30 * kDay);
  sent_record("recent@example.com", now() - 30 * kDay + 30);

  delivery.step(rt, not_aborted_);
  const auto after_first = recipients_left();
  clock_->advance(30s);  // the next check
  delivery.step(rt, not_aborted_);

  EXPECT_EQ(after_first, std::vector<std::string>{"recent@example.com"});
  EXPECT_TRUE(recipients_left().empty());
}

}  // namespace
}  // namespace dirproxy
