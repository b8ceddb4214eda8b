#include "directories/ldap/crypt_password.hpp"

#include <crypt.h>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

TEST(CryptUserPassword, IsASaltedSha512CryptThatVerifiesOnlyThePassword) {
  auto value = crypt_user_password("correct horse battery");

  ASSERT_TRUE(value) << value.error().message;
  ASSERT_TRUE(value->starts_with("{CRYPT}$6$")) << *value;
  EXPECT_EQ(value->find("correct horse"), std::string::npos);
  const std::string hash = value->substr(7);
  crypt_data data{};
  EXPECT_EQ(std::string(crypt_r("correct horse battery", hash.c_str(), &data)), hash);
  EXPECT_NE(std::string(crypt_r("wrong horse battery", hash.c_str(), &data)), hash);
}

TEST(CryptUserPassword, TwoHashesOfOnePasswordDiffer) {
  auto first = crypt_user_password("same-password");
  auto second = crypt_user_password("same-password");

  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
}

TEST(CryptUserPassword, PasswordWithANulByteIsRefused) {
  auto value = crypt_user_password(std::string("ab\0cd", 5));

  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().code, ErrorCode::internal_error);
}

}  // namespace
}  // namespace dirproxy
