// The outbox's retry schedule and its rows' life cycle on a real (temporary)
// state database.
#include "mail/outbox.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "support/temporary_directory.hpp"
#include "support/test_state_database.hpp"

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

class OutboxRows : public ::testing::TestWithParam<StateBackend> {
 protected:
  std::shared_ptr<void> keep_database_;  // a PostgreSQL test database, dropped last

 protected:
  void SetUp() override {
    auto opened = testing::open_state_database(GetParam(), scratch_.path(), 1, keep_database_);
    ASSERT_TRUE(opened) << opened.error().message;
    database_ = std::move(*opened);
  }

  // What `owner` claims at `now` with a lease of kLease seconds.
  std::optional<DueMail> claim(const StateDatabase::Lease& lease, std::int64_t now,
                               const std::string& owner = kNodeA) {
    auto claimed = claim_due_mail(lease, owner, now, kLease);
    if (!claimed) throw std::runtime_error(claimed.error().message);
    return std::move(*claimed);
  }

  // The id of the row `owner` claims at `now`; throws when none is due.
  std::int64_t claimed_id(const StateDatabase::Lease& lease, std::int64_t now, const std::string& owner = kNodeA) {
    auto due = claim(lease, now, owner);
    if (!due) throw std::runtime_error("nothing to claim");
    return due->id;
  }

  struct MailLease {
    std::optional<std::string> owner;
    std::optional<std::int64_t> until;
  };
  MailLease lease_of(const StateDatabase::Lease& lease, std::int64_t id) {
    auto select = lease.prepare("SELECT lease_owner, lease_until FROM outbox WHERE id = ?1", id);
    if (!select || !select->step().value()) throw std::runtime_error("no row");
    return {select->column_optional_text(0), select->column_optional_int64(1)};
  }

  static constexpr std::int64_t kLease = 80;
  inline static const std::string kNodeA = "node-a";
  inline static const std::string kNodeB = "node-b";
  testing::TemporaryDirectory scratch_{"dpo"};
  std::shared_ptr<StateDatabase> database_;
};

TEST_P(OutboxRows, DueMailIsTheOldestPendingRowThatIsDue) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "first"}, kNow));
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "b@example.com", "second"}, kNow));
  ASSERT_TRUE(enqueue_mail(lease, {"new_user", "c@example.com", "held"}, kNow, std::string("carol")));

  EXPECT_EQ(claim(lease, /*now=*/0), std::nullopt) << "nothing is due before it was queued";
  auto due = claim(lease, kNow);

  ASSERT_TRUE(due);
  EXPECT_EQ(due->recipient, "a@example.com");
  EXPECT_EQ(due->message, "first");
  EXPECT_EQ(due->attempts, 0);
}

TEST_P(OutboxRows, AClaimLeasesTheRowToItsOwnerAndLeavesItPending) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));

  const std::int64_t id = claimed_id(lease, kNow + 5);

  const MailLease held = lease_of(lease, id);
  EXPECT_EQ(held.owner, kNodeA);
  EXPECT_EQ(held.until, kNow + 5 + kLease);
  EXPECT_EQ(count_outbox(lease).value().pending, 1) << "a message being sent still counts as pending";
}

TEST_P(OutboxRows, TwoNodesClaimingInTurnGetEachMessageOnce) {
  auto lease = database_->acquire();
  for (const char* to : {"a@example.com", "b@example.com", "c@example.com"}) {
    ASSERT_TRUE(enqueue_mail(lease, {"invitation", to, "m"}, kNow));
  }

  auto first = claim(lease, kNow, kNodeA);
  auto second = claim(lease, kNow, kNodeB);
  auto third = claim(lease, kNow, kNodeA);
  auto none = claim(lease, kNow, kNodeB);

  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->recipient, "a@example.com");
  EXPECT_EQ(second->recipient, "b@example.com");
  EXPECT_EQ(third->recipient, "c@example.com");
  EXPECT_EQ(none, std::nullopt) << "every due message is leased";
}

TEST_P(OutboxRows, AClaimedMessageIsClaimableByAnotherNodeOnlyOnceItsLeaseEnds) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = claimed_id(lease, kNow, kNodeA);

  auto while_leased = claim(lease, kNow + kLease - 1, kNodeB);
  auto once_ended = claim(lease, kNow + kLease, kNodeB);

  EXPECT_EQ(while_leased, std::nullopt);
  ASSERT_TRUE(once_ended);
  EXPECT_EQ(once_ended->id, id);
  EXPECT_EQ(lease_of(lease, id).owner, kNodeB);
  EXPECT_EQ(lease_of(lease, id).until, kNow + 2 * kLease);
}

TEST_P(OutboxRows, ALostLeaseMakesTheOutcomeOfTheFormerOwnerChangeNothing) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = claimed_id(lease, kNow, kNodeA);
  ASSERT_EQ(claimed_id(lease, kNow + kLease, kNodeB), id);

  auto sent_by_a = mark_mail_sent(lease, id, kNodeA, kNow + kLease + 1);
  auto failed_by_a = record_failed_attempt(lease, id, kNodeA, 1, std::nullopt, "550");
  auto released_by_a = release_mail_lease(lease, id, kNodeA);

  ASSERT_TRUE(sent_by_a && failed_by_a && released_by_a);
  EXPECT_FALSE(*sent_by_a);
  EXPECT_FALSE(*failed_by_a);
  EXPECT_FALSE(*released_by_a);
  auto select = lease.prepare("SELECT state, attempts, message, lease_owner FROM outbox WHERE id = ?1", id);
  ASSERT_TRUE(select && select->step().value());
  EXPECT_EQ(select->column_text(0), "pending");
  EXPECT_EQ(select->column_int64(1), 0);
  EXPECT_EQ(select->column_text(2), "m");
  EXPECT_EQ(select->column_text(3), kNodeB);
}

TEST_P(OutboxRows, AnOwnerWhoseLeaseRanOutUnclaimedStillRecordsItsOutcome) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = claimed_id(lease, kNow, kNodeA);

  auto sent = mark_mail_sent(lease, id, kNodeA, kNow + 10 * kLease);

  ASSERT_TRUE(sent);
  EXPECT_TRUE(*sent) << "nobody else took it: marking it sent prevents a second delivery";
  EXPECT_EQ(claim(lease, kNow + 20 * kLease, kNodeB), std::nullopt);
}

TEST_P(OutboxRows, AReleasedLeaseMakesTheRowClaimableAtOnceWithNoAttemptCounted) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = claimed_id(lease, kNow, kNodeA);

  auto released = release_mail_lease(lease, id, kNodeA);
  auto again = claim(lease, kNow + 1, kNodeB);

  ASSERT_TRUE(released);
  EXPECT_TRUE(*released);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, id);
  EXPECT_EQ(again->attempts, 0);
}

TEST_P(OutboxRows, SentMailLosesItsTextAndLeaseAndIsNoLongerDue) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "token inside"}, kNow));
  const std::int64_t id = claimed_id(lease, kNow);

  auto sent = mark_mail_sent(lease, id, kNodeA, 1234);

  ASSERT_TRUE(sent);
  EXPECT_TRUE(*sent);
  EXPECT_EQ(claim(lease, INT64_MAX - kLease, kNodeB), std::nullopt);
  auto select = lease.prepare("SELECT state, message, sent_at FROM outbox WHERE id = ?1", id);
  ASSERT_TRUE(select && select->step().value());
  EXPECT_EQ(select->column_text(0), "sent");
  EXPECT_EQ(select->column_text(1), "");
  EXPECT_EQ(select->column_int64(2), 1234);
  EXPECT_EQ(lease_of(lease, id).owner, std::nullopt);
  EXPECT_EQ(lease_of(lease, id).until, std::nullopt);
}

TEST_P(OutboxRows, QueuedMailIsDueFromTheSecondItWasQueued) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));

  auto before = claim(lease, kNow - 1);
  auto at_once = claim(lease, kNow);

  EXPECT_EQ(before, std::nullopt);
  ASSERT_TRUE(at_once);
  EXPECT_EQ(at_once->recipient, "a@example.com");
}

TEST_P(OutboxRows, AFailedAttemptMakesTheRowDueAgainAtItsNextAttemptOnly) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = claimed_id(lease, kNow);

  auto recorded = record_failed_attempt(lease, id, kNodeA, 1, kNow + 30, "connection refused");

  ASSERT_TRUE(recorded);
  EXPECT_TRUE(*recorded);
  EXPECT_EQ(claim(lease, kNow + 29, kNodeB), std::nullopt);
  auto due = claim(lease, kNow + 30, kNodeB);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->id, id);
  EXPECT_EQ(due->attempts, 1);
}

TEST_P(OutboxRows, HeldMailIsNeverDueAndReleasedMailIsDueFromItsRelease) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"new_user", "c@example.com", "m"}, kNow, std::string("carol")));
  EXPECT_EQ(claim(lease, INT64_MAX - kLease), std::nullopt) << "held mail waits for its change";

  ASSERT_TRUE(release_held_mail(lease, "carol", kNow + 100));

  EXPECT_EQ(claim(lease, kNow + 99), std::nullopt);
  auto due = claim(lease, kNow + 100);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->recipient, "c@example.com");
}

TEST_P(OutboxRows, FailedAttemptsRescheduleThenFail) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  const std::int64_t id = claimed_id(lease, kNow);

  ASSERT_TRUE(record_failed_attempt(lease, id, kNodeA, 1, kNow + 1000, "connection refused").value());
  EXPECT_EQ(claim(lease, kNow + 999), std::nullopt);
  const auto again = claim(lease, kNow + 1000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 1);
  ASSERT_TRUE(record_failed_attempt(lease, id, kNodeA, 2, std::nullopt, "connection refused").value());

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

TEST_P(OutboxRows, CountsSeparatePendingFailedAndHeld) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "m"}, kNow));
  ASSERT_TRUE(enqueue_mail(lease, {"new_user", "c@example.com", "m"}, kNow, std::string("carol")));

  const OutboxCounts counts = count_outbox(lease).value();

  EXPECT_EQ(counts.pending, 1);
  EXPECT_EQ(counts.failed, 0);
  EXPECT_EQ(counts.held, 1);
  EXPECT_EQ(counts.oldest_pending_created_at, kNow);
}

TEST_P(OutboxRows, PurgeDeletesOnlySentRowsUpToTheCutoff) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "old@example.com", "m"}, kNow));
  ASSERT_TRUE(mark_mail_sent(lease, claimed_id(lease, kNow), kNodeA, 1000).value());
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "new@example.com", "m"}, kNow));
  ASSERT_TRUE(mark_mail_sent(lease, claimed_id(lease, kNow), kNodeA, 3000).value());
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "pending@example.com", "m"}, kNow));

  ASSERT_TRUE(purge_sent_mail(lease, 2000));

  auto select = lease.prepare("SELECT recipient FROM outbox ORDER BY id");
  ASSERT_TRUE(select);
  std::vector<std::string> left;
  while (select->step().value()) left.push_back(select->column_text(0));
  EXPECT_EQ(left, (std::vector<std::string>{"new@example.com", "pending@example.com"}));
}

TEST_P(OutboxRows, PurgeLeavesFailedRowsForMailQueue) {
  auto lease = database_->acquire();
  ASSERT_TRUE(enqueue_mail(lease, {"invitation", "failed@example.com", "m"}, kNow));
  ASSERT_TRUE(record_failed_attempt(lease, claimed_id(lease, kNow), kNodeA, 1, std::nullopt, "550").value());

  ASSERT_TRUE(purge_sent_mail(lease, INT64_MAX));

  EXPECT_EQ(count_outbox(lease).value().failed, 1) << "an admin sees failed mail in mail_queue until it is dealt with";
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxRows, testing::every_state_backend(), testing::state_backend_name);

}  // namespace
}  // namespace dirproxy
