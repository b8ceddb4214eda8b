// The PostgreSQL backend of the state database (docs/scaling.md): one
// database that several dirproxyd nodes share. A connection is reached
// through a libpq URL that may name several hosts; with
// target_session_attrs=read-write libpq picks the primary, and a connection
// that loses its server or finds it read-only (a demoted primary) says it is
// no longer healthy(), so the pool opens a new one, on whichever host is
// primary now.
//
// Rules that keep the single-node guarantees across nodes:
//  - A write transaction takes one advisory lock (pg_advisory_xact_lock) up
//    front, as SQLite's BEGIN IMMEDIATE takes its write lock: writers are
//    serialized across every node, so a check and the write that depends on
//    it are one step (one redemption of an invitation, one account per
//    username).
//  - A read transaction is REPEATABLE READ: one snapshot, as in SQLite.
//  - statement_timeout bounds every statement, the wait for the lock
//    included; a timeout, a lost or read-only server and a serialization
//    failure are directory_unavailable, and the transaction rolls back.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "storage/postgresql_options.hpp"
#include "storage/sql_connection.hpp"

namespace dirproxy {

// `sql` with its `?N` and `?` parameters written as PostgreSQL's `$N`
// (outside quotes and comments).
std::string postgresql_parameters(std::string_view sql);

struct PgConnectionCloser {
  void operator()(PGconn* connection) const noexcept { PQfinish(connection); }
};
using PgConnectionPtr = std::unique_ptr<PGconn, PgConnectionCloser>;

class PostgresConnection final : public SqlConnection {
 public:
  // Connects within connect_timeout and checks the database can hold our
  // state (UTF8, locale C). directory_unavailable when no server answers;
  // internal_error, saying what to change, for a database that cannot serve.
  static Result<std::unique_ptr<PostgresConnection>> open(const PostgresqlOptions& options);

  Result<SqlCursorPtr> prepare(std::string_view sql) override;
  Result<void> execute(std::string_view sql) override;
  Result<void> begin(TransactionMode mode) override;
  Result<void> commit() override;
  void rollback() noexcept override;
  Result<void> savepoint() override;
  Result<void> release_savepoint() override;
  void rollback_to_savepoint() noexcept override;
  bool in_transaction() const override;
  std::int64_t changes() const override { return changes_; }
  bool healthy() const override;

  // Creates or brings the schema forward (schema.hpp) under a session
  // advisory lock, so that of several nodes starting at once one migrates
  // and the others wait and find it done. A schema newer than this code is
  // accepted only when every newer migration is compatible with it.
  Result<void> migrate();

  // "host:port" of the server this connection is on.
  std::string server() const;
  // The database's name.
  std::string database() const;

  // Runs one statement and returns its result, or the error it caused
  // (which marks the connection unhealthy when the server is gone).
  Result<std::unique_ptr<PGresult, void (*)(PGresult*)>> run(std::string_view sql, int parameters,
                                                              const Oid* types, const char* const* values);

 private:
  explicit PostgresConnection(PgConnectionPtr handle) : handle_(std::move(handle)) {}

  Result<void> run_command(std::string_view sql);
  // The error `result` (null: none came back) stands for, "postgresql:
  // WHAT: the server's message"; marks the connection broken when its
  // server went away or is read-only.
  Error failure(const PGresult* result, std::string_view what);

  PgConnectionPtr handle_;
  std::int64_t changes_ = 0;
  bool broken_ = false;  // the server went away or is read-only now
};

}  // namespace dirproxy
