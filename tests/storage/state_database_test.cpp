// StateDatabase: opening, connection settings, schema migrations, the
// connection pool, statements and transactions, against real SQLite files in
// a fresh temporary directory per test.
#include "storage/state_database.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "storage/sqlite_connection.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using testing::TemporaryDirectory;

// The single value of a one-row query, as text.
std::string query_text(const StateDatabase::Lease& lease, std::string_view sql) {
  auto statement = lease.prepare(sql);
  EXPECT_TRUE(statement.has_value()) << statement.error().message;
  if (!statement) {
    return {};
  }
  auto row = statement->step();
  EXPECT_TRUE(row.has_value() && *row) << sql;
  return row && *row ? statement->column_text(0) : std::string();
}

std::int64_t count_rows(const StateDatabase::Lease& lease, std::string_view table) {
  return std::stoll(query_text(lease, "SELECT COUNT(*) FROM " + std::string(table)));
}

class StateDatabaseTest : public ::testing::Test {
 protected:
  StateDatabasePtr open(std::size_t connections = 2) {
    auto database = StateDatabase::open(temp_.path() / "state", connections);
    EXPECT_TRUE(database.has_value()) << database.error().message;
    return database ? *database : nullptr;
  }

  TemporaryDirectory temp_;
};

TEST_F(StateDatabaseTest, CreatesAMissingStateDirWithMode0700) {
  const auto state_dir = temp_.path() / "nested" / "state";
  auto database = StateDatabase::open(state_dir, 1);
  ASSERT_TRUE(database.has_value()) << database.error().message;

  struct stat info {};
  ASSERT_EQ(::stat(state_dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  EXPECT_EQ((*database)->path(), state_dir / "dirproxy.db");
  EXPECT_TRUE(std::filesystem::is_regular_file(state_dir / "dirproxy.db"));
}

TEST_F(StateDatabaseTest, ANewDatabaseIsMigratedToTheNewestSchemaVersion) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  EXPECT_EQ(StateDatabase::schema_version(), 6);
  EXPECT_EQ(query_text(lease, "PRAGMA user_version"), "6");
  EXPECT_EQ(query_text(lease,
                       "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema"
                       " WHERE type = 'table' ORDER BY name)"),
            "access_requests,account_creations,admin_sessions,groups,identities,identity_counters,invitations,login_failures,"
            "memberships,nodes,outbox,pending_signups,reset_tokens,settings,users");
  EXPECT_EQ(query_text(lease,
                       "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema"
                       " WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)"),
            "admin_sessions_last_seen,identities_active,identities_number,identities_uuid,memberships_username,outbox_due,"
            "pending_signups_expires,pending_signups_username,reset_tokens_username,users_email");
}

TEST_F(StateDatabaseTest, ReopeningKeepsTheDataAndDoesNotMigrateAgain) {
  {
    auto database = open();
    ASSERT_TRUE(database);
    auto lease = database->acquire();
    ASSERT_TRUE(
        lease.execute("INSERT INTO groups (name, created_at, updated_at)"
                      " VALUES ('staff', 'now', 'now')"));
  }
  auto reopened = open();
  ASSERT_TRUE(reopened);
  auto lease = reopened->acquire();
  EXPECT_EQ(query_text(lease, "PRAGMA user_version"), std::to_string(StateDatabase::schema_version()));
  EXPECT_EQ(query_text(lease, "SELECT name FROM groups"), "staff");
}

TEST_F(StateDatabaseTest, ADatabaseWithANewerSchemaVersionIsRefused) {
  {
    auto database = open();
    ASSERT_TRUE(database);
    auto lease = database->acquire();
    ASSERT_TRUE(lease.execute("PRAGMA user_version = " + std::to_string(StateDatabase::schema_version() + 1)));
  }
  auto reopened = StateDatabase::open(temp_.path() / "state", 2);

  ASSERT_FALSE(reopened.has_value());
  EXPECT_EQ(reopened.error().code, ErrorCode::internal_error);
  const std::string& message = reopened.error().message;
  EXPECT_NE(message.find((temp_.path() / "state" / "dirproxy.db").string()), std::string::npos) << message;
  const int newest = StateDatabase::schema_version();
  EXPECT_NE(message.find("schema version " + std::to_string(newest + 1) + " is newer"), std::string::npos) << message;
  EXPECT_NE(message.find("knows versions up to " + std::to_string(newest)), std::string::npos) << message;
}

TEST_F(StateDatabaseTest, AVersionOneDatabaseIsMigratedForwardKeepingItsUsers) {
  // A database as the first release left it: version 1 (the internal
  // directory's tables; users is the one this test reads).
  {
    std::filesystem::create_directories(temp_.path() / "state");
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((temp_.path() / "state" / "dirproxy.db").c_str(), &raw), SQLITE_OK);
    SqliteHandlePtr connection(raw);
    ASSERT_EQ(sqlite3_exec(connection.get(),
                           "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE);"
                           "INSERT INTO users (username) VALUES ('alice');"
                           "PRAGMA user_version = 1;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }

  auto database = open();

  ASSERT_TRUE(database);
  auto lease = database->acquire();
  EXPECT_EQ(query_text(lease, "PRAGMA user_version"), std::to_string(StateDatabase::schema_version()));
  EXPECT_EQ(query_text(lease, "SELECT username FROM users"), "alice");
  EXPECT_EQ(query_text(lease, "SELECT COUNT(*) FROM outbox"), "0");
}

TEST_F(StateDatabaseTest, HeldMailOfAVersionTwoDatabaseGetsARecordOfItsCreationPerUsername) {
  // Version 2 held a new account's mail with no record of the creation; the
  // tables that migration 3 reads, as version 2 made them.
  {
    std::filesystem::create_directories(temp_.path() / "state");
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((temp_.path() / "state" / "dirproxy.db").c_str(), &raw), SQLITE_OK);
    SqliteHandlePtr connection(raw);
    ASSERT_EQ(sqlite3_exec(connection.get(),
                           "CREATE TABLE pending_signups (id INTEGER PRIMARY KEY, username TEXT NOT NULL);"
                           "CREATE TABLE outbox (id INTEGER PRIMARY KEY, state TEXT NOT NULL,"
                           " hold_username TEXT COLLATE NOCASE, created_at INTEGER NOT NULL);"
                           "INSERT INTO outbox (state, hold_username, created_at) VALUES"
                           " ('held', 'ann', 200), ('held', 'ANN', 100), ('pending', NULL, 50), ('held', 'bob', 300);"
                           "PRAGMA user_version = 2;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }

  auto database = open();

  ASSERT_TRUE(database);
  auto lease = database->acquire();
  EXPECT_EQ(query_text(lease,
                       "SELECT group_concat(row, ';') FROM (SELECT lower(username) || ',' || groups || ',' || process"
                       " || ',' || started_at AS row FROM account_creations ORDER BY lower(username))"),
            "ann,[],,100;bob,[],,300");
}

TEST_F(StateDatabaseTest, AnOutboxRowInsertedTheVersionFiveWayHasNoLease) {
  // Migration 6 is backwards-compatible: the statements of version 5 (an
  // older node in a rolling upgrade) still work, and their rows are free.
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  ASSERT_TRUE(lease.execute(
      "INSERT INTO outbox (template, recipient, message, state, hold_username, next_attempt_at, created_at)"
      " VALUES ('invitation', 'a@example.com', 'm', 'pending', NULL, 5, 5)"));

  EXPECT_EQ(query_text(lease, "SELECT count(*) FROM outbox WHERE lease_owner IS NULL AND lease_until IS NULL"), "1");
}

TEST_F(StateDatabaseTest, EveryPooledConnectionUsesWalFullSyncForeignKeysAndABusyTimeout) {
  auto database = open(3);
  ASSERT_TRUE(database);
  // Hold all three at once so that each connection is checked.
  auto first = database->acquire();
  auto second = database->acquire();
  auto third = database->acquire();
  for (const auto* lease : {&first, &second, &third}) {
    EXPECT_EQ(query_text(*lease, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(query_text(*lease, "PRAGMA synchronous"), "2");  // FULL
    EXPECT_EQ(query_text(*lease, "PRAGMA foreign_keys"), "1");
    EXPECT_EQ(query_text(*lease, "PRAGMA busy_timeout"), "5000");
  }
  EXPECT_NE(first.connection(), second.connection());
  EXPECT_NE(second.connection(), third.connection());
  EXPECT_NE(first.connection(), third.connection());
}

TEST_F(StateDatabaseTest, AFileThatIsNotADatabaseIsRefusedNamingThePathAndSqlitesReason) {
  const auto state_dir = temp_.path() / "state";
  std::filesystem::create_directories(state_dir);
  std::ofstream(state_dir / "dirproxy.db") << std::string(4096, 'x');

  auto database = StateDatabase::open(state_dir, 1);

  ASSERT_FALSE(database.has_value());
  EXPECT_EQ(database.error().code, ErrorCode::internal_error);
  const std::string& message = database.error().message;
  EXPECT_NE(message.find((state_dir / "dirproxy.db").string()), std::string::npos) << message;
  EXPECT_NE(message.find("file is not a database"), std::string::npos) << message;
}

TEST_F(StateDatabaseTest, ADatabasePathThatCannotBeOpenedIsRefusedNamingThePath) {
  const auto state_dir = temp_.path() / "state";
  std::filesystem::create_directories(state_dir / "dirproxy.db");  // a directory, not a file

  auto database = StateDatabase::open(state_dir, 1);

  ASSERT_FALSE(database.has_value());
  EXPECT_EQ(database.error().code, ErrorCode::internal_error);
  const std::string& message = database.error().message;
  EXPECT_NE(message.find((state_dir / "dirproxy.db").string()), std::string::npos) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
}

TEST_F(StateDatabaseTest, ANewDatabaseAndItsWalAreReadableByTheOwnerOnly) {
  const auto state_dir = temp_.path() / "state";
  std::filesystem::create_directories(state_dir);
  std::filesystem::permissions(state_dir, std::filesystem::perms(0755));

  auto database = StateDatabase::open(state_dir, 1);
  ASSERT_TRUE(database.has_value()) << database.error().message;
  auto lease = (*database)->acquire();
  ASSERT_TRUE(
      lease.execute("INSERT INTO groups (name, created_at, updated_at)"
                    " VALUES ('staff', 'now', 'now')"));

  for (const char* file : {"dirproxy.db", "dirproxy.db-wal", "dirproxy.db-shm"}) {
    struct stat info {};
    ASSERT_EQ(::stat((state_dir / file).c_str(), &info), 0) << file;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << file;
  }
}

TEST_F(StateDatabaseTest, AStateDirThatIsAFileIsRefused) {
  const auto state_dir = temp_.path() / "state";
  std::ofstream(state_dir) << "not a directory";

  auto database = StateDatabase::open(state_dir, 1);

  ASSERT_FALSE(database.has_value());
  EXPECT_EQ(database.error().code, ErrorCode::internal_error);
  EXPECT_NE(database.error().message.find(state_dir.string()), std::string::npos);
}

TEST_F(StateDatabaseTest, AcquireWaitsUntilALeaseIsReturned) {
  auto database = open(1);
  ASSERT_TRUE(database);
  std::atomic<bool> acquired{false};
  std::thread borrower;
  const SqlConnection* held_connection = nullptr;
  {
    auto lease = database->acquire();
    held_connection = lease.connection();
    borrower = std::thread([&] {
      auto second = database->acquire();
      EXPECT_EQ(second.connection(), held_connection);
      acquired = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(acquired.load());
  }
  borrower.join();
  EXPECT_TRUE(acquired.load());
}

TEST_F(StateDatabaseTest, ATransactionRollsBackUnlessCommitted) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();
  {
    auto transaction = lease.begin(TransactionMode::write);
    ASSERT_TRUE(transaction.has_value()) << transaction.error().message;
    ASSERT_TRUE(
        lease.execute("INSERT INTO groups (name, created_at, updated_at)"
                      " VALUES ('dropped', 'now', 'now')"));
  }
  {
    auto transaction = lease.begin(TransactionMode::write);
    ASSERT_TRUE(transaction.has_value()) << transaction.error().message;
    ASSERT_TRUE(
        lease.execute("INSERT INTO groups (name, created_at, updated_at)"
                      " VALUES ('kept', 'now', 'now')"));
    ASSERT_TRUE(transaction->commit());
  }
  EXPECT_EQ(query_text(lease, "SELECT group_concat(name) FROM groups"), "kept");
}

TEST_F(StateDatabaseTest, AWriteTransactionCommitsTheWorkAndReturnsItsValue) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto written = lease.write_transaction([](const StateDatabase::Lease& lease) -> Result<std::int64_t> {
    RETURN_IF_ERROR(lease.execute("INSERT INTO groups (name, created_at, updated_at) VALUES ('kept', 'now', 'now')"));
    return lease.changes();
  });

  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_EQ(*written, 1);
  EXPECT_FALSE(lease.in_transaction());
  EXPECT_EQ(query_text(database->acquire(), "SELECT group_concat(name) FROM groups"), "kept");
}

TEST_F(StateDatabaseTest, AWriteTransactionWhoseWorkFailsRollsBackAndReturnsTheError) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto written = lease.write_transaction([](const StateDatabase::Lease& lease) -> Result<void> {
    RETURN_IF_ERROR(
        lease.execute("INSERT INTO groups (name, created_at, updated_at) VALUES ('dropped', 'now', 'now')"));
    return fail(ErrorCode::conflict, "changed my mind", "name");
  });

  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, ErrorCode::conflict);
  EXPECT_EQ(written.error().message, "changed my mind");
  EXPECT_EQ(written.error().field, "name");
  EXPECT_FALSE(lease.in_transaction());
  EXPECT_EQ(count_rows(lease, "groups"), 0);
}

TEST_F(StateDatabaseTest, AReturnedLeaseNeverCarriesAnOpenTransaction) {
  auto database = open(1);
  ASSERT_TRUE(database);
  {
    auto lease = database->acquire();
    ASSERT_TRUE(
        lease.execute("BEGIN IMMEDIATE; INSERT INTO groups (name, created_at,"
                      " updated_at) VALUES ('leaked', 'now', 'now')"));
  }
  auto lease = database->acquire();
  EXPECT_FALSE(lease.in_transaction());
  EXPECT_EQ(count_rows(lease, "groups"), 0);
}

// What a lease of its own (taken with acquire(), as the internal directory
// does) writes in a transaction of its own.
Result<void> insert_group_on_own_lease(StateDatabase& database, const std::string& name) {
  return database.acquire().write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    auto insert = lease.prepare("INSERT INTO groups (name, created_at, updated_at) VALUES (?1, 'now', 'now')", name);
    RETURN_IF_ERROR(insert);
    return insert->run();
  });
}

TEST_F(StateDatabaseTest, AJoinedTransactionCommitsWhatLeasesTakenOnItsThreadWrote) {
  auto database = open(2);
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto written = lease.write_transaction_joined_by_this_thread([&](const StateDatabase::Lease&) -> Result<void> {
    RETURN_IF_ERROR(insert_group_on_own_lease(*database, "first"));
    // A second lease on this thread is the same connection: it sees the
    // uncommitted row and neither waits for the pool nor for the write lock.
    EXPECT_EQ(query_text(database->acquire(), "SELECT group_concat(name) FROM groups"), "first");
    return insert_group_on_own_lease(*database, "second");
  });

  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_FALSE(lease.in_transaction());
  EXPECT_EQ(query_text(database->acquire(), "SELECT group_concat(name, ',') FROM groups ORDER BY id"), "first,second");
}

TEST_F(StateDatabaseTest, AJoinedTransactionThatFailsRollsBackWhatLeasesTakenOnItsThreadWrote) {
  auto database = open(2);
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto written = lease.write_transaction_joined_by_this_thread([&](const StateDatabase::Lease&) -> Result<void> {
    RETURN_IF_ERROR(insert_group_on_own_lease(*database, "dropped"));
    return fail(ErrorCode::internal_error, "the next part failed");
  });

  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().message, "the next part failed");
  EXPECT_EQ(count_rows(database->acquire(), "groups"), 0);
}

TEST_F(StateDatabaseTest, AnExceptionInAJoinedTransactionRollsItBackAndEndsTheJoin) {
  auto database = open(1);
  ASSERT_TRUE(database);
  {
    auto lease = database->acquire();
    EXPECT_THROW(lease.write_transaction_joined_by_this_thread([&](const StateDatabase::Lease&) -> Result<void> {
      EXPECT_TRUE(insert_group_on_own_lease(*database, "dropped"));
      throw std::runtime_error("crash");
    }),
                 std::runtime_error);
  }
  // The pool's one connection is back, with nothing of the work in it.
  auto lease = database->acquire();
  EXPECT_FALSE(lease.in_transaction());
  EXPECT_EQ(count_rows(lease, "groups"), 0);
}

TEST_F(StateDatabaseTest, AFailedPartOfAJoinedTransactionRollsBackOnlyItsOwnWork) {
  auto database = open(2);
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto written = lease.write_transaction_joined_by_this_thread([&](const StateDatabase::Lease&) -> Result<void> {
    RETURN_IF_ERROR(insert_group_on_own_lease(*database, "kept"));
    auto refused = database->acquire().write_transaction([](const StateDatabase::Lease& part) -> Result<void> {
      RETURN_IF_ERROR(part.execute("INSERT INTO groups (name, created_at, updated_at) VALUES ('undone', 'x', 'x')"));
      return fail(ErrorCode::conflict, "refused");
    });
    EXPECT_FALSE(refused.has_value());
    return {};
  });

  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_EQ(query_text(database->acquire(), "SELECT group_concat(name) FROM groups"), "kept");
}

TEST_F(StateDatabaseTest, OtherThreadsDoNotJoinATransactionNorSeeItBeforeItCommits) {
  auto database = open(2);
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto written = lease.write_transaction_joined_by_this_thread([&](const StateDatabase::Lease&) -> Result<void> {
    RETURN_IF_ERROR(insert_group_on_own_lease(*database, "uncommitted"));
    std::thread reader([&] {
      auto other = database->acquire();
      EXPECT_NE(other.connection(), lease.connection());
      EXPECT_EQ(count_rows(other, "groups"), 0);
    });
    reader.join();
    return {};
  });

  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_EQ(count_rows(database->acquire(), "groups"), 1);
}

TEST_F(StateDatabaseTest, AUniqueViolationIsAConflict) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();
  const char* insert = "INSERT INTO users (username, created_at, updated_at) VALUES (?1, 'now', 'now')";
  auto first = lease.prepare(insert, "Alice");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->run());

  auto second = lease.prepare(insert, "ALICE");  // NOCASE: the same username
  ASSERT_TRUE(second.has_value());
  auto result = second->run();

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::conflict);
  EXPECT_NE(result.error().message.find("UNIQUE constraint failed: users.username"), std::string::npos)
      << result.error().message;
}

TEST_F(StateDatabaseTest, OtherSqlErrorsAreInternalErrorsWithSqlitesMessage) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto missing_table = lease.prepare("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing_table.has_value());
  EXPECT_EQ(missing_table.error().code, ErrorCode::internal_error);
  EXPECT_NE(missing_table.error().message.find("no such table: no_such_table"), std::string::npos)
      << missing_table.error().message;

  auto not_null = lease.prepare("INSERT INTO users (username, created_at, updated_at) VALUES (NULL, 'now', 'now')");
  ASSERT_TRUE(not_null.has_value());
  auto result = not_null->run();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::internal_error);
  EXPECT_NE(result.error().message.find("NOT NULL constraint failed: users.username"), std::string::npos)
      << result.error().message;
}

TEST_F(StateDatabaseTest, PreparingSeveralStatementsAtOnceIsRefused) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto statement = lease.prepare("DELETE FROM users; DELETE FROM groups");

  ASSERT_FALSE(statement.has_value());
  EXPECT_EQ(statement.error().code, ErrorCode::internal_error);
  EXPECT_NE(statement.error().message.find("more than one statement"), std::string::npos);
}

TEST_F(StateDatabaseTest, ABindingErrorIsReportedByStep) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();
  auto statement = lease.prepare("SELECT ?1", "one", "two");  // parameter 2 does not exist
  ASSERT_TRUE(statement.has_value());

  auto row = statement->step();

  ASSERT_FALSE(row.has_value());
  EXPECT_EQ(row.error().code, ErrorCode::internal_error);
  EXPECT_NE(row.error().message.find("column index out of range"), std::string::npos) << row.error().message;
}

TEST_F(StateDatabaseTest, StatementsRoundTripTextIntegersAndNull) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();
  const std::string with_nul("a\0b", 3);
  auto statement = lease.prepare("SELECT ?1, ?2, ?3, ?4", with_nul, std::int64_t{-42}, std::optional<std::string>(),
                                 std::string_view());
  ASSERT_TRUE(statement.has_value());
  auto row = statement->step();
  ASSERT_TRUE(row.has_value());
  ASSERT_TRUE(*row);

  EXPECT_EQ(statement->column_text(0), with_nul);
  EXPECT_EQ(statement->column_int64(1), -42);
  EXPECT_TRUE(statement->column_is_null(2));
  EXPECT_EQ(statement->column_optional_text(2), std::nullopt);
  EXPECT_EQ(statement->column_text(2), "");
  // An empty string is a string, not NULL.
  EXPECT_FALSE(statement->column_is_null(3));
  EXPECT_EQ(statement->column_optional_text(3), std::optional<std::string>(""));
  auto done = statement->step();
  ASSERT_TRUE(done.has_value());
  EXPECT_FALSE(*done);
}

TEST_F(StateDatabaseTest, DeletingAGroupCascadesToItsMemberships) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();
  ASSERT_TRUE(
      lease.execute("INSERT INTO groups (id, name, created_at, updated_at) VALUES (1, 'staff', 'now', 'now');"
                    "INSERT INTO memberships (group_id, username) VALUES (1, 'alice'), (1, 'bob');"));

  ASSERT_TRUE(lease.execute("DELETE FROM groups WHERE id = 1"));

  EXPECT_EQ(count_rows(lease, "memberships"), 0);
}

TEST_F(StateDatabaseTest, AMembershipOfAMissingGroupIsRefused) {
  auto database = open();
  ASSERT_TRUE(database);
  auto lease = database->acquire();

  auto inserted = lease.execute("INSERT INTO memberships (group_id, username) VALUES (7, 'alice')");

  ASSERT_FALSE(inserted.has_value());
  EXPECT_NE(inserted.error().message.find("FOREIGN KEY constraint failed"), std::string::npos)
      << inserted.error().message;
}

// --- backup_to --------------------------------------------------------------

// The file's bytes, to show that a refused backup left a file as it was.
std::string file_content(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class StateDatabaseBackupTest : public StateDatabaseTest {
 protected:
  // Opens a copy as a restore would use it: as dirproxy.db of a fresh state_dir.
  StateDatabasePtr open_as_restored(const std::filesystem::path& copy) {
    const auto state_dir = temp_.path() / "restored";
    std::filesystem::create_directories(state_dir);
    std::filesystem::copy_file(copy, state_dir / "dirproxy.db");
    auto database = StateDatabase::open(state_dir, 1);
    EXPECT_TRUE(database.has_value()) << database.error().message;
    return database ? *database : nullptr;
  }
};

TEST_F(StateDatabaseBackupTest, TheCopyIsADatabaseWithTheSameRowsAndSchemaVersion) {
  auto database = open();
  ASSERT_TRUE(database);
  {
    auto lease = database->acquire();
    ASSERT_TRUE(
        lease.execute("INSERT INTO users (username, email, password_hash, created_at, updated_at)"
                      " VALUES ('alice', 'alice@example.com', '$argon2id$hash', 'then', 'now');"
                      "INSERT INTO groups (id, name, created_at, updated_at) VALUES (1, 'staff', 'then', 'now');"
                      "INSERT INTO memberships (group_id, username) VALUES (1, 'alice');"));
  }
  const auto target = temp_.path() / "backup.db";

  auto bytes = database->backup_to(target);

  ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
  EXPECT_EQ(*bytes, std::filesystem::file_size(target));
  auto restored = open_as_restored(target);
  ASSERT_TRUE(restored);
  auto lease = restored->acquire();
  EXPECT_EQ(query_text(lease, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query_text(lease, "PRAGMA user_version"), std::to_string(StateDatabase::schema_version()));
  EXPECT_EQ(query_text(lease, "SELECT username || ' ' || email || ' ' || password_hash FROM users"),
            "alice alice@example.com $argon2id$hash");
  EXPECT_EQ(query_text(lease, "SELECT name FROM groups"), "staff");
  EXPECT_EQ(query_text(lease, "SELECT group_id || ' ' || username FROM memberships"), "1 alice");
}

TEST_F(StateDatabaseBackupTest, TheCopyIsReadableByTheOwnerOnlyWhateverTheUmask) {
  auto database = open();
  ASSERT_TRUE(database);
  const auto target = temp_.path() / "backup.db";

  const mode_t previous = ::umask(0277);  // would leave 0400 of the 0600 asked for
  auto bytes = database->backup_to(target);
  ::umask(previous);

  ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
  struct stat info {};
  ASSERT_EQ(::stat(target.c_str(), &info), 0);
  EXPECT_TRUE(S_ISREG(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST_F(StateDatabaseBackupTest, TheCopyHasOnlyCommittedDataAndDoesNotWaitForAnOpenWrite) {
  auto database = open(2);
  ASSERT_TRUE(database);
  auto writer = database->acquire();
  ASSERT_TRUE(
      writer.execute("INSERT INTO groups (name, created_at, updated_at)"
                     " VALUES ('committed', 'now', 'now')"));
  auto transaction = writer.begin(TransactionMode::write);
  ASSERT_TRUE(transaction.has_value()) << transaction.error().message;
  ASSERT_TRUE(
      writer.execute("INSERT INTO groups (name, created_at, updated_at)"
                     " VALUES ('uncommitted', 'now', 'now')"));
  const auto target = temp_.path() / "backup.db";

  // The write lock is held throughout: a backup that waited for it would
  // fail after the busy timeout instead.
  const auto started = std::chrono::steady_clock::now();
  auto bytes = database->backup_to(target);
  const auto took = std::chrono::steady_clock::now() - started;

  ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
  EXPECT_LT(took, std::chrono::seconds(2));
  ASSERT_TRUE(transaction->commit());
  auto restored = open_as_restored(target);
  ASSERT_TRUE(restored);
  auto lease = restored->acquire();
  EXPECT_EQ(query_text(lease, "SELECT group_concat(name) FROM groups"), "committed");
}

TEST_F(StateDatabaseBackupTest, AnExistingTargetIsRefusedAndLeftUntouched) {
  auto database = open();
  ASSERT_TRUE(database);
  const auto target = temp_.write("precious.db", "an earlier backup");
  std::filesystem::permissions(target, std::filesystem::perms(0644));

  auto bytes = database->backup_to(target);

  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::bad_request);
  EXPECT_EQ(bytes.error().message,
            "backup target '" + target.string() + "' already exists; a backup never overwrites a file");
  EXPECT_EQ(file_content(target), "an earlier backup");
  struct stat info {};
  ASSERT_EQ(::stat(target.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);
}

TEST_F(StateDatabaseBackupTest, ASymlinkAtTheTargetIsRefusedAndItsFileLeftUntouched) {
  auto database = open();
  ASSERT_TRUE(database);
  const auto victim = temp_.write("victim", "not for overwriting");
  const auto target = temp_.path() / "link.db";
  std::filesystem::create_symlink(victim, target);

  auto bytes = database->backup_to(target);

  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::bad_request);
  EXPECT_EQ(file_content(victim), "not for overwriting");
  EXPECT_TRUE(std::filesystem::is_symlink(target));
}

TEST_F(StateDatabaseBackupTest, ARelativeTargetIsRefusedAndNothingIsWritten) {
  auto database = open();
  ASSERT_TRUE(database);
  const std::filesystem::path target = "dirproxy-relative-backup-test.db";
  ASSERT_FALSE(std::filesystem::exists(target));

  auto bytes = database->backup_to(target);

  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::bad_request);
  EXPECT_EQ(bytes.error().message, "backup target 'dirproxy-relative-backup-test.db' is not an absolute path");
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(StateDatabaseBackupTest, ATargetInAMissingDirectoryIsRefusedNamingThePath) {
  auto database = open();
  ASSERT_TRUE(database);
  const auto target = temp_.path() / "missing" / "backup.db";

  auto bytes = database->backup_to(target);

  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::bad_request);
  EXPECT_EQ(bytes.error().message, "cannot create backup target '" + target.string() + "': No such file or directory");
}

}  // namespace
}  // namespace dirproxy
