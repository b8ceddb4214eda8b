#include <ldap.h>

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "frontends/ldap/ber_builder.hpp"
#include "frontends/ldap/ldap_client_pipe.hpp"
#include "frontends/ldap/ldap_codec.hpp"

namespace dirproxy::ldap {
namespace {

using namespace test_support;

// What libldap sends for a search with `filter` (its string form).
std::string search_pdu(const std::string& filter) {
  LdapClientPipe client;
  int id = 0;
  EXPECT_EQ(ldap_search_ext(client.ld(), "dc=x", LDAP_SCOPE_SUBTREE, filter.c_str(), nullptr, 0, nullptr, nullptr,
                            nullptr, 0, &id),
            LDAP_SUCCESS)
      << filter;
  return client.sent();
}

Filter decoded_filter(const std::string& filter) {
  Decoded decoded = decode_request(search_pdu(filter));
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    ADD_FAILURE() << filter << ": " << error->message;
    return {};
  }
  return std::get<SearchRequest>(std::get<Request>(decoded).operation).filter;
}

// A search whose filter is `print`ed into the builder by the caller.
template <typename PrintFilter>
std::string search_with_filter(PrintFilter&& print) {
  BerBuilder pdu;
  pdu.print("{it{oeeiib", integer(1), tag(0x63), "dc=x", length(4), integer(2), integer(0), integer(0), integer(0),
            integer(0));
  print(pdu);
  return pdu.print("{}}}").bytes();
}

TEST(LdapFilterDecoding, AndOrNotNest) {
  const Filter filter = decoded_filter("(&(uid=a)(|(cn=b)(!(mail=c))))");

  EXPECT_EQ(filter.kind, Filter::Kind::and_);
  ASSERT_EQ(filter.children.size(), 2u);
  EXPECT_EQ(filter.children[0].kind, Filter::Kind::equality);
  EXPECT_EQ(filter.children[0].attribute, "uid");
  const Filter& disjunction = filter.children[1];
  EXPECT_EQ(disjunction.kind, Filter::Kind::or_);
  ASSERT_EQ(disjunction.children.size(), 2u);
  EXPECT_EQ(disjunction.children[0].value, "b");
  const Filter& negation = disjunction.children[1];
  EXPECT_EQ(negation.kind, Filter::Kind::not_);
  ASSERT_EQ(negation.children.size(), 1u);
  EXPECT_EQ(negation.children[0].attribute, "mail");
  EXPECT_EQ(negation.children[0].value, "c");
}

TEST(LdapFilterDecoding, EqualityValueIsUnescaped) {
  const Filter filter = decoded_filter("(cn=a\\2ab\\00c)");

  EXPECT_EQ(filter.kind, Filter::Kind::equality);
  EXPECT_EQ(filter.value, std::string("a*b\0c", 5));
}

TEST(LdapFilterDecoding, ComparisonsAndApprox) {
  const Filter greater = decoded_filter("(uidNumber>=1000)");
  const Filter less = decoded_filter("(uidNumber<=2000)");
  const Filter approx = decoded_filter("(cn~=alice)");

  EXPECT_EQ(greater.kind, Filter::Kind::greater_or_equal);
  EXPECT_EQ(greater.attribute, "uidNumber");
  EXPECT_EQ(greater.value, "1000");
  EXPECT_EQ(less.kind, Filter::Kind::less_or_equal);
  EXPECT_EQ(less.value, "2000");
  EXPECT_EQ(approx.kind, Filter::Kind::approx);
  EXPECT_EQ(approx.attribute, "cn");
  EXPECT_EQ(approx.value, "alice");
}

TEST(LdapFilterDecoding, PresentCarriesTheAttributeOnly) {
  const Filter filter = decoded_filter("(objectClass=*)");

  EXPECT_EQ(filter.kind, Filter::Kind::present);
  EXPECT_EQ(filter.attribute, "objectClass");
  EXPECT_EQ(filter.value, "");
}

TEST(LdapFilterDecoding, SubstringsWithInitialAnyAndFinal) {
  const Filter filter = decoded_filter("(cn=al*c*e*x)");

  EXPECT_EQ(filter.kind, Filter::Kind::substrings);
  EXPECT_EQ(filter.attribute, "cn");
  EXPECT_EQ(filter.initial, "al");
  EXPECT_EQ(filter.any, (std::vector<std::string>{"c", "e"}));
  EXPECT_EQ(filter.final, "x");
}

TEST(LdapFilterDecoding, SubstringsWithAnyOnly) {
  const Filter filter = decoded_filter("(mail=*example*)");

  EXPECT_EQ(filter.kind, Filter::Kind::substrings);
  EXPECT_EQ(filter.initial, std::nullopt);
  EXPECT_EQ(filter.any, (std::vector<std::string>{"example"}));
  EXPECT_EQ(filter.final, std::nullopt);
}

TEST(LdapFilterDecoding, ExtensibleMatchWithEveryPart) {
  const Filter filter = decoded_filter("(cn:dn:2.5.13.2:=Alice)");

  EXPECT_EQ(filter.kind, Filter::Kind::extensible);
  EXPECT_EQ(filter.attribute, "cn");
  EXPECT_EQ(filter.matching_rule, "2.5.13.2");
  EXPECT_EQ(filter.value, "Alice");
  EXPECT_TRUE(filter.dn_attributes);
}

TEST(LdapFilterDecoding, ExtensibleMatchWithRuleOnly) {
  const Filter filter = decoded_filter("(:caseExactMatch:=Alice)");

  EXPECT_EQ(filter.kind, Filter::Kind::extensible);
  EXPECT_EQ(filter.attribute, "");
  EXPECT_EQ(filter.matching_rule, "caseExactMatch");
  EXPECT_FALSE(filter.dn_attributes);
}

TEST(LdapFilterDecoding, ExtensibleMatchWithoutRuleOrTypeIsAnError) {
  const std::string pdu =
      search_with_filter([](BerBuilder& pdu) { pdu.print("t{to}", tag(0xa9), tag(0x83), "v", length(1)); });

  EXPECT_TRUE(std::holds_alternative<DecodeError>(decode_request(pdu)));
}

TEST(LdapFilterDecoding, EmptyAndIsAbsoluteTrue) {
  // RFC 4526: (&) and (|); the tree evaluates them.
  const std::string pdu = search_with_filter([](BerBuilder& pdu) { pdu.print("t{}", tag(0xa0)); });

  const Decoded decoded = decode_request(pdu);
  const Filter& filter = std::get<SearchRequest>(std::get<Request>(decoded).operation).filter;

  EXPECT_EQ(filter.kind, Filter::Kind::and_);
  EXPECT_TRUE(filter.children.empty());
}

std::string nested_nots(int depth) {
  std::string filter;
  for (int i = 1; i < depth; ++i) filter += "(!";
  filter += "(a=1)";
  filter += std::string(static_cast<std::size_t>(depth - 1), ')');
  return filter;
}

TEST(LdapFilterDecoding, SixtyFourLevelsAreAccepted) {
  const Filter filter = decoded_filter(nested_nots(64));

  EXPECT_EQ(filter.kind, Filter::Kind::not_);
}

TEST(LdapFilterDecoding, DeeperNestingIsAnError) {
  const Decoded decoded = decode_request(search_pdu(nested_nots(65)));

  ASSERT_TRUE(std::holds_alternative<DecodeError>(decoded));
  EXPECT_EQ(std::get<DecodeError>(decoded).message, "filter nested too deeply");
  EXPECT_EQ(std::get<DecodeError>(decoded).message_id, 1);
}

TEST(LdapFilterDecoding, VeryDeepNestingFailsWithoutExhaustingTheStack) {
  const std::string pdu = search_with_filter([](BerBuilder& pdu) {
    for (int i = 0; i < 100000; ++i) pdu.print("t{", tag(0xa2));
    pdu.print("to", tag(0x87), "a", length(1));
    for (int i = 0; i < 100000; ++i) pdu.print("}");
  });

  EXPECT_TRUE(std::holds_alternative<DecodeError>(decode_request(pdu)));
}

TEST(LdapFilterDecoding, TooManyItemsAreAnError) {
  std::string filter = "(|";
  for (int i = 0; i < 10001; ++i) filter += "(a=1)";
  filter += ")";

  const Decoded decoded = decode_request(search_pdu(filter));

  ASSERT_TRUE(std::holds_alternative<DecodeError>(decoded));
}

TEST(LdapFilterDecoding, SubstringsWithoutComponentsAreAnError) {
  const std::string pdu =
      search_with_filter([](BerBuilder& pdu) { pdu.print("t{o{}}", tag(0xa4), "cn", length(2)); });

  EXPECT_TRUE(std::holds_alternative<DecodeError>(decode_request(pdu)));
}

TEST(LdapFilterDecoding, InitialSubstringNotFirstIsAnError) {
  const std::string pdu = search_with_filter([](BerBuilder& pdu) {
    pdu.print("t{o{toto}}", tag(0xa4), "cn", length(2), tag(0x81), "a", length(1), tag(0x80), "b", length(1));
  });

  EXPECT_TRUE(std::holds_alternative<DecodeError>(decode_request(pdu)));
}

TEST(LdapFilterDecoding, SubstringAfterFinalIsAnError) {
  const std::string pdu = search_with_filter([](BerBuilder& pdu) {
    pdu.print("t{o{toto}}", tag(0xa4), "cn", length(2), tag(0x82), "a", length(1), tag(0x81), "b", length(1));
  });

  EXPECT_TRUE(std::holds_alternative<DecodeError>(decode_request(pdu)));
}

TEST(LdapFilterDecoding, UnknownFilterChoiceIsAnError) {
  const std::string pdu = search_with_filter([](BerBuilder& pdu) { pdu.print("to", tag(0x8a), "x", length(1)); });

  EXPECT_TRUE(std::holds_alternative<DecodeError>(decode_request(pdu)));
}

}  // namespace
}  // namespace dirproxy::ldap
