// The loader's mechanics: message form, unknown and duplicate keys, wrong
// kinds of node, syntax errors, collecting every error, and the file itself.
#include "config/config_loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::load_ok;
using testing::ScratchDirectory;

TEST(ConfigLoader, MinimalFileLoadsWithTheDefaults) {
  const Config config = load_ok(kMinimal);
  ASSERT_EQ(config.directories.size(), 1u);
  EXPECT_EQ(config.directories[0].name, "internal");
  EXPECT_EQ(config.directories[0].type, DirectoryType::internal);
  EXPECT_EQ(config.directories[0].permissions, Permissions::read_write);
  EXPECT_EQ(config.server.socket, "/run/dirproxy/dirproxy.sock");
  EXPECT_EQ(config.server.socket_mode, 0660u);
  EXPECT_EQ(config.state_dir, "/var/lib/dirproxy");
  EXPECT_EQ(config.signup.mode, SignupMode::disabled);
  EXPECT_FALSE(config.mail.has_value());
  EXPECT_EQ(config.source, "dirproxy.yaml");
}

TEST(ConfigLoader, ResultHoldsNoConfigWhenThereAreErrors) {
  const LoadResult result = load(kMinimal + "bogus: 1\n");
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoader, UnknownKeyIsReportedAtItsLineAndColumn) {
  const LoadResult result = load(kMinimal + "server:\n  max_connections: 5\n  colour: blue\n");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:6:3: server.colour: unknown key 'colour'"));
}

TEST(ConfigLoader, UnknownKeyNearAKnownOneSuggestsIt) {
  const LoadResult result = load(kMinimal + "server:\n  sockte: /tmp/x.sock\n");
  EXPECT_THAT(result.errors,
              ElementsAre("dirproxy.yaml:5:3: server.sockte: unknown key 'sockte' (did you mean 'socket'?)"));
}

TEST(ConfigLoader, UnknownTopLevelKeyIsAnError) {
  const LoadResult result = load("sigup:\n  mode: open\n" + kMinimal);
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:1:1: sigup: unknown key 'sigup' (did you mean 'signup'?)"));
}

TEST(ConfigLoader, ReportsEveryErrorNotJustTheFirst) {
  const LoadResult result = load(kMinimal +
                                 "server:\n"
                                 "  max_connections: 0\n"
                                 "  idle_timeout: soon\n"
                                 "log:\n"
                                 "  level: loud\n");
  EXPECT_THAT(result.errors,
              ElementsAre("dirproxy.yaml:5:20: server.max_connections: must be at least 1",
                          "dirproxy.yaml:6:17: server.idle_timeout: expected a duration like 5s",
                          "dirproxy.yaml:8:10: log.level: expected one of trace|debug|info|warn|error, got 'loud'"));
}

TEST(ConfigLoader, ErrorsAreListedInFileOrder) {
  // The unknown key is found when its section ends, after the bad value
  // below it was already reported; the list is still in file order.
  const LoadResult result = load(kMinimal + "log:\n  nope: 1\n  level: loud\n");
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_THAT(result.errors[0], HasSubstr(":5:3: log.nope:"));
  EXPECT_THAT(result.errors[1], HasSubstr(":6:10: log.level:"));
}

TEST(ConfigLoader, DuplicateKeyIsAnError) {
  const LoadResult result = load(kMinimal + "log:\n  level: info\n  level: debug\n");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:6:3: log.level: duplicate key 'level' (first at line 5)"));
}

TEST(ConfigLoader, DuplicateTopLevelSectionIsAnError) {
  const LoadResult result = load(kMinimal + "log:\n  level: info\nlog:\n  format: json\n");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:6:1: log: duplicate key 'log' (first at line 4)"));
}

TEST(ConfigLoader, ListWhereAMappingIsExpectedIsAnError) {
  const LoadResult result = load(kMinimal + "server:\n  - socket\n");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:5:3: server: expected a mapping, got a list"));
}

TEST(ConfigLoader, MappingWhereAValueIsExpectedIsAnError) {
  const LoadResult result = load(kMinimal + "log:\n  level:\n    name: info\n");
  EXPECT_THAT(result.errors,
              ElementsAre("dirproxy.yaml:6:5: log.level: expected one of trace|debug|info|warn|error, got a mapping"));
}

TEST(ConfigLoader, EmptyValueIsNotAString) {
  const LoadResult result = load(kMinimal + "site:\n  name:\n");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:5:3: site.name: expected a string, got nothing"));
}

TEST(ConfigLoader, ScalarWhereAListIsExpectedIsAnError) {
  const LoadResult result = load(kMinimal + "accounts:\n  default_groups: staff\n");
  EXPECT_THAT(result.errors,
              ElementsAre("dirproxy.yaml:5:19: accounts.default_groups: expected a list, got a single value"));
}

TEST(ConfigLoader, BadListItemsAreNamedByIndex) {
  const LoadResult result = load(kMinimal + "server:\n  admins:\n    users: [alice, [bob], \"\"]\n");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:6:20: server.admins.users[1]: expected a string, got a list",
                                         "dirproxy.yaml:6:27: server.admins.users[2]: must not be empty"));
}

TEST(ConfigLoader, SyntaxErrorIsReportedWithOneBasedPosition) {
  const LoadResult result = load("log:\n  level: [info\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0], ::testing::StartsWith("dirproxy.yaml:3:1: syntax error: "));
}

TEST(ConfigLoader, BadIndentationIsASyntaxError) {
  const LoadResult result = load("log:\n  level: info\n format: json\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0], ::testing::StartsWith("dirproxy.yaml:3:"));
  EXPECT_THAT(result.errors[0], HasSubstr(": syntax error: "));
}

// Found by fuzz/config_yaml: after a NUL byte yaml-cpp's message quotes the
// line feed that follows it, which split the message over two lines.
TEST(ConfigLoader, ASyntaxErrorQuotingALineFeedStaysOneLine) {
  const LoadResult result = load(kMinimal + std::string("site:\n  name: a\0\n", 17));
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:6:1: syntax error: unknown escape character: \\n"));
}

TEST(ConfigLoader, EmptyFileLacksDirectories) {
  const LoadResult result = load("");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:1:1: directories: required but missing"));
}

TEST(ConfigLoader, TopLevelMustBeAMapping) {
  const LoadResult result = load("- a\n- b\n");
  EXPECT_THAT(result.errors,
              ElementsAre("dirproxy.yaml:1:1: expected a mapping of settings at the top level, got a list"));
}

TEST(ConfigLoader, SecondYamlDocumentIsAnError) {
  const LoadResult result = load(kMinimal + "---\nlog:\n  level: info\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0], HasSubstr("only one YAML document is allowed"));
}

// Found by fuzz/config_yaml: yaml-cpp 0.7 leaves a ',' outside a flow
// collection in place and reads an endless run of empty documents there, so
// loading this file never ended (and took all memory).
TEST(ConfigLoader, ACommaAtTheTopLevelIsASyntaxError) {
  EXPECT_THAT(load(",").errors, ElementsAre("dirproxy.yaml:1:1: syntax error: unexpected ','"));
  EXPECT_THAT(load(",#\n" + kMinimal).errors, ElementsAre("dirproxy.yaml:1:1: syntax error: unexpected ','"));
  EXPECT_THAT(load("[a, b]\n,\n").errors, ElementsAre("dirproxy.yaml:2:1: syntax error: unexpected ','"));
}

TEST(ConfigLoader, TheSecondDocumentIsNamedWhereItStarts) {
  const LoadResult result = load(kMinimal + "---\nlog:\n  level: info\n---\nlog: {}\n");
  EXPECT_THAT(result.errors, ElementsAre("dirproxy.yaml:4:1: only one YAML document is allowed"));
}

TEST(ConfigLoader, WarningsDoNotPreventLoading) {
  const LoadResult result = load(kMinimal + "site:\n  base_url: https://example.com/\n");
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(result.config.has_value());
  EXPECT_THAT(result.warnings, ElementsAre("dirproxy.yaml:5:13: site.base_url: ends with '/', so links built as "
                                           "{base_url}/... will contain '//'"));
}

TEST(ConfigLoaderFile, MissingFileIsAnErrorNamingIt) {
  const LoadResult result = load_config_file("/nonexistent/dirproxy.yaml");
  EXPECT_THAT(result.errors, ElementsAre("cannot read /nonexistent/dirproxy.yaml: No such file or directory"));
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoaderFile, MessagesUseThePathAsGiven) {
  ScratchDirectory scratch;
  const auto file = scratch.write("bad.yaml", kMinimal + "bogus: 1\n");
  const LoadResult result = load_config_file(file);
  EXPECT_THAT(result.errors, ElementsAre(file.string() + ":4:1: bogus: unknown key 'bogus'"));
}

TEST(ConfigLoaderFile, SourceIsTheAbsolutePathOfTheFile) {
  ScratchDirectory scratch;
  const auto file = scratch.write("dirproxy.yaml", kMinimal);
  const LoadResult result = load_config_file(file);
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config->source, std::filesystem::absolute(file).lexically_normal());
}

}  // namespace
}  // namespace dirproxy::config
