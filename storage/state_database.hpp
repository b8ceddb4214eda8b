// The state database: the internal directory and, as later migrations add
// them, tokens, invitations, the mail outbox and the other persistent state
// of dirproxyd. It is one SQLite file (`dirproxy.db` in state_dir) for a
// single node, or one PostgreSQL database that several nodes share
// (state.backend, docs/scaling.md); sqlite_connection.hpp and
// postgres_connection.hpp hold what differs.
//
// Opening it brings the schema forward with the ordered migrations of
// schema.hpp; a database written by a newer dirproxy is refused rather than
// guessed at. Worker threads share a small pool of connections: acquire()
// lends one out and the Lease gives it back.
//
// SQL stays behind this file and the classes that use it (InternalDirectory,
// the daemon's stores), written once for both backends (sql_connection.hpp).
// The connection pool, its lease, statements and transactions live together
// here because none of them means anything without the others.
#pragma once

#include <atomic>
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
#include "storage/postgresql_options.hpp"
#include "storage/sql_connection.hpp"

namespace dirproxy {

// One prepared statement. Binding errors are remembered and reported by the
// next step(), so a call site binds its parameters and checks once.
class SqlStatement final {
 public:
  // Prepares exactly one SQL statement on `connection`.
  static Result<SqlStatement> prepare(SqlConnection& connection, std::string_view sql);

  SqlStatement(SqlStatement&& other) noexcept = default;
  SqlStatement& operator=(SqlStatement&& other) noexcept = default;
  SqlStatement(const SqlStatement&) = delete;
  SqlStatement& operator=(const SqlStatement&) = delete;
  ~SqlStatement() = default;

  // Parameters are numbered from 1, as `?1` in the SQL. Text is copied.
  SqlStatement& bind(int index, std::string_view text);
  SqlStatement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  SqlStatement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  SqlStatement& bind(int index, std::int64_t number);
  SqlStatement& bind_null(int index);
  // NULL when `text` or `number` is nullopt.
  SqlStatement& bind(int index, const std::optional<std::string>& text);
  SqlStatement& bind(int index, const std::optional<std::int64_t>& number);

  // true: a row is available through the column accessors; false: done.
  // A unique-key violation is conflict; a lost, read-only or timed-out
  // PostgreSQL server is directory_unavailable; anything else internal_error.
  Result<bool> step();
  // Steps to completion, for statements that return no rows.
  Result<void> run();
  // Runs an INSERT that ends in "RETURNING id" and gives that id.
  Result<std::int64_t> run_returning_id();

  // Columns are numbered from 0. NULL reads as "" / 0 / nullopt.
  std::string column_text(int index) const;
  std::optional<std::string> column_optional_text(int index) const;
  std::int64_t column_int64(int index) const;
  std::optional<std::int64_t> column_optional_int64(int index) const;
  bool column_is_null(int index) const;

 private:
  explicit SqlStatement(SqlCursorPtr cursor) : cursor_(std::move(cursor)) {}

  SqlCursorPtr cursor_;
};

// An open transaction, or a savepoint inside one; rolled back on
// destruction unless committed.
class SqlTransaction final {
 public:
  static Result<SqlTransaction> begin(SqlConnection& connection, TransactionMode mode);
  // A savepoint in the transaction open on `connection`: committing it
  // keeps its work in that transaction; rolling it back undoes only its own.
  static Result<SqlTransaction> savepoint(SqlConnection& connection);

  SqlTransaction(SqlTransaction&& other) noexcept;
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  ~SqlTransaction();

  Result<void> commit();

 private:
  SqlTransaction(SqlConnection* connection, bool savepoint) : connection_(connection), savepoint_(savepoint) {}

  SqlConnection* connection_ = nullptr;  // null once committed or moved from
  bool savepoint_ = false;
};

enum class StateBackend { sqlite, postgresql };

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

    // The connection lent out (tests tell leases apart by it).
    const SqlConnection* connection() const { return connection_; }
    // Whether a transaction is open on the connection.
    bool in_transaction() const { return connection_->in_transaction(); }

    // Prepares `sql` and binds `values` to parameters 1, 2, ... in order.
    template <typename... Values>
    Result<SqlStatement> prepare(std::string_view sql, const Values&... values) const {
      auto statement = SqlStatement::prepare(*connection_, sql);
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
    // Rows written by the last INSERT/UPDATE/DELETE.
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

    Lease(StateDatabase* owner, std::size_t slot, SqlConnection* connection, bool joined)
        : owner_(owner), slot_(slot), connection_(connection), joined_(joined) {}

    StateDatabase* owner_ = nullptr;  // null once moved from
    std::size_t slot_ = 0;  // the connection's place in the pool
    SqlConnection* connection_ = nullptr;
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

  // Connects `connections` connections (at least 1) to the PostgreSQL
  // database of `options` and migrates its schema (postgres_connection.hpp).
  // directory_unavailable when no server answers; internal_error when the
  // database cannot hold our state or its schema is newer and incompatible.
  static Result<std::shared_ptr<StateDatabase>> open_postgresql(const PostgresqlOptions& options,
                                                                std::size_t connections);

  // The newest schema version this binary knows.
  static int schema_version();

  // Lends out an idle connection, waiting while every one is in use; on a
  // thread inside write_transaction_joined_by_this_thread, that
  // transaction's connection. A PostgreSQL connection that lost its server
  // is replaced first (a new one follows the URL to the primary of now);
  // when that fails too, the lease's statements fail with
  // directory_unavailable.
  Lease acquire();

  StateBackend backend() const { return backend_; }
  // Where the state is, for the readiness line and `dirproxyctl
  // directories`: the SQLite file, or "postgresql://host:port/database" of
  // the server the pool connected to last (no user, no password): after a
  // failover, the promoted standby once a connection has followed the URL
  // there.
  std::string location() const;
  // The SQLite database file; empty on PostgreSQL.
  const std::filesystem::path& path() const { return path_; }

  // Writes a consistent copy of the database, as of one moment, to `target`
  // with SQLite's online backup API while other connections go on reading
  // and writing, and returns the copy's size in bytes. The copy is a plain
  // database file of mode 0600 (it holds password hashes) that
  // StateDatabase::open() accepts as dirproxy.db. `target` must be an
  // absolute path that does not exist yet; an existing file is never
  // touched. bad_request, naming the path, when `target` is relative, exists
  // or cannot be created, and on PostgreSQL (whose backups are pg_dump's);
  // internal_error when the copy fails, in which case nothing is left at
  // `target`. Holds one pooled connection meanwhile.
  Result<std::uint64_t> backup_to(const std::filesystem::path& target);

  StateDatabase(const StateDatabase&) = delete;
  StateDatabase& operator=(const StateDatabase&) = delete;

 private:
  StateDatabase(StateBackend backend, std::filesystem::path path, std::string location,
                std::vector<SqlConnectionPtr> connections, std::optional<PostgresqlOptions> postgresql);
  void give_back(std::size_t slot);

  const StateBackend backend_;
  const std::filesystem::path path_;
  // Changed by acquire() when it replaces a PostgreSQL connection; guarded
  // by location_mutex_.
  std::string location_;
  mutable std::mutex location_mutex_;
  // What a replacement connection is opened with (PostgreSQL only).
  const std::optional<PostgresqlOptions> postgresql_;
  // Owns the connections. A slot is only written by the thread its lease is
  // lent to (to replace a broken connection), so it needs no lock.
  std::vector<SqlConnectionPtr> connections_;
  // PostgreSQL: when one connection finds its server gone, the others most
  // likely lost it too (a failover), so each is replaced at its next
  // acquire rather than fail one request each. loss_epoch_ counts losses;
  // a slot whose connection was opened before the latest one is replaced.
  std::atomic<std::uint64_t> loss_epoch_{0};
  std::vector<std::uint64_t> opened_epoch_;  // per slot, like connections_
  std::mutex mutex_;
  std::condition_variable connection_returned_;
  std::vector<std::size_t> idle_;  // slots, guarded by mutex_
};

using StateDatabasePtr = std::shared_ptr<StateDatabase>;

}  // namespace dirproxy
