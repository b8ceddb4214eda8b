// PasswordHasher: Argon2id hashes through libsodium. Tests use the smallest
// limits libsodium accepts (opslimit 1, memlimit 8 KiB) so they run fast.
#include "directories/password_hasher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace dirproxy {
namespace {

constexpr std::uint64_t kFastOps = 1;
constexpr std::size_t kFastMemory = 8192;

PasswordHasher fast_hasher() { return PasswordHasher(kFastOps, kFastMemory, 2); }

TEST(PasswordHasher, HashIsAnArgon2idStringThatDoesNotContainThePassword) {
  const auto hasher = fast_hasher();
  const auto hash = hasher.hash("correct horse battery staple");
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
}

TEST(PasswordHasher, HashesOfTheSamePasswordDifferBecauseTheyAreSalted) {
  const auto hasher = fast_hasher();
  const auto first = hasher.hash("same password");
  const auto second = hasher.hash("same password");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*first, *second);
}

TEST(PasswordHasher, VerifyAcceptsTheRightPassword) {
  const auto hasher = fast_hasher();
  const auto hash = hasher.hash("s3cret-Passw0rd");
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hasher.verify(*hash, "s3cret-Passw0rd"));
}

TEST(PasswordHasher, VerifyRejectsAWrongPassword) {
  const auto hasher = fast_hasher();
  const auto hash = hasher.hash("s3cret-Passw0rd");
  ASSERT_TRUE(hash.has_value());
  EXPECT_FALSE(hasher.verify(*hash, "s3cret-passw0rd"));
  EXPECT_FALSE(hasher.verify(*hash, ""));
}

TEST(PasswordHasher, VerifyTreatsAMalformedHashAsNoMatch) {
  const auto hasher = fast_hasher();
  const auto good = hasher.hash("pw");
  ASSERT_TRUE(good.has_value());
  EXPECT_FALSE(hasher.verify("", "pw"));
  EXPECT_FALSE(hasher.verify("pw", "pw"));
  EXPECT_FALSE(hasher.verify("$argon2id$v=19$m=8,t=1,p=1$bm90LWJhc2U2NA", "pw"));
  EXPECT_FALSE(hasher.verify(good->substr(0, good->size() - 5), "pw"));
  EXPECT_FALSE(hasher.verify(*good + std::string(200, 'A'), "pw"));
  EXPECT_FALSE(hasher.verify(*good + std::string(1, '\0') + "x", "pw"));
}

TEST(PasswordHasher, PasswordsAreHashedWholeIncludingNulBytesAndUtf8) {
  const auto hasher = fast_hasher();
  const std::string with_nul("ab\0cd", 5);
  const auto hash = hasher.hash(with_nul);
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hasher.verify(*hash, with_nul));
  EXPECT_FALSE(hasher.verify(*hash, "ab"));

  const auto utf8 = hasher.hash("pässwörd-日本");
  ASSERT_TRUE(utf8.has_value());
  EXPECT_TRUE(hasher.verify(*utf8, "pässwörd-日本"));
  EXPECT_FALSE(hasher.verify(*utf8, "passwort-日本"));
}

TEST(PasswordHasher, NeedsRehashOnlyWhenTheLimitsDiffer) {
  const auto hasher = fast_hasher();
  const PasswordHasher stronger(2, 16384, 1);
  const auto hash = hasher.hash("pw");
  ASSERT_TRUE(hash.has_value());
  EXPECT_FALSE(hasher.needs_rehash(*hash));
  EXPECT_TRUE(stronger.needs_rehash(*hash));
}

TEST(PasswordHasher, MalformedOrNonArgon2idHashesNeedRehash) {
  const auto hasher = fast_hasher();
  EXPECT_TRUE(hasher.needs_rehash(""));
  EXPECT_TRUE(hasher.needs_rehash("garbage"));
  // An Argon2i hash (not id) with the same limits.
  EXPECT_TRUE(
      hasher.needs_rehash("$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                          "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY"));
}

TEST(PasswordHasher, DummyVerifyAcceptsAnyPasswordIncludingEmptyAndNul) {
  const auto hasher = fast_hasher();
  hasher.dummy_verify("");
  hasher.dummy_verify(std::string("\0\0", 2));
  hasher.dummy_verify(std::string(5000, 'x'));
  // Still usable afterwards: the slots were all given back.
  const auto hash = hasher.hash("pw");
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hasher.verify(*hash, "pw"));
}

}  // namespace
}  // namespace dirproxy
