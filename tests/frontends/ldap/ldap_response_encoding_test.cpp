#include <ldap.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "frontends/ldap/ber_builder.hpp"
#include "frontends/ldap/ldap_client_pipe.hpp"
#include "frontends/ldap/ldap_codec.hpp"

namespace dirproxy::ldap {
namespace {

using namespace test_support;

struct BerFree {
  void operator()(BerElement* ber) const { ber_free(ber, 1); }
};
// A reading BerElement over a copy of `bytes`.
std::unique_ptr<BerElement, BerFree> reader_of(std::string& bytes) {
  berval contents{bytes.size(), bytes.data()};
  return std::unique_ptr<BerElement, BerFree>(ber_init(&contents));
}
std::string text(const berval& value) { return std::string(value.bv_val, value.bv_len); }

struct ResponseCase {
  ResponseType type;
  ber_tag_t tag;
  const char* name;
};

void PrintTo(const ResponseCase& response, std::ostream* out) { *out << response.name; }

class LdapResultEncoding : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(LdapResultEncoding, CarriesItsTagAndTheResult) {
  std::string bytes = encode_result(5, GetParam().type, LdapResult{ResultCode::no_such_object, "dc=x", "gone"});
  auto ber = reader_of(bytes);
  ber_int_t id = 0;
  ber_tag_t operation = 0;
  ber_int_t code = 0;
  berval matched{};
  berval diagnostic{};

  ASSERT_NE(ber_scanf(ber.get(), "{it{emm}", &id, &operation, &code, &matched, &diagnostic), LBER_ERROR);
  ber_len_t rest = 0;
  EXPECT_EQ(id, 5);
  EXPECT_EQ(operation, GetParam().tag);
  EXPECT_EQ(code, 32);
  EXPECT_EQ(text(matched), "dc=x");
  EXPECT_EQ(text(diagnostic), "gone");
  EXPECT_EQ(ber_peek_tag(ber.get(), &rest), LBER_DEFAULT);  // no controls, nothing else
}

INSTANTIATE_TEST_SUITE_P(EveryResponseType, LdapResultEncoding,
                         ::testing::Values(ResponseCase{ResponseType::bind, 0x61, "bind"},
                                           ResponseCase{ResponseType::search_done, 0x65, "search_done"},
                                           ResponseCase{ResponseType::modify, 0x67, "modify"},
                                           ResponseCase{ResponseType::add, 0x69, "add"},
                                           ResponseCase{ResponseType::delete_, 0x6b, "delete"},
                                           ResponseCase{ResponseType::modify_dn, 0x6d, "modify_dn"},
                                           ResponseCase{ResponseType::compare, 0x6f, "compare"}),
                         [](const ::testing::TestParamInfo<ResponseCase>& info) { return info.param.name; });

TEST(LdapResponseEncoding, BindResultIsReadByLibldap) {
  LdapClientPipe client;
  std::string password = "wrong";
  berval credentials{password.size(), password.data()};
  int id = 0;
  ldap_sasl_bind(client.ld(), "uid=alice,dc=x", LDAP_SASL_SIMPLE, &credentials, nullptr, nullptr, &id);
  client.sent();

  auto result = client.answer(
      encode_result(id, ResponseType::bind, LdapResult{ResultCode::invalid_credentials, "", "invalid credentials"}),
      id);

  ASSERT_TRUE(result);
  EXPECT_EQ(ldap_msgtype(result.get()), LDAP_RES_BIND);
  int code = 0;
  char* diagnostic = nullptr;
  ASSERT_EQ(ldap_parse_result(client.ld(), result.get(), &code, nullptr, &diagnostic, nullptr, nullptr, 0),
            LDAP_SUCCESS);
  EXPECT_EQ(code, LDAP_INVALID_CREDENTIALS);
  EXPECT_STREQ(diagnostic, "invalid credentials");
  ldap_memfree(diagnostic);
}

TEST(LdapResponseEncoding, SearchEntriesAndDoneWithPagedControlAreReadByLibldap) {
  LdapClientPipe client;
  int id = 0;
  ldap_search_ext(client.ld(), "dc=x", LDAP_SCOPE_SUBTREE, "(uid=alice)", nullptr, 0, nullptr, nullptr, nullptr, 0,
                  &id);
  client.sent();
  const std::vector<Attribute> attributes{{"cn", {"Alice", "Alice Liddell"}}, {"uid", {"alice"}}};
  const Control paged{oid::paged_results, false, encode_paged_results(PagedResults{42, "next-page"})};

  auto result = client.answer(encode_search_entry(id, "uid=alice,ou=people,dc=x", attributes, false) +
                                  encode_result(id, ResponseType::search_done, LdapResult{}, {paged}),
                              id);

  ASSERT_TRUE(result);
  ASSERT_EQ(ldap_count_entries(client.ld(), result.get()), 1);
  LDAPMessage* entry = ldap_first_entry(client.ld(), result.get());
  char* dn = ldap_get_dn(client.ld(), entry);
  EXPECT_STREQ(dn, "uid=alice,ou=people,dc=x");
  ldap_memfree(dn);
  berval** names = ldap_get_values_len(client.ld(), entry, "cn");
  ASSERT_EQ(ldap_count_values_len(names), 2);
  EXPECT_EQ(text(*names[0]), "Alice");
  EXPECT_EQ(text(*names[1]), "Alice Liddell");
  ldap_value_free_len(names);

  int code = -1;
  LDAPControl** controls = nullptr;
  ASSERT_EQ(ldap_parse_result(client.ld(), result.get(), &code, nullptr, nullptr, nullptr, &controls, 0),
            LDAP_SUCCESS);
  EXPECT_EQ(code, LDAP_SUCCESS);
  LDAPControl* control = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr);
  ASSERT_NE(control, nullptr);
  EXPECT_FALSE(control->ldctl_iscritical);
  ber_int_t estimate = 0;
  berval cookie{};
  ASSERT_EQ(ldap_parse_pageresponse_control(client.ld(), control, &estimate, &cookie), LDAP_SUCCESS);
  EXPECT_EQ(estimate, 42);
  EXPECT_EQ(text(cookie), "next-page");
  ber_memfree(cookie.bv_val);
  ldap_controls_free(controls);
}

TEST(LdapResponseEncoding, TypesOnlyEntryHasEmptyValueSets) {
  std::string bytes = encode_search_entry(3, "cn=g,dc=x", {{"member", {"uid=a", "uid=b"}}}, /*types_only=*/true);
  auto ber = reader_of(bytes);
  ber_int_t id = 0;
  ber_tag_t operation = 0;
  berval dn{};
  berval type{};
  ber_len_t values_length = 99;

  ASSERT_NE(ber_scanf(ber.get(), "{it{m{{ml", &id, &operation, &dn, &type, &values_length), LBER_ERROR);
  EXPECT_EQ(operation, 0x64u);
  EXPECT_EQ(text(dn), "cn=g,dc=x");
  EXPECT_EQ(text(type), "member");
  EXPECT_EQ(values_length, 0u);
}

TEST(LdapResponseEncoding, ExtendedResponseIsReadByLibldap) {
  LdapClientPipe client;
  int id = 0;
  ldap_extended_operation(client.ld(), oid::who_am_i, nullptr, nullptr, nullptr, &id);
  client.sent();

  auto result = client.answer(
      encode_extended_response(id, LdapResult{}, std::string(oid::who_am_i), std::string("dn:uid=alice,dc=x")), id);

  ASSERT_TRUE(result);
  char* name = nullptr;
  berval* value = nullptr;
  ASSERT_EQ(ldap_parse_extended_result(client.ld(), result.get(), &name, &value, 0), LDAP_SUCCESS);
  EXPECT_STREQ(name, oid::who_am_i);
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(text(*value), "dn:uid=alice,dc=x");
  ldap_memfree(name);
  ber_bvfree(value);
}

TEST(LdapResponseEncoding, PasswordModifyResponseIsReadByLibldap) {
  LdapClientPipe client;
  std::string new_password = "n";
  berval new_value{new_password.size(), new_password.data()};
  int id = 0;
  ldap_passwd(client.ld(), nullptr, nullptr, &new_value, nullptr, nullptr, &id);
  client.sent();

  auto result = client.answer(
      encode_extended_response(id, LdapResult{}, std::nullopt, encode_password_modify_response("generated")), id);

  ASSERT_TRUE(result);
  berval generated{};
  ASSERT_EQ(ldap_parse_passwd(client.ld(), result.get(), &generated), LDAP_SUCCESS);
  EXPECT_EQ(text(generated), "generated");
  ber_memfree(generated.bv_val);
}

TEST(LdapResponseEncoding, NoticeOfDisconnectionHasMessageIdZeroAndTheOid) {
  std::string bytes = encode_notice_of_disconnection(ResultCode::protocol_error, "malformed PDU");
  auto ber = reader_of(bytes);
  ber_int_t id = -1;
  ber_tag_t operation = 0;
  ber_int_t code = 0;
  berval matched{};
  berval diagnostic{};
  ber_tag_t name_tag = 0;
  berval name{};

  ASSERT_NE(ber_scanf(ber.get(), "{it{emmtm}}", &id, &operation, &code, &matched, &diagnostic, &name_tag, &name),
            LBER_ERROR);
  EXPECT_EQ(id, 0);
  EXPECT_EQ(operation, 0x78u);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(text(matched), "");
  EXPECT_EQ(text(diagnostic), "malformed PDU");
  EXPECT_EQ(name_tag, 0x8au);
  EXPECT_EQ(text(name), oid::notice_of_disconnection);
}

TEST(LdapResponseEncoding, PagedResultsValueRoundTrips) {
  const auto decoded = decode_paged_results(encode_paged_results(PagedResults{0, std::string("\0\x01", 2)}));

  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->size, 0);
  EXPECT_EQ(decoded->cookie, std::string("\0\x01", 2));
}

TEST(LdapResponseEncoding, PagedResultsValueFromLibldapDecodes) {
  LdapClientPipe client;
  berval empty_cookie{0, nullptr};
  berval value{};
  ASSERT_EQ(ldap_create_page_control_value(client.ld(), 500, &empty_cookie, &value), LDAP_SUCCESS);
  const std::string bytes(value.bv_val, value.bv_len);
  ber_memfree(value.bv_val);

  const auto decoded = decode_paged_results(bytes);

  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->size, 500);
  EXPECT_EQ(decoded->cookie, "");
}

TEST(LdapResponseEncoding, MalformedPagedResultsValueIsNullopt) {
  const std::string negative = BerBuilder().print("{io}", integer(-1), "", length(0)).bytes();
  const std::string trailing = encode_paged_results(PagedResults{1, "c"}) + std::string("\x04\x00", 2);
  const std::string without_cookie = BerBuilder().print("{i}", integer(1)).bytes();

  EXPECT_EQ(decode_paged_results(""), std::nullopt);
  EXPECT_EQ(decode_paged_results(negative), std::nullopt);
  EXPECT_EQ(decode_paged_results(trailing), std::nullopt);
  EXPECT_EQ(decode_paged_results(without_cookie), std::nullopt);
}

}  // namespace
}  // namespace dirproxy::ldap
