#include "storage/sqlite_connection.hpp"

#include <limits>
#include <string>
#include <utility>

#include "storage/schema.hpp"

namespace dirproxy {

namespace {

constexpr int kBusyTimeoutMs = 5000;

std::string in_quotes(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

Error database_error(const std::filesystem::path& path, std::string_view what, std::string_view detail) {
  return make_error(ErrorCode::internal_error,
                    "state database " + in_quotes(path) + ": " + std::string(what) + ": " + std::string(detail));
}

Result<void> execute_on(sqlite3* connection, std::string_view sql) {
  const std::string terminated(sql);
  const int rc = sqlite3_exec(connection, terminated.c_str(), /*callback=*/nullptr,
                              /*argument=*/nullptr, /*errmsg=*/nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(connection, rc, "executing SQL");
  }
  return {};
}

class SqliteCursor final : public SqlCursor {
 public:
  SqliteCursor(sqlite3* connection, sqlite3_stmt* statement) : connection_(connection), statement_(statement) {}
  SqliteCursor(const SqliteCursor&) = delete;
  SqliteCursor& operator=(const SqliteCursor&) = delete;
  ~SqliteCursor() override { sqlite3_finalize(statement_); }  // a no-op on nullptr

  void bind_text(int index, std::string_view text) override {
    // An empty string_view may have a null data(), which SQLite would bind as NULL.
    const char* bytes = text.empty() ? "" : text.data();
    remember(sqlite3_bind_text64(statement_, index, bytes, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void bind_int64(int index, std::int64_t number) override { remember(sqlite3_bind_int64(statement_, index, number)); }
  void bind_null(int index) override { remember(sqlite3_bind_null(statement_, index)); }

  Result<bool> step() override {
    if (bind_error_ != SQLITE_OK) {
      return fail(ErrorCode::internal_error, std::string("sqlite: binding a parameter of '") +
                                                 sqlite3_sql(statement_) + "': " + sqlite3_errstr(bind_error_));
    }
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(connection_, rc, std::string("running '") + sqlite3_sql(statement_) + "'");
  }

  std::string column_text(int index) const override {
    const auto* text = sqlite3_column_text(statement_, index);
    // sqlite3_column_bytes must come after sqlite3_column_text (conversion).
    const int size = sqlite3_column_bytes(statement_, index);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
  }
  std::int64_t column_int64(int index) const override { return sqlite3_column_int64(statement_, index); }
  bool column_is_null(int index) const override { return sqlite3_column_type(statement_, index) == SQLITE_NULL; }

 private:
  void remember(int rc) {
    if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  }

  sqlite3* connection_;
  sqlite3_stmt* statement_;
  int bind_error_ = SQLITE_OK;  // the first failed bind, reported by step()
};

// Reads a one-row, one-column pragma or query as text.
Result<std::string> query_text(SqliteConnection& connection, std::string_view sql) {
  auto statement = connection.prepare(sql);
  RETURN_IF_ERROR(statement);
  auto row = (*statement)->step();
  RETURN_IF_ERROR(row);
  if (!*row) {
    return fail(ErrorCode::internal_error, "no result from " + std::string(sql));
  }
  return (*statement)->column_text(0);
}

Result<int> read_user_version(SqliteConnection& connection) {
  auto version = query_text(connection, "PRAGMA user_version");
  RETURN_IF_ERROR(version);
  return std::stoi(*version);
}

}  // namespace

Error sqlite_error(sqlite3* connection, int result_code, std::string_view what) {
  const char* detail = connection != nullptr ? sqlite3_errmsg(connection) : sqlite3_errstr(result_code);
  std::string message = "sqlite: " + std::string(what) + ": " + detail;
  if (result_code == SQLITE_CONSTRAINT_UNIQUE || result_code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return make_error(ErrorCode::conflict, std::move(message));
  }
  return make_error(ErrorCode::internal_error, std::move(message));
}

void SqliteConnectionCloser::operator()(sqlite3* connection) const noexcept {
  // close_v2 defers the close until any forgotten statement is finalized
  // instead of failing with SQLITE_BUSY and leaking the handle.
  sqlite3_close_v2(connection);
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: a connection is used by one thread at a time (the lease), so
  // SQLite's per-connection mutex would only cost time.
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 /*zVfs=*/nullptr);
  SqliteHandlePtr handle(raw);  // sqlite3_open_v2 may return a handle even on failure
  if (rc != SQLITE_OK) {
    const char* detail = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return database_error(path, "cannot open", detail);
  }
  sqlite3_extended_result_codes(handle.get(), 1);
  sqlite3_busy_timeout(handle.get(), kBusyTimeoutMs);
  std::unique_ptr<SqliteConnection> connection(new SqliteConnection(std::move(handle)));

  // journal_mode answers with the mode in effect; a filesystem without
  // shared memory support leaves it at "delete", which we refuse rather than
  // run with other durability and concurrency than designed.
  auto journal_mode = query_text(*connection, "PRAGMA journal_mode=WAL");
  if (!journal_mode) {
    return database_error(path, "cannot set journal_mode=WAL", journal_mode.error().message);
  }
  if (*journal_mode != "wal") {
    return database_error(path, "cannot use WAL", "journal_mode stays '" + *journal_mode + "'");
  }
  if (auto set = connection->execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !set) {
    return database_error(path, "cannot configure the connection", set.error().message);
  }
  return connection;
}

Result<SqlCursorPtr> SqliteConnection::prepare(std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail(ErrorCode::internal_error, "sqlite: statement too long");
  }
  sqlite3_stmt* statement = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(handle_.get(), sql.data(), static_cast<int>(sql.size()), &statement, &tail);
  auto cursor = std::make_unique<SqliteCursor>(handle_.get(), statement);  // finalizes on every path below
  if (rc != SQLITE_OK) {
    return sqlite_error(handle_.get(), rc, "preparing " + std::string(sql));
  }
  if (statement == nullptr) {
    return fail(ErrorCode::internal_error, "sqlite: no statement in '" + std::string(sql) + "'");
  }
  // A second statement would be silently ignored; several go through execute().
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    return fail(ErrorCode::internal_error, "sqlite: more than one statement in '" + std::string(sql) + "'");
  }
  return SqlCursorPtr(std::move(cursor));
}

Result<void> SqliteConnection::execute(std::string_view sql) { return execute_on(handle_.get(), sql); }

Result<void> SqliteConnection::begin(TransactionMode mode) {
  // IMMEDIATE takes the write lock at once; DEFERRED reads a snapshot.
  return execute_on(handle_.get(), mode == TransactionMode::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Result<void> SqliteConnection::commit() { return execute_on(handle_.get(), "COMMIT"); }

void SqliteConnection::rollback() noexcept {
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already roll back; only
  // roll back what is still open.
  if (in_transaction()) {
    sqlite3_exec(handle_.get(), "ROLLBACK", /*callback=*/nullptr, /*argument=*/nullptr, /*errmsg=*/nullptr);
  }
}

Result<void> SqliteConnection::savepoint() { return execute_on(handle_.get(), "SAVEPOINT nested"); }

Result<void> SqliteConnection::release_savepoint() { return execute_on(handle_.get(), "RELEASE nested"); }

void SqliteConnection::rollback_to_savepoint() noexcept {
  // Rolled back and released: the transaction around it goes on without its work.
  if (in_transaction()) {
    sqlite3_exec(handle_.get(), "ROLLBACK TO nested; RELEASE nested", /*callback=*/nullptr, /*argument=*/nullptr,
                 /*errmsg=*/nullptr);
  }
}

bool SqliteConnection::in_transaction() const { return sqlite3_get_autocommit(handle_.get()) == 0; }

std::int64_t SqliteConnection::changes() const { return sqlite3_changes64(handle_.get()); }

// One transaction per migration, so that a failure leaves the database at
// the last complete version. The version is re-read under the write lock in
// case another process (a second dirproxyd by mistake, or dirproxyctl)
// migrated meanwhile.
Result<void> SqliteConnection::migrate(const std::filesystem::path& path) {
  const int newest = newest_schema_version();
  auto found = read_user_version(*this);
  if (!found) {
    return database_error(path, "cannot read the schema version", found.error().message);
  }
  if (*found > newest) {
    return database_error(path, "schema version " + std::to_string(*found) + " is newer",
                          "this dirproxy knows versions up to " + std::to_string(newest) +
                              "; run a newer dirproxy or restore a backup made by this version");
  }
  for (const Migration& migration : schema_migrations()) {
    if (migration.version <= *found) {
      continue;
    }
    const std::string failed = "migration to version " + std::to_string(migration.version) + " failed";
    if (auto begun = begin(TransactionMode::write); !begun) {
      return database_error(path, "cannot begin a migration", begun.error().message);
    }
    auto current = read_user_version(*this);
    if (!current) {
      rollback();
      return database_error(path, "cannot read the schema version", current.error().message);
    }
    if (*current >= migration.version) {
      rollback();
      found = current;
      continue;
    }
    const std::string bump = "PRAGMA user_version = " + std::to_string(migration.version);
    for (std::string_view sql : {std::string_view(migration.sql), std::string_view(bump)}) {
      if (auto applied = execute(sql); !applied) {
        rollback();
        return database_error(path, failed, applied.error().message);
      }
    }
    if (auto committed = commit(); !committed) {
      rollback();
      return database_error(path, failed, committed.error().message);
    }
    found = migration.version;
  }
  return {};
}

namespace {

struct SqliteBackupFinisher {
  void operator()(sqlite3_backup* backup) const noexcept { sqlite3_backup_finish(backup); }
};
using SqliteBackupPtr = std::unique_ptr<sqlite3_backup, SqliteBackupFinisher>;

Error backup_error(const std::filesystem::path& target, std::string_view what, std::string_view detail) {
  return make_error(ErrorCode::internal_error,
                    "backup to " + in_quotes(target) + ": " + std::string(what) + ": " + std::string(detail));
}

}  // namespace

Result<void> SqliteConnection::copy_to(const std::filesystem::path& target) {
  // NOFOLLOW: the path must still be the regular file the caller created.
  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(target.c_str(), &raw,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                                     /*zVfs=*/nullptr);
  SqliteHandlePtr destination(raw);  // closed before the caller removes a failed copy
  if (opened != SQLITE_OK) {
    return backup_error(target, "cannot open", raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(opened));
  }
  sqlite3_extended_result_codes(destination.get(), 1);
  SqliteBackupPtr backup(
      sqlite3_backup_init(destination.get(), /*zDestName=*/"main", handle_.get(), /*zSourceName=*/"main"));
  if (!backup) {
    return backup_error(target, "cannot start the backup", sqlite3_errmsg(destination.get()));
  }
  // All pages in one step, that is in one read transaction on the source:
  // the copy is the database as of that transaction's start. In WAL mode a
  // reader never blocks writers, so copying in chunks would not let them
  // through any sooner; it would only end the read transaction between
  // chunks, and a commit by another connection in between restarts the
  // copy from the first page, which under steady writes may never finish.
  const int stepped = sqlite3_backup_step(backup.get(), /*nPage=*/-1);
  const int finished = sqlite3_backup_finish(backup.release());
  if (stepped != SQLITE_DONE || finished != SQLITE_OK) {
    return backup_error(target, "copying failed", sqlite3_errmsg(destination.get()));
  }
  return {};
}

}  // namespace dirproxy
