// Copying a SQLite state into PostgreSQL (storage/state_copy.hpp): every
// table's rows and values arrive, identities go on after the copied ids, and
// a copy that cannot finish (a target that is not empty, a table the code
// does not know, a row PostgreSQL refuses) leaves the target exactly as it
// was. A real SQLite file and a real PostgreSQL database throughout.
#include "storage/state_copy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "storage/schema.hpp"
#include "storage/sqlite_connection.hpp"
#include "storage/state_database.hpp"
#include "support/postgres_server.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using testing::PostgresCluster;
using testing::PostgresDatabase;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kPasswordHash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

// One or more rows in every table of the schema, ids chosen far from 1 so
// that a sequence left at 1 would collide.
constexpr const char* kEveryTable = R"sql(
INSERT INTO users (id, username, email, display_name, active, password_hash, created_at, updated_at) VALUES
  (7, 'alice', 'alice@example.com', 'Alice A', 1, '$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
   '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
  (9, 'Bob', NULL, NULL, 0, NULL, '2026-01-03T00:00:00Z', '2026-01-03T00:00:00Z');
INSERT INTO groups (id, name, description, created_at, updated_at) VALUES
  (4, 'dev', 'Developers', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO memberships (group_id, username) VALUES (4, 'alice'), (4, 'Bob');
INSERT INTO settings (key, value) VALUES ('shared_invitation_key', 'ab01'), ('shared_invitation_generation', '3');
INSERT INTO reset_tokens (id, token_hash, username, purpose, created_at, expires_at, used_at) VALUES
  (11, 'resethash', 'alice', 'password_reset', 1700000000, 1700003600, NULL);
INSERT INTO pending_signups (id, token_hash, username, email, display_name, password_hash, groups, created_at,
                             expires_at, claimed) VALUES
  (5, 'signuphash', 'carol', 'carol@example.com', 'Carol', 'hash', '["dev"]', 1700000000, 1700086400, 0);
INSERT INTO access_requests (id, email, display_name, message, created_at, status, decided_at) VALUES
  (21, 'dave@example.com', 'Dave', 'let me in', 1700000000, 'approved', 1700000100);
INSERT INTO invitations (id, token_hash, email, groups, message, created_at, expires_at, access_request_id) VALUES
  (31, 'invitationhash', 'dave@example.com', '["dev"]', NULL, 1700000100, 1700604900, 21);
INSERT INTO login_failures (username, failures, window_start, locked_until) VALUES ('Bob', 3, 1700000000, NULL);
INSERT INTO outbox (id, template, recipient, message, state, attempts, next_attempt_at, created_at) VALUES
  (41, 'invitation', 'dave@example.com', 'Subject: hi', 'pending', 2, 1700000200, 1700000100);
INSERT INTO account_creations (id, username, groups, process, started_at) VALUES
  (51, 'erin', '[]', 'old-run', 1700000000);
INSERT INTO identities (id, kind, directory, name, uuid, number, source, retired, created_at) VALUES
  (61, 'user', 'internal', 'alice', '0b5a3c1e-2f4d-4a6b-8c9d-0e1f2a3b4c5d', 10000, 'allocated', 0, 1700000000);
INSERT INTO identity_counters (kind, next_number) VALUES ('user', 10001);
INSERT INTO admin_sessions (id, session_hash, username, csrf_token, groups, groups_checked_at, created_at,
                            last_seen_at) VALUES
  (71, 'sessionhash', 'alice', 'csrf', '["admins"]', 1700000000, 1700000000, 1700000000);
INSERT INTO nodes (process, host, pid, started_at, last_seen_at) VALUES ('old-run', 'host1', 123, 1, 2);
)sql";

std::string rows(std::string printed) {
  while (!printed.empty() && printed.back() == '\n') printed.pop_back();
  return printed;
}

class StateCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_POSTGRES();
    postgres_.emplace(PostgresCluster::shared().create_database());
    PostgresqlOptions options;
    options.url = postgres_->url();
    auto opened = StateDatabase::open_postgresql(options, 1);
    if (!opened) throw std::runtime_error(opened.error().message);
    target_ = *opened;
  }

  // dirproxy.db in a state_dir of its own, after `sql`.
  std::filesystem::path sqlite_state(const std::string& sql) {
    auto opened = StateDatabase::open(temp_.path() / "state", 1);
    if (!opened) throw std::runtime_error(opened.error().message);
    if (auto done = (*opened)->acquire().execute(sql); !done) throw std::runtime_error(done.error().message);
    return (*opened)->path();
  }

  std::string psql(const std::string& sql) const { return rows(postgres_->psql(sql)); }

  testing::TemporaryDirectory temp_{"dps-copy"};
  std::optional<PostgresDatabase> postgres_;
  StateDatabasePtr target_;
};

TEST(StateCopySchema, TablesComeAfterTheTablesTheyReference) {
  const auto tables = schema_tables();
  const auto at = [&](const std::string& table) { return std::find(tables.begin(), tables.end(), table) - tables.begin(); };
  EXPECT_EQ(tables.size(), 15u);
  EXPECT_LT(at("groups"), at("memberships"));
  EXPECT_LT(at("access_requests"), at("invitations"));
  EXPECT_LT(at("nodes"), static_cast<std::ptrdiff_t>(tables.size()));
  EXPECT_EQ(std::count(tables.begin(), tables.end(), "schema_version"), 0);
}

TEST_F(StateCopyTest, EveryTableIsCopiedWithItsRowsAndValues) {
  const auto file = sqlite_state(kEveryTable);

  auto copied = copy_sqlite_state(file, *target_);

  ASSERT_TRUE(copied) << copied.error().message;
  std::vector<std::string> counts;
  for (const auto& table : *copied) counts.push_back(table.table + ": " + std::to_string(table.rows));
  EXPECT_THAT(counts, ElementsAre("users: 2", "groups: 1", "memberships: 2", "settings: 2", "reset_tokens: 1",
                                  "pending_signups: 1", "access_requests: 1", "invitations: 1", "login_failures: 1",
                                  "outbox: 1", "account_creations: 1", "identities: 1", "identity_counters: 1",
                                  "admin_sessions: 1"));
  EXPECT_EQ(psql("SELECT id, username, email, display_name, active, created_at FROM users ORDER BY id"),
            "7|alice|alice@example.com|Alice A|1|2026-01-01T00:00:00Z\n9|Bob|||0|2026-01-03T00:00:00Z");
  EXPECT_EQ(psql("SELECT password_hash FROM users WHERE username = 'ALICE'"), kPasswordHash);
  EXPECT_EQ(psql("SELECT count(*) FROM users WHERE email IS NULL AND password_hash IS NULL"), "1");
  EXPECT_EQ(psql("SELECT group_id, username FROM memberships ORDER BY username"), "4|alice\n4|Bob");
  EXPECT_EQ(psql("SELECT id, access_request_id, groups FROM invitations"), "31|21|[\"dev\"]");
  EXPECT_EQ(psql("SELECT failures, window_start FROM login_failures WHERE username = 'bob'"), "3|1700000000");
  EXPECT_EQ(psql("SELECT uuid, number FROM identities"), "0b5a3c1e-2f4d-4a6b-8c9d-0e1f2a3b4c5d|10000");
  EXPECT_EQ(psql("SELECT value FROM settings WHERE key = 'shared_invitation_generation'"), "3");
  EXPECT_EQ(psql("SELECT count(*) FROM nodes"), "0");
}

TEST_F(StateCopyTest, IdentitiesContinueAfterTheCopiedIds) {
  const auto file = sqlite_state(kEveryTable);
  ASSERT_TRUE(copy_sqlite_state(file, *target_));

  auto lease = target_->acquire();
  auto user = lease.prepare("INSERT INTO users (username, created_at, updated_at) VALUES (?1, 't', 't') RETURNING id",
                            "frank");
  ASSERT_TRUE(user);
  auto user_id = user->run_returning_id();
  auto request = lease.prepare(
      "INSERT INTO access_requests (email, display_name, created_at) VALUES (?1, 'G', 1) RETURNING id", "g@example.com");
  ASSERT_TRUE(request);
  auto request_id = request->run_returning_id();
  ASSERT_TRUE(user_id) << user_id.error().message;
  ASSERT_TRUE(request_id) << request_id.error().message;
  EXPECT_EQ(*user_id, 10);
  EXPECT_EQ(*request_id, 22);
}

TEST_F(StateCopyTest, AnEmptyTableKeepsItsIdentityAtOne) {
  const auto file = sqlite_state("INSERT INTO groups (id, name, created_at, updated_at) VALUES (3, 'ops', 't', 't')");
  ASSERT_TRUE(copy_sqlite_state(file, *target_));

  auto lease = target_->acquire();
  auto user = lease.prepare("INSERT INTO users (username, created_at, updated_at) VALUES (?1, 't', 't') RETURNING id",
                            "first");
  ASSERT_TRUE(user);
  auto user_id = user->run_returning_id();
  ASSERT_TRUE(user_id) << user_id.error().message;
  EXPECT_EQ(*user_id, 1);
}

TEST_F(StateCopyTest, ATargetWithRowsIsRefusedNamingTheTableAndLeftUnchanged) {
  const auto file = sqlite_state(kEveryTable);
  psql("INSERT INTO groups (name, created_at, updated_at) VALUES ('already', 't', 't'), ('here', 't', 't')");

  auto copied = copy_sqlite_state(file, *target_);

  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code, ErrorCode::bad_request);
  EXPECT_EQ(copied.error().message,
            "the PostgreSQL database is not empty: table groups has 2 rows; --migrate-state copies a state only into a "
            "new, empty database");
  EXPECT_EQ(psql("SELECT name FROM groups ORDER BY name"), "already\nhere");
  EXPECT_EQ(psql("SELECT count(*) FROM users"), "0");
}

TEST_F(StateCopyTest, ATableTheCodeDoesNotKnowIsRefusedAndNothingIsCopied) {
  const auto file = sqlite_state(std::string(kEveryTable) + "CREATE TABLE plugin_data (id INTEGER PRIMARY KEY, x TEXT);");

  auto copied = copy_sqlite_state(file, *target_);

  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code, ErrorCode::bad_request);
  EXPECT_EQ(copied.error().message, "state file '" + file.string() + "' has a table 'plugin_data' that schema version " +
                                        std::to_string(StateDatabase::schema_version()) +
                                        " does not have; it is not copied by this dirproxy");
  EXPECT_EQ(psql("SELECT count(*) FROM users"), "0");
}

TEST_F(StateCopyTest, ARowPostgresqlRefusesMidCopyCommitsNothing) {
  // SQLite keeps text in an INTEGER column; PostgreSQL's bigint does not.
  // outbox comes after users, groups, invitations ... in the copy.
  const auto file = sqlite_state(std::string(kEveryTable) + "UPDATE outbox SET attempts = 'many';");

  auto copied = copy_sqlite_state(file, *target_);

  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code, ErrorCode::internal_error);
  EXPECT_THAT(copied.error().message, HasSubstr("copying a row of table outbox: "));
  EXPECT_THAT(copied.error().message, HasSubstr("invalid input syntax for type bigint: \"many\""));
  for (const std::string& table : schema_tables()) {
    EXPECT_EQ(psql("SELECT count(*) FROM " + table), "0") << table;
  }
}

TEST_F(StateCopyTest, AMissingFileIsRefusedAndNotCreated) {
  const auto file = temp_.path() / "missing.db";

  auto copied = copy_sqlite_state(file, *target_);

  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code, ErrorCode::bad_request);
  EXPECT_EQ(copied.error().message, "state file '" + file.string() + "' does not exist or is not a file");
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(StateCopyTest, AnOlderFileIsMigratedFirstAndCopied) {
  // A version 1 file: only the internal directory's tables.
  const auto file = temp_.path() / "old.db";
  {
    auto connection = SqliteConnection::open(file);
    ASSERT_TRUE(connection);
    ASSERT_TRUE((*connection)->execute(schema_migrations()[0].sql));
    ASSERT_TRUE((*connection)->execute("PRAGMA user_version = 1;"
                                       "INSERT INTO users (id, username, created_at, updated_at)"
                                       " VALUES (3, 'old', 't', 't')"));
  }

  auto copied = copy_sqlite_state(file, *target_);

  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(copied->front().table, "users");
  EXPECT_EQ(copied->front().rows, 1);
  EXPECT_EQ(psql("SELECT id, username FROM users"), "3|old");
}

TEST_F(StateCopyTest, ASqliteTargetIsRefused) {
  const auto file = sqlite_state("");
  auto sqlite_target = StateDatabase::open(temp_.path() / "other", 1);
  ASSERT_TRUE(sqlite_target);

  auto copied = copy_sqlite_state(file, **sqlite_target);

  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code, ErrorCode::bad_request);
  EXPECT_THAT(copied.error().message, HasSubstr("a SQLite state is copied only into PostgreSQL"));
}

}  // namespace
}  // namespace dirproxy
