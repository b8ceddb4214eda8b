// Throwaway PostgreSQL for tests of the PostgreSQL state (SCALE.md).
//
// Starting a cluster costs a second or more, so a ctest run starts ONE
// (the fixture postgres_cluster of tests/CMakeLists.txt, through
// postgres_cluster.sh beside this file) and every test takes a fresh
// database of its own on it: PostgresCluster::shared().create_database().
// A test binary run by hand, without ctest, starts that cluster itself on
// first use and stops it at exit.
//
// Failover tests start clusters of their own: start_private() gives a
// primary that accepts streaming standbys (initdb's pg_hba.conf trusts
// replication from 127.0.0.1; wal_level is replica, PostgreSQL's default),
// start_standby() a standby of it made with pg_basebackup -R, and halt(),
// resume() and promote() act out a failover.
//
// Every cluster runs on a free port of 127.0.0.1 from a directory
// /tmp/dps-pg-XXXXXX, with fsync off (a test's data lives as long as the
// test), as nobody:nogroup when the tests run as root (initdb refuses root).
// The superuser is postgres, trusted without a password.
//
// Tests skip when PostgreSQL is not installed:
//   if (auto why = PostgresCluster::unavailable_reason()) GTEST_SKIP() << *why;
// Any other failure (a cluster that does not start, SQL that fails) throws
// std::runtime_error with the output: gtest reports it as a failure.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/temporary_directory.hpp"

// The tests' first line when they need PostgreSQL: skips, saying why, where
// it is not installed.
#define SKIP_WITHOUT_POSTGRES()                                                                 \
  if (auto why = ::dirproxy::testing::PostgresCluster::unavailable_reason(); why.has_value()) { \
    GTEST_SKIP() << *why;                                                                       \
  }

namespace dirproxy::testing {

class PostgresCluster;

// One throwaway database: created empty (LOCALE C, UTF8, TEMPLATE template0)
// on construction, dropped (WITH (FORCE), so open connections do not stop
// it) on destruction. A database of a halted cluster is left to the
// cluster's own removal.
class PostgresDatabase final {
 public:
  PostgresDatabase(PostgresCluster& cluster, std::string name);
  ~PostgresDatabase();
  PostgresDatabase(PostgresDatabase&& other) noexcept;
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(PostgresDatabase&&) = delete;

  const std::string& name() const { return name_; }
  // postgresql://postgres@127.0.0.1:PORT/NAME
  std::string url() const;
  // cluster().psql(name(), sql).
  std::string psql(const std::string& sql) const;
  PostgresCluster& cluster() const { return *cluster_; }

 private:
  PostgresCluster* cluster_;  // null once moved from
  std::string name_;
};

// Aggregate: set members one by one.
struct PostgresClusterOptions {
  // Server settings, NAME=VALUE without spaces ("synchronous_standby_names=
  // standby1"), given to postgres as -c options after the fixture's own
  // (listen_addresses, port, unix_socket_directories, fsync=off,
  // synchronous_commit=off, full_page_writes=off, max_connections=300,
  // shared_buffers=32MB), which they may override. A standby needs
  // max_connections at least its primary's.
  std::vector<std::string> settings;
};

class PostgresCluster final {
 public:
  using Options = PostgresClusterOptions;

  // Why no cluster can be had (PostgreSQL is not installed), or nullopt.
  static std::optional<std::string> unavailable_reason();

  // The cluster of this ctest run (DIRPROXY_TEST_POSTGRES_STATE names the
  // state file its fixture wrote), or, when that is unset (a test binary
  // run by hand), one started for this process on first use and stopped at
  // exit. Throws when unavailable_reason() has a reason.
  static PostgresCluster& shared();

  // A cluster of its own, started now, stopped and removed by the
  // destructor.
  static std::unique_ptr<PostgresCluster> start_private(const Options& options = {});

  // A streaming standby of this cluster (pg_basebackup -R: primary_conninfo
  // points at this cluster's port), started and replaying; give it
  // cluster_name=NAME in options.settings to name it in
  // synchronous_standby_names. Stopped and removed by its destructor.
  std::unique_ptr<PostgresCluster> start_standby(const Options& options = {});

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  std::string host() const { return host_; }  // "127.0.0.1"
  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:PORT/DATABASE
  std::string url(const std::string& database) const;
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // A fresh empty database with a name unique across processes and calls
  // ("dps_<pid>_<n>").
  PostgresDatabase create_database();

  // Runs `sql` (one or more statements; psql stops at the first error) as
  // the superuser on `database` with psql, and returns what it printed:
  // the rows, unaligned, fields separated by '|', one line each, no headers
  // and no command tags. Throws with psql's message when a statement fails.
  std::string psql(const std::string& database, const std::string& sql) const;

  // pg_ctl promote, returning once the standby accepts writes.
  void promote();
  // pg_ctl stop -m immediate: a crash; the data stays.
  void halt();
  // Starts again after halt(), on the same port.
  void resume();

 private:
  // `owner`: the process that stops the cluster (0: the ctest fixture does).
  PostgresCluster(std::filesystem::path state_file, std::unique_ptr<TemporaryDirectory> state_dir, pid_t owner);
  static std::unique_ptr<PostgresCluster> launch(const std::vector<std::string>& command);
  void script(const std::vector<std::string>& arguments) const;

  std::filesystem::path state_file_;
  std::unique_ptr<TemporaryDirectory> state_dir_;  // holds state_file_ for clusters of a process
  pid_t owner_;
  std::string host_;
  int port_ = 0;
  std::filesystem::path data_dir_;
  std::filesystem::path bin_dir_;
  std::atomic<unsigned> databases_created_{0};
};

}  // namespace dirproxy::testing
