// RFC 4514 DNs through libldap: values that need escaping survive the trip
// into a DN and back, and DNs compare equal however they are spaced or cased.
#include "directories/ldap/ldap_dn.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dirproxy {
namespace {

constexpr std::string_view kPeople = "ou=people,dc=example,dc=com";

using Rdn = std::pair<std::string, std::string>;

// make_dn(value) must give `expected_rdn` + ",ou=people,..." and parse back
// to exactly `value`.
void expect_round_trip(const std::string& value, const std::string& expected_rdn) {
  const auto dn = make_dn("uid", value, kPeople);
  ASSERT_TRUE(dn.has_value()) << dn.error().message;
  EXPECT_EQ(*dn, expected_rdn + "," + std::string(kPeople));
  EXPECT_EQ(first_rdn(*dn), Rdn("uid", value));
}

TEST(LdapDnMake, CommaInTheValueIsEscapedAndRoundTrips) { expect_round_trip("frank, jr", "uid=frank\\2C jr"); }

TEST(LdapDnMake, PlusIsEscapedSoItCannotStartASecondAttribute) { expect_round_trip("a+cn=b", "uid=a\\2Bcn\\3Db"); }

TEST(LdapDnMake, EqualsSignIsEscaped) { expect_round_trip("a=b", "uid=a\\3Db"); }

TEST(LdapDnMake, LeadingHashIsEscapedSoItIsNotReadAsBer) { expect_round_trip("#04024869", "uid=\\2304024869"); }

TEST(LdapDnMake, LeadingAndTrailingSpacesAreEscapedAndKept) {
  expect_round_trip(" frank", "uid=\\20frank");
  expect_round_trip("frank ", "uid=frank\\20");
  expect_round_trip("  ", "uid=\\20\\20");
}

TEST(LdapDnMake, BackslashIsEscaped) { expect_round_trip("a\\b", "uid=a\\5Cb"); }

TEST(LdapDnMake, QuoteIsEscaped) { expect_round_trip("a\"b", "uid=a\\22b"); }

TEST(LdapDnMake, SemicolonIsEscaped) { expect_round_trip("a;b", "uid=a\\3Bb"); }

TEST(LdapDnMake, AngleBracketsAreEscaped) { expect_round_trip("<a>", "uid=\\3Ca\\3E"); }

TEST(LdapDnMake, Utf8IsHexEscapedAndRoundTrips) { expect_round_trip("J\xC3\xBCrgen", "uid=J\\C3\\BCrgen"); }

TEST(LdapDnMake, NulByteIsEscapedAndRoundTrips) { expect_round_trip(std::string("a\0b", 3), "uid=a\\00b"); }

TEST(LdapDnMake, EmptyParentGivesTheRdnAlone) {
  const auto dn = make_dn("cn", "admins", "");
  ASSERT_TRUE(dn.has_value());
  EXPECT_EQ(*dn, "cn=admins");
}

TEST(LdapDnMake, InvalidUtf8IsABadRequest) {
  const auto dn = make_dn("uid", "\xFF\xFE", kPeople);
  ASSERT_FALSE(dn.has_value());
  EXPECT_EQ(dn.error().code, ErrorCode::bad_request);
}

TEST(LdapDnMake, EmptyValueIsABadRequest) {
  const auto dn = make_dn("uid", "", kPeople);
  ASSERT_FALSE(dn.has_value());
  EXPECT_EQ(dn.error().code, ErrorCode::bad_request);
}

TEST(LdapDnMake, InvalidAttributeNameIsABadRequest) {
  // libldap's printer would emit "uid=x,cn=y" as the attribute type as it is.
  const auto dn = make_dn("uid=x,cn", "y", kPeople);
  ASSERT_FALSE(dn.has_value());
  EXPECT_EQ(dn.error().code, ErrorCode::bad_request);
}

TEST(LdapDnFirstRdn, ReturnsTypeAsWrittenAndUnescapedValue) {
  EXPECT_EQ(first_rdn("UID = Frank\\, Jr , ou=People,dc=example,dc=com"), Rdn("UID", "Frank, Jr"));
  EXPECT_EQ(first_rdn("cn=admins"), Rdn("cn", "admins"));
}

TEST(LdapDnFirstRdn, AcceptsBackslashCharacterEscapes) {
  EXPECT_EQ(first_rdn("uid=a\\+b\\\"c\\\\d,dc=x"), Rdn("uid", "a+b\"c\\d"));
}

TEST(LdapDnFirstRdn, MultiValuedRdnIsNotAnswered) { EXPECT_EQ(first_rdn("cn=a+uid=b,dc=x"), std::nullopt); }

TEST(LdapDnFirstRdn, BerValueIsNotAnswered) { EXPECT_EQ(first_rdn("uid=#04024869,dc=x"), std::nullopt); }

TEST(LdapDnFirstRdn, InvalidOrEmptyDnIsNotAnswered) {
  EXPECT_EQ(first_rdn(""), std::nullopt);
  EXPECT_EQ(first_rdn("frank"), std::nullopt);
  EXPECT_EQ(first_rdn("uid=a,,dc=x"), std::nullopt);
  EXPECT_EQ(first_rdn("uid=a\\zz,dc=x"), std::nullopt);
  EXPECT_EQ(first_rdn(std::string("uid=a\0b,dc=x", 12)), std::nullopt);
}

TEST(LdapDnSplit, GivesEachRdnWithTypesAsWrittenAndValuesUnescaped) {
  const auto rdns = split_dn("UID = Frank\\, Jr+cn=F , ou=People,dc=example");
  ASSERT_TRUE(rdns.has_value());
  const std::vector<DnRdn> expected = {
      {{"UID", "Frank, Jr", false}, {"cn", "F", false}}, {{"ou", "People", false}}, {{"dc", "example", false}}};
  EXPECT_EQ(*rdns, expected);
}

TEST(LdapDnSplit, MarksBerValues) {
  const auto rdns = split_dn("uid=#04024869,dc=x");
  ASSERT_TRUE(rdns.has_value());
  ASSERT_EQ(rdns->size(), 2U);
  EXPECT_TRUE((*rdns)[0][0].ber);
}

TEST(LdapDnSplit, EmptyDnHasNoRdnsAndInvalidDnNone) {
  EXPECT_EQ(split_dn(""), std::vector<DnRdn>{});
  EXPECT_EQ(split_dn("not a dn"), std::nullopt);
}

TEST(LdapDnNormalize, SpacingAndCaseDoNotMatter) {
  EXPECT_EQ(normalize_dn("UID=Frank\\, Jr , OU=People,  DC=Example,dc=COM"),
            "uid=frank\\2C jr,ou=people,dc=example,dc=com");
  EXPECT_EQ(normalize_dn("uid=frank\\2c jr,ou=people,dc=example,dc=com"),
            "uid=frank\\2C jr,ou=people,dc=example,dc=com");
}

TEST(LdapDnNormalize, DifferentlyWrittenDnsOfOneEntryAreEqual) {
  const auto a = normalize_dn("uid=frank\\2C jr,ou=people,dc=example,dc=com");
  const auto b = normalize_dn(" UID = Frank\\, JR ,ou=People , dc=Example,DC=com ");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a, b);
}

TEST(LdapDnNormalize, ValuesThatDifferAreNotEqual) {
  EXPECT_NE(normalize_dn("uid=frank,dc=example,dc=com"), normalize_dn("uid=frank2,dc=example,dc=com"));
  EXPECT_NE(normalize_dn("uid=frank\\2C jr,dc=example,dc=com"), normalize_dn("uid=frank,cn=jr,dc=example,dc=com"));
}

TEST(LdapDnNormalize, MultiValuedRdnOrderDoesNotMatter) {
  EXPECT_EQ(normalize_dn("uid=b+CN=a,dc=x"), "cn=a+uid=b,dc=x");
  EXPECT_EQ(normalize_dn("cn=a+uid=b,dc=x"), "cn=a+uid=b,dc=x");
}

// Found by fuzz/ldap_dn: libldap reads "uid=# om" as an empty BER value and
// prints it as "uid=#", which does not parse again.
TEST(LdapDnNormalize, AHashWithoutHexIsNotADn) {
  EXPECT_EQ(normalize_dn("uid=# om,dc=example,dc=com"), std::nullopt);
  EXPECT_EQ(normalize_dn("uid=#"), std::nullopt);
  EXPECT_FALSE(dn_is_under("uid=#,dc=example,dc=com", "dc=example,dc=com"));
}

TEST(LdapDnNormalize, EmptyDnIsTheRoot) { EXPECT_EQ(normalize_dn(""), ""); }

TEST(LdapDnNormalize, InvalidDnHasNoNormalForm) {
  EXPECT_EQ(normalize_dn("not a dn"), std::nullopt);
  EXPECT_EQ(normalize_dn("uid=a;dc=x"), std::nullopt);
}

TEST(LdapDnUnder, EntryBelowTheBaseIsUnder) {
  EXPECT_TRUE(dn_is_under("uid=frank,ou=people,dc=example,dc=com", "dc=example,dc=com"));
  EXPECT_TRUE(dn_is_under("uid=frank,ou=people,dc=example,dc=com", "OU=People, DC=Example, DC=com"));
}

TEST(LdapDnUnder, TheBaseItselfIsUnderItself) { EXPECT_TRUE(dn_is_under("dc=example,dc=com", "DC=example,dc=com")); }

TEST(LdapDnUnder, SuffixThatIsNotOnAnRdnBoundaryIsNotUnder) {
  EXPECT_FALSE(dn_is_under("dc=evilexample,dc=com", "dc=example,dc=com"));
  EXPECT_FALSE(dn_is_under("uid=a,dc=evilexample,dc=com", "dc=example,dc=com"));
}

TEST(LdapDnUnder, EscapedCommaDoesNotMakeAnRdnBoundary) {
  EXPECT_FALSE(dn_is_under("uid=a\\,dc=example,dc=com", "dc=example,dc=com"));
  EXPECT_FALSE(dn_is_under("cn=x\\,dc=example\\,dc=com,dc=org", "dc=example,dc=com"));
}

TEST(LdapDnUnder, OtherSubtreesAndParentsAreNotUnder) {
  EXPECT_FALSE(dn_is_under("uid=frank,ou=groups,dc=example,dc=com", "ou=people,dc=example,dc=com"));
  EXPECT_FALSE(dn_is_under("dc=com", "dc=example,dc=com"));
}

TEST(LdapDnUnder, EverythingIsUnderTheRoot) { EXPECT_TRUE(dn_is_under("uid=frank,dc=example,dc=com", "")); }

TEST(LdapDnUnder, InvalidDnsAreNeverUnder) {
  EXPECT_FALSE(dn_is_under("garbage", "dc=example,dc=com"));
  EXPECT_FALSE(dn_is_under("uid=a,dc=example,dc=com", "garbage"));
}

TEST(LdapDnJoin, JoinsWithACommaAndDropsEmptyParts) {
  EXPECT_EQ(join_dn("ou=people", "dc=example,dc=com"), "ou=people,dc=example,dc=com");
  EXPECT_EQ(join_dn("", "dc=example,dc=com"), "dc=example,dc=com");
  EXPECT_EQ(join_dn("ou=people", ""), "ou=people");
}

}  // namespace
}  // namespace dirproxy
