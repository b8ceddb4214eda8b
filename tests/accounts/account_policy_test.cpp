#include "accounts/account_policy.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "config/config_loader.hpp"

namespace dirproxy {
namespace {

AccountPolicy default_policy() { return AccountPolicy(config::Accounts{}); }

// The policy of a site whose accounts.username_pattern is `pattern`, read
// from a file as the daemon reads it.
AccountPolicy policy_with_pattern(const std::string& pattern) {
  auto loaded = config::load_config_text(
      "directories:\n  - name: internal\n    type: internal\naccounts:\n  username_pattern: '" + pattern + "'\n",
      "dirproxy.yaml", "/etc/dirproxy");
  if (!loaded.ok()) throw std::runtime_error(loaded.errors.front());
  return AccountPolicy(loaded.config->accounts);
}

void expect_invalid_username(const Result<void>& checked, const std::string& message) {
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::invalid_username);
  EXPECT_EQ(checked.error().field, "username");
  EXPECT_EQ(checked.error().message, message);
}

TEST(AccountPolicy, UsernameMustMatchTheWholePattern) {
  auto policy = default_policy();

  EXPECT_TRUE(policy.check_username("alice"));
  EXPECT_TRUE(policy.check_username("a.b-c_9"));
  for (const char* bad : {"", "Alice", "-alice", "al ice", "alice\n", "al*", "a)(uid=*", "ålice"}) {
    auto checked = policy.check_username(bad);
    ASSERT_FALSE(checked) << bad;
    EXPECT_EQ(checked.error().code, ErrorCode::invalid_username) << bad;
    EXPECT_EQ(checked.error().field, "username");
  }
  EXPECT_FALSE(policy.check_username(std::string(65, 'a')));
}

TEST(AccountPolicy, ConfiguredUsernamePatternIsUsed) {
  auto policy = policy_with_pattern("^[A-Z]{2,3}$");

  EXPECT_TRUE(policy.check_username("ABC"));
  EXPECT_FALSE(policy.check_username("abc"));
}

TEST(AccountPolicy, AUsernameOfTheMaximumLengthIsMatchedAgainstThePattern) {
  auto policy = policy_with_pattern("^[a-z0-9][a-z0-9._-]*$");

  EXPECT_TRUE(policy.check_username(std::string(128, 'a')));
  expect_invalid_username(policy.check_username(std::string(127, 'a') + "!"),
                          "the username does not match the site's username pattern");
}

TEST(AccountPolicy, AUsernameLongerThanTheMaximumIsRefusedWhateverThePatternAllows) {
  // Under std::regex, this pattern recursed once per character and a
  // 40,000-character name overflowed the stack.
  auto policy = policy_with_pattern("^[a-z0-9][a-z0-9._-]*$");

  expect_invalid_username(policy.check_username(std::string(129, 'a')), "the username is longer than 128 bytes");
  expect_invalid_username(policy.check_username(std::string(40000, 'a')), "the username is longer than 128 bytes");
}

TEST(AccountPolicy, APatternThatBacktracksExponentiallyStillAnswers) {
  // "^(a+)+$" takes a backtracking engine 2^n steps to refuse n a's and a '!'.
  auto policy = policy_with_pattern("^(a+)+$");

  EXPECT_TRUE(policy.check_username(std::string(128, 'a')));
  expect_invalid_username(policy.check_username(std::string(127, 'a') + "!"),
                          "the username does not match the site's username pattern");
}

TEST(AccountPolicy, AUsernameWithAControlOrBidiCharacterIsRefusedWhateverThePatternAllows) {
  auto policy = policy_with_pattern("^.+$");

  expect_invalid_username(policy.check_username("ali\x1b[2Jce"),
                          "'username' must not contain U+001B, a control character");
  expect_invalid_username(policy.check_username("ali\xe2\x80\xae"
                                                "ec"),
                          "'username' must not contain U+202E, a bidirectional formatting character");
  expect_invalid_username(policy.check_username("ali\xff"
                                                "ce"),
                          "'username' is not valid UTF-8 (byte 4)");
  EXPECT_TRUE(
      policy.check_username("al\xc3\xaf"
                            "ce"));  // "alïce"
}

TEST(AccountPolicy, EmailIsParsedStrictlyAndLowerCased) {
  auto policy = default_policy();

  auto good = policy.check_email("Alice@Example.COM");
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, "alice@example.com");
  for (const char* bad : {"", "alice", "a@example.com@evil.com", "\"a\"@example.com", "a b@example.com",
                          "a@example.com\n", "a@exa mple.com"}) {
    auto checked = policy.check_email(bad);
    ASSERT_FALSE(checked) << bad;
    EXPECT_EQ(checked.error().code, ErrorCode::invalid_email) << bad;
    EXPECT_EQ(checked.error().field, "email");
  }
}

TEST(AccountPolicy, PasswordLengthIsCountedInCharacters) {
  config::Accounts accounts;
  accounts.password_min_length = 4;
  accounts.password_max_length = 6;
  AccountPolicy policy(accounts);

  EXPECT_TRUE(policy.check_password("äöüß"));  // 4 characters, 8 bytes
  EXPECT_TRUE(policy.check_password("abcdef"));
  auto short_one = policy.check_password("abc");
  auto long_one = policy.check_password("abcdefg", "new_password");
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.error().code, ErrorCode::weak_password);
  ASSERT_FALSE(long_one);
  EXPECT_EQ(long_one.error().field, "new_password");
}

TEST(AccountPolicy, ANewUsersDisplayNameMustBeGivenAndReadable) {
  auto policy = default_policy();

  EXPECT_TRUE(policy.check_new_user("alice", "alice@example.com", "Alice Liddell"));
  auto empty = policy.check_new_user("alice", "alice@example.com", "");
  auto escape = policy.check_new_user("alice", "alice@example.com", "Alice\x1b[2J");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::bad_request);
  EXPECT_EQ(empty.error().field, "display_name");
  EXPECT_EQ(empty.error().message, "'display_name' must not be empty");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().field, "display_name");
  EXPECT_EQ(escape.error().message, "'display_name' must not contain U+001B, a control character");
}

}  // namespace
}  // namespace dirproxy
