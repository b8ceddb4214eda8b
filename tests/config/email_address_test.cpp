#include "config/email_address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dirproxy::config {
namespace {

std::string reason_for(std::string_view text) {
  const EmailAddressParse parsed = parse_email_address(text);
  EXPECT_FALSE(parsed.address.has_value()) << text;
  return parsed.reason;
}

TEST(EmailAddress, AcceptsOrdinaryAddresses) {
  for (const char* text : {"alice@example.com", "a.b@example.com", "a+tag@mail.example.co.uk", "o'brien@example.com",
                           "x_y-z@sub.example", "root@localhost", "user@xn--bcher-kva.example"}) {
    const EmailAddressParse parsed = parse_email_address(text);
    EXPECT_TRUE(parsed) << text << ": " << parsed.reason;
  }
}

TEST(EmailAddress, SplitsLocalPartAndDomain) {
  const EmailAddressParse parsed = parse_email_address("Alice.Smith@Example.COM");
  ASSERT_TRUE(parsed) << parsed.reason;
  EXPECT_EQ(parsed.address->local, "Alice.Smith");
  EXPECT_EQ(parsed.address->domain, "example.com");
  EXPECT_EQ(parsed.address->address, "alice.smith@example.com");
  EXPECT_EQ(parsed.reason, "");
}

TEST(EmailAddress, RefusesASecondAt) {
  EXPECT_EQ(reason_for("a@example.com@evil.com"), "more than one '@'");
  EXPECT_EQ(reason_for("a@b@c"), "more than one '@'");
}

TEST(EmailAddress, RefusesMissingParts) {
  EXPECT_EQ(reason_for(""), "empty address");
  EXPECT_EQ(reason_for("alice.example.com"), "no '@'");
  EXPECT_EQ(reason_for("@example.com"), "empty local part");
  EXPECT_EQ(reason_for("alice@"), "empty domain");
}

TEST(EmailAddress, RefusesQuotedLocalParts) {
  EXPECT_EQ(reason_for("\"quoted\"@example.com"), "quoted local parts are not accepted");
  EXPECT_EQ(reason_for("\"a@evil.com\"@example.com"), "more than one '@'");
}

TEST(EmailAddress, RefusesWhitespace) {
  EXPECT_EQ(reason_for("a b@example.com"), "contains a space");
  EXPECT_EQ(reason_for(" a@example.com"), "contains a space");
  EXPECT_EQ(reason_for("a@example.com "), "contains a space");
}

TEST(EmailAddress, RefusesControlCharactersIncludingLineBreaks) {
  EXPECT_EQ(reason_for("a@example.com\r\nBcc: x@evil.com"), "contains a control character");
  EXPECT_EQ(reason_for("a@example.com\n"), "contains a control character");
  EXPECT_EQ(reason_for("a\t@example.com"), "contains a control character");
  EXPECT_EQ(reason_for(std::string("a\0b@example.com", 15)), "contains a control character");
  EXPECT_EQ(reason_for("a\x7f@example.com"), "contains a control character");
}

TEST(EmailAddress, RefusesSpecialsInTheLocalPart) {
  for (const char* text :
       {"a(b@example.com", "a)b@example.com", "a<b@example.com", "a>b@example.com", "a,b@example.com",
        "a;b@example.com", "a:b@example.com", "a\\b@example.com", "a[b@example.com", "a]b@example.com"}) {
    EXPECT_EQ(reason_for(text), "local part contains a character that is not allowed") << text;
  }
}

TEST(EmailAddress, RefusesStrayDotsInTheLocalPart) {
  EXPECT_EQ(reason_for(".alice@example.com"), "local part starts with '.'");
  EXPECT_EQ(reason_for("alice.@example.com"), "local part ends with '.'");
  EXPECT_EQ(reason_for("al..ice@example.com"), "local part contains '..'");
}

TEST(EmailAddress, RefusesInvalidDomains) {
  EXPECT_EQ(reason_for("a@-bad.com"), "domain is not a valid DNS name");
  EXPECT_EQ(reason_for("a@exa_mple.com"), "domain is not a valid DNS name");
  EXPECT_EQ(reason_for("a@example.com."), "domain is not a valid DNS name");
  EXPECT_EQ(reason_for("a@.example.com"), "domain is not a valid DNS name");
  EXPECT_EQ(reason_for("a@example..com"), "domain is not a valid DNS name");
  EXPECT_EQ(reason_for("a@[127.0.0.1]"), "domain is not a valid DNS name");
}

TEST(EmailAddress, RefusesNonAsciiDomainsWhichMustBePunycode) {
  EXPECT_EQ(reason_for("a@b\xc3\xbc"
                       "cher.example"),
            "domain is not ASCII (write internationalised domains as punycode)");
}

TEST(EmailAddress, RefusesNonAsciiLocalParts) {
  EXPECT_EQ(reason_for("j\xc3\xb6rg@example.com"), "local part contains a non-ASCII character");
}

TEST(EmailAddress, LimitsLocalPartTo64Characters) {
  EXPECT_TRUE(parse_email_address(std::string(64, 'a') + "@example.com"));
  EXPECT_EQ(reason_for(std::string(65, 'a') + "@example.com"), "local part longer than 64 characters");
}

TEST(EmailAddress, LimitsWholeAddressTo254Characters) {
  const std::string label(63, 'd');
  const std::string domain = label + "." + label + "." + label + "." + std::string(57, 'd');  // 249
  const std::string address_254 = "abcd@" + domain;
  ASSERT_EQ(address_254.size(), 254u);
  EXPECT_TRUE(parse_email_address(address_254));
  EXPECT_EQ(reason_for("abcde@" + domain), "longer than 254 characters");
}

}  // namespace
}  // namespace dirproxy::config
