// The SQLite backend of the state database: `dirproxy.db` in state_dir,
// every connection set up the same way (WAL, synchronous=FULL, foreign keys,
// a busy timeout), the schema brought forward by the first connection, and
// the online backup that `dirproxyctl backup` makes.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string_view>

#include "core/result.hpp"
#include "storage/sql_connection.hpp"

namespace dirproxy {

// The internal_error (or conflict, for a UNIQUE or PRIMARY KEY violation)
// describing the last failure on `connection`, with `what` as context.
Error sqlite_error(sqlite3* connection, int result_code, std::string_view what);

struct SqliteConnectionCloser {
  void operator()(sqlite3* connection) const noexcept;
};
using SqliteHandlePtr = std::unique_ptr<sqlite3, SqliteConnectionCloser>;

class SqliteConnection final : public SqlConnection {
 public:
  // Opens `path` (created when missing) configured as every connection of
  // the pool must be. Fails with internal_error naming the path.
  static Result<std::unique_ptr<SqliteConnection>> open(const std::filesystem::path& path);

  Result<SqlCursorPtr> prepare(std::string_view sql) override;
  Result<void> execute(std::string_view sql) override;
  Result<void> begin(TransactionMode mode) override;
  Result<void> commit() override;
  void rollback() noexcept override;
  Result<void> savepoint() override;
  Result<void> release_savepoint() override;
  void rollback_to_savepoint() noexcept override;
  bool in_transaction() const override;
  std::int64_t changes() const override;
  bool healthy() const override { return true; }

  // Brings the schema to the newest version (schema.hpp), one transaction
  // per migration; refuses a file written by a newer dirproxy.
  Result<void> migrate(const std::filesystem::path& path);

  // Copies the whole database, as of one moment, into the new file `target`
  // (created and removed on failure by the caller): see
  // StateDatabase::backup_to.
  Result<void> copy_to(const std::filesystem::path& target);

 private:
  explicit SqliteConnection(SqliteHandlePtr handle) : handle_(std::move(handle)) {}

  SqliteHandlePtr handle_;
};

}  // namespace dirproxy
