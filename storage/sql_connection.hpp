// The two things a state database backend provides: a connection and the
// statements prepared on it. StateDatabase (state_database.hpp) pools
// connections and wraps these in SqlStatement, SqlTransaction and its Lease,
// which are all the rest of dirproxy sees; SqliteConnection and
// PostgresConnection implement them.
//
// SQL is written once, in SQLite's dialect where the two differ only in
// spelling: parameters are `?1`, `?2`, ... (or `?`), and a PostgreSQL
// connection numbers them `$1`, `$2`, .... Everything else a statement says
// must mean the same on both (docs/scaling.md lists what to avoid).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace dirproxy {

// One statement, prepared and not yet (or partly) stepped through. Binding
// errors are remembered and reported by the next step().
class SqlCursor {
 public:
  virtual ~SqlCursor() = default;

  // Parameters are numbered from 1. Text is copied.
  virtual void bind_text(int index, std::string_view text) = 0;
  virtual void bind_int64(int index, std::int64_t number) = 0;
  virtual void bind_null(int index) = 0;

  // true: a row is available through the column accessors; false: done.
  // A unique-key violation is conflict; a lost, read-only or timed-out
  // server is directory_unavailable; anything else internal_error.
  virtual Result<bool> step() = 0;

  // Columns of the current row, numbered from 0. NULL reads as "" / 0.
  virtual std::string column_text(int index) const = 0;
  virtual std::int64_t column_int64(int index) const = 0;
  virtual bool column_is_null(int index) const = 0;
};

using SqlCursorPtr = std::unique_ptr<SqlCursor>;

enum class TransactionMode {
  read,   // a consistent snapshot for several reads
  write,  // takes the database's one write lock up front, so a check and the
          // write that depends on it cannot be interleaved with another
          // writer (of this node or of another node sharing the database)
};

// One connection to the state database, used by one thread at a time.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // Prepares exactly one statement; more than one is an internal_error.
  virtual Result<SqlCursorPtr> prepare(std::string_view sql) = 0;
  // Runs SQL that returns no rows; may hold several statements.
  virtual Result<void> execute(std::string_view sql) = 0;

  virtual Result<void> begin(TransactionMode mode) = 0;
  virtual Result<void> commit() = 0;
  // Rolls back the open transaction, if any; never fails.
  virtual void rollback() noexcept = 0;
  // A savepoint inside the open transaction, committed (released) or
  // rolled back on its own.
  virtual Result<void> savepoint() = 0;
  virtual Result<void> release_savepoint() = 0;
  virtual void rollback_to_savepoint() noexcept = 0;
  // Whether a transaction is open (some errors end one by themselves).
  virtual bool in_transaction() const = 0;

  // Rows written by the last INSERT, UPDATE or DELETE.
  virtual std::int64_t changes() const = 0;

  // false once the connection is known unusable for writes (the server went
  // away, or it is a standby now): the pool replaces it before lending it
  // out again. Always true for SQLite.
  virtual bool healthy() const = 0;
};

using SqlConnectionPtr = std::unique_ptr<SqlConnection>;

}  // namespace dirproxy
