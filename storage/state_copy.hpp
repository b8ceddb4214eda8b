// Moving a single node's SQLite state into PostgreSQL (`dirproxyd
// --migrate-state --from FILE.db`, docs/scaling.md): every table of the
// schema copied row by row, ids included, into an empty PostgreSQL state
// database in one write transaction that commits only when each table holds
// as many rows as the file does. The file's schema is first brought to this
// version's, so both sides have the same tables and columns; the rows are
// read generically (the file's own column list) and bound as text or NULL,
// from which PostgreSQL takes each column's type. The nodes table is not
// copied: it says which processes run on the database now, and none of the
// file's do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

struct CopiedTable {
  std::string table;
  std::int64_t rows = 0;
};

// Copies the SQLite state file `source` into `target` and returns the rows
// copied per table, in the order copied (schema_tables(), without nodes).
// Nothing is written to `target` unless all of it is. bad_request when
// `source` is not an existing file, when `target` is not PostgreSQL, when a
// table of `target` has rows (naming the table and how many), or when the
// file holds a table this version's schema does not know (naming it);
// internal_error when the file cannot be read or migrated, a row does not
// fit its PostgreSQL column, or a count differs after the copy;
// directory_unavailable when the PostgreSQL server is lost meanwhile.
Result<std::vector<CopiedTable>> copy_sqlite_state(const std::filesystem::path& source, StateDatabase& target);

}  // namespace dirproxy
