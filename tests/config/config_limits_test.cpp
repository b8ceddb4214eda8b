// The limits that keep a hostile or broken file cheap to check: nesting
// depth, the size of the file, and the cost of many unknown keys. Each limit
// is in docs/configuration.md with its number.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using testing::kMinimal;
using testing::load;
using testing::ScratchDirectory;

std::string repeated(std::string_view text, std::size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

// `a: [[...]]` with `lists` lists inside the top-level mapping: the mapping
// is level 1, the k-th '[' (column 3 + k) level k + 1.
std::string nested_lists(std::size_t lists) { return "a: " + repeated("[", lists) + repeated("]", lists) + "\n"; }

TEST(Nesting, ThirtyTwoLevelsAreAccepted) {
  EXPECT_THAT(load(nested_lists(31)).errors, ElementsAre("dirproxy.yaml:1:1: directories: required but missing",
                                                         "dirproxy.yaml:1:1: a: unknown key 'a'"));
}

TEST(Nesting, TheThirtyThirdLevelIsAnErrorAtItsPosition) {
  EXPECT_THAT(load(nested_lists(32)).errors, ElementsAre("dirproxy.yaml:1:35: nested more than 32 levels deep"));
}

TEST(Nesting, VeryDeepFlowNestingIsReportedWhereTheLimitIsCrossed) {
  EXPECT_THAT(load(nested_lists(200000)).errors, ElementsAre("dirproxy.yaml:1:35: nested more than 32 levels deep"));
}

TEST(Nesting, VeryDeepBlockNestingIsReportedWhereTheLimitIsCrossed) {
  // Line n + 1 holds the mapping of level n + 1, its key at column 2n + 1.
  std::string yaml = "a:\n";
  for (std::size_t level = 1; level < 3000; ++level) yaml += repeated("  ", level) + "b:\n";
  EXPECT_THAT(load(yaml).errors, ElementsAre("dirproxy.yaml:33:65: nested more than 32 levels deep"));
}

TEST(Nesting, AMappingInsideAFlowMappingCountsToo) {
  const std::string yaml = "a: " + repeated("{b: ", 40) + "1" + repeated("}", 40) + "\n";
  // "a: " then "{b: " four columns each: the 32nd '{' is level 33.
  EXPECT_THAT(load(yaml).errors, ElementsAre("dirproxy.yaml:1:128: nested more than 32 levels deep"));
}

// How long loading `yaml` takes.
std::chrono::steady_clock::duration time_to_load(const std::string& yaml, LoadResult& result) {
  const auto start = std::chrono::steady_clock::now();
  result = load(yaml);
  return std::chrono::steady_clock::now() - start;
}

TEST(UnknownKeys, ManyUnknownKeysCostNoMoreThanTheirParse) {
#ifdef DIRPROXY_SANITIZED
  // Instrumentation weighs on the messages' code much more than on
  // yaml-cpp's (not instrumented), so the ratio says nothing there.
  GTEST_SKIP() << "compares timings, which a sanitizer build distorts";
#endif
  constexpr std::size_t kKeys = 100000;
  std::string unknown_keys = kMinimal;
  // The same words as items of one list: as much YAML to parse, nothing to
  // report. Measured on the same machine, so the comparison holds however
  // busy it is.
  std::string list_items = kMinimal + "server:\n  admins:\n    users:\n";
  for (std::size_t i = 0; i < kKeys; ++i) {
    char word[16];
    std::snprintf(word, sizeof word, "k%06zu", i);
    unknown_keys += std::string(word) + ": 1\n";
    list_items += "      - " + std::string(word) + "\n";
  }

  LoadResult baseline;
  const auto parse_only = time_to_load(list_items, baseline);
  LoadResult result;
  const auto with_errors = time_to_load(unknown_keys, result);

  ASSERT_TRUE(baseline.ok());
  ASSERT_EQ(result.errors.size(), kKeys);
  EXPECT_EQ(result.errors.front(), "dirproxy.yaml:4:1: k000000: unknown key 'k000000'");
  EXPECT_EQ(result.errors.back(), "dirproxy.yaml:100003:1: k099999: unknown key 'k099999'");
  // main searched the keys before each one for a duplicate: over 50 times
  // the parse at this size (and over 20 s for 200,000 keys); now about the
  // same as the parse.
  EXPECT_LT(with_errors, 5 * parse_only);
}

TEST(UnknownKeys, SuggestionsStillComeAmongManyUnknownKeys) {
  std::string yaml = kMinimal + "server:\n";
  for (std::size_t i = 0; i < 1000; ++i) yaml += "  x" + std::to_string(i) + "y: 1\n";
  yaml += "  sockte: /run/d.sock\n";
  const LoadResult result = load(yaml);
  ASSERT_EQ(result.errors.size(), 1001u);
  EXPECT_EQ(result.errors.back(), "dirproxy.yaml:1005:3: server.sockte: unknown key 'sockte' (did you mean 'socket'?)");
}

TEST(FileSize, AConfigurationFileOfOneMebibyteIsRead) {
  ScratchDirectory scratch;
  std::string yaml = kMinimal;
  yaml += repeated("#", 1024 * 1024 - yaml.size() - 1) + "\n";
  ASSERT_EQ(yaml.size(), 1024u * 1024u);
  EXPECT_TRUE(load_config_file(scratch.write("dirproxy.yaml", yaml)).ok());
}

TEST(FileSize, ALargerConfigurationFileIsRefused) {
  ScratchDirectory scratch;
  std::string yaml = kMinimal;
  yaml += repeated("#", 1024 * 1024 - yaml.size()) + "\n";
  const auto file = scratch.write("dirproxy.yaml", yaml);
  EXPECT_THAT(load_config_file(file).errors,
              ElementsAre("cannot read " + file.string() + ": larger than 1048576 bytes"));
}

TEST(FileSize, AConfigurationFileThatIsADeviceIsRefusedAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(load_config_file("/dev/zero").errors, ElementsAre("cannot read /dev/zero: not a regular file"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace dirproxy::config
