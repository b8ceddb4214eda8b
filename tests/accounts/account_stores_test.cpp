// The state database stores of the account life cycle: invitations, access
// requests, the shared invitation link and pending signups, against a real
// SQLite file. The stores take the time from their caller, so expiry is
// tested at the exact second it happens, without waiting for it.
#include "accounts/invitation_store.hpp"

#include <gtest/gtest.h>

#include "accounts/access_request_store.hpp"
#include "accounts/account_creation_store.hpp"
#include "accounts/account_token.hpp"
#include "accounts/pending_signup_store.hpp"
#include "accounts/shared_invitation.hpp"
#include "storage/node_registry.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_state_database.hpp"

namespace dirproxy {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

class AccountStores : public ::testing::TestWithParam<StateBackend> {
 protected:
  std::shared_ptr<void> keep_database_;  // a PostgreSQL test database, dropped last

 protected:
  AccountStores() {
    auto opened = testing::open_state_database(GetParam(), temp_.path() / "state", 2, keep_database_);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
  }

  // An invitation for ann@example.com created at kNow.
  Invitation insert(const IssuedToken& token, std::int64_t ttl_s = 3600) {
    auto lease = database_->acquire();
    auto stored =
        insert_invitation(lease, NewInvitation{token.hash, "ann@example.com", {"dev"}, "hi", ttl_s, {}}, kNow);
    if (!stored) throw std::runtime_error(stored.error().message);
    return *stored;
  }

  testing::TemporaryDirectory temp_{"dps"};
  StateDatabasePtr database_;
};

TEST_P(AccountStores, OnlyTheHashIsStoredAndTheTokenFindsTheInvitation) {
  const auto token = issue_token();
  const auto stored = insert(token);
  auto lease = database_->acquire();

  auto found = find_usable_invitation(lease, token.token, kNow);
  auto query = lease.prepare("SELECT count(*) FROM invitations WHERE token_hash = ?1", token.token);
  ASSERT_TRUE(query);
  ASSERT_TRUE(*query->step());

  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, stored.id);
  EXPECT_EQ((*found)->email, "ann@example.com");
  EXPECT_EQ((*found)->groups, std::vector<std::string>({"dev"}));
  EXPECT_EQ(query->column_int64(0), 0);
}

TEST_P(AccountStores, AClaimSucceedsOnceAndAnUnclaimGivesItBack) {
  const auto stored = insert(issue_token());
  auto lease = database_->acquire();

  auto first = claim_invitation(lease, stored.id, "ann", kNow);
  auto second = claim_invitation(lease, stored.id, "ben", kNow);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  ASSERT_TRUE(unclaim_invitation(lease, stored.id, "ann"));
  auto third = claim_invitation(lease, stored.id, "ben", kNow);
  ASSERT_TRUE(third);
  EXPECT_TRUE(*third);
  auto found = find_invitation(lease, stored.id);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->used_by, "ben");
  EXPECT_EQ((*found)->status(kNow), "used");
}

TEST_P(AccountStores, RevokedAndExpiredInvitationsAreNotUsable) {
  const auto revoked_token = issue_token();
  const auto revoked = insert(revoked_token);
  const auto expiring_token = issue_token();
  const auto expiring = insert(expiring_token, 1);
  auto lease = database_->acquire();
  ASSERT_TRUE(revoke_invitation(lease, revoked.id, kNow));

  auto after_revoke = find_usable_invitation(lease, revoked_token.token, kNow);
  auto after_expiry = find_usable_invitation(lease, expiring_token.token, expiring.expires_at);
  auto claim_expired = claim_invitation(lease, expiring.id, "ann", expiring.expires_at);

  ASSERT_TRUE(after_revoke && after_expiry && claim_expired);
  EXPECT_FALSE(after_revoke->has_value());
  EXPECT_FALSE(after_expiry->has_value());
  EXPECT_FALSE(*claim_expired);
}

TEST_P(AccountStores, ReplacingTheTokenKillsTheOldOne) {
  const auto old_token = issue_token();
  const auto stored = insert(old_token);
  const auto new_token = issue_token();
  auto lease = database_->acquire();

  auto replaced = replace_invitation_token(lease, stored.id, new_token.hash, kNow, kNow + 60);

  ASSERT_TRUE(replaced);
  EXPECT_TRUE(*replaced);
  EXPECT_FALSE(find_usable_invitation(lease, old_token.token, kNow)->has_value());
  EXPECT_TRUE(find_usable_invitation(lease, new_token.token, kNow)->has_value());
}

TEST_P(AccountStores, AnInvitationIsStampedWithTheCallersTime) {
  const auto stored = insert(issue_token(), /*ttl_s=*/7 * 24 * 3600);

  EXPECT_EQ(stored.created_at, kNow);
  EXPECT_EQ(stored.expires_at, kNow + 7 * 24 * 3600);
  EXPECT_EQ(stored.status(kNow), "pending");
}

TEST_P(AccountStores, AnInvitationIsUsableUntilTheSecondBeforeItExpires) {
  const auto token = issue_token();
  const auto stored = insert(token, /*ttl_s=*/3600);
  auto lease = database_->acquire();

  auto last_second = find_usable_invitation(lease, token.token, kNow + 3599);
  auto at_expiry = find_usable_invitation(lease, token.token, kNow + 3600);
  auto after_expiry = find_usable_invitation(lease, token.token, kNow + 3601);

  ASSERT_TRUE(last_second && at_expiry && after_expiry);
  ASSERT_TRUE(last_second->has_value());
  EXPECT_EQ((*last_second)->id, stored.id);
  EXPECT_FALSE(at_expiry->has_value());
  EXPECT_FALSE(after_expiry->has_value());
}

TEST_P(AccountStores, AnInvitationsStatusTurnsExpiredAtItsExpiry) {
  const auto stored = insert(issue_token(), /*ttl_s=*/3600);

  EXPECT_EQ(stored.status(kNow + 3599), "pending");
  EXPECT_EQ(stored.status(kNow + 3600), "expired");
}

TEST_P(AccountStores, AnInvitationCanBeClaimedInItsLastSecondButNotAtItsExpiry) {
  const auto in_time = insert(issue_token(), /*ttl_s=*/3600);
  const auto too_late = insert(issue_token(), /*ttl_s=*/3600);
  auto lease = database_->acquire();

  auto claimed_in_time = claim_invitation(lease, in_time.id, "ann", kNow + 3599);
  auto claimed_too_late = claim_invitation(lease, too_late.id, "ben", kNow + 3600);

  ASSERT_TRUE(claimed_in_time && claimed_too_late);
  EXPECT_TRUE(*claimed_in_time);
  EXPECT_FALSE(*claimed_too_late);
  EXPECT_EQ(find_invitation(lease, too_late.id).value()->used_by, std::nullopt);
}

TEST_P(AccountStores, ExpiredInvitationsAreListedOnlyWithIncludeUsed) {
  const auto short_lived = insert(issue_token(), /*ttl_s=*/60);
  const auto long_lived = insert(issue_token(), /*ttl_s=*/3600);
  auto lease = database_->acquire();

  auto usable = list_invitations(lease, /*include_used=*/false, kNow + 60);
  auto all = list_invitations(lease, /*include_used=*/true, kNow + 60);

  ASSERT_TRUE(usable && all);
  ASSERT_EQ(usable->size(), 1u);
  EXPECT_EQ((*usable)[0].id, long_lived.id);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].id, short_lived.id);
  EXPECT_EQ((*all)[1].status(kNow + 60), "expired");
}

TEST_P(AccountStores, ANewTokenGivesAnExpiredInvitationItsNewExpiry) {
  const auto stored = insert(issue_token(), /*ttl_s=*/60);
  const auto new_token = issue_token();
  auto lease = database_->acquire();

  auto replaced = replace_invitation_token(lease, stored.id, new_token.hash, kNow + 100, kNow + 160);

  ASSERT_TRUE(replaced);
  EXPECT_TRUE(*replaced);
  EXPECT_TRUE(find_usable_invitation(lease, new_token.token, kNow + 159)->has_value());
  EXPECT_FALSE(find_usable_invitation(lease, new_token.token, kNow + 160)->has_value());
  EXPECT_EQ(find_invitation(lease, stored.id).value()->created_at, kNow + 100);
}

TEST_P(AccountStores, AnAccessRequestIsStampedWithTheCallersTimeAndDecidedOnce) {
  auto lease = database_->acquire();
  auto id = insert_access_request(lease, "zoe@example.com", "Zoë", std::string("please"), kNow);
  ASSERT_TRUE(id);

  auto approved = decide_access_request(lease, *id, "approved", kNow + 30);
  auto denied = decide_access_request(lease, *id, "denied", kNow + 60);
  auto request = find_access_request(lease, *id);

  ASSERT_TRUE(approved && denied && request && request->has_value());
  EXPECT_TRUE(*approved);
  EXPECT_FALSE(*denied);
  EXPECT_EQ((*request)->created_at, kNow);
  EXPECT_EQ((*request)->status, "approved");
  EXPECT_EQ((*request)->decided_at, kNow + 30);
}

TEST_P(AccountStores, TheSharedTokenIsStableUntilAReset) {
  auto lease = database_->acquire();

  auto before = is_shared_invitation_token(lease, "anything");
  auto first = current_shared_invitation_token(lease);
  auto again = current_shared_invitation_token(lease);
  auto reset = reset_shared_invitation_token(lease);

  ASSERT_TRUE(before && first && again && reset);
  EXPECT_FALSE(*before);
  EXPECT_EQ(*first, *again);
  EXPECT_NE(*reset, *first);
  EXPECT_FALSE(*is_shared_invitation_token(lease, *first));
  EXPECT_TRUE(*is_shared_invitation_token(lease, *reset));
}

TEST_P(AccountStores, APendingSignupReservesItsNameUntilItExpiresAndIsClaimedOnce) {
  const auto token = issue_token();
  const std::int64_t now = kNow;
  PendingSignup signup{0, token.hash, "ann", "ann@example.com", "Ann", "$argon2id$x", now, now + 10};
  auto lease = database_->acquire();
  auto id = insert_pending_signup(lease, signup);
  ASSERT_TRUE(id);

  EXPECT_TRUE(*username_pending(lease, "ANN", now));
  EXPECT_FALSE(*username_pending(lease, "ann", now + 10));
  auto found = find_pending_signup(lease, token.token, now);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->password_hash, "$argon2id$x");
  EXPECT_TRUE(*claim_pending_signup(lease, *id));
  EXPECT_FALSE(*claim_pending_signup(lease, *id));
  // Claimed, it is not found, and still reserves its name.
  EXPECT_FALSE(find_pending_signup(lease, token.token, now)->has_value());
  EXPECT_TRUE(*username_pending(lease, "ann", now));
  ASSERT_TRUE(unclaim_pending_signup(lease, *id));
  EXPECT_TRUE(find_pending_signup(lease, token.token, now)->has_value());
  ASSERT_TRUE(purge_expired_signups(lease, now + 10));
  EXPECT_FALSE(find_pending_signup(lease, token.token, now)->has_value());
}

TEST_P(AccountStores, ADeletedPendingSignupCannotBeClaimed) {
  const auto token = issue_token();
  auto lease = database_->acquire();
  auto id = insert_pending_signup(
      lease, PendingSignup{0, token.hash, "ann", "ann@example.com", "Ann", "$argon2id$x", kNow, kNow + 10});
  ASSERT_TRUE(id);

  ASSERT_TRUE(delete_pending_signup(lease, *id));

  EXPECT_FALSE(*claim_pending_signup(lease, *id));
  EXPECT_FALSE(*username_pending(lease, "ann", kNow));
}

TEST_P(AccountStores, ACreationRecordKeepsItsGroupsAndClaimAndHoldsItsUsernameOnce) {
  auto lease = database_->acquire();
  CreationRecord record;
  record.username = "ann";
  record.groups = {"users", "staff"};
  record.reset_token_hash = "abc";
  record.invitation_id = 7;
  record.process = "earlier";
  record.started_at = kNow;
  auto id = insert_creation_record(lease, record);
  ASSERT_TRUE(id) << id.error().message;

  record.process = "this";
  auto again = insert_creation_record(lease, record);
  auto of_others = creation_records_of_gone_processes(lease, "this", kNow);
  auto of_earlier = creation_records_of_gone_processes(lease, "earlier", kNow);

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_TRUE(*creation_recorded(lease, "ANN"));
  ASSERT_TRUE(of_others && of_earlier);
  EXPECT_TRUE(of_earlier->empty());
  ASSERT_EQ(of_others->size(), 1u);
  const CreationRecord& found = of_others->front();
  EXPECT_EQ(found.id, *id);
  EXPECT_EQ(found.username, "ann");
  EXPECT_EQ(found.groups, std::vector<std::string>({"users", "staff"}));
  EXPECT_EQ(found.reset_token_hash, "abc");
  EXPECT_EQ(found.invitation_id, 7);
  EXPECT_EQ(found.pending_signup_id, std::nullopt);
  EXPECT_EQ(found.started_at, kNow);
  EXPECT_EQ(delete_creation_record(lease, found).value(), true);
  EXPECT_FALSE(*creation_recorded(lease, "ann"));
  EXPECT_EQ(delete_creation_record(lease, found).value(), false) << "settled already";
}

TEST_P(AccountStores, DeletingASettledRecordLeavesANewRecordThatGotItsIdAlone) {
  if (GetParam() == StateBackend::postgresql) {
    GTEST_SKIP() << "PostgreSQL never hands a deleted row's id out again; SQLite does, which this guards";
  }
  auto lease = database_->acquire();
  CreationRecord old_record;
  old_record.username = "ann";
  old_record.process = "dead";
  old_record.started_at = kNow;
  old_record.id = insert_creation_record(lease, old_record).value();
  ASSERT_TRUE(delete_creation_record(lease, old_record).value());
  CreationRecord new_record = old_record;
  new_record.process = "live";
  new_record.started_at = kNow + 5;
  new_record.id = insert_creation_record(lease, new_record).value();

  auto again = delete_creation_record(lease, old_record);

  EXPECT_EQ(new_record.id, old_record.id) << "SQLite gave the new row the old id (else this test proves nothing)";
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_TRUE(*creation_recorded(lease, "ann"));
}

TEST_P(AccountStores, RecordsOfLiveNodesAreNotGoneOnlyThoseOfStaleMissingOrHandedOverOnes) {
  auto lease = database_->acquire();
  const std::int64_t live_since = kNow - 60;
  ASSERT_TRUE(record_node_heartbeat(lease, "live", live_since));
  ASSERT_TRUE(record_node_heartbeat(lease, "stale", live_since - 1));
  for (const char* process : {"live", "stale", "no-row", "", "this"}) {
    CreationRecord record;
    record.username = std::string("user-of-") + process;
    record.process = process;
    record.started_at = kNow;
    ASSERT_TRUE(insert_creation_record(lease, record));
  }

  auto gone = creation_records_of_gone_processes(lease, "this", live_since);

  ASSERT_TRUE(gone) << gone.error().message;
  std::vector<std::string> usernames;
  for (const auto& record : *gone) usernames.push_back(record.username);
  EXPECT_EQ(usernames, (std::vector<std::string>{"user-of-stale", "user-of-no-row", "user-of-"}));
}

TEST_P(AccountStores, APendingSignupCanBeConfirmedUntilTheSecondBeforeItExpires) {
  const auto token = issue_token();
  const std::int64_t expires_at = kNow + 24 * 3600;
  auto lease = database_->acquire();
  ASSERT_TRUE(insert_pending_signup(
      lease, PendingSignup{0, token.hash, "ann", "ann@example.com", "Ann", "$argon2id$x", kNow, expires_at}));

  auto last_second = find_pending_signup(lease, token.token, expires_at - 1);
  auto at_expiry = find_pending_signup(lease, token.token, expires_at);

  ASSERT_TRUE(last_second && at_expiry);
  ASSERT_TRUE(last_second->has_value());
  EXPECT_EQ((*last_second)->username, "ann");
  EXPECT_EQ((*last_second)->created_at, kNow);
  EXPECT_FALSE(at_expiry->has_value());
}

TEST_P(AccountStores, AnExpiredPendingSignupFreesItsUsernameAndIsPurged) {
  const auto token = issue_token();
  const std::int64_t expires_at = kNow + 24 * 3600;
  auto lease = database_->acquire();
  ASSERT_TRUE(insert_pending_signup(
      lease, PendingSignup{0, token.hash, "ann", "ann@example.com", "Ann", "$argon2id$x", kNow, expires_at}));

  EXPECT_TRUE(*username_pending(lease, "ann", expires_at - 1));
  EXPECT_FALSE(*username_pending(lease, "ann", expires_at));
  ASSERT_TRUE(purge_expired_signups(lease, expires_at - 1));
  EXPECT_TRUE(find_pending_signup(lease, token.token, kNow)->has_value()) << "not expired yet: kept";
  ASSERT_TRUE(purge_expired_signups(lease, expires_at));
  EXPECT_FALSE(find_pending_signup(lease, token.token, kNow)->has_value()) << "expired: purged";
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountStores, testing::every_state_backend(), testing::state_backend_name);

}  // namespace
}  // namespace dirproxy
