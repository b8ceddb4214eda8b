#include "daemon/state_opening.hpp"

namespace dirproxy {

PostgresqlOptions postgresql_options(const config::PostgresqlState& postgresql) {
  return PostgresqlOptions{.url = postgresql.url,
                           .password = postgresql.password,
                           .connect_timeout = postgresql.connect_timeout,
                           .statement_timeout = postgresql.statement_timeout};
}

Result<StateDatabasePtr> open_state_database(const config::Config& config, std::size_t sqlite_connections) {
  if (config.state.backend == config::StateBackend::postgresql) {
    return StateDatabase::open_postgresql(postgresql_options(config.state.postgresql),
                                          config.state.postgresql.pool_size);
  }
  return StateDatabase::open(config.state_dir, sqlite_connections);
}

}  // namespace dirproxy
