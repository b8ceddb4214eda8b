// The state database stores of the account life cycle: invitations, the
// shared invitation link and pending signups, against a real SQLite file.
#include "accounts/invitation_store.hpp"

#include <gtest/gtest.h>

#include "accounts/account_token.hpp"
#include "accounts/pending_signup_store.hpp"
#include "accounts/shared_invitation.hpp"
#include "core/timestamp.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

class AccountStores : public ::testing::Test {
 protected:
  AccountStores() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
  }

  Invitation insert(const IssuedToken& token, std::int64_t ttl_s = 3600) {
    auto lease = database_->acquire();
    auto stored = insert_invitation(lease, NewInvitation{token.hash, "ann@example.com", {"dev"}, "hi", ttl_s, {}});
    if (!stored) throw std::runtime_error(stored.error().message);
    return *stored;
  }

  testing::TemporaryDirectory temp_{"dps"};
  StateDatabasePtr database_;
};

TEST_F(AccountStores, OnlyTheHashIsStoredAndTheTokenFindsTheInvitation) {
  const auto token = issue_token();
  const auto stored = insert(token);
  auto lease = database_->acquire();

  auto found = find_usable_invitation(lease, token.token, unix_now());
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

TEST_F(AccountStores, AClaimSucceedsOnceAndAnUnclaimGivesItBack) {
  const auto stored = insert(issue_token());
  auto lease = database_->acquire();

  auto first = claim_invitation(lease, stored.id, "ann", unix_now());
  auto second = claim_invitation(lease, stored.id, "ben", unix_now());
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  ASSERT_TRUE(unclaim_invitation(lease, stored.id, "ann"));
  auto third = claim_invitation(lease, stored.id, "ben", unix_now());
  ASSERT_TRUE(third);
  EXPECT_TRUE(*third);
  auto found = find_invitation(lease, stored.id);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->used_by, "ben");
  EXPECT_EQ((*found)->status(unix_now()), "used");
}

TEST_F(AccountStores, RevokedAndExpiredInvitationsAreNotUsable) {
  const auto revoked_token = issue_token();
  const auto revoked = insert(revoked_token);
  const auto expiring_token = issue_token();
  const auto expiring = insert(expiring_token, 1);
  auto lease = database_->acquire();
  ASSERT_TRUE(revoke_invitation(lease, revoked.id, unix_now()));

  auto after_revoke = find_usable_invitation(lease, revoked_token.token, unix_now());
  auto after_expiry = find_usable_invitation(lease, expiring_token.token, expiring.expires_at);
  auto claim_expired = claim_invitation(lease, expiring.id, "ann", expiring.expires_at);

  ASSERT_TRUE(after_revoke && after_expiry && claim_expired);
  EXPECT_FALSE(after_revoke->has_value());
  EXPECT_FALSE(after_expiry->has_value());
  EXPECT_FALSE(*claim_expired);
}

TEST_F(AccountStores, ReplacingTheTokenKillsTheOldOne) {
  const auto old_token = issue_token();
  const auto stored = insert(old_token);
  const auto new_token = issue_token();
  auto lease = database_->acquire();

  auto replaced = replace_invitation_token(lease, stored.id, new_token.hash, unix_now(), unix_now() + 60);

  ASSERT_TRUE(replaced);
  EXPECT_TRUE(*replaced);
  EXPECT_FALSE(find_usable_invitation(lease, old_token.token, unix_now())->has_value());
  EXPECT_TRUE(find_usable_invitation(lease, new_token.token, unix_now())->has_value());
}

TEST_F(AccountStores, TheSharedTokenIsStableUntilAReset) {
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

TEST_F(AccountStores, APendingSignupReservesItsNameUntilItExpiresAndIsClaimedOnce) {
  const auto token = issue_token();
  const std::int64_t now = unix_now();
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
  ASSERT_TRUE(restore_pending_signup(lease, **found));
  EXPECT_TRUE(find_pending_signup(lease, token.token, now)->has_value());
  ASSERT_TRUE(purge_expired_signups(lease, now + 10));
  EXPECT_FALSE(find_pending_signup(lease, token.token, now)->has_value());
}

}  // namespace
}  // namespace dirproxy
