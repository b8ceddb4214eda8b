// `dirproxyd --migrate-state --from FILE.db`, the real binary: a single
// node's SQLite state copied into an empty PostgreSQL database, after which
// dirproxyd on PostgreSQL authenticates a copied user; a database that is not
// empty, and a configuration still on SQLite, are refused with exit code 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol_test_support.hpp"
#include "support/binaries_under_test.hpp"
#include "support/postgres_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::PostgresCluster;
using dirproxy::testing::PostgresDatabase;
using ::testing::HasSubstr;

class MigrateState : public DaemonTest {
 protected:
  void SetUp() override {
    if (auto why = PostgresCluster::unavailable_reason()) GTEST_SKIP() << *why;
    postgres_.emplace(PostgresCluster::shared().create_database());
  }

  Json postgresql_config() const {
    Json config = daemon_.default_config();
    config["state"] = {{"backend", "postgresql"}, {"postgresql", {{"url", postgres_->url()}}}};
    return config;
  }

  std::string sqlite_file() const { return daemon_.state_dir() + "/dirproxy.db"; }

  ProcessOutput migrate() const {
    RunOptions options;
    options.timeout = 60s;
    return run_program(DIRPROXYD_PATH,
                       {"--config", daemon_.config_path(), "--migrate-state", "--from", sqlite_file()}, options);
  }

  std::optional<PostgresDatabase> postgres_;
};

TEST_F(MigrateState, ACopiedUserAuthenticatesOnPostgresql) {
  daemon_.start();
  add_user("alice");
  add_user("bob");
  add_group("dev");
  add_member("dev", "alice");
  ASSERT_EQ(daemon_.stop(), 0);
  daemon_.write_config(postgresql_config());

  const ProcessOutput migrated = migrate();

  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_EQ(migrated.err, "");
  EXPECT_EQ(migrated.out,
            "users: 2\ngroups: 1\nmemberships: 1\nsettings: 0\nreset_tokens: 0\npending_signups: 0\n"
            "access_requests: 0\ninvitations: 0\nlogin_failures: 0\noutbox: 0\naccount_creations: 0\nidentities: 0\n"
            "identity_counters: 0\nadmin_sessions: 0\ncopied 4 rows in 14 tables from " +
                sqlite_file() + " to postgresql://127.0.0.1:" + std::to_string(PostgresCluster::shared().port()) + "/" +
                postgres_->name() + "\n");
  daemon_.start(postgresql_config());
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  EXPECT_EQ(outcome_of(authenticate("bob", "wrong password")), "invalid_credentials");
  const Json alice = get_user("alice");
  EXPECT_EQ(alice["user"]["email"], "alice@example.com") << alice;
  EXPECT_EQ(send({{"op", "get_user_groups"}, {"username", "alice"}})["groups"], Json::array({"dev"}));
  add_user("carol");  // the identity goes on after the copied users
  EXPECT_EQ(postgres_->psql("SELECT id FROM users WHERE username = 'carol'"), "3\n");
}

TEST_F(MigrateState, ADatabaseThatIsNotEmptyIsRefusedAndKeptAsItWas) {
  daemon_.start();
  add_user("alice");
  ASSERT_EQ(daemon_.stop(), 0);
  daemon_.write_config(postgresql_config());
  ASSERT_EQ(migrate().exit_code, 0);
  postgres_->psql("UPDATE users SET display_name = 'changed on postgresql'");

  const ProcessOutput again = migrate();

  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.out, "");
  EXPECT_THAT(again.err,
              HasSubstr("dirproxyd --migrate-state: the PostgreSQL database is not empty: table users has 1 row; "
                        "--migrate-state copies a state only into a new, empty database; nothing was copied\n"));
  EXPECT_EQ(postgres_->psql("SELECT count(*), min(display_name) FROM users"), "1|changed on postgresql\n");
}

TEST_F(MigrateState, AConfigurationOnSqliteIsRefused) {
  daemon_.write_config(daemon_.default_config());

  const ProcessOutput refused = migrate();

  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.out, "");
  EXPECT_THAT(refused.err, HasSubstr("dirproxyd --migrate-state: state.backend in " + daemon_.config_path() +
                                     " is sqlite; set it to postgresql"));
}

TEST_F(MigrateState, FromWithoutMigrateStateIsAUsageError) {
  daemon_.write_config(daemon_.default_config());

  const ProcessOutput refused = run_program(DIRPROXYD_PATH, {"--config", daemon_.config_path(), "--from", "x.db"});

  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("--from requires --migrate-state"));
}

}  // namespace
}  // namespace dirproxy::integration
