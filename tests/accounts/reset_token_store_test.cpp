// reset_token_store: storing, consuming (once), restoring and invalidating
// the single-use password-reset tokens, against a real state database.
#include "accounts/reset_token_store.hpp"

#include <gtest/gtest.h>

#include "support/temporary_directory.hpp"
#include "support/test_state_database.hpp"

namespace dirproxy {
namespace {

using testing::TemporaryDirectory;

constexpr std::int64_t kNow = 1'700'000'000;

class ResetTokenStoreTest : public ::testing::TestWithParam<StateBackend> {
 protected:
  std::shared_ptr<void> keep_database_;  // a PostgreSQL test database, dropped last

 protected:
  ResetTokenStoreTest() {
    auto opened = testing::open_state_database(GetParam(), temp_.path() / "state", 2, keep_database_);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = *opened;
  }

  IssuedToken store(std::string_view username, std::int64_t expires_at = kNow + 3600,
                    ResetPurpose purpose = ResetPurpose::password_reset) {
    IssuedToken token = issue_token();
    auto lease = database_->acquire();
    auto stored = store_reset_token(lease, token, username, purpose, kNow, expires_at);
    if (!stored) throw std::runtime_error(stored.error().message);
    return token;
  }

  std::optional<ConsumedResetToken> consume(std::string_view token, std::int64_t now = kNow + 1) {
    auto lease = database_->acquire();
    auto consumed = consume_reset_token(lease, token, now);
    if (!consumed) throw std::runtime_error(consumed.error().message);
    return *consumed;
  }

  std::string stored_text(std::string_view sql) {
    auto lease = database_->acquire();
    auto statement = lease.prepare(sql);
    if (!statement) throw std::runtime_error(statement.error().message);
    auto row = statement->step();
    if (!row || !*row) throw std::runtime_error("no row for " + std::string(sql));
    return statement->column_text(0);
  }

  TemporaryDirectory temp_{"reset-tokens"};
  StateDatabasePtr database_;
};

TEST_P(ResetTokenStoreTest, OnlyTheHashIsStored) {
  IssuedToken token = store("alice");

  EXPECT_EQ(stored_text("SELECT token_hash FROM reset_tokens"), token_hash(token.token));
  EXPECT_EQ(stored_text("SELECT COUNT(*) FROM reset_tokens WHERE token_hash = '" + token.token + "'"), "0");
}

TEST_P(ResetTokenStoreTest, AStoredTokenIsConsumedForItsUserAndPurpose) {
  IssuedToken token = store("alice", kNow + 3600, ResetPurpose::new_user);

  auto consumed = consume(token.token);

  ASSERT_TRUE(consumed.has_value());
  EXPECT_EQ(consumed->username, "alice");
  EXPECT_EQ(consumed->purpose, ResetPurpose::new_user);
  EXPECT_EQ(stored_text("SELECT used_at FROM reset_tokens"), std::to_string(kNow + 1));
}

TEST_P(ResetTokenStoreTest, ATokenIsConsumedOnlyOnce) {
  IssuedToken token = store("alice");
  ASSERT_TRUE(consume(token.token).has_value());

  EXPECT_FALSE(consume(token.token).has_value());
}

TEST_P(ResetTokenStoreTest, AnExpiredTokenIsNotConsumed) {
  IssuedToken token = store("alice", kNow + 10);

  EXPECT_FALSE(consume(token.token, kNow + 10).has_value());
}

TEST_P(ResetTokenStoreTest, ATokenIsConsumedInTheLastSecondBeforeItExpires) {
  IssuedToken token = store("alice", kNow + 3600);

  auto consumed = consume(token.token, kNow + 3599);

  ASSERT_TRUE(consumed.has_value());
  EXPECT_EQ(consumed->username, "alice");
  EXPECT_EQ(consumed->used_at, kNow + 3599);
}

TEST_P(ResetTokenStoreTest, AnUnknownOrMalformedTokenIsNotConsumed) {
  store("alice");

  EXPECT_FALSE(consume(issue_token().token).has_value());
  EXPECT_FALSE(consume("").has_value());
  EXPECT_FALSE(consume("'; DROP TABLE reset_tokens; --").has_value());
}

TEST_P(ResetTokenStoreTest, ARestoredTokenCanBeConsumedAgain) {
  IssuedToken token = store("alice");
  auto consumed = consume(token.token);
  ASSERT_TRUE(consumed.has_value());
  {
    auto lease = database_->acquire();
    ASSERT_TRUE(restore_reset_token(lease, *consumed));
  }

  EXPECT_TRUE(consume(token.token).has_value());
}

TEST_P(ResetTokenStoreTest, InvalidatingKillsEveryUnusedTokenOfThatUserOnly) {
  IssuedToken first = store("alice");
  IssuedToken second = store("alice");
  IssuedToken other = store("bob");
  {
    auto lease = database_->acquire();
    ASSERT_TRUE(invalidate_reset_tokens(lease, "ALICE", kNow + 1));
  }

  EXPECT_FALSE(consume(first.token).has_value());
  EXPECT_FALSE(consume(second.token).has_value());
  EXPECT_TRUE(consume(other.token).has_value());
}

TEST_P(ResetTokenStoreTest, ATokenBeingRedeemedWhenTheLinksAreInvalidatedIsNeverRestored) {
  IssuedToken token = store("alice");
  auto consumed = consume(token.token, kNow + 1);
  ASSERT_TRUE(consumed.has_value());
  {
    // An admin sets the password while the redemption is under way; then
    // the redemption's own password change fails and it gives the token back.
    auto lease = database_->acquire();
    ASSERT_TRUE(invalidate_reset_tokens(lease, "alice", kNow + 2));
    ASSERT_TRUE(restore_reset_token(lease, *consumed));
  }

  EXPECT_FALSE(consume(token.token, kNow + 3).has_value());
}

TEST_P(ResetTokenStoreTest, PruningDeletesOnlyExpiredTokens) {
  store("alice", kNow + 10);
  IssuedToken live = store("bob", kNow + 100);
  {
    auto lease = database_->acquire();
    ASSERT_TRUE(prune_reset_tokens(lease, kNow + 50));
  }

  EXPECT_EQ(stored_text("SELECT COUNT(*) FROM reset_tokens"), "1");
  EXPECT_TRUE(consume(live.token).has_value());
}

TEST_P(ResetTokenStoreTest, DeletingByHashRemovesThatTokenOnly) {
  IssuedToken gone = store("alice");
  IssuedToken kept = store("alice");
  {
    auto lease = database_->acquire();
    ASSERT_TRUE(delete_reset_token(lease, gone.hash));
  }

  EXPECT_FALSE(consume(gone.token).has_value());
  EXPECT_TRUE(consume(kept.token).has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, ResetTokenStoreTest, testing::every_state_backend(), testing::state_backend_name);

}  // namespace
}  // namespace dirproxy
