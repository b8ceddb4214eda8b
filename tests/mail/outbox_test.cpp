// The outbox's retry schedule and its rows' life cycle on a real (temporary)
// state database.
#include "mail/outbox.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'700'000'000;

TEST(Outbox, RetryDelayDoublesFromTheBackoff) {
  EXPECT_EQ(retry_delay_seconds(30s, 1), 30);
  EXPECT_EQ(retry_delay_seconds(30s, 2), 60);
  EXPECT_EQ(retry_delay_seconds(30s, 4), 240);
}

TEST(Outbox, RetryDelayIsAtLeastOneWholeSecond) {
  EXPECT_EQ(retry_delay_seconds(500ms, 1), 1);
  EXPECT_EQ(retry_delay_seconds(500ms, 2), 1);
  EXPECT_EQ(retry_delay_seconds(500ms, 3), 2);
  EXPECT_EQ(retry_delay_seconds(1500ms, 1), 2);
}

TEST(Outbox, RetryDelayNeverOverflows) {
  EXPECT_EQ(retry_delay_seconds(30s, 1000), retry_delay_seconds(30s, 21));
  EXPECT_GT(retry_delay_seconds(30s, 1000), 0);
}

class OutboxRows : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = StateDatabase::open(scratch_.path(), 1);
    ASSERT_TRUE(opened) << opened.error().message;
    database_ = std::move(*opened);
  }

  testing::TemporaryDirectory scratch_{"dpo"};
  std::shared_ptr<StateDatabase> database_;
};

TEST_F(OutboxRows, DueMailIsTheOldestPendingRowThatIsDue) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "first"}, kNow));
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "b@example.com", "second"}, kNow));
  ASSERT_TRUE(enqueue_mail(lease, {"new_user", "c@example.com", "held"}, kNow, std::string("carol")));

  auto due = next_due_mail(lease, /*now=*/std::numeric_limits<std::int64_t>::max());

  ASSERT_TRUE(due && *due);
  EXPECT_EQ((*due)->recipient, "a@example.com");
  EXPECT_EQ((*due)->message, "first");
  EXPECT_EQ((*due)->attempts, 0);
  EXPECT_TRUE(next_due_mail(lease, /*now=*/0).value() == std::nullopt) << "nothing is due before it was queued";
}

TEST_F(OutboxRows, SentMailLosesItsTextAndIsNoLongerDue) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "token inside"}, kNow));
  const std::int64_t id = next_due_mail(lease, INT64_MAX).value()->id;

  ASSERT_TRUE(mark_mail_sent(lease, id, 1234));

  EXPECT_EQ(next_due_mail(lease, INT64_MAX).value(), std::nullopt);
  auto select = lease.prepare("SELECT state, message, sent_at FROM outbox WHERE id = ?1", id);
  ASSERT_TRUE(select && select->step().value());
  EXPECT_EQ(select->column_text(0), "sent");
  EXPECT_EQ(select->column_text(1), "");
  EXPECT_EQ(select->column_int64(2), 1234);
}

TEST_F(OutboxRows, QueuedMailIsDueFromTheSecondItWasQueued) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));

  auto before = next_due_mail(lease, kNow - 1);
  auto at_once = next_due_mail(lease, kNow);

  ASSERT_TRUE(before && at_once);
  EXPECT_EQ(*before, std::nullopt);
  ASSERT_TRUE(at_once->has_value());
  EXPECT_EQ((*at_once)->recipient, "a@example.com");
}

TEST_F(OutboxRows, AFailedAttemptMakesTheRowDueAgainAtItsNextAttemptOnly) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = next_due_mail(lease, kNow).value()->id;

  ASSERT_TRUE(record_failed_attempt(lease, id, 1, kNow + 30, "connection refused"));

  EXPECT_EQ(next_due_mail(lease, kNow + 29).value(), std::nullopt);
  auto due = next_due_mail(lease, kNow + 30);
  ASSERT_TRUE(due && due->has_value());
  EXPECT_EQ((*due)->id, id);
  EXPECT_EQ((*due)->attempts, 1);
}

TEST_F(OutboxRows, HeldMailIsNeverDueAndReleasedMailIsDueFromItsRelease) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"new_user", "c@example.com", "m"}, kNow, std::string("carol")));
  EXPECT_EQ(next_due_mail(lease, INT64_MAX).value(), std::nullopt) << "held mail waits for its change";

  ASSERT_TRUE(release_held_mail(lease, "carol", kNow + 100));

  EXPECT_EQ(next_due_mail(lease, kNow + 99).value(), std::nullopt);
  auto due = next_due_mail(lease, kNow + 100);
  ASSERT_TRUE(due && due->has_value());
  EXPECT_EQ((*due)->recipient, "c@example.com");
}

TEST_F(OutboxRows, FailedAttemptsRescheduleThenFail) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = next_due_mail(lease, INT64_MAX).value()->id;

  ASSERT_TRUE(record_failed_attempt(lease, id, 1, INT64_MAX - 1, "connection refused"));
  EXPECT_EQ(next_due_mail(lease, INT64_MAX - 2).value(), std::nullopt);
  EXPECT_EQ(next_due_mail(lease, INT64_MAX - 1).value()->attempts, 1);
  ASSERT_TRUE(record_failed_attempt(lease, id, 2, std::nullopt, "connection refused"));

  // Never to be sent, so its text (which may hold a token) goes.
  auto select = lease.prepare("SELECT state, message FROM outbox WHERE id = ?1", id);
  ASSERT_TRUE(select && select->step().value());
  EXPECT_EQ(select->column_text(0), "failed");
  EXPECT_EQ(select->column_text(1), "");
  const OutboxCounts counts = count_outbox(lease).value();
  EXPECT_EQ(counts.pending, 0);
  EXPECT_EQ(counts.failed, 1);
  EXPECT_EQ(counts.oldest_pending_created_at, std::nullopt);
}

TEST_F(OutboxRows, CountsSeparatePendingFailedAndHeld) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  ASSERT_TRUE(enqueue_mail(lease, {"new_user", "c@example.com", "m"}, kNow, std::string("carol")));

  const OutboxCounts counts = count_outbox(lease).value();

  EXPECT_EQ(counts.pending, 1);
  EXPECT_EQ(counts.failed, 0);
  EXPECT_EQ(counts.held, 1);
  EXPECT_EQ(counts.oldest_pending_created_at, kNow);
}

TEST_F(OutboxRows, PurgeDeletesOnlySentRowsUpToTheCutoff) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "old@example.com", "m"}, kNow));
  ASSERT_TRUE(mark_mail_sent(lease, next_due_mail(lease, INT64_MAX).value()->id, 1000));
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "new@example.com", "m"}, kNow));
  ASSERT_TRUE(mark_mail_sent(lease, next_due_mail(lease, INT64_MAX).value()->id, 3000));
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "pending@example.com", "m"}, kNow));

  ASSERT_TRUE(purge_sent_mail(lease, 2000));

  auto select = lease.prepare("SELECT recipient FROM outbox ORDER BY id");
  ASSERT_TRUE(select);
  std::vector<std::string> left;
  while (select->step().value()) left.push_back(select->column_text(0));
  EXPECT_EQ(left, (std::vector<std::string>{"new@example.com", "pending@example.com"}));
}

TEST_F(OutboxRows, PurgeLeavesFailedRowsForMailQueue) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "failed@example.com", "m"}, kNow));
  ASSERT_TRUE(record_failed_attempt(lease, next_due_mail(lease, kNow).value()->id, 1, std::nullopt, "550"));

  ASSERT_TRUE(purge_sent_mail(lease, INT64_MAX));

  EXPECT_EQ(count_outbox(lease).value().failed, 1) << "an admin sees failed mail in mail_queue until it is dealt with";
}

}  // namespace
}  // namespace dirproxy
