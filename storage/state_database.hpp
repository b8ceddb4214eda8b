// The state database: the one SQLite file (`dirproxy.db` in state_dir) that
// holds the internal directory and, as later migrations add them, tokens,
// invitations, the mail outbox and the other persistent state of dirproxyd.
//
// Opening it sets up every connection the same way (WAL, synchronous=FULL,
// foreign keys, a busy timeout) and brings the schema forward with the ordered
// migrations in state_database.cpp; a file written by a newer dirproxy is
// refused rather than guessed at. Worker threads share a small pool of
// connections: acquire() lends one out and the Lease gives it back.
//
// SQL stays behind this file and the classes that use it (InternalDirectory,
// the daemon's stores), so that a PostgreSQL store can replace it later. The
// connection pool, its lease, statements and transactions live together here
// because none of them means anything without the others.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/result.hpp"

namespace dirproxy {

// The internal_error (or conflict, for a UNIQUE or PRIMARY KEY violation)
// describing the last failure on `connection`, with `what` as context.
Error sqlite_error(sqlite3* connection, int result_code, std::string_view what);

// One prepared statement. Binding errors are remembered and reported by the
// next step(), so a call site binds its parameters and checks once.
class SqlStatement final {
 public:
  // Prepares exactly one SQL statement on `connection`.
  static Result<SqlStatement> prepare(sqlite3* connection, std::string_view sql);

  SqlStatement(SqlStatement&& other) noexcept;
  SqlStatement& operator=(SqlStatement&& other) noexcept;
  SqlStatement(const SqlStatement&) = delete;
  SqlStatement& operator=(const SqlStatement&) = delete;
  ~SqlStatement();

  // Parameters are numbered from 1, as in SQLite. Text is copied.
  SqlStatement& bind(int index, std::string_view text);
  SqlStatement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  SqlStatement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  SqlStatement& bind(int index, std::int64_t number);
  SqlStatement& bind_null(int index);
  // NULL when `text` or `number` is nullopt.
  SqlStatement& bind(int index, const std::optional<std::string>& text);
  SqlStatement& bind(int index, const std::optional<std::int64_t>& number);

  // true: a row is available through the column accessors; false: done.
  // A UNIQUE/PRIMARY KEY violation is conflict, anything else internal_error.
  Result<bool> step();
  // Steps to completion, for statements that return no rows.
  Result<void> run();

  // Columns are numbered from 0. NULL reads as "" / 0 / nullopt.
  std::string column_text(int index) const;
  std::optional<std::string> column_optional_text(int index) const;
  std::int64_t column_int64(int index) const;
  std::optional<std::int64_t> column_optional_int64(int index) const;
  bool column_is_null(int index) const;

 private:
  SqlStatement(sqlite3* connection, sqlite3_stmt* statement);

  sqlite3* connection_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
  int bind_error_ = SQLITE_OK;  // the first failed bind, reported by step()
};

enum class TransactionMode {
  read,   // BEGIN DEFERRED: a consistent snapshot for several reads
  write,  // BEGIN IMMEDIATE: takes the write lock up front, so a check and the
          // write that depends on it cannot be interleaved with another writer
};

// An open transaction, or a savepoint inside one; rolled back on
// destruction unless committed.
class SqlTransaction final {
 public:
  static Result<SqlTransaction> begin(sqlite3* connection, TransactionMode mode);
  // A savepoint in the transaction open on `connection`: committing it
  // keeps its work in that transaction; rolling it back undoes only its own.
  static Result<SqlTransaction> savepoint(sqlite3* connection);

  SqlTransaction(SqlTransaction&& other) noexcept;
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  ~SqlTransaction();

  Result<void> commit();

 private:
  SqlTransaction(sqlite3* connection, bool savepoint) : connection_(connection), savepoint_(savepoint) {}

  sqlite3* connection_ = nullptr;  // null once committed or moved from
  bool savepoint_ = false;
};

struct SqliteConnectionCloser {
  void operator()(sqlite3* connection) const noexcept;
};
using SqliteConnectionPtr = std::unique_ptr<sqlite3, SqliteConnectionCloser>;

class StateDatabase final {
 public:
  // A connection lent out by acquire(); returned to the pool on destruction.
  // Must not outlive its StateDatabase. Use it from one thread at a time.
  class Lease final {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    // The connection itself, for what the helpers below do not cover (the
    // SQLite backup API).
    sqlite3* raw() const { return connection_; }

    // Prepares `sql` and binds `values` to parameters 1, 2, ... in order.
    template <typename... Values>
    Result<SqlStatement> prepare(std::string_view sql, const Values&... values) const {
      auto statement = SqlStatement::prepare(connection_, sql);
      if (statement) {
        [[maybe_unused]] int index = 0;
        (statement->bind(++index, values), ...);
      }
      return statement;
    }
    Result<SqlTransaction> begin(TransactionMode mode) const;
    // Runs `work(lease)` in one transaction and commits it when `work`
    // succeeds; `work`'s error, or a failed commit, rolls all of it back.
    // `work` returns a Result<T>, which this returns:
    //   auto id = lease.transaction(TransactionMode::write, [&](const Lease& lease) -> Result<int64_t> {...});
    template <typename Work>
    std::invoke_result_t<Work&, const Lease&> transaction(TransactionMode mode, Work&& work) const {
      auto transaction = begin(mode);
      RETURN_IF_ERROR(transaction);
      auto result = work(*this);
      if (!result) return result;
      RETURN_IF_ERROR(transaction->commit());
      return result;
    }
    // transaction(TransactionMode::write, work): the write lock is taken up
    // front, so a check and the write that depends on it are one step.
    template <typename Work>
    std::invoke_result_t<Work&, const Lease&> write_transaction(Work&& work) const {
      return transaction(TransactionMode::write, work);
    }
    // write_transaction(work), with this lease's connection lent to every
    // acquire() on this thread while `work` runs: code that takes a lease of
    // its own (the internal directory) then works inside this transaction,
    // its transactions become savepoints of this one, and all of it commits
    // or rolls back together. For a change made of several other parts'
    // writes (a new account, its groups, its token and its mail). `work`
    // must not hand its thread to other work meanwhile.
    template <typename Work>
    std::invoke_result_t<Work&, const Lease&> write_transaction_joined_by_this_thread(Work&& work) const {
      auto transaction = begin(TransactionMode::write);
      RETURN_IF_ERROR(transaction);
      std::invoke_result_t<Work&, const Lease&> result = [&] {
        const JoinedByThisThread joined(*this);
        return work(*this);
      }();
      if (!result) return result;
      RETURN_IF_ERROR(transaction->commit());
      return result;
    }
    // Runs SQL that returns no rows (may hold several statements).
    Result<void> execute(std::string_view sql) const;
    // sqlite3_changes(): rows written by the last INSERT/UPDATE/DELETE.
    std::int64_t changes() const;

   private:
    friend class StateDatabase;
    // Lends `lease`'s connection to acquire() on this thread while it lives.
    class JoinedByThisThread final {
     public:
      explicit JoinedByThisThread(const Lease& lease);
      ~JoinedByThisThread();
      JoinedByThisThread(const JoinedByThisThread&) = delete;
      JoinedByThisThread& operator=(const JoinedByThisThread&) = delete;

     private:
      const Lease* previous_;
    };

    Lease(StateDatabase* owner, sqlite3* connection, bool joined)
        : owner_(owner), connection_(connection), joined_(joined) {}

    StateDatabase* owner_ = nullptr;  // null once moved from
    sqlite3* connection_ = nullptr;
    // Lent by a write_transaction_joined_by_this_thread: its transactions
    // are savepoints, and the connection goes back with the lease that lent it.
    bool joined_ = false;
  };

  // Opens (creating when missing, mode 0700 for the directory) state_dir and
  // `dirproxy.db` in it with a pool of `connections` connections (at least
  // 1), and migrates the schema to schema_version(). Fails with
  // internal_error naming the path and SQLite's message, or when the file's
  // schema is newer than this binary knows.
  static Result<std::shared_ptr<StateDatabase>> open(const std::filesystem::path& state_dir, std::size_t connections);

  // The newest schema version this binary knows (PRAGMA user_version).
  static int schema_version();

  // Lends out an idle connection, waiting while every one is in use; on a
  // thread inside write_transaction_joined_by_this_thread, that
  // transaction's connection.
  Lease acquire();

  // The database file.
  const std::filesystem::path& path() const { return path_; }

  // Writes a consistent copy of the database, as of one moment, to `target`
  // with SQLite's online backup API while other connections go on reading
  // and writing, and returns the copy's size in bytes. The copy is a plain
  // database file of mode 0600 (it holds password hashes) that
  // StateDatabase::open() accepts as dirproxy.db. `target` must be an
  // absolute path that does not exist yet; an existing file is never
  // touched. bad_request, naming the path, when `target` is relative, exists
  // or cannot be created; internal_error when the copy fails, in which case
  // nothing is left at `target`. Holds one pooled connection meanwhile.
  Result<std::uint64_t> backup_to(const std::filesystem::path& target);

  StateDatabase(const StateDatabase&) = delete;
  StateDatabase& operator=(const StateDatabase&) = delete;

 private:
  StateDatabase(std::filesystem::path path, std::vector<SqliteConnectionPtr> connections);
  void give_back(sqlite3* connection);

  const std::filesystem::path path_;
  // Declared before the pool state: owns the connections and closes them last.
  const std::vector<SqliteConnectionPtr> connections_;
  std::mutex mutex_;
  std::condition_variable connection_returned_;
  std::vector<sqlite3*> idle_;  // guarded by mutex_
};

using StateDatabasePtr = std::shared_ptr<StateDatabase>;

}  // namespace dirproxy
