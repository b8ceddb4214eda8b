// `dirproxyctl hash-password`, run as the program: what it prints for a
// password piped to it is an Argon2id string, at the interactive cost, that
// libsodium verifies against that password; bad input exits 2 and prints
// nothing on stdout. It needs no daemon.
#include <sodium.h>

#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::ctl {
namespace {

using dirproxy::testing::ChildOptions;
using dirproxy::testing::ChildResult;
using dirproxy::testing::run_child;

// libsodium's interactive limits, the daemon's default password cost.
constexpr unsigned long long kOpslimit = 2;
constexpr std::size_t kMemlimit = 64 * 1024 * 1024;

// No daemon listens there: the command must not need one.
ChildResult hash_password(const std::string& stdin_text, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {DIRPROXYCTL_PATH, "--socket", "/nonexistent/dirproxy.sock", "hash-password"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ChildOptions options;
  options.stdin_text = stdin_text;
  return run_child(argv, options);
}

std::string describe(const ChildResult& result) {
  return "exit code " + std::to_string(result.exit_code) + "\n--- stdout ---\n" + result.out + "--- stderr ---\n" +
         result.err;
}

// The printed line without its newline; fails the test unless the output is
// exactly one line.
std::string printed_hash(const ChildResult& result) {
  EXPECT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_TRUE(result.out.ends_with('\n')) << describe(result);
  const std::string hash = result.out.substr(0, result.out.size() - (result.out.ends_with('\n') ? 1 : 0));
  EXPECT_EQ(hash.find('\n'), std::string::npos) << describe(result);
  return hash;
}

bool verifies(const std::string& hash, const std::string& password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

class HashPassword : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(HashPassword, PrintsAnArgon2idStringThatVerifiesThePassword) {
  const ChildResult result = hash_password("correct horse battery staple\n");

  const std::string hash = printed_hash(result);
  EXPECT_TRUE(hash.starts_with("$argon2id$")) << hash;
  EXPECT_TRUE(verifies(hash, "correct horse battery staple")) << hash;
  EXPECT_FALSE(verifies(hash, "correct horse battery staple\n")) << hash;
  EXPECT_EQ(result.err, "");
}

TEST_F(HashPassword, HashesAtTheInteractiveCost) {
  const std::string hash = printed_hash(hash_password("some password\n"));

  EXPECT_EQ(crypto_pwhash_argon2id_str_needs_rehash(hash.c_str(), kOpslimit, kMemlimit), 0) << hash;
}

TEST_F(HashPassword, EachRunHasItsOwnSalt) {
  const std::string first = printed_hash(hash_password("same password\n"));
  const std::string second = printed_hash(hash_password("same password\n"));

  EXPECT_NE(first, second);
  EXPECT_TRUE(verifies(second, "same password"));
}

TEST_F(HashPassword, StripsOneTrailingCrLf) {
  EXPECT_TRUE(verifies(printed_hash(hash_password("windows line\r\n")), "windows line"));
}

TEST_F(HashPassword, AcceptsAPasswordWithoutALineEnding) {
  EXPECT_TRUE(verifies(printed_hash(hash_password("no newline")), "no newline"));
}

TEST_F(HashPassword, KeepsSpacesAroundThePassword) {
  EXPECT_TRUE(verifies(printed_hash(hash_password("  spaced out \n")), "  spaced out "));
}

TEST_F(HashPassword, JsonPrintsThePasswordHashMember) {
  const ChildResult result = hash_password("json password\n", {"--json"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  const std::string prefix = "{\n  \"password_hash\": \"";
  ASSERT_TRUE(result.out.starts_with(prefix)) << result.out;
  const auto end = result.out.find('"', prefix.size());
  ASSERT_NE(end, std::string::npos) << result.out;
  EXPECT_TRUE(verifies(result.out.substr(prefix.size(), end - prefix.size()), "json password")) << result.out;
}

// Each of `inputs` exits 2 with exactly `message` and nothing on stdout.
void expect_usage_error(std::initializer_list<std::string> inputs, const std::string& message) {
  for (const std::string& input : inputs) {
    const ChildResult result = hash_password(input);

    EXPECT_EQ(result.exit_code, 2) << describe(result);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "dirproxyctl: " + message + "\n");
  }
}

TEST_F(HashPassword, AnEmptyPasswordIsAUsageError) { expect_usage_error({"", "\n", "\r\n"}, "the password is empty"); }

TEST_F(HashPassword, MoreThanOneLineIsAUsageError) {
  expect_usage_error({"first\nsecond\n", "first\n\n", "first\rsecond"}, "the password is more than one line");
}

TEST_F(HashPassword, TakesNoArguments) {
  const ChildResult result = hash_password("pw\n", {"extra"});

  EXPECT_EQ(result.exit_code, 2) << describe(result);
  EXPECT_EQ(result.out, "");
}

}  // namespace
}  // namespace dirproxy::ctl
