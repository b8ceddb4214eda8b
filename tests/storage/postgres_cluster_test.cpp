// The PostgreSQL test fixture itself (tests/support/postgres_server.hpp):
// the shared cluster hands out separate, empty, UTF8/C databases and drops
// them, psql reports rows and failures, and a private primary with a
// streaming standby acts out a failover. The stores' PostgreSQL tests stand
// on these.
#include "support/postgres_server.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"

namespace dirproxy {
namespace {

using testing::PostgresCluster;
using testing::PostgresDatabase;
using testing::spawn_child;
using testing::wait_for_child;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// psql's answer to `sql` on `database` once it is `expected`, or the last
// answer after `timeout`: a standby replays a moment after the primary
// commits.
std::string wait_for_answer(const PostgresCluster& cluster, const std::string& database, const std::string& sql,
                            const std::string& expected,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string answer;
  while (true) {
    try {
      answer = cluster.psql(database, sql);
    } catch (const std::runtime_error& e) {
      answer = e.what();  // a table not replayed yet, say
    }
    if (answer == expected || std::chrono::steady_clock::now() > deadline) return answer;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TEST(PostgresClusterTest, SharedClusterGivesEachCallAFreshEmptyDatabase) {
  SKIP_WITHOUT_POSTGRES();
  PostgresCluster& cluster = PostgresCluster::shared();
  EXPECT_EQ(&cluster, &PostgresCluster::shared());
  PostgresDatabase first = cluster.create_database();
  PostgresDatabase second = cluster.create_database();
  EXPECT_NE(first.name(), second.name());
  EXPECT_THAT(first.name(), MatchesRegex("dps_[0-9]+_[0-9]+"));
  EXPECT_EQ(first.url(), "postgresql://postgres@127.0.0.1:" + std::to_string(cluster.port()) + "/" + first.name());

  first.psql("CREATE TABLE users (name text PRIMARY KEY); INSERT INTO users VALUES ('ada'), ('grace');");
  EXPECT_EQ(first.psql("SELECT name FROM users ORDER BY name;"), "ada\ngrace\n");
  EXPECT_EQ(second.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public';"), "0\n");
  EXPECT_EQ(second.psql("SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
                        "WHERE datname = current_database();"),
            "UTF8|C|C\n");
}

TEST(PostgresClusterTest, ADatabaseIsDroppedWithItsObjectEvenWithAConnectionOpen) {
  SKIP_WITHOUT_POSTGRES();
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string count_sql = "SELECT count(*) FROM pg_database WHERE datname = '";
  std::string name;
  pid_t session = -1;
  {
    PostgresDatabase database = cluster.create_database();
    name = database.name();
    EXPECT_EQ(cluster.psql("postgres", count_sql + name + "';"), "1\n");
    const UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    session = spawn_child({"psql", "-X", "-d", database.url(), "-c", "SELECT pg_sleep(60);"}, {}, null.get(),
                          null.get());
    EXPECT_EQ(wait_for_answer(cluster, "postgres",
                              "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + name + "';", "1\n"),
              "1\n");
    PostgresDatabase moved = std::move(database);  // dropped once, by `moved`
    EXPECT_EQ(moved.name(), name);
  }
  EXPECT_EQ(cluster.psql("postgres", count_sql + name + "';"), "0\n");
  // The session was ended by the drop, not left sleeping.
  EXPECT_NE(wait_for_child(session, std::chrono::seconds(10)), std::nullopt);
}

TEST(PostgresClusterTest, PsqlThrowsWithTheServersMessage) {
  SKIP_WITHOUT_POSTGRES();
  PostgresDatabase database = PostgresCluster::shared().create_database();
  try {
    database.psql("SELECT 1; SELECT * FROM no_such_table; SELECT 2;");
    FAIL() << "psql accepted a query on a missing table";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("relation \"no_such_table\" does not exist"));
  }
}

TEST(PostgresClusterTest, AStandbyReplaysThePrimaryAndTakesOverWhenPromoted) {
  SKIP_WITHOUT_POSTGRES();
  auto primary = PostgresCluster::start_private();
  auto standby = primary->start_standby(PostgresCluster::Options{{"cluster_name=standby1"}});
  EXPECT_NE(primary->port(), standby->port());
  EXPECT_NE(primary->port(), PostgresCluster::shared().port());

  primary->psql("postgres", "CREATE TABLE failover (id int PRIMARY KEY); INSERT INTO failover VALUES (1);");
  EXPECT_EQ(wait_for_answer(*standby, "postgres", "SELECT count(*) FROM failover;", "1\n"), "1\n");
  EXPECT_EQ(primary->psql("postgres", "SELECT application_name, state FROM pg_stat_replication;"),
            "standby1|streaming\n");
  EXPECT_EQ(standby->psql("postgres", "SELECT pg_is_in_recovery();"), "t\n");
  try {
    standby->psql("postgres", "INSERT INTO failover VALUES (2);");
    FAIL() << "a standby accepted a write";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("read-only transaction"));
  }

  primary->halt();
  standby->promote();
  EXPECT_EQ(standby->psql("postgres", "SELECT pg_is_in_recovery();"), "f\n");
  standby->psql("postgres", "INSERT INTO failover VALUES (2);");
  EXPECT_EQ(standby->psql("postgres", "SELECT id FROM failover ORDER BY id;"), "1\n2\n");

  // The old primary comes back on its port, with what it had.
  primary->resume();
  EXPECT_EQ(primary->psql("postgres", "SELECT count(*) FROM failover;"), "1\n");
}

TEST(PostgresClusterTest, APrivateClusterTakesExtraSettings) {
  SKIP_WITHOUT_POSTGRES();
  auto cluster = PostgresCluster::start_private(PostgresCluster::Options{{"max_connections=20"}});
  EXPECT_EQ(cluster->psql("postgres", "SHOW max_connections; SHOW fsync;"), "20\noff\n");
  EXPECT_THAT(cluster->data_dir().string(), StartsWith("/tmp/dps-pg-"));
}

}  // namespace
}  // namespace dirproxy
