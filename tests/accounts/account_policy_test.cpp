#include "accounts/account_policy.hpp"

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

AccountPolicy default_policy() { return AccountPolicy(config::Accounts{}); }

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
  config::Accounts accounts;
  accounts.username_pattern = "^[A-Z]{2,3}$";
  AccountPolicy policy(accounts);

  EXPECT_TRUE(policy.check_username("ABC"));
  EXPECT_FALSE(policy.check_username("abc"));
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
