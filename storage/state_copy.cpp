#include "storage/state_copy.hpp"

#include <algorithm>
#include <string_view>

#include "storage/schema.hpp"
#include "storage/sqlite_connection.hpp"

namespace dirproxy {

namespace {

// Which processes run on the database now: none of the file's.
constexpr std::string_view kNotCopied = "nodes";

std::string in_quotes(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

// Names go into the SQL as they are (a name cannot be a parameter): only
// the plain lower-case identifiers our schema uses are accepted.
bool is_plain_identifier(std::string_view name) {
  return !name.empty() && (name[0] < '0' || name[0] > '9') && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

std::string rows_text(std::int64_t rows) { return std::to_string(rows) + (rows == 1 ? " row" : " rows"); }

// The single number `sql` answers with.
Result<std::int64_t> count_on(SqlConnection& connection, const std::string& sql) {
  auto statement = SqlStatement::prepare(connection, sql);
  RETURN_IF_ERROR(statement);
  auto row = statement->step();
  RETURN_IF_ERROR(row);
  if (!*row) return fail(ErrorCode::internal_error, "'" + sql + "' returned no row");
  return statement->column_int64(0);
}

Result<std::int64_t> count_on(const StateDatabase::Lease& lease, const std::string& sql) {
  auto statement = lease.prepare(sql);
  RETURN_IF_ERROR(statement);
  auto row = statement->step();
  RETURN_IF_ERROR(row);
  if (!*row) return fail(ErrorCode::internal_error, "'" + sql + "' returned no row");
  return statement->column_int64(0);
}

// The file's tables, each checked against the schema this version knows.
Result<void> check_source_tables(SqlConnection& source, const std::filesystem::path& path,
                                 const std::vector<std::string>& known) {
  auto tables = SqlStatement::prepare(
      source, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
              " ORDER BY name");
  RETURN_IF_ERROR(tables);
  for (;;) {
    auto row = tables->step();
    RETURN_IF_ERROR(row);
    if (!*row) return {};
    const std::string table = tables->column_text(0);
    if (std::find(known.begin(), known.end(), table) == known.end()) {
      return fail(ErrorCode::bad_request, "state file " + in_quotes(path) + " has a table '" + table +
                                              "' that schema version " + std::to_string(newest_schema_version()) +
                                              " does not have; it is not copied by this dirproxy");
    }
  }
}

// The file's columns of `table`, in their order.
Result<std::vector<std::string>> source_columns(SqlConnection& source, const std::string& table) {
  auto info = SqlStatement::prepare(source, "SELECT name FROM pragma_table_info(?1) ORDER BY cid");
  RETURN_IF_ERROR(info);
  info->bind(1, table);
  std::vector<std::string> columns;
  for (;;) {
    auto row = info->step();
    RETURN_IF_ERROR(row);
    if (!*row) break;
    columns.push_back(info->column_text(0));
    if (!is_plain_identifier(columns.back())) {
      return fail(ErrorCode::bad_request, "table '" + table + "' of the state file has a column '" + columns.back() +
                                              "' that is not in dirproxy's schema");
    }
  }
  if (columns.empty()) return fail(ErrorCode::internal_error, "table '" + table + "' of the state file has no columns");
  return columns;
}

// Every PostgreSQL table of the schema must be empty: a copy never merges.
Result<void> check_target_empty(const StateDatabase::Lease& target, const std::vector<std::string>& tables) {
  for (const std::string& table : tables) {
    auto rows = count_on(target, "SELECT count(*) FROM " + table);
    RETURN_IF_ERROR(rows);
    if (*rows > 0) {
      return fail(ErrorCode::bad_request, "the PostgreSQL database is not empty: table " + table + " has " +
                                              rows_text(*rows) +
                                              "; --migrate-state copies a state only into a new, empty database");
    }
  }
  return {};
}

// Inserts every row of `table` from `source` into `target`, all columns
// (ids included) as text or NULL, and returns how many.
Result<std::int64_t> copy_rows(SqlConnection& source, const StateDatabase::Lease& target, const std::string& table) {
  auto columns = source_columns(source, table);
  RETURN_IF_ERROR(columns);
  std::string names;
  std::string parameters;
  for (std::size_t i = 0; i < columns->size(); ++i) {
    names += (i == 0 ? "" : ", ") + (*columns)[i];
    parameters += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
  }
  const std::string insert = "INSERT INTO " + table + " (" + names + ") VALUES (" + parameters + ")";
  auto rows = SqlStatement::prepare(source, "SELECT " + names + " FROM " + table);
  RETURN_IF_ERROR(rows);
  std::int64_t copied = 0;
  for (;;) {
    auto row = rows->step();
    RETURN_IF_ERROR(row);
    if (!*row) return copied;
    auto statement = target.prepare(insert);
    RETURN_IF_ERROR(statement);
    for (std::size_t i = 0; i < columns->size(); ++i) {
      const int column = static_cast<int>(i);
      // Untyped text: PostgreSQL reads it as the column's type (bigint, citext).
      if (rows->column_is_null(column)) {
        statement->bind_null(column + 1);
      } else {
        statement->bind(column + 1, rows->column_text(column));
      }
    }
    if (auto inserted = statement->run(); !inserted) {
      return fail(inserted.error().code, "copying a row of table " + table + ": " + inserted.error().message);
    }
    ++copied;
  }
}

// An identity column continues after the ids copied into it, so the next
// row inserted gets max(id) + 1 rather than a copied row's id.
Result<void> continue_identity(const StateDatabase::Lease& target, const std::string& table) {
  auto identity = target.prepare(
      "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
      " AND table_name = ?1 AND column_name = 'id' AND is_identity = 'YES'",
      table);
  RETURN_IF_ERROR(identity);
  auto found = identity->step();
  RETURN_IF_ERROR(found);
  if (!*found || identity->column_int64(0) == 0) return {};
  auto set = target.prepare("SELECT setval(pg_get_serial_sequence(?1, 'id'), (SELECT max(id) FROM " + table + "))",
                            table);
  RETURN_IF_ERROR(set);
  return set->run();
}

}  // namespace

Result<std::vector<CopiedTable>> copy_sqlite_state(const std::filesystem::path& source_path, StateDatabase& target) {
  if (target.backend() != StateBackend::postgresql) {
    return fail(ErrorCode::bad_request, "a SQLite state is copied only into PostgreSQL, and the target is " +
                                            in_quotes(target.location()));
  }
  // SqliteConnection::open would create a missing file.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(source_path, ec)) {
    return fail(ErrorCode::bad_request, "state file " + in_quotes(source_path) + " does not exist or is not a file");
  }
  auto source = SqliteConnection::open(source_path);
  RETURN_IF_ERROR(source);
  RETURN_IF_ERROR((*source)->migrate(source_path));

  const std::vector<std::string> tables = schema_tables();
  // One snapshot of the file for the rows and the counts alike.
  auto snapshot = SqlTransaction::begin(**source, TransactionMode::read);
  RETURN_IF_ERROR(snapshot);
  RETURN_IF_ERROR(check_source_tables(**source, source_path, tables));

  const StateDatabase::Lease connection = target.acquire();
  return connection.write_transaction([&](const StateDatabase::Lease& lease) -> Result<std::vector<CopiedTable>> {
    RETURN_IF_ERROR(check_target_empty(lease, tables));
    std::vector<CopiedTable> copied;
    for (const std::string& table : tables) {
      if (table == kNotCopied) continue;
      auto rows = copy_rows(**source, lease, table);
      RETURN_IF_ERROR(rows);
      if (*rows > 0) RETURN_IF_ERROR(continue_identity(lease, table));
      copied.push_back(CopiedTable{.table = table, .rows = *rows});
    }
    // Checked once everything is in, inside the transaction: a count that
    // differs means the copy is wrong, and it is not committed.
    for (const CopiedTable& table : copied) {
      auto in_file = count_on(**source, "SELECT count(*) FROM " + table.table);
      RETURN_IF_ERROR(in_file);
      auto in_postgresql = count_on(lease, "SELECT count(*) FROM " + table.table);
      RETURN_IF_ERROR(in_postgresql);
      if (*in_file != table.rows || *in_postgresql != table.rows) {
        return fail(ErrorCode::internal_error, "table " + table.table + " has " + rows_text(*in_file) +
                                                   " in the state file but " + rows_text(*in_postgresql) +
                                                   " in PostgreSQL after the copy; nothing was committed");
      }
    }
    return copied;
  });
}

}  // namespace dirproxy
