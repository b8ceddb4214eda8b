#include "support/test_state_database.hpp"

#include <stdexcept>

namespace dirproxy::testing {

TestStateDatabase TestStateDatabase::open(StateBackend backend, const std::filesystem::path& dir,
                                          std::size_t connections) {
  TestStateDatabase opened;
  opened.backend_ = backend;
  opened.dir_ = dir;
  if (backend == StateBackend::postgresql) {
    opened.postgres_ = std::make_shared<PostgresDatabase>(PostgresCluster::shared().create_database());
  }
  opened.database = opened.reopen(connections);
  return opened;
}

StateDatabasePtr TestStateDatabase::reopen(std::size_t connections) const {
  PostgresqlOptions options;
  if (postgres_) options.url = postgres_->url();
  Result<StateDatabasePtr> opened = backend_ == StateBackend::sqlite
                                        ? StateDatabase::open(dir_, connections)
                                        : StateDatabase::open_postgresql(options, connections);
  if (!opened) throw std::runtime_error("cannot open the test's state database: " + opened.error().message);
  return *opened;
}

Result<StateDatabasePtr> open_state_database(StateBackend backend, const std::filesystem::path& dir,
                                             std::size_t connections, std::shared_ptr<void>& keep) {
  if (backend == StateBackend::sqlite) return StateDatabase::open(dir, connections);
  if (!keep) keep = std::make_shared<PostgresDatabase>(PostgresCluster::shared().create_database());
  PostgresqlOptions options;
  options.url = static_cast<const PostgresDatabase*>(keep.get())->url();
  return StateDatabase::open_postgresql(options, connections);
}

std::optional<std::string> skip_reason(StateBackend backend) {
  if (backend == StateBackend::sqlite) return std::nullopt;
  return PostgresCluster::unavailable_reason();
}

std::string state_backend_name(const ::testing::TestParamInfo<StateBackend>& info) {
  return info.param == StateBackend::sqlite ? "Sqlite" : "Postgresql";
}

}  // namespace dirproxy::testing
