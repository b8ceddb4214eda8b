// state, where the shared state lives (SCALE.md "Configuration"): the
// defaults, state.postgresql's URL checked by libpq's parser (several hosts
// allowed, no password, a database named), its password file, limits, and
// every refusal and warning, each exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "config/postgresql_url.hpp"
#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::load_ok;
using testing::ScopedEnvironment;
using testing::ScratchDirectory;

const std::string kMultiHostUrl =
    "postgresql://dirproxy@db1:5432,db2:5432/dirproxy?target_session_attrs=read-write";

// kMinimal (3 lines), then on line 4 a state section with backend
// postgresql and, on line 6, state.postgresql.url: `url` in quotes (its
// value at column 10), then `more` (keys of state.postgresql).
std::string postgresql_with(const std::string& url, const std::string& more = "") {
  return kMinimal + "state:\n  backend: postgresql\n  postgresql:\n    url: \"" + url + "\"\n" + more;
}

TEST(State, AbsentMeansSqliteWithThePostgresqlDefaults) {
  const Config config = load_ok(kMinimal);
  EXPECT_EQ(config.state.backend, StateBackend::sqlite);
  EXPECT_EQ(config.state.postgresql.url, "");
  EXPECT_EQ(config.state.postgresql.password_file, "");
  EXPECT_EQ(config.state.postgresql.password, "");
  EXPECT_EQ(config.state.postgresql.pool_size, 8u);
  EXPECT_EQ(config.state.postgresql.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config.state.postgresql.statement_timeout, std::chrono::seconds(10));
}

TEST(State, SqliteSpelledOutLoadsWithoutWarnings) {
  const LoadResult result = load(kMinimal + "state:\n  backend: sqlite\n");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  EXPECT_EQ(result.config->state.backend, StateBackend::sqlite);
}

TEST(State, PostgresqlWithAMultiHostUrlAndEverySetting) {
  const LoadResult result = load(postgresql_with(kMultiHostUrl,
                                                 "    pool_size: 32\n"
                                                 "    connect_timeout: 2s\n"
                                                 "    statement_timeout: 1m\n"));
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  const State& state = result.config->state;
  EXPECT_EQ(state.backend, StateBackend::postgresql);
  EXPECT_EQ(state.postgresql.url, kMultiHostUrl);
  EXPECT_EQ(state.postgresql.pool_size, 32u);
  EXPECT_EQ(state.postgresql.connect_timeout, std::chrono::seconds(2));
  EXPECT_EQ(state.postgresql.statement_timeout, std::chrono::minutes(1));
}

TEST(State, UrlsLibpqAcceptsAreAccepted) {
  for (const std::string url : {"postgres://db.example.com/dirproxy", "postgresql://%2Frun%2Fpostgresql/dirproxy",
                                "postgresql://[::1]:5433/dirproxy?sslmode=verify-full",
                                "postgresql:///dirproxy"}) {
    EXPECT_EQ(load_ok(postgresql_with(url)).state.postgresql.url, url) << url;
  }
}

TEST(State, PasswordIsReadFromPasswordFile) {
  ScratchDirectory scratch;
  scratch.write("pg.secret", "s3cret-pg\nignored second line\n");
  const Config config = load_ok(postgresql_with(kMultiHostUrl, "    password_file: pg.secret\n"), scratch.path());
  EXPECT_EQ(config.state.postgresql.password_file, scratch.path() / "pg.secret");
  EXPECT_EQ(config.state.postgresql.password, "s3cret-pg");
}

TEST(State, PasswordFileMayBeASystemdCredential) {
  ScratchDirectory credentials;
  credentials.write("pg", "from-systemd\n");
  ScopedEnvironment environment("CREDENTIALS_DIRECTORY", credentials.path().c_str());
  const Config config = load_ok(postgresql_with(kMultiHostUrl, "    password_file: $CREDENTIALS_DIRECTORY/pg\n"));
  EXPECT_EQ(config.state.postgresql.password_file, credentials.path() / "pg");
  EXPECT_EQ(config.state.postgresql.password, "from-systemd");
}

TEST(State, AMissingPasswordFileIsAnError) {
  EXPECT_THAT(load(postgresql_with(kMultiHostUrl, "    password_file: /nonexistent/pg\n")).errors,
              ElementsAre("dirproxy.yaml:8:20: state.postgresql.password_file: cannot read /nonexistent/pg: No such "
                          "file or directory"));
}

TEST(State, UnknownBackendIsRefused) {
  EXPECT_THAT(load(kMinimal + "state:\n  backend: mysql\n").errors,
              ElementsAre("dirproxy.yaml:5:12: state.backend: expected one of sqlite|postgresql, got 'mysql'"));
  // Its postgresql section is not said to have no effect: the backend is unknown.
  const LoadResult with_section = load(kMinimal + "state:\n  backend: mysql\n  postgresql:\n    url: \"" +
                                       kMultiHostUrl + "\"\n");
  EXPECT_THAT(with_section.errors,
              ElementsAre("dirproxy.yaml:5:12: state.backend: expected one of sqlite|postgresql, got 'mysql'"));
  EXPECT_THAT(with_section.warnings, IsEmpty());
}

TEST(State, PostgresqlRequiresAUrl) {
  EXPECT_THAT(load(kMinimal + "state:\n  backend: postgresql\n").errors,
              ElementsAre("dirproxy.yaml:5:12: state.backend: postgresql requires state.postgresql.url"));
  EXPECT_THAT(load(kMinimal + "state:\n  backend: postgresql\n  postgresql:\n    pool_size: 4\n").errors,
              ElementsAre("dirproxy.yaml:5:12: state.backend: postgresql requires state.postgresql.url"));
}

TEST(State, UrlsThatAreNotAcceptableAreRefusedWithoutQuotingThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mysql://db/dirproxy", "expected a URI starting with postgresql:// or postgres://"},
      {"host=db dbname=dirproxy", "expected a URI starting with postgresql:// or postgres://"},
      // libpq's schemes are in lower case only.
      {"POSTGRESQL://db/dirproxy", "expected a URI starting with postgresql:// or postgres://"},
      {"postgresql://dirproxy:hunter2@db/dirproxy", "must not hold a password: put it in password_file"},
      {"postgresql://db/dirproxy?password=hunter2", "must not hold a password: put it in password_file"},
      {"postgresql://db/dirproxy?pass%77ord=hunter2", "must not hold a password: put it in password_file"},
      {"postgresql://dirproxy:hunter%zz@db/dirproxy", "must not hold a password: put it in password_file"},
      {"postgresql://db", "must name the database: postgresql://HOST[:PORT]/DATABASE"},
      {"postgresql://db1,db2:5432/", "must name the database: postgresql://HOST[:PORT]/DATABASE"},
      {"postgresql://db/dirproxy?colour=blue", "not a valid libpq URI: invalid URI query parameter: \"colour\""},
      {"postgresql://db:54x/dirproxy", "a port must be a number from 1 to 65535"},
      {"postgresql://db:65536/dirproxy", "a port must be a number from 1 to 65535"},
      {"postgresql://db/dir proxy", "must not contain spaces or control characters (percent-encode them)"},
  };
  for (const auto& [url, why] : cases) {
    EXPECT_THAT(load(postgresql_with(url)).errors, ElementsAre("dirproxy.yaml:7:10: state.postgresql.url: " + why))
        << url;
  }
  EXPECT_THAT(load(postgresql_with("")).errors, ElementsAre("dirproxy.yaml:7:10: state.postgresql.url: must not be empty"));
}

TEST(State, TheParsedUrlNamesHostsPortsDatabaseAndUser) {
  const PostgresqlUrlParse parsed = parse_postgresql_url(kMultiHostUrl);
  ASSERT_TRUE(parsed) << parsed.reason;
  EXPECT_EQ(parsed.url->host, "db1,db2");
  EXPECT_EQ(parsed.url->port, "5432,5432");
  EXPECT_EQ(parsed.url->dbname, "dirproxy");
  EXPECT_EQ(parsed.url->user, "dirproxy");
}

TEST(State, PoolSizeIsOneTo256) {
  EXPECT_EQ(load_ok(postgresql_with(kMultiHostUrl, "    pool_size: 256\n")).state.postgresql.pool_size, 256u);
  EXPECT_EQ(load_ok(postgresql_with(kMultiHostUrl, "    pool_size: 1\n")).state.postgresql.pool_size, 1u);
  EXPECT_THAT(load(postgresql_with(kMultiHostUrl, "    pool_size: 0\n")).errors,
              ElementsAre("dirproxy.yaml:8:16: state.postgresql.pool_size: must be at least 1"));
  EXPECT_THAT(load(postgresql_with(kMultiHostUrl, "    pool_size: 257\n")).errors,
              ElementsAre("dirproxy.yaml:8:16: state.postgresql.pool_size: must be at most 256"));
}

TEST(State, TimeoutsAreAtLeastOneSecond) {
  EXPECT_EQ(load_ok(postgresql_with(kMultiHostUrl, "    connect_timeout: 1s\n")).state.postgresql.connect_timeout,
            std::chrono::seconds(1));
  EXPECT_THAT(load(postgresql_with(kMultiHostUrl, "    connect_timeout: 500ms\n")).errors,
              ElementsAre("dirproxy.yaml:8:22: state.postgresql.connect_timeout: must be at least 1s"));
  EXPECT_THAT(load(postgresql_with(kMultiHostUrl, "    statement_timeout: 999ms\n")).errors,
              ElementsAre("dirproxy.yaml:8:24: state.postgresql.statement_timeout: must be at least 1s"));
  EXPECT_THAT(load(postgresql_with(kMultiHostUrl, "    statement_timeout: 0\n")).errors,
              ElementsAre("dirproxy.yaml:8:24: state.postgresql.statement_timeout: must be greater than 0"));
}

TEST(State, APostgresqlSectionUnderSqliteIsCheckedAndWarnedAbout) {
  const LoadResult result = load(kMinimal + "state:\n  postgresql:\n    url: \"" + kMultiHostUrl + "\"\n");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre("dirproxy.yaml:6:5: state.postgresql: has no effect: state.backend is sqlite"));
  EXPECT_THAT(load(kMinimal + "state:\n  backend: sqlite\n  postgresql:\n    url: \"postgresql://db\"\n").errors,
              ElementsAre("dirproxy.yaml:7:10: state.postgresql.url: must name the database: "
                          "postgresql://HOST[:PORT]/DATABASE"));
}

TEST(State, UnknownKeysAreErrors) {
  EXPECT_THAT(load(kMinimal + "state:\n  backnd: sqlite\n").errors,
              ElementsAre("dirproxy.yaml:5:3: state.backnd: unknown key 'backnd' (did you mean 'backend'?)"));
  EXPECT_THAT(load(postgresql_with(kMultiHostUrl, "    pool_sise: 4\n")).errors,
              ElementsAre("dirproxy.yaml:8:5: state.postgresql.pool_sise: unknown key 'pool_sise' (did you mean "
                          "'pool_size'?)"));
}

}  // namespace
}  // namespace dirproxy::config
