// The configurations shipped in config/ must always load: they are what an
// administrator copies and what a developer runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config_loader.hpp"
#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::IsEmpty;
using testing::ScopedEnvironment;
using testing::ScratchDirectory;

const std::filesystem::path kConfigDir = std::filesystem::path(DIRPROXY_SOURCE_DIR) / "config";

TEST(ExampleConfigs, ExampleLoadsWithoutErrorsOrWarnings) {
  const LoadResult result = load_config_file(kConfigDir / "dirproxy.example.yaml");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->directories.size(), 2u);
  EXPECT_TRUE(result.config->mail.has_value());
}

TEST(ExampleConfigs, ExampleSpellsOutTheDefaults) {
  // The example documents the defaults, so loading it must change nothing
  // that a file with only the required keys would not also have.
  const LoadResult result = load_config_file(kConfigDir / "dirproxy.example.yaml");
  ASSERT_TRUE(result.config.has_value());
  const Config& example = *result.config;
  const Config defaults;
  EXPECT_EQ(example.server.socket, defaults.server.socket);
  EXPECT_EQ(example.server.socket_mode, defaults.server.socket_mode);
  EXPECT_EQ(example.server.idle_timeout, defaults.server.idle_timeout);
  EXPECT_EQ(example.state_dir, defaults.state_dir);
  EXPECT_EQ(example.state, defaults.state);
  EXPECT_EQ(example.accounts.username_pattern.text(), defaults.accounts.username_pattern.text());
  EXPECT_EQ(example.accounts.password_hash.memlimit, defaults.accounts.password_hash.memlimit);
  EXPECT_EQ(example.signup.confirmation_ttl, defaults.signup.confirmation_ttl);
  EXPECT_EQ(example.invitations.ttl, defaults.invitations.ttl);
  EXPECT_EQ(example.security.rate_limit.per, defaults.security.rate_limit.per);
  const LdapSettings& ldap = example.directories[1].ldap;
  EXPECT_EQ(ldap.users.object_class, LdapSettings{}.users.object_class);
  EXPECT_EQ(ldap.timeouts.operation, LdapSettings{}.timeouts.operation);
  EXPECT_EQ(ldap.cache.max_entries, LdapSettings{}.cache.max_entries);
}

// The example with its commented-out sections from `# ldap_server:` on
// uncommented (each line's leading "# " removed).
std::string example_with_ldap_server() {
  std::ifstream lines(kConfigDir / "dirproxy.example.yaml");
  EXPECT_TRUE(lines.is_open());
  std::string result;
  bool commented_part = false;
  for (std::string line; std::getline(lines, line);) {
    commented_part = commented_part || line.starts_with("# ldap_server:");
    if (commented_part && line.starts_with("# ")) line.erase(0, 2);
    result += line + "\n";
  }
  return result;
}

TEST(ExampleConfigs, ExampleLdapServerAndApplicationsLoadOnceUncommented) {
  ScratchDirectory credentials;
  credentials.write("ldap.crt", "-----BEGIN CERTIFICATE-----\n");
  credentials.write("ldap.key", "-----BEGIN PRIVATE KEY-----\n");
  ScopedEnvironment environment("CREDENTIALS_DIRECTORY", credentials.path().c_str());

  const LoadResult result = load_config_text(example_with_ldap_server(), "dirproxy.example.yaml", kConfigDir);

  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  ASSERT_TRUE(result.config->ldap_server.has_value());
  const LdapServer& server = *result.config->ldap_server;
  EXPECT_EQ(server.base_dn, "dc=example,dc=com");
  ASSERT_TRUE(server.tls.has_value());
  EXPECT_EQ(server.tls->key_file, (credentials.path() / "ldap.key").string());
  // Like the rest of the example, it spells out the defaults.
  EXPECT_EQ(server.plaintext_binds, LdapServer{}.plaintext_binds);
  EXPECT_EQ(server.posix.home_directory, LdapPosix{}.home_directory);
  EXPECT_EQ(server.limits.max_request_bytes, LdapServerLimits{}.max_request_bytes);
  EXPECT_EQ(server.limits.time_limit, LdapServerLimits{}.time_limit);
  ASSERT_EQ(result.config->applications.size(), 1u);
  EXPECT_EQ(result.config->applications[0].name, "grafana");
  ASSERT_TRUE(result.config->applications[0].ldap.has_value());
  EXPECT_FALSE(result.config->applications[0].ldap->may_write);
}

TEST(ExampleConfigs, ExamplePostgresqlStateLoadsOnceUncommented) {
  ScratchDirectory credentials;
  credentials.write("postgresql", "pg-secret\n");
  ScopedEnvironment environment("CREDENTIALS_DIRECTORY", credentials.path().c_str());
  std::ifstream lines(kConfigDir / "dirproxy.example.yaml");
  ASSERT_TRUE(lines.is_open());
  std::string text;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("  backend: sqlite")) line.replace(11, 6, "postgresql");
    if (line.starts_with("  # postgresql:") || line.starts_with("  #   ")) line.erase(2, 2);
    text += line + "\n";
  }

  const LoadResult result = load_config_text(text, "dirproxy.example.yaml", kConfigDir);

  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  const State& state = result.config->state;
  EXPECT_EQ(state.backend, StateBackend::postgresql);
  EXPECT_EQ(state.postgresql.url,
            "postgresql://dirproxy@db1:5432,db2:5432/dirproxy?target_session_attrs=read-write");
  EXPECT_EQ(state.postgresql.password, "pg-secret");
  EXPECT_EQ(state.postgresql.pool_size, PostgresqlState{}.pool_size);
  EXPECT_EQ(state.postgresql.connect_timeout, PostgresqlState{}.connect_timeout);
  EXPECT_EQ(state.postgresql.statement_timeout, PostgresqlState{}.statement_timeout);
}

TEST(ExampleConfigs, DevelopmentConfigLoadsAndKeepsStateInTheCheckout) {
  const LoadResult result = load_config_file(kConfigDir / "dirproxy.dev.yaml");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  const std::filesystem::path dev = (std::filesystem::absolute(DIRPROXY_SOURCE_DIR) / ".dev").lexically_normal();
  EXPECT_EQ(result.config->state_dir, dev / "state");
  EXPECT_EQ(result.config->server.socket, dev / "dirproxy.sock");
  EXPECT_EQ(result.config->log.level, LogLevel::debug);
  ASSERT_EQ(result.config->directories.size(), 1u);
  EXPECT_EQ(result.config->directories[0].type, DirectoryType::internal);
  EXPECT_EQ(result.config->directories[0].permissions, Permissions::read_write);
  // The README's tour binds to its LDAP front end as the grafana application.
  ASSERT_TRUE(result.config->ldap_server.has_value());
  EXPECT_EQ(result.config->ldap_server->listen.at(0).port, 3389);
  ASSERT_EQ(result.config->applications.size(), 1u);
  EXPECT_EQ(result.config->applications[0].name, "grafana");
  // The README's tour opens the web pages at site.base_url.
  ASSERT_TRUE(result.config->web.has_value());
  EXPECT_EQ(result.config->web->listen.port, 8080);
  EXPECT_EQ(result.config->site.base_url, "http://localhost:8080");
}

}  // namespace
}  // namespace dirproxy::config
