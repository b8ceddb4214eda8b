#include "storage/postgres_connection.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <vector>

#include "storage/schema.hpp"

namespace dirproxy {

namespace {

// Advisory lock keys (any two constants that nothing else on the database
// uses): one for every write transaction, one for migrations.
constexpr std::int64_t kWriteLockKey = 0x6469727078790001;      // "dirpxy" 1
constexpr std::int64_t kMigrationLockKey = 0x6469727078790002;  // "dirpxy" 2
constexpr Oid kInt8Oid = 20;                                    // bigint (pg_type.h)

using ResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;

ResultPtr own(PGresult* result) { return ResultPtr(result, &PQclear); }

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// SQLSTATE classes that mean "this server cannot take the request now"
// rather than "the request is wrong": the caller may try again, on this
// node or another, and nothing was applied.
bool is_unavailable(std::string_view state) {
  return state.starts_with("08")         // connection exception
         || state.starts_with("57P")     // admin shutdown, crash shutdown, cannot connect now
         || state == "25006"             // read-only transaction: a standby, or a demoted primary
         || state == "57014"             // statement_timeout (query_canceled)
         || state == "55P03"             // lock_not_available
         || state == "40001"             // serialization_failure
         || state == "40P01"             // deadlock_detected
         || state == "53300"             // too_many_connections
         || state == "25P03";            // idle_in_transaction_session_timeout
}

// Errors after which the connection must not be lent out again.
bool breaks_connection(std::string_view state) {
  return state.starts_with("08") || state.starts_with("57P") || state == "25006";
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

class PostgresCursor final : public SqlCursor {
 public:
  PostgresCursor(PostgresConnection& connection, std::string sql) : connection_(connection), sql_(std::move(sql)) {}

  void bind_text(int index, std::string_view text) override { set(index, std::string(text), /*type=*/0); }
  void bind_int64(int index, std::int64_t number) override { set(index, std::to_string(number), kInt8Oid); }
  void bind_null(int index) override { set(index, std::nullopt, /*type=*/0); }

  Result<bool> step() override {
    if (!result_) {
      // Text parameters go untyped, so that PostgreSQL takes the type from
      // where they are used (citext for a username, bigint for a time).
      std::vector<const char*> values;
      values.reserve(values_.size());
      for (const auto& value : values_) values.push_back(value ? value->c_str() : nullptr);
      auto result = connection_.run(sql_, static_cast<int>(values_.size()), types_.data(), values.data());
      RETURN_IF_ERROR(result);
      result_ = std::move(*result);
      rows_ = PQntuples(result_.get());
      row_ = -1;
    }
    return ++row_ < rows_;
  }

  std::string column_text(int index) const override {
    if (column_is_null(index)) return {};
    return std::string(PQgetvalue(result_.get(), row_, index),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row_, index)));
  }
  std::int64_t column_int64(int index) const override {
    if (column_is_null(index)) return 0;
    const std::string_view text(PQgetvalue(result_.get(), row_, index));
    if (text == "t") return 1;  // a boolean, as SQLite gives comparisons
    if (text == "f") return 0;
    return parse_int64(text).value_or(0);
  }
  bool column_is_null(int index) const override {
    return result_ == nullptr || row_ < 0 || row_ >= rows_ || PQgetisnull(result_.get(), row_, index) != 0;
  }

 private:
  void set(int index, std::optional<std::string> value, Oid type) {
    if (index < 1) return;
    const auto slot = static_cast<std::size_t>(index - 1);
    if (values_.size() <= slot) {
      values_.resize(slot + 1);
      types_.resize(slot + 1, 0);
    }
    values_[slot] = std::move(value);
    types_[slot] = type;
  }

  PostgresConnection& connection_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  ResultPtr result_{nullptr, &PQclear};
  int rows_ = 0;
  int row_ = -1;
};

std::string seconds_text(std::chrono::milliseconds duration) {
  // libpq takes whole seconds; round up so a short timeout is not zero (= wait forever).
  return std::to_string(std::max<std::int64_t>(1, (duration.count() + 999) / 1000));
}

}  // namespace

std::string postgresql_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int next = 0;  // the number a bare `?` gets
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a literal or a quoted name, '' and "" inside included
      const std::size_t end = sql.find(c, i + 1);
      const std::size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, stop - i));
      i = stop - 1;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const std::size_t end = sql.find('\n', i);
      const std::size_t stop = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, stop - i));
      i = stop - 1;
    } else if (c == '?') {
      std::size_t digits = i + 1;
      while (digits < sql.size() && sql[digits] >= '0' && sql[digits] <= '9') ++digits;
      out += '$';
      if (digits > i + 1) {
        out.append(sql.substr(i + 1, digits - i - 1));
        i = digits - 1;
      } else {
        out += std::to_string(++next);
      }
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<PostgresConnection>> PostgresConnection::open(const PostgresqlOptions& options) {
  const std::string connect_timeout = seconds_text(options.connect_timeout);
  const std::string statement_ms = std::to_string(options.statement_timeout.count());
  // Every statement, and the wait for a lock, ends within statement_timeout;
  // a transaction left idle (a stuck node) does not hold the write lock
  // forever; TCP gives up on an unanswering server as soon.
  const std::string server_options = "-c statement_timeout=" + statement_ms +
                                     " -c idle_in_transaction_session_timeout=" + statement_ms +
                                     " -c client_encoding=UTF8";
  std::vector<const char*> keys = {"dbname", "connect_timeout", "options", "application_name", "tcp_user_timeout",
                                   "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"};
  std::vector<const char*> values = {options.url.c_str(), connect_timeout.c_str(), server_options.c_str(),
                                     "dirproxyd", statement_ms.c_str(), "1", "10", "2", "3"};
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConnectionPtr handle(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (handle == nullptr) return fail(ErrorCode::internal_error, "postgresql: out of memory");
  if (PQstatus(handle.get()) != CONNECTION_OK) {
    return fail(ErrorCode::directory_unavailable,
                "postgresql: cannot connect: " + trimmed(PQerrorMessage(handle.get())));
  }
  // The server's notices ("extension citext already exists, skipping") are
  // not for the log; errors come back as results.
  PQsetNoticeProcessor(handle.get(), [](void*, const char*) {}, nullptr);
  std::unique_ptr<PostgresConnection> connection(new PostgresConnection(std::move(handle)));

  // citext folds case with the database's LC_CTYPE and sorts with its
  // collation: only C gives exactly SQLite's NOCASE (ASCII letters only).
  auto settings = connection->run(
      "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database"
      " WHERE datname = current_database()",
      0, nullptr, nullptr);
  RETURN_IF_ERROR(settings);
  const auto value = [&](int column) { return std::string(PQgetvalue(settings->get(), 0, column)); };
  if (PQntuples(settings->get()) != 1) {
    return fail(ErrorCode::internal_error, "postgresql: cannot read the database's encoding and locale");
  }
  const auto is_c = [](const std::string& locale) { return locale == "C" || locale == "POSIX"; };
  if (value(0) != "UTF8" || !is_c(value(1)) || !is_c(value(2))) {
    return fail(ErrorCode::internal_error,
                "postgresql: database '" + connection->database() + "' has encoding " + value(0) + ", collation " +
                    value(1) + " and ctype " + value(2) +
                    "; dirproxy needs UTF8 and locale C (names compare as with SQLite's NOCASE): create it with"
                    " CREATE DATABASE " + connection->database() +
                    " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'");
  }
  return connection;
}

Result<ResultPtr> PostgresConnection::run(std::string_view sql, int parameters, const Oid* types,
                                          const char* const* values) {
  const std::string text(sql);
  ResultPtr result = own(PQexecParams(handle_.get(), text.c_str(), parameters, types, values, /*paramLengths=*/nullptr,
                                      /*paramFormats=*/nullptr, /*resultFormat=*/0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    const char* tuples = PQcmdTuples(result.get());
    changes_ = tuples[0] != '\0' ? parse_int64(tuples).value_or(0) : 0;
    return result;
  }
  return failure(result.get(), "running '" + text + "'");
}

Error PostgresConnection::failure(const PGresult* result, std::string_view what) {
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = sqlstate != nullptr ? sqlstate : "";
  const std::string detail =
      trimmed(result != nullptr && PQresultErrorMessage(result)[0] != '\0' ? PQresultErrorMessage(result)
                                                                            : PQerrorMessage(handle_.get()));
  std::string message = "postgresql: " + std::string(what) + ": " + detail;
  if (PQstatus(handle_.get()) != CONNECTION_OK || state.empty() || breaks_connection(state)) {
    broken_ = true;
    return make_error(ErrorCode::directory_unavailable, std::move(message));
  }
  if (state == "23505") return make_error(ErrorCode::conflict, std::move(message));  // unique_violation
  if (is_unavailable(state)) return make_error(ErrorCode::directory_unavailable, std::move(message));
  return make_error(ErrorCode::internal_error, std::move(message));
}

Result<void> PostgresConnection::run_command(std::string_view sql) {
  auto result = run(sql, 0, nullptr, nullptr);
  RETURN_IF_ERROR(result);
  return {};
}

Result<SqlCursorPtr> PostgresConnection::prepare(std::string_view sql) {
  return SqlCursorPtr(std::make_unique<PostgresCursor>(*this, postgresql_parameters(sql)));
}

Result<void> PostgresConnection::execute(std::string_view sql) {
  // PQexec runs several statements, which PQexecParams refuses.
  const std::string text(sql);
  ResultPtr result = own(PQexec(handle_.get(), text.c_str()));
  if (result && (PQresultStatus(result.get()) == PGRES_COMMAND_OK || PQresultStatus(result.get()) == PGRES_TUPLES_OK)) {
    return {};
  }
  return failure(result.get(), "executing SQL");
}

Result<void> PostgresConnection::begin(TransactionMode mode) {
  if (mode == TransactionMode::read) return run_command("BEGIN ISOLATION LEVEL REPEATABLE READ");
  // READ COMMITTED: each statement sees what committed before it, so after
  // the lock is taken every earlier writer's work is visible.
  RETURN_IF_ERROR(run_command("BEGIN ISOLATION LEVEL READ COMMITTED"));
  if (auto locked = run_command("SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")"); !locked) {
    rollback();
    return locked;
  }
  return {};
}

Result<void> PostgresConnection::commit() {
  // COMMIT of a failed transaction answers ROLLBACK without an error.
  const bool failed = PQtransactionStatus(handle_.get()) == PQTRANS_INERROR;
  RETURN_IF_ERROR(run_command("COMMIT"));
  if (failed) return fail(ErrorCode::internal_error, "postgresql: commit of a failed transaction rolled it back");
  return {};
}

void PostgresConnection::rollback() noexcept {
  if (in_transaction()) own(PQexec(handle_.get(), "ROLLBACK"));
}

Result<void> PostgresConnection::savepoint() { return run_command("SAVEPOINT nested"); }

Result<void> PostgresConnection::release_savepoint() { return run_command("RELEASE SAVEPOINT nested"); }

void PostgresConnection::rollback_to_savepoint() noexcept {
  if (in_transaction()) own(PQexec(handle_.get(), "ROLLBACK TO SAVEPOINT nested; RELEASE SAVEPOINT nested"));
}

bool PostgresConnection::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(handle_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

bool PostgresConnection::healthy() const { return !broken_ && PQstatus(handle_.get()) == CONNECTION_OK; }

std::string PostgresConnection::server() const {
  return std::string(PQhost(handle_.get())) + ":" + PQport(handle_.get());
}

std::string PostgresConnection::database() const { return PQdb(handle_.get()); }

Result<void> PostgresConnection::migrate() {
  const std::string lock_key = std::to_string(kMigrationLockKey);
  RETURN_IF_ERROR(run_command("SELECT pg_advisory_lock(" + lock_key + ")"));
  auto migrated = [&]() -> Result<void> {
    RETURN_IF_ERROR(execute(
        "CREATE EXTENSION IF NOT EXISTS citext;"
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version BIGINT NOT NULL, oldest_compatible_code BIGINT NOT NULL)"));
    auto found = run("SELECT version, oldest_compatible_code FROM schema_version", 0, nullptr, nullptr);
    RETURN_IF_ERROR(found);
    int version = 0;
    if (PQntuples(found->get()) > 0) {
      version = static_cast<int>(parse_int64(PQgetvalue(found->get(), 0, 0)).value_or(0));
      const auto oldest = parse_int64(PQgetvalue(found->get(), 0, 1)).value_or(version);
      const int newest = newest_schema_version();
      if (version > newest && oldest > newest) {
        return fail(ErrorCode::internal_error,
                    "postgresql: schema version " + std::to_string(version) + " is newer than this dirproxy knows (" +
                        std::to_string(newest) + ") and needs dirproxy code of schema version " +
                        std::to_string(oldest) + " or later; upgrade this node");
      }
    }
    for (const Migration& migration : schema_migrations()) {
      if (migration.version <= version) continue;
      const std::string failed = "postgresql: migration to version " + std::to_string(migration.version) + " failed: ";
      RETURN_IF_ERROR(run_command("BEGIN"));
      auto applied = [&]() -> Result<void> {
        RETURN_IF_ERROR(execute(postgresql_schema_sql(migration.sql)));
        RETURN_IF_ERROR(execute("DELETE FROM schema_version"));
        RETURN_IF_ERROR(run_command("INSERT INTO schema_version VALUES (" + std::to_string(migration.version) + ", " +
                                    std::to_string(oldest_compatible_code_version(migration.version)) + ")"));
        return commit();
      }();
      if (!applied) {
        rollback();
        return fail(applied.error().code, failed + applied.error().message);
      }
    }
    return {};
  }();
  own(PQexec(handle_.get(), ("SELECT pg_advisory_unlock(" + lock_key + ")").c_str()));
  return migrated;
}

}  // namespace dirproxy
