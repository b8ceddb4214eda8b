// admin_session_store: the admin console's sessions against a real state
// database: only the id's hash is stored, a session ends after its idle
// time, its CSRF token is its own, and notices and groups are kept.
#include "accounts/admin_session_store.hpp"

#include <gtest/gtest.h>

#include "accounts/account_token.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_state_database.hpp"

namespace dirproxy {
namespace {

using testing::TemporaryDirectory;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kIdleTtl = 1800;

class AdminSessionStoreTest : public ::testing::TestWithParam<StateBackend> {
 protected:
  std::shared_ptr<void> keep_database_;  // a PostgreSQL test database, dropped last

 protected:
  AdminSessionStoreTest() {
    auto opened = testing::open_state_database(GetParam(), temp_.path() / "state", 2, keep_database_);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = *opened;
  }

  NewAdminSession start(std::string_view username, std::int64_t now = kNow) {
    auto created = create_admin_session(database_->acquire(), username, {"admins", "staff"}, now);
    if (!created) throw std::runtime_error(created.error().message);
    return *created;
  }

  // The session as a request at `now` finds it.
  std::optional<AdminSessionRecord> find(std::string_view session_id, std::int64_t now = kNow) {
    auto found = find_admin_session(database_->acquire(), session_id, now - kIdleTtl);
    if (!found) throw std::runtime_error(found.error().message);
    return *found;
  }

  std::string stored_text(const std::string& sql) {
    auto lease = database_->acquire();
    auto statement = lease.prepare(sql);
    if (!statement) throw std::runtime_error(statement.error().message);
    auto row = statement->step();
    if (!row || !*row) throw std::runtime_error("no row for " + sql);
    return statement->column_text(0);
  }

  TemporaryDirectory temp_{"admin-sessions"};
  StateDatabasePtr database_;
};

TEST_P(AdminSessionStoreTest, OnlyTheHashOfTheSessionIdIsStored) {
  const NewAdminSession session = start("alice");

  EXPECT_EQ(stored_text("SELECT session_hash FROM admin_sessions"), token_hash(session.session_id));
  EXPECT_EQ(stored_text("SELECT COUNT(*) FROM admin_sessions WHERE session_hash = '" + session.session_id +
                        "' OR csrf_token = '" + session.session_id + "'"),
            "0");
  EXPECT_EQ(session.session_id.size(), 43u);
}

TEST_P(AdminSessionStoreTest, ASessionIsFoundByItsIdWithItsUserTokenAndGroups) {
  const NewAdminSession session = start("alice");

  const auto found = find(session.session_id, kNow + 10);

  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->csrf_token, session.csrf_token);
  EXPECT_EQ(found->groups, (std::vector<std::string>{"admins", "staff"}));
  EXPECT_EQ(found->groups_checked_at, kNow);
  EXPECT_EQ(found->created_at, kNow);
  EXPECT_EQ(found->last_seen_at, kNow);
  EXPECT_FALSE(found->notice);
}

TEST_P(AdminSessionStoreTest, UnknownEmptyOrHashedIdsFindNothing) {
  const NewAdminSession session = start("alice");

  EXPECT_FALSE(find(issue_token().token));
  EXPECT_FALSE(find(""));
  EXPECT_FALSE(find(token_hash(session.session_id)));
  EXPECT_FALSE(find(session.csrf_token));
}

TEST_P(AdminSessionStoreTest, EachSessionHasItsOwnIdAndCsrfToken) {
  const NewAdminSession first = start("alice");
  const NewAdminSession second = start("alice");

  EXPECT_NE(first.session_id, second.session_id);
  EXPECT_NE(first.csrf_token, second.csrf_token);
  EXPECT_NE(first.csrf_token, first.session_id);
  EXPECT_EQ(find(second.session_id)->csrf_token, second.csrf_token);
}

TEST_P(AdminSessionStoreTest, ASessionIdleForLongerThanItsTtlEndsAndIsDeleted) {
  const NewAdminSession session = start("alice");

  EXPECT_TRUE(find(session.session_id, kNow + kIdleTtl));
  EXPECT_FALSE(find(session.session_id, kNow + kIdleTtl + 1));
  EXPECT_EQ(stored_text("SELECT COUNT(*) FROM admin_sessions"), "0");
  EXPECT_FALSE(find(session.session_id, kNow));
}

TEST_P(AdminSessionStoreTest, AUseStartsTheIdleTimeAgain) {
  const NewAdminSession session = start("alice");
  const auto found = find(session.session_id, kNow + kIdleTtl - 1);
  ASSERT_TRUE(found);

  ASSERT_TRUE(touch_admin_session(database_->acquire(), found->id, kNow + kIdleTtl - 1));

  EXPECT_TRUE(find(session.session_id, kNow + 2 * kIdleTtl - 1));
  EXPECT_FALSE(find(session.session_id, kNow + 2 * kIdleTtl));
}

TEST_P(AdminSessionStoreTest, GroupsAreStoredWithTheTimeOfTheirLookup) {
  const NewAdminSession session = start("alice");
  const auto found = find(session.session_id);

  ASSERT_TRUE(store_admin_session_groups(database_->acquire(), found->id, {"staff"}, kNow + 60));

  const auto again = find(session.session_id);
  EXPECT_EQ(again->groups, (std::vector<std::string>{"staff"}));
  EXPECT_EQ(again->groups_checked_at, kNow + 60);
}

TEST_P(AdminSessionStoreTest, ANoticeIsKeptUntilCleared) {
  const NewAdminSession session = start("alice");
  const std::int64_t id = find(session.session_id)->id;

  ASSERT_TRUE(set_admin_notice(database_->acquire(), id, AdminNotice{"Added bob.", true}));
  const auto with_notice = find(session.session_id);
  ASSERT_TRUE(with_notice->notice);
  EXPECT_EQ(with_notice->notice->text, "Added bob.");
  EXPECT_TRUE(with_notice->notice->is_error);

  ASSERT_TRUE(set_admin_notice(database_->acquire(), id, std::nullopt));
  EXPECT_FALSE(find(session.session_id)->notice);
}

TEST_P(AdminSessionStoreTest, LogoutDeletesOnlyThatSession) {
  const NewAdminSession first = start("alice");
  const NewAdminSession second = start("bob");

  ASSERT_TRUE(delete_admin_session(database_->acquire(), first.session_id));

  EXPECT_FALSE(find(first.session_id));
  EXPECT_TRUE(find(second.session_id));
}

TEST_P(AdminSessionStoreTest, PruningDeletesOnlyIdleSessions) {
  const NewAdminSession old_session = start("alice", kNow - kIdleTtl - 5);
  const NewAdminSession recent = start("bob", kNow);

  ASSERT_TRUE(prune_admin_sessions(database_->acquire(), kNow - kIdleTtl));

  EXPECT_EQ(stored_text("SELECT count(*) FROM admin_sessions"), "1");
  EXPECT_EQ(stored_text("SELECT username FROM admin_sessions"), "bob");
  EXPECT_TRUE(find(recent.session_id));
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminSessionStoreTest, testing::every_state_backend(), testing::state_backend_name);

}  // namespace
}  // namespace dirproxy
