// The state database's schema: one forward migration per version, written
// in SQLite's dialect, and its translation for PostgreSQL. Both backends
// apply the same list in the same order, so a version number means the same
// tables on both.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dirproxy {

struct Migration {
  int version;  // the schema version a database has after this migration
  const char* sql;
  // Whether a dirproxyd that knows only the versions before this one can
  // still use a database migrated to it (new nullable columns, new tables),
  // so that old and new nodes can run side by side during a rolling
  // upgrade (docs/operations.md).
  bool compatible_with_older_code = false;
};

// Every migration, oldest first, numbered 1, 2, 3, ...
std::span<const Migration> schema_migrations();

// The newest schema version this binary knows.
int newest_schema_version();

// The oldest code version that can use a database at schema `version`:
// the version before the earliest migration up to `version` from which on
// every migration is compatible_with_older_code.
int oldest_compatible_code_version(int version);

// A migration's SQL as PostgreSQL must read it: INTEGER is BIGINT, an
// INTEGER PRIMARY KEY is an identity column, a COLLATE NOCASE column is
// citext (in a database of locale C, which folds ASCII only, as NOCASE
// does), and WITHOUT ROWID goes.
std::string postgresql_schema_sql(std::string_view sqlite_sql);

// Every table the migrations create, in an order where a table comes after
// the tables it REFERENCES (groups before memberships, access_requests
// before invitations): the order to fill an empty database in. Not the
// PostgreSQL backend's own schema_version.
std::vector<std::string> schema_tables();

}  // namespace dirproxy
