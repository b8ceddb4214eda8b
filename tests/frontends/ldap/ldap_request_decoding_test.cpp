#include <ldap.h>

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "frontends/ldap/ldap_codec.hpp"
#include "frontends/ldap/ber_builder.hpp"
#include "frontends/ldap/ldap_client_pipe.hpp"

namespace dirproxy::ldap {
namespace {

using namespace test_support;

Request decoded_request(const std::string& pdu) {
  Decoded decoded = decode_request(pdu);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    ADD_FAILURE() << "decode error: " << error->message;
    return {};
  }
  return std::get<Request>(std::move(decoded));
}

DecodeError decode_error(const std::string& pdu) {
  Decoded decoded = decode_request(pdu);
  if (!std::holds_alternative<DecodeError>(decoded)) {
    ADD_FAILURE() << "decoded a request";
    return {};
  }
  return std::get<DecodeError>(std::move(decoded));
}

berval bytes_of(std::string& value) { return berval{value.size(), value.data()}; }

TEST(LdapRequestDecoding, SimpleBindCarriesVersionNameAndPassword) {
  LdapClientPipe client;
  std::string password = "s3cret";
  berval credentials = bytes_of(password);
  int id = 0;
  ldap_sasl_bind(client.ld(), "uid=alice,ou=people,dc=example,dc=com", LDAP_SASL_SIMPLE, &credentials, nullptr,
                 nullptr, &id);

  Request request = decoded_request(client.sent());

  EXPECT_EQ(request.message_id, id);
  const auto& bind = std::get<BindRequest>(request.operation);
  EXPECT_EQ(bind.version, 3);
  EXPECT_EQ(bind.name, "uid=alice,ou=people,dc=example,dc=com");
  EXPECT_TRUE(bind.simple);
  EXPECT_EQ(bind.password, "s3cret");
  EXPECT_TRUE(request.controls.empty());
}

TEST(LdapRequestDecoding, SaslBindCarriesItsMechanism) {
  LdapClientPipe client;
  std::string token = "token";
  berval credentials = bytes_of(token);
  int id = 0;
  ldap_sasl_bind(client.ld(), "", "GSSAPI", &credentials, nullptr, nullptr, &id);

  const auto bind = std::get<BindRequest>(decoded_request(client.sent()).operation);

  EXPECT_FALSE(bind.simple);
  EXPECT_EQ(bind.sasl_mechanism, "GSSAPI");
  EXPECT_EQ(bind.password, "");
}

TEST(LdapRequestDecoding, UnbindIsDecoded) {
  const std::string pdu = BerBuilder().print("{itn}", integer(4), tag(0x42)).bytes();

  Request request = decoded_request(pdu);

  EXPECT_EQ(request.message_id, 4);
  EXPECT_TRUE(std::holds_alternative<UnbindRequest>(request.operation));
}

TEST(LdapRequestDecoding, SearchCarriesEveryField) {
  LdapClientPipe client;
  char cn[] = "cn";
  char plus[] = "+";
  char* attributes[] = {cn, plus, nullptr};
  timeval time_limit{7, 0};
  int id = 0;
  ldap_search_ext(client.ld(), "ou=people,dc=example,dc=com", LDAP_SCOPE_ONELEVEL, "(uid=alice)", attributes,
                  /*attrsonly=*/1, nullptr, nullptr, &time_limit, /*sizelimit=*/50, &id);

  Request request = decoded_request(client.sent());

  EXPECT_EQ(request.message_id, id);
  const auto& search = std::get<SearchRequest>(request.operation);
  EXPECT_EQ(search.base, "ou=people,dc=example,dc=com");
  EXPECT_EQ(search.scope, SearchRequest::Scope::one);
  EXPECT_EQ(search.deref_aliases, 0);
  EXPECT_EQ(search.size_limit, 50);
  EXPECT_EQ(search.time_limit, 7);
  EXPECT_TRUE(search.types_only);
  EXPECT_EQ(search.filter.kind, Filter::Kind::equality);
  EXPECT_EQ(search.filter.attribute, "uid");
  EXPECT_EQ(search.filter.value, "alice");
  EXPECT_EQ(search.attributes, (std::vector<std::string>{"cn", "+"}));
}

TEST(LdapRequestDecoding, ModifyCarriesEachChange) {
  LdapClientPipe client;
  char mail_value[] = "alice@example.com";
  char* mail_values[] = {mail_value, nullptr};
  char member_a[] = "uid=a";
  char member_b[] = "uid=b";
  char* member_values[] = {member_a, member_b, nullptr};
  char mail[] = "mail";
  char member[] = "member";
  char description[] = "description";
  LDAPMod replace{LDAP_MOD_REPLACE, mail, {mail_values}};
  LDAPMod add{LDAP_MOD_ADD, member, {member_values}};
  LDAPMod remove{LDAP_MOD_DELETE, description, {nullptr}};
  LDAPMod* changes[] = {&replace, &add, &remove, nullptr};
  int id = 0;
  ldap_modify_ext(client.ld(), "cn=staff,ou=groups,dc=example,dc=com", changes, nullptr, nullptr, &id);

  const auto modify = std::get<ModifyRequest>(decoded_request(client.sent()).operation);

  EXPECT_EQ(modify.object, "cn=staff,ou=groups,dc=example,dc=com");
  ASSERT_EQ(modify.changes.size(), 3u);
  EXPECT_EQ(modify.changes[0].operation, ModifyRequest::Change::Operation::replace);
  EXPECT_EQ(modify.changes[0].modification.type, "mail");
  EXPECT_EQ(modify.changes[0].modification.values, (std::vector<std::string>{"alice@example.com"}));
  EXPECT_EQ(modify.changes[1].operation, ModifyRequest::Change::Operation::add);
  EXPECT_EQ(modify.changes[1].modification.values, (std::vector<std::string>{"uid=a", "uid=b"}));
  EXPECT_EQ(modify.changes[2].operation, ModifyRequest::Change::Operation::delete_);
  EXPECT_EQ(modify.changes[2].modification.type, "description");
  EXPECT_TRUE(modify.changes[2].modification.values.empty());
}

TEST(LdapRequestDecoding, AddCarriesTheEntryAndItsAttributes) {
  LdapClientPipe client;
  char top[] = "top";
  char person[] = "person";
  char* classes[] = {top, person, nullptr};
  char alice[] = "Alice";
  char* names[] = {alice, nullptr};
  char object_class[] = "objectClass";
  char cn[] = "cn";
  LDAPMod first{LDAP_MOD_ADD, object_class, {classes}};
  LDAPMod second{LDAP_MOD_ADD, cn, {names}};
  LDAPMod* attributes[] = {&first, &second, nullptr};
  int id = 0;
  ldap_add_ext(client.ld(), "uid=alice,ou=people,dc=example,dc=com", attributes, nullptr, nullptr, &id);

  const auto add = std::get<AddRequest>(decoded_request(client.sent()).operation);

  EXPECT_EQ(add.entry, "uid=alice,ou=people,dc=example,dc=com");
  ASSERT_EQ(add.attributes.size(), 2u);
  EXPECT_EQ(add.attributes[0].type, "objectClass");
  EXPECT_EQ(add.attributes[0].values, (std::vector<std::string>{"top", "person"}));
  EXPECT_EQ(add.attributes[1].type, "cn");
  EXPECT_EQ(add.attributes[1].values, (std::vector<std::string>{"Alice"}));
}

TEST(LdapRequestDecoding, DeleteCarriesTheEntry) {
  LdapClientPipe client;
  int id = 0;
  ldap_delete_ext(client.ld(), "uid=bob,ou=people,dc=example,dc=com", nullptr, nullptr, &id);

  const auto remove = std::get<DeleteRequest>(decoded_request(client.sent()).operation);

  EXPECT_EQ(remove.entry, "uid=bob,ou=people,dc=example,dc=com");
}

TEST(LdapRequestDecoding, ModifyDnCarriesNewSuperiorWhenSent) {
  LdapClientPipe client;
  int id = 0;
  ldap_rename(client.ld(), "uid=a,ou=people,dc=x", "uid=b", "ou=old,dc=x", /*deleteoldrdn=*/1, nullptr, nullptr,
              &id);
  ldap_rename(client.ld(), "uid=c,ou=people,dc=x", "uid=d", nullptr, /*deleteoldrdn=*/0, nullptr, nullptr, &id);
  const std::string both = client.sent();
  // Each request is one PDU; a PduReader splits them.
  PduReader reader(1 << 20);
  reader.feed(both);

  const auto first = std::get<ModifyDnRequest>(std::get<Request>(*reader.next()).operation);
  const auto second = std::get<ModifyDnRequest>(std::get<Request>(*reader.next()).operation);

  EXPECT_EQ(first.entry, "uid=a,ou=people,dc=x");
  EXPECT_EQ(first.new_rdn, "uid=b");
  EXPECT_TRUE(first.delete_old_rdn);
  EXPECT_EQ(first.new_superior, "ou=old,dc=x");
  EXPECT_EQ(second.entry, "uid=c,ou=people,dc=x");
  EXPECT_FALSE(second.delete_old_rdn);
  EXPECT_EQ(second.new_superior, std::nullopt);
}

TEST(LdapRequestDecoding, CompareCarriesTheAssertion) {
  LdapClientPipe client;
  std::string value = "alice";
  berval assertion = bytes_of(value);
  int id = 0;
  ldap_compare_ext(client.ld(), "cn=staff,ou=groups,dc=x", "memberUid", &assertion, nullptr, nullptr, &id);

  const auto compare = std::get<CompareRequest>(decoded_request(client.sent()).operation);

  EXPECT_EQ(compare.entry, "cn=staff,ou=groups,dc=x");
  EXPECT_EQ(compare.attribute, "memberUid");
  EXPECT_EQ(compare.value, "alice");
}

TEST(LdapRequestDecoding, AbandonCarriesTheMessageIdToAbandon) {
  const std::string pdu = BerBuilder().print("{iti}", integer(9), tag(0x50), integer(5)).bytes();

  Request request = decoded_request(pdu);

  EXPECT_EQ(request.message_id, 9);
  EXPECT_EQ(std::get<AbandonRequest>(request.operation).message_id, 5);
}

TEST(LdapRequestDecoding, ExtendedRequestWithoutValue) {
  LdapClientPipe client;
  int id = 0;
  ldap_extended_operation(client.ld(), oid::who_am_i, nullptr, nullptr, nullptr, &id);

  const auto extended = std::get<ExtendedRequest>(decoded_request(client.sent()).operation);

  EXPECT_EQ(extended.name, oid::who_am_i);
  EXPECT_EQ(extended.value, std::nullopt);
}

TEST(LdapRequestDecoding, PasswordModifyValueFromLibldapDecodes) {
  LdapClientPipe client;
  std::string user = "uid=alice,ou=people,dc=x";
  std::string old_password = "old";
  std::string new_password = "new";
  berval user_value = bytes_of(user);
  berval old_value = bytes_of(old_password);
  berval new_value = bytes_of(new_password);
  int id = 0;
  ldap_passwd(client.ld(), &user_value, &old_value, &new_value, nullptr, nullptr, &id);

  const auto extended = std::get<ExtendedRequest>(decoded_request(client.sent()).operation);
  ASSERT_EQ(extended.name, oid::password_modify);
  ASSERT_TRUE(extended.value);
  const auto change = decode_password_modify(*extended.value);

  ASSERT_TRUE(change);
  EXPECT_EQ(change->user_identity, "uid=alice,ou=people,dc=x");
  EXPECT_EQ(change->old_password, "old");
  EXPECT_EQ(change->new_password, "new");
}

TEST(LdapRequestDecoding, PasswordModifyFieldsLeftOutAreAbsent) {
  const std::string value = BerBuilder().print("{to}", tag(0x82), "fresh", length(5)).bytes();

  const auto change = decode_password_modify(value);

  ASSERT_TRUE(change);
  EXPECT_EQ(change->user_identity, std::nullopt);
  EXPECT_EQ(change->old_password, std::nullopt);
  EXPECT_EQ(change->new_password, "fresh");
}

TEST(LdapRequestDecoding, MalformedPasswordModifyValueIsNullopt) {
  const std::string out_of_order = BerBuilder().print("{toto}", tag(0x82), "n", length(1), tag(0x80), "u", length(1)).bytes();

  EXPECT_EQ(decode_password_modify(""), std::nullopt);
  EXPECT_EQ(decode_password_modify("\x30\x05\x80\x03" "ab"), std::nullopt);
  EXPECT_EQ(decode_password_modify(out_of_order), std::nullopt);
}

TEST(LdapRequestDecoding, ControlsAreDecodedWithCriticalityAndValue) {
  LdapClientPipe client;
  std::string cookie = "cookie";
  berval cookie_value = bytes_of(cookie);
  LDAPControl* paged = nullptr;
  ASSERT_EQ(ldap_create_page_control(client.ld(), 10, &cookie_value, /*iscritical=*/1, &paged), LDAP_SUCCESS);
  char unknown_oid[] = "1.2.3.4.5";
  LDAPControl unknown{unknown_oid, {0, nullptr}, /*ldctl_iscritical=*/1};
  LDAPControl* controls[] = {paged, &unknown, nullptr};
  int id = 0;
  ldap_search_ext(client.ld(), "dc=x", LDAP_SCOPE_SUBTREE, "(objectClass=*)", nullptr, 0, controls, nullptr, nullptr,
                  0, &id);
  ldap_control_free(paged);

  Request request = decoded_request(client.sent());

  ASSERT_EQ(request.controls.size(), 2u);
  EXPECT_EQ(request.controls[0].type, oid::paged_results);
  EXPECT_TRUE(request.controls[0].critical);
  ASSERT_TRUE(request.controls[0].value);
  const auto page = decode_paged_results(*request.controls[0].value);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->size, 10);
  EXPECT_EQ(page->cookie, "cookie");
  // A critical control the codec does not know passes: the server decides.
  EXPECT_EQ(request.controls[1].type, "1.2.3.4.5");
  EXPECT_TRUE(request.controls[1].critical);
  EXPECT_FALSE(request.controls[1].value);
}

TEST(LdapRequestDecoding, ControlWithoutCriticalityIsNotCritical) {
  const std::string pdu = BerBuilder()
                              .print("{itn", integer(2), tag(0x42))
                              .print("t{{oo}}}", tag(0xa0), "1.2.3", length(5), "v", length(1))
                              .bytes();

  Request request = decoded_request(pdu);

  ASSERT_EQ(request.controls.size(), 1u);
  EXPECT_FALSE(request.controls[0].critical);
  EXPECT_EQ(request.controls[0].value, "v");
}

TEST(LdapRequestDecoding, MessageIdZeroIsAnError) {
  const std::string pdu = BerBuilder().print("{itn}", integer(0), tag(0x42)).bytes();

  const DecodeError error = decode_error(pdu);

  EXPECT_EQ(error.code, ResultCode::protocol_error);
  EXPECT_EQ(error.message_id, 0);
}

TEST(LdapRequestDecoding, NegativeMessageIdIsAnError) {
  const std::string pdu = BerBuilder().print("{itn}", integer(-3), tag(0x42)).bytes();

  const DecodeError error = decode_error(pdu);

  EXPECT_EQ(error.code, ResultCode::protocol_error);
  EXPECT_EQ(error.message_id, 0);
}

TEST(LdapRequestDecoding, UnknownOperationCarriesTheMessageId) {
  // A bindResponse [APPLICATION 1], which no client sends.
  const std::string pdu = BerBuilder().print("{it{eoo}}", integer(7), tag(0x61), integer(0), "", length(0), "", length(0)).bytes();

  const DecodeError error = decode_error(pdu);

  EXPECT_EQ(error.code, ResultCode::protocol_error);
  EXPECT_EQ(error.message, "unknown operation");
  EXPECT_EQ(error.message_id, 7);
}

TEST(LdapRequestDecoding, UnknownAuthenticationChoiceIsAnError) {
  const std::string pdu =
      BerBuilder().print("{it{iot}}", integer(1), tag(0x60), integer(3), "", length(0), tag(0x81), "x", length(1)).bytes();

  EXPECT_EQ(decode_error(pdu).message_id, 1);
}

TEST(LdapRequestDecoding, UnknownModifyOperationIsAnError) {
  const std::string pdu = BerBuilder()
                              .print("{it{o{{e{o[o]}}}}}", integer(1), tag(0x66), "dc=x", length(4), integer(3),
                                     "cn", length(2), "v", length(1))
                              .bytes();

  EXPECT_EQ(decode_error(pdu).code, ResultCode::protocol_error);
}

TEST(LdapRequestDecoding, BytesAfterTheMessageAreAnError) {
  const std::string pdu = BerBuilder().print("{itn}", integer(4), tag(0x42)).bytes() + std::string("\x05\x00", 2);

  EXPECT_EQ(decode_error(pdu).code, ResultCode::protocol_error);
}

TEST(LdapRequestDecoding, ElementAfterTheControlsIsAnError) {
  const std::string pdu = BerBuilder().print("{itnn}", integer(4), tag(0x42)).bytes();

  EXPECT_EQ(decode_error(pdu).message_id, 4);
}

TEST(LdapRequestDecoding, TruncatedPduIsAnError) {
  LdapClientPipe client;
  int id = 0;
  ldap_delete_ext(client.ld(), "uid=bob,dc=x", nullptr, nullptr, &id);
  std::string pdu = client.sent();
  pdu.pop_back();

  EXPECT_EQ(decode_error(pdu).code, ResultCode::protocol_error);
}

TEST(LdapRequestDecoding, ElementRunningPastItsParentIsAnError) {
  // compareRequest { entry, ava SEQUENCE } whose ava claims one byte more
  // than the compareRequest holds; the LDAPMessage around both is longer.
  const std::string pdu("\x30\x12\x02\x01\x01\x6e\x09\x04\x01x\x30\x05\x04\x01\x61\x04\x01\x62\x04\x00", 20);

  EXPECT_EQ(decode_error(pdu).message_id, 1);
}

TEST(LdapRequestDecoding, MoreThanTenThousandAttributesAreAnError) {
  LdapClientPipe client;
  std::vector<std::string> names(10001, "a");
  std::vector<char*> attributes;
  for (std::string& name : names) attributes.push_back(name.data());
  attributes.push_back(nullptr);
  int id = 0;
  ldap_search_ext(client.ld(), "dc=x", LDAP_SCOPE_SUBTREE, "(a=*)", attributes.data(), 0, nullptr, nullptr, nullptr,
                  0, &id);

  const DecodeError error = decode_error(client.sent());

  EXPECT_EQ(error.message, "too many elements in attribute selection");
  EXPECT_EQ(error.message_id, id);
}

TEST(LdapRequestDecoding, TenThousandValuesAreAccepted) {
  LdapClientPipe client;
  std::vector<std::string> members(10000, "uid=m");
  std::vector<char*> values;
  for (std::string& member : members) values.push_back(member.data());
  values.push_back(nullptr);
  char member[] = "member";
  LDAPMod attribute{LDAP_MOD_ADD, member, {values.data()}};
  LDAPMod* attributes[] = {&attribute, nullptr};
  int id = 0;
  ldap_add_ext(client.ld(), "cn=g,dc=x", attributes, nullptr, nullptr, &id);

  const auto add = std::get<AddRequest>(decoded_request(client.sent()).operation);

  ASSERT_EQ(add.attributes.size(), 1u);
  EXPECT_EQ(add.attributes[0].values.size(), 10000u);
}

}  // namespace
}  // namespace dirproxy::ldap
