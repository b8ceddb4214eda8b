#include "config/dns_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dirproxy::config {
namespace {

TEST(DnsName, AcceptsOrdinaryNames) {
  EXPECT_TRUE(is_valid_dns_name("example.com"));
  EXPECT_TRUE(is_valid_dns_name("mail.example.co.uk"));
  EXPECT_TRUE(is_valid_dns_name("localhost"));
  EXPECT_TRUE(is_valid_dns_name("a-b.x1.example"));
  EXPECT_TRUE(is_valid_dns_name("Example.COM"));
  EXPECT_TRUE(is_valid_dns_name("xn--bcher-kva.example"));
}

TEST(DnsName, RefusesEmptyLabelsAndStrayDots) {
  EXPECT_FALSE(is_valid_dns_name(""));
  EXPECT_FALSE(is_valid_dns_name("."));
  EXPECT_FALSE(is_valid_dns_name("example.com."));
  EXPECT_FALSE(is_valid_dns_name(".example.com"));
  EXPECT_FALSE(is_valid_dns_name("example..com"));
}

TEST(DnsName, RefusesHyphenAtLabelEdges) {
  EXPECT_FALSE(is_valid_dns_name("-bad.com"));
  EXPECT_FALSE(is_valid_dns_name("bad-.com"));
  EXPECT_FALSE(is_valid_dns_name("example.-com"));
}

TEST(DnsName, RefusesCharactersOutsideLettersDigitsAndHyphen) {
  EXPECT_FALSE(is_valid_dns_name("exa_mple.com"));
  EXPECT_FALSE(is_valid_dns_name("exa mple.com"));
  EXPECT_FALSE(is_valid_dns_name("*.example.com"));
  EXPECT_FALSE(is_valid_dns_name("example.com\n"));
  EXPECT_FALSE(
      is_valid_dns_name("b\xc3\xbc"
                        "cher.example"));  // IDN must be punycode
}

TEST(DnsName, LimitsLabelsTo63Characters) {
  EXPECT_TRUE(is_valid_dns_name(std::string(63, 'a') + ".com"));
  EXPECT_FALSE(is_valid_dns_name(std::string(64, 'a') + ".com"));
}

TEST(DnsName, LimitsNamesTo253Characters) {
  const std::string label(63, 'a');
  const std::string name_253 = label + "." + label + "." + label + "." + std::string(61, 'b');
  ASSERT_EQ(name_253.size(), 253u);
  EXPECT_TRUE(is_valid_dns_name(name_253));
  EXPECT_FALSE(is_valid_dns_name(name_253 + "b"));
}

TEST(DomainPattern, AcceptsNameOrWildcardPrefixedName) {
  EXPECT_TRUE(is_valid_domain_pattern("example.com"));
  EXPECT_TRUE(is_valid_domain_pattern("*.example.com"));
}

TEST(DomainPattern, RefusesOtherWildcards) {
  EXPECT_FALSE(is_valid_domain_pattern("*"));
  EXPECT_FALSE(is_valid_domain_pattern("*."));
  EXPECT_FALSE(is_valid_domain_pattern("*example.com"));
  EXPECT_FALSE(is_valid_domain_pattern("a.*.example.com"));
  EXPECT_FALSE(is_valid_domain_pattern("*.*.example.com"));
  EXPECT_FALSE(is_valid_domain_pattern("@example.com"));
  EXPECT_FALSE(is_valid_domain_pattern(""));
}

TEST(DomainMatches, ExactPatternMatchesOnlyThatDomain) {
  EXPECT_TRUE(domain_matches("example.com", "example.com"));
  EXPECT_FALSE(domain_matches("example.com", "mail.example.com"));
  EXPECT_FALSE(domain_matches("example.com", "evilexample.com"));
  EXPECT_FALSE(domain_matches("example.com", "example.com.evil.com"));
}

TEST(DomainMatches, IgnoresCase) {
  EXPECT_TRUE(domain_matches("Example.COM", "example.com"));
  EXPECT_TRUE(domain_matches("example.com", "EXAMPLE.com"));
  EXPECT_TRUE(domain_matches("*.EXAMPLE.com", "Mail.example.COM"));
}

TEST(DomainMatches, WildcardMatchesProperSubdomains) {
  EXPECT_TRUE(domain_matches("*.example.com", "mail.example.com"));
  EXPECT_TRUE(domain_matches("*.example.com", "a.b.example.com"));
}

TEST(DomainMatches, WildcardDoesNotMatchTheApex) { EXPECT_FALSE(domain_matches("*.example.com", "example.com")); }

TEST(DomainMatches, WildcardMatchesOnLabelBoundariesOnly) {
  EXPECT_FALSE(domain_matches("*.example.com", "evilexample.com"));
  EXPECT_FALSE(domain_matches("*.example.com", "mail.evilexample.com"));
  EXPECT_FALSE(domain_matches("*.example.com", "example.com.evil.com"));
  EXPECT_FALSE(domain_matches("*.example.com", "mail.example.com.evil.com"));
}

TEST(DomainMatches, InvalidDomainsNeverMatch) {
  EXPECT_FALSE(domain_matches("example.com", "example.com."));
  EXPECT_FALSE(domain_matches("*.example.com", ".example.com"));
  EXPECT_FALSE(domain_matches("*.example.com", "a..example.com"));
  EXPECT_FALSE(domain_matches("*.example.com", "-a.example.com"));
  EXPECT_FALSE(domain_matches("", ""));
}

TEST(DomainMatches, InvalidPatternsNeverMatch) {
  EXPECT_FALSE(domain_matches("*", "example.com"));
  EXPECT_FALSE(domain_matches("*example.com", "evilexample.com"));
}

}  // namespace
}  // namespace dirproxy::config
