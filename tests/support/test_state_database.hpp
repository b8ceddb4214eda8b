// A fresh, empty state database of either backend for one test, so that the
// stores' tests run against SQLite and PostgreSQL alike (SCALE.md):
//
//   class MyStoreTest : public ::testing::TestWithParam<StateBackend> {...};
//   INSTANTIATE_TEST_SUITE_P(, MyStoreTest, testing::every_state_backend(),
//                            testing::state_backend_name);
//
// SQLite is a file under the given directory; PostgreSQL is a new database
// on the ctest run's shared cluster (postgres_server.hpp), dropped when the
// TestStateDatabase goes.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "storage/state_database.hpp"
#include "support/postgres_server.hpp"

namespace dirproxy::testing {

class TestStateDatabase final {
 public:
  // Opens `connections` pooled connections to a new database of `backend`
  // (SQLite: `dir`/dirproxy.db). Throws std::runtime_error when it cannot.
  static TestStateDatabase open(StateBackend backend, const std::filesystem::path& dir, std::size_t connections);

  // Opens the same database again (a restart), with its own pool.
  StateDatabasePtr reopen(std::size_t connections) const;

  StateDatabasePtr database;

 private:
  StateBackend backend_ = StateBackend::sqlite;
  std::filesystem::path dir_;
  std::shared_ptr<PostgresDatabase> postgres_;  // dropped with the last copy
};

// StateDatabase::open of `backend` for a fixture that keeps `keep` as a
// member: SQLite opens `dir`/dirproxy.db; PostgreSQL opens the database
// held in `keep`, creating it on the shared cluster on the first call (a
// second call is a restart of the same database).
Result<StateDatabasePtr> open_state_database(StateBackend backend, const std::filesystem::path& dir,
                                             std::size_t connections, std::shared_ptr<void>& keep);

// The reason PostgreSQL tests skip (PostgreSQL not installed), or nullopt:
//   if (auto why = skip_reason(GetParam())) GTEST_SKIP() << *why;
std::optional<std::string> skip_reason(StateBackend backend);

inline auto every_state_backend() { return ::testing::Values(StateBackend::sqlite, StateBackend::postgresql); }

std::string state_backend_name(const ::testing::TestParamInfo<StateBackend>& info);

}  // namespace dirproxy::testing
