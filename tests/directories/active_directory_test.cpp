// The pure pieces of the Active Directory support (active_directory.hpp):
// the unicodePwd encoding, the range option of AD's ranged attribute values,
// and what AD's refusals of a password mean.
#include "directories/ldap/active_directory.hpp"

#include <gtest/gtest.h>
#include <ldap.h>

#include <string>

namespace dirproxy::active_directory {
namespace {

using namespace std::string_literals;

// MS-ADTS 3.1.1.3.1.5: the password in double quotes, UTF-16LE.
TEST(UnicodePassword, IsTheQuotedPasswordInUtf16Le) {
  auto encoded = unicode_password("Ab1");

  ASSERT_TRUE(encoded);
  EXPECT_EQ(*encoded, "\"\0A\0b\0001\0\"\0"s);
}

TEST(UnicodePassword, EncodesCharactersBeyondAsciiAsUtf16) {
  // "é" U+00E9, "€" U+20AC.
  auto encoded = unicode_password("\xC3\xA9\xE2\x82\xAC");

  ASSERT_TRUE(encoded);
  EXPECT_EQ(*encoded, "\"\0\xE9\0\xAC\x20\"\0"s);
}

TEST(UnicodePassword, EncodesCharactersBeyondTheBmpAsSurrogatePairs) {
  // U+1F600 is D83D DE00 in UTF-16.
  auto encoded = unicode_password("\xF0\x9F\x98\x80");

  ASSERT_TRUE(encoded);
  EXPECT_EQ(*encoded, "\"\0\x3D\xD8\x00\xDE\"\0"s);
}

TEST(UnicodePassword, RefusesInvalidUtf8NamingTheField) {
  auto encoded = unicode_password("ab\xFF", "new_password");

  ASSERT_FALSE(encoded);
  EXPECT_EQ(encoded.error().code, ErrorCode::bad_request);
  EXPECT_EQ(encoded.error().field, "new_password");
}

// MS-ADTS 3.1.1.3.1.3.3: "member;range=0-1499" and the last "…-*".
TEST(ValueRange, ParsesAClosedRange) {
  EXPECT_EQ(parse_value_range("member;range=0-1499"), (ValueRange{"member", 0, 1499}));
}

TEST(ValueRange, ParsesTheLastRangeEndingInAStar) {
  EXPECT_EQ(parse_value_range("member;range=3000-*"), (ValueRange{"member", 3000, std::nullopt}));
}

TEST(ValueRange, FindsTheOptionAmongOthersWhateverItsCase) {
  EXPECT_EQ(parse_value_range("memberOf;binary;Range=10-19"), (ValueRange{"memberOf", 10, 19}));
}

TEST(ValueRange, IsAbsentWithoutARangeOption) {
  EXPECT_EQ(parse_value_range("member"), std::nullopt);
  EXPECT_EQ(parse_value_range("userCertificate;binary"), std::nullopt);
}

TEST(ValueRange, IsAbsentWhenMalformed) {
  EXPECT_EQ(parse_value_range("member;range=10"), std::nullopt);
  EXPECT_EQ(parse_value_range("member;range=a-9"), std::nullopt);
  EXPECT_EQ(parse_value_range("member;range=20-10"), std::nullopt);
  EXPECT_EQ(parse_value_range(";range=0-1"), std::nullopt);
}

TEST(RangeRequest, AsksFromTheFirstMissingValueToTheEnd) {
  EXPECT_EQ(range_request("member", 1500), "member;range=1500-*");
}

// AD's refusals of unicodePwd writes, as Windows Server and Samba word them.
TEST(PasswordRefusal, ComplexityIsWeakPasswordWithADsReason) {
  const Error error = password_refusal("ad", LDAP_CONSTRAINT_VIOLATION,
                                       "0000052D: Constraint violation - check_password_restrictions: the password "
                                       "does not meet the complexity requirements",
                                       "password");

  EXPECT_EQ(error.code, ErrorCode::weak_password);
  EXPECT_EQ(error.field, "password");
  EXPECT_EQ(error.message,
            "directory 'ad' refused the password by its password policy: 0000052D: Constraint violation - "
            "check_password_restrictions: the password does not meet the complexity requirements");
}

TEST(PasswordRefusal, Error52DWithUnwillingToPerformIsWeakPassword) {
  const Error error = password_refusal(
      "ad", LDAP_UNWILLING_TO_PERFORM, "0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0",
      "new_password");

  EXPECT_EQ(error.code, ErrorCode::weak_password);
  EXPECT_EQ(error.field, "new_password");
}

TEST(PasswordRefusal, WrongOldPasswordIsInvalidCredentials) {
  const Error error = password_refusal(
      "ad", LDAP_CONSTRAINT_VIOLATION,
      "00000056: AtrErr: DSID-03190F80, #1:\n\t0: 00000056: DSID-03190F80, problem 1005 (CONSTRAINT_ATT_TYPE)",
      "new_password");

  EXPECT_EQ(error.code, ErrorCode::invalid_credentials);
  EXPECT_EQ(error.field, "old_password");
}

TEST(PasswordRefusal, OtherRefusalsAreInternalErrorsWithTheServersText) {
  const Error error = password_refusal(
      "ad", LDAP_UNWILLING_TO_PERFORM, "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0",
      "password");

  EXPECT_EQ(error.code, ErrorCode::internal_error);
  EXPECT_NE(error.message.find("0000001F"), std::string::npos) << error.message;
}

TEST(DnsDomain, IsTheDomainComponentsInOrder) {
  EXPECT_EQ(dns_domain_of("OU=Staff,DC=corp,DC=example,DC=com"), "corp.example.com");
  EXPECT_EQ(dns_domain_of("o=example"), "");
}

}  // namespace
}  // namespace dirproxy::active_directory
