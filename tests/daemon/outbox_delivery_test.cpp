// The mail sender's steps on a ManualClock: the retry back-off, giving up
// after max_attempts and the purge of old records, each to the second and without waiting, against a real state
// database, in-memory directories and a real SMTP server (aiosmtpd).
#include "daemon/outbox_delivery.hpp"

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

  // A Runtime on clock_ that sends through smtp_ with a 30 s back-off.
  Runtime runtime(unsigned max_attempts = 10) {
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
        config, hasher, chain, AccountPolicy(config->accounts), database_, nullptr, std::make_shared<RateLimiter>(),
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
    const std::int64_t id = enqueue(recipient, sent_at);
    auto lease = database_->acquire();
    if (auto sent = mark_mail_sent(lease, id, sent_at); !sent) throw std::runtime_error(sent.error().message);
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
  OutboxDelivery delivery;
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
  OutboxDelivery delivery;
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
  OutboxDelivery delivery;
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
  OutboxDelivery delivery;
  const std::int64_t id = enqueue("bob@example.com");
  delivery.step(rt, not_aborted_);
  smtp_.set_temporary_failure(false);

  clock_->advance(30s);
  delivery.step(rt, not_aborted_);

  EXPECT_EQ(row(id)->state, "sent");
  EXPECT_EQ(row(id)->attempts, 1);
  EXPECT_EQ(smtp_.messages().size(), 1u);
}

// --- purge ---------------------------------------------------------------------

TEST_F(OutboxDeliveryTest, RecordsOfSentMailArePurgedThirtyDaysAfterDelivery) {
  const Runtime rt = runtime();
  OutboxDelivery delivery;
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
