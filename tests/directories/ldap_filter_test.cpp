// RFC 4515 filter building: every value is escaped by libldap, so that no
// username can add filter syntax, and the configured extra filter is combined
// as exactly one filter.
#include "directories/ldap/ldap_filter.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace dirproxy {
namespace {

TEST(LdapFilterEscape, AsteriskBecomesALiteralNotAWildcard) { EXPECT_EQ(escape_filter_value("*"), "\\2A"); }

TEST(LdapFilterEscape, InjectionAttemptBecomesOneLiteralValue) {
  EXPECT_EQ(equality_filter("uid", ")(uid=*"), "(uid=\\29\\28uid=\\2A)");
}

TEST(LdapFilterEscape, BackslashIsEscaped) { EXPECT_EQ(escape_filter_value("a\\b"), "a\\5Cb"); }

TEST(LdapFilterEscape, NulByteIsEscapedAndTheValueIsNotCutThere) {
  EXPECT_EQ(escape_filter_value(std::string("ab\0cd", 5)), "ab\\00cd");
}

TEST(LdapFilterEscape, ParenthesesAreEscaped) { EXPECT_EQ(escape_filter_value("(x)"), "\\28x\\29"); }

TEST(LdapFilterEscape, Utf8IsEscapedByteByByte) { EXPECT_EQ(escape_filter_value("J\xC3\xBCrgen"), "J\\C3\\BCrgen"); }

TEST(LdapFilterEscape, PlainValueIsUnchanged) {
  EXPECT_EQ(escape_filter_value("frank.jr-2@example.com"), "frank.jr-2@example.com");
}

TEST(LdapFilterEscape, EmptyValueStaysEmpty) {
  EXPECT_EQ(escape_filter_value(""), "");
  EXPECT_EQ(equality_filter("uid", ""), "(uid=)");
}

TEST(LdapFilterSubstring, ValueIsEscapedBetweenWildcards) {
  EXPECT_EQ(substring_filter("cn", "a*b(c)"), "(cn=*a\\2Ab\\28c\\29*)");
}

TEST(LdapFilterSubstring, EmptyValueIsAPresenceFilter) { EXPECT_EQ(substring_filter("cn", ""), "(cn=*)"); }

TEST(LdapFilterCombine, AndWrapsAnExtraFilterGivenWithoutParentheses) {
  EXPECT_EQ(and_filters({"(objectClass=inetOrgPerson)", "employeeType=staff", equality_filter("uid", "frank")}),
            "(&(objectClass=inetOrgPerson)(employeeType=staff)(uid=frank))");
}

TEST(LdapFilterCombine, AndKeepsAnExtraFilterGivenWithParentheses) {
  EXPECT_EQ(and_filters({"(objectClass=inetOrgPerson)", "(!(employeeType=robot))", "(uid=frank)"}),
            "(&(objectClass=inetOrgPerson)(!(employeeType=robot))(uid=frank))");
}

TEST(LdapFilterCombine, AndTrimsWhitespaceAroundAnExtraFilter) {
  EXPECT_EQ(and_filters({"(objectClass=person)", "  employeeType=staff \n"}),
            "(&(objectClass=person)(employeeType=staff))");
}

TEST(LdapFilterCombine, AndSkipsEmptyParts) {
  EXPECT_EQ(and_filters({"(objectClass=person)", "", "   ", "(uid=frank)"}), "(&(objectClass=person)(uid=frank))");
}

TEST(LdapFilterCombine, AndOfOnePartIsThatPart) {
  EXPECT_EQ(and_filters({"", "(uid=frank)"}), "(uid=frank)");
  EXPECT_EQ(and_filters({"uid=frank"}), "(uid=frank)");
}

TEST(LdapFilterCombine, AndOfNothingIsEmpty) {
  EXPECT_EQ(and_filters({"", ""}), "");
  EXPECT_EQ(and_filters(std::vector<std::string>{}), "");
}

TEST(LdapFilterCombine, VectorVersionMatchesTheListVersion) {
  const std::vector<std::string> parts = {"(objectClass=person)", "ou=staff", "", equality_filter("mail", "a*")};
  EXPECT_EQ(and_filters(parts), "(&(objectClass=person)(ou=staff)(mail=a\\2A))");
  EXPECT_EQ(or_filters(parts), "(|(objectClass=person)(ou=staff)(mail=a\\2A))");
}

TEST(LdapFilterCombine, OrCombinesWithTheSameRules) {
  EXPECT_EQ(or_filters({equality_filter("uid", "frank"), "mail=frank@example.com"}),
            "(|(uid=frank)(mail=frank@example.com))");
}

TEST(LdapFilterCombine, AnUnbalancedExtraFilterIsRejectedRatherThanCombined) {
  // Combined as is, "(|(a=b)(c=d)" would pull the uid condition into its OR.
  EXPECT_THROW(and_filters({"(objectClass=person)", "(|(a=b)(c=d)", "(uid=frank)"}), std::invalid_argument);
}

TEST(LdapFilterNormalize, AddsParenthesesWhenMissing) {
  EXPECT_EQ(normalize_filter("objectClass=person"), "(objectClass=person)");
  EXPECT_EQ(normalize_filter(" (objectClass=person) "), "(objectClass=person)");
  EXPECT_EQ(normalize_filter("(|(a=b)(c=\\28d\\29))"), "(|(a=b)(c=\\28d\\29))");
  EXPECT_EQ(normalize_filter(""), "");
}

TEST(LdapFilterNormalize, RejectsAnythingButExactlyOneBalancedFilter) {
  EXPECT_EQ(normalize_filter("(|(a=b)(c=d)"), std::nullopt);
  EXPECT_EQ(normalize_filter("(a=b))(|(c=d)"), std::nullopt);
  EXPECT_EQ(normalize_filter("(a=b)(c=d)"), std::nullopt);
  EXPECT_EQ(normalize_filter("a=b)(c=d"), std::nullopt);
  EXPECT_EQ(normalize_filter("("), std::nullopt);
  EXPECT_EQ(normalize_filter(")"), std::nullopt);
}

TEST(LdapAttributeName, AcceptsDescriptorsAndNumericOids) {
  EXPECT_TRUE(is_valid_attribute_name("uid"));
  EXPECT_TRUE(is_valid_attribute_name("sAMAccountName"));
  EXPECT_TRUE(is_valid_attribute_name("msDS-UserPasswordExpiryTimeComputed"));
  EXPECT_TRUE(is_valid_attribute_name("x500UniqueIdentifier"));
  EXPECT_TRUE(is_valid_attribute_name("0.9.2342.19200300.100.1.1"));
  EXPECT_TRUE(is_valid_attribute_name("2.5.4.3"));
}

TEST(LdapAttributeName, RejectsEverythingElse) {
  EXPECT_FALSE(is_valid_attribute_name(""));
  EXPECT_FALSE(is_valid_attribute_name("1uid"));
  EXPECT_FALSE(is_valid_attribute_name("-uid"));
  EXPECT_FALSE(is_valid_attribute_name("u id"));
  EXPECT_FALSE(is_valid_attribute_name("uid=*"));
  EXPECT_FALSE(is_valid_attribute_name("uid)(cn"));
  EXPECT_FALSE(is_valid_attribute_name("cn;lang-en"));
  EXPECT_FALSE(is_valid_attribute_name("user_name"));
  EXPECT_FALSE(is_valid_attribute_name("2.5.04.3"));
  EXPECT_FALSE(is_valid_attribute_name("2"));
  EXPECT_FALSE(is_valid_attribute_name("2.5."));
  EXPECT_FALSE(is_valid_attribute_name("2..5"));
  EXPECT_FALSE(is_valid_attribute_name(std::string("uid\0", 4)));
}

}  // namespace
}  // namespace dirproxy
