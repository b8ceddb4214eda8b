// The configurations shipped in config/ must always load: they are what an
// administrator copies and what a developer runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "config/config_loader.hpp"

namespace dirproxy::config {
namespace {

using ::testing::IsEmpty;

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
}

}  // namespace
}  // namespace dirproxy::config
