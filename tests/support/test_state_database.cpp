#include "support/test_state_database.hpp"

#include "support/postgres_server.hpp"

namespace dirproxy::testing {

Result<StateDatabasePtr> open_state_database(StateBackend backend, const std::filesystem::path& dir,
                                             std::size_t connections, std::shared_ptr<void>& keep) {
  if (backend == StateBackend::sqlite) return StateDatabase::open(dir, connections);
  if (!keep) keep = std::make_shared<PostgresDatabase>(PostgresCluster::shared().create_database());
  PostgresqlOptions options;
  options.url = static_cast<const PostgresDatabase*>(keep.get())->url();
  return StateDatabase::open_postgresql(options, connections);
}

std::string state_backend_name(const ::testing::TestParamInfo<StateBackend>& info) {
  return info.param == StateBackend::sqlite ? "Sqlite" : "Postgresql";
}

}  // namespace dirproxy::testing
