// Opens the state database the configuration names (state.backend): the
// SQLite file in state_dir, or the PostgreSQL database of state.postgresql
// (docs/scaling.md). The daemon and `dirproxyd --migrate-state` open it the
// same way.
#pragma once

#include <cstddef>

#include "config/config.hpp"
#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// state.postgresql as storage/ takes it.
PostgresqlOptions postgresql_options(const config::PostgresqlState& postgresql);

// SQLite gets `sqlite_connections` pooled connections (one per worker);
// PostgreSQL gets state.postgresql.pool_size.
Result<StateDatabasePtr> open_state_database(const config::Config& config, std::size_t sqlite_connections);

}  // namespace dirproxy
