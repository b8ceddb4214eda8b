// A fresh, empty state database of either backend for one test, so that the
// stores' tests run against SQLite and PostgreSQL alike (SCALE.md):
//
//   class MyStoreTest : public ::testing::TestWithParam<StateBackend> {
//     std::shared_ptr<void> keep_database_;
//     ... testing::open_state_database(GetParam(), dir, 2, keep_database_) ...
//   };
//   INSTANTIATE_TEST_SUITE_P(Backends, MyStoreTest, testing::every_state_backend(),
//                            testing::state_backend_name);
//
// SQLite is a file under the given directory; PostgreSQL is a new database
// on the ctest run's shared cluster (postgres_server.hpp), dropped when the
// fixture's `keep` goes.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/state_database.hpp"

namespace dirproxy::testing {

// StateDatabase::open of `backend` for a fixture that keeps `keep` as a
// member: SQLite opens `dir`/dirproxy.db; PostgreSQL opens the database
// held in `keep`, creating it on the shared cluster on the first call (a
// second call is a restart of the same database).
Result<StateDatabasePtr> open_state_database(StateBackend backend, const std::filesystem::path& dir,
                                             std::size_t connections, std::shared_ptr<void>& keep);

inline auto every_state_backend() { return ::testing::Values(StateBackend::sqlite, StateBackend::postgresql); }

std::string state_backend_name(const ::testing::TestParamInfo<StateBackend>& info);

}  // namespace dirproxy::testing
