// Filter evaluation: RFC 4511's three-valued logic and each attribute's
// matching rule, on the entries the tree serves.
#include <gtest/gtest.h>

#include "frontends/ldap/ldap_tree.hpp"
#include "frontends/ldap/tree/filter_text.hpp"
#include "frontends/ldap/tree/tree_fixtures.hpp"

namespace dirproxy::ldap {
namespace {

using testing::admins_entry;
using testing::alice_entry;
using testing::example_tree;
using testing::filter_text;

constexpr auto kTrue = FilterResult::true_;
constexpr auto kFalse = FilterResult::false_;
constexpr auto kUndefined = FilterResult::undefined;

FilterResult on_alice(std::string_view filter) {
  return evaluate(filter_text(filter), user_entry(example_tree(), alice_entry()));
}

FilterResult on_admins(std::string_view filter) {
  return evaluate(filter_text(filter), group_entry(example_tree(), admins_entry()));
}

TEST(FilterEval, CaseIgnoreForNamesAndMail) {
  EXPECT_EQ(on_alice("(uid=ALICE)"), kTrue);
  EXPECT_EQ(on_alice("(UID=alice)"), kTrue);
  EXPECT_EQ(on_alice("(mail=Alice@Example.COM)"), kTrue);
  EXPECT_EQ(on_alice("(cn=alice  liddell)"), kTrue);  // insignificant spaces
  EXPECT_EQ(on_alice("(cn= Alice Liddell )"), kTrue);
  EXPECT_EQ(on_alice("(uid=bob)"), kFalse);
  EXPECT_EQ(on_alice("(objectClass=INETORGPERSON)"), kTrue);
  EXPECT_EQ(on_alice("(objectClass=2.16.840.1.113730.3.2.2)"), kTrue);  // by OID
  EXPECT_EQ(on_alice("(objectClass=posixGroup)"), kFalse);
}

TEST(FilterEval, AliasesAndOidsNameTheSameAttribute) {
  EXPECT_EQ(on_alice("(commonName=Alice Liddell)"), kTrue);
  EXPECT_EQ(on_alice("(surname=liddell)"), kTrue);
  EXPECT_EQ(on_alice("(0.9.2342.19200300.100.1.1=alice)"), kTrue);
}

TEST(FilterEval, CaseExactForPaths) {
  EXPECT_EQ(on_alice("(homeDirectory=/home/alice)"), kTrue);
  EXPECT_EQ(on_alice("(homeDirectory=/HOME/alice)"), kFalse);
}

TEST(FilterEval, IntegersCompareAsNumbers) {
  EXPECT_EQ(on_alice("(uidNumber=10001)"), kTrue);
  EXPECT_EQ(on_alice("(uidNumber=010001)"), kTrue);
  EXPECT_EQ(on_alice("(uidNumber=10002)"), kFalse);
  EXPECT_EQ(on_alice("(uidNumber>=9999)"), kTrue);  // a string comparison would say "9999" > "10001"
  EXPECT_EQ(on_alice("(uidNumber<=9999)"), kFalse);
  EXPECT_EQ(on_alice("(uidNumber>=-5)"), kTrue);
  EXPECT_EQ(on_alice("(uidNumber<=10001)"), kTrue);
  EXPECT_EQ(on_alice("(gidNumber>=100000000000000000000)"), kFalse);
}

TEST(FilterEval, NonNumericIntegerAssertionIsUndefined) {
  EXPECT_EQ(on_alice("(uidNumber=abc)"), kUndefined);
  EXPECT_EQ(on_alice("(uidNumber>=1x)"), kUndefined);
  EXPECT_EQ(on_alice("(uidNumber=)"), kUndefined);
}

TEST(FilterEval, DnsCompareAsDns) {
  EXPECT_EQ(on_alice("(memberOf=CN=Admins, OU=Groups, DC=Example, DC=Com)"), kTrue);
  EXPECT_EQ(on_alice("(memberOf=cn=\\5c61dmins,ou=groups,dc=example,dc=com)"), kTrue);  // DN escape \61 is 'a'
  EXPECT_EQ(on_alice("(memberOf=cn=other,ou=groups,dc=example,dc=com)"), kFalse);
  EXPECT_EQ(on_alice("(memberOf=not a dn)"), kUndefined);
  EXPECT_EQ(on_admins("(member=UID=alice,ou=people,dc=example,dc=com)"), kTrue);
  EXPECT_EQ(on_admins("(member=uid=carol,ou=people,dc=example,dc=com)"), kFalse);
}

TEST(FilterEval, EscapedDnAssertionMatchesTheBuiltDn) {
  UserEntry odd = alice_entry();
  odd.user.username = "a,b";
  const Entry entry = user_entry(example_tree(), odd);
  GroupEntry group = admins_entry();
  group.group.members = {"a,b"};
  EXPECT_EQ(
      evaluate(filter_text("(member=uid=a\\5C,b,ou=people,dc=example,dc=com)"), group_entry(example_tree(), group)),
      kTrue);
  EXPECT_EQ(evaluate(filter_text("(uid=a,b)"), entry), kTrue);
}

TEST(FilterEval, UuidsIgnoreCaseAndMustBeUuids) {
  EXPECT_EQ(on_alice("(entryUUID=0F8FAD5B-D9CB-469F-A165-70867728950E)"), kTrue);
  EXPECT_EQ(on_alice("(entryUUID=7c9e6679-7425-40de-944b-e07fc1f90ae7)"), kFalse);
  EXPECT_EQ(on_alice("(entryUUID=0f8fad5b)"), kUndefined);
}

TEST(FilterEval, GeneralizedTimesCompareAsTimes) {
  EXPECT_EQ(on_alice("(createTimestamp=20240101000000Z)"), kTrue);
  EXPECT_EQ(on_alice("(createTimestamp=20240101000000.0Z)"), kTrue);
  EXPECT_EQ(on_alice("(createTimestamp=202401010100+0100)"), kTrue);  // same instant, other zone, no seconds
  EXPECT_EQ(on_alice("(createTimestamp>=20231231235959.5Z)"), kTrue);
  EXPECT_EQ(on_alice("(createTimestamp>=20240101000000,5Z)"), kFalse);
  EXPECT_EQ(on_alice("(createTimestamp<=2024010100Z)"), kTrue);
  EXPECT_EQ(on_alice("(modifyTimestamp<=20240601115959Z)"), kFalse);
}

TEST(FilterEval, InvalidGeneralizedTimesAreUndefined) {
  EXPECT_EQ(on_alice("(createTimestamp>=yesterday)"), kUndefined);
  EXPECT_EQ(on_alice("(createTimestamp>=20241301000000Z)"), kUndefined);  // month 13
  EXPECT_EQ(on_alice("(createTimestamp>=20240101000000)"), kUndefined);   // no zone
}

TEST(FilterEval, KeycloaksChangedSinceFilter) {
  const auto filter = "(|(createTimestamp>=20240301000000Z)(modifyTimestamp>=20240301000000Z))";
  EXPECT_EQ(on_alice(filter), kTrue);  // modified in June
  UserEntry unchanged = alice_entry();
  unchanged.modified_at = 1704067200;
  EXPECT_EQ(evaluate(filter_text(filter), user_entry(example_tree(), unchanged)), kFalse);
  UserEntry unknown = alice_entry();
  unknown.created_at.reset();
  unknown.modified_at.reset();
  EXPECT_EQ(evaluate(filter_text(filter), user_entry(example_tree(), unknown)), kFalse);
}

TEST(FilterEval, OrderingWithoutAnOrderingRuleIsUndefined) {
  EXPECT_EQ(on_alice("(uid>=a)"), kUndefined);
  EXPECT_EQ(on_alice("(memberOf<=cn=x)"), kUndefined);
}

TEST(FilterEval, SubstringsIgnoreCase) {
  EXPECT_EQ(on_alice("(cn=ali*)"), kTrue);
  EXPECT_EQ(on_alice("(cn=*LIDDELL)"), kTrue);
  EXPECT_EQ(on_alice("(cn=*ce*dd*)"), kTrue);
  EXPECT_EQ(on_alice("(cn=a*e*l*l)"), kTrue);
  EXPECT_EQ(on_alice("(cn=*dd*ce*)"), kFalse);  // "any" parts in order
  EXPECT_EQ(on_alice("(mail=*@example.com)"), kTrue);
  EXPECT_EQ(on_alice("(uid=alice*e)"), kFalse);  // initial and final may not overlap
  EXPECT_EQ(on_alice("(uid=al*ce)"), kTrue);
}

TEST(FilterEval, SubstringsWithoutASubstringsRuleAreUndefined) {
  EXPECT_EQ(on_alice("(uidNumber=10*)"), kUndefined);
  EXPECT_EQ(on_alice("(memberOf=cn=admins*)"), kUndefined);
}

TEST(FilterEval, ApproxIsEquality) {
  EXPECT_EQ(on_alice("(uid~=ALICE)"), kTrue);
  EXPECT_EQ(on_alice("(uid~=alicia)"), kFalse);
}

TEST(FilterEval, PresentIsTrueWhenTheAttributeExists) {
  EXPECT_EQ(on_alice("(uid=*)"), kTrue);
  EXPECT_EQ(on_alice("(memberOf=*)"), kTrue);
  EXPECT_EQ(on_alice("(objectClass=*)"), kTrue);
  EXPECT_EQ(on_alice("(OBJECTCLASS=*)"), kTrue);
  EXPECT_EQ(on_alice("(member=*)"), kFalse);
  EXPECT_EQ(on_alice("(nosuchattribute=*)"), kFalse);
  EXPECT_EQ(evaluate(filter_text("(objectClass=*)"), Entry{"dc=x", {}}), kTrue);
}

TEST(FilterEval, AssertionOnAnAttributeTheEntryLacksIsFalse) {
  EXPECT_EQ(on_alice("(memberUid=alice)"), kFalse);
  EXPECT_EQ(on_alice("(!(description=x))"), kTrue);
}

TEST(FilterEval, UnknownAttributeTypeIsUndefined) {
  EXPECT_EQ(on_alice("(nosuchattribute=x)"), kUndefined);
  EXPECT_EQ(on_alice("(nosuchattribute>=x)"), kUndefined);
  EXPECT_EQ(on_alice("(nosuchattribute=x*)"), kUndefined);
}

TEST(FilterEval, ThreeValuedLogicThroughAndOrNot) {
  EXPECT_EQ(on_alice("(!(uidNumber=abc))"), kUndefined);
  EXPECT_EQ(on_alice("(!(!(uidNumber=abc)))"), kUndefined);
  EXPECT_EQ(on_alice("(&(uid=alice)(uidNumber=abc))"), kUndefined);
  EXPECT_EQ(on_alice("(&(uid=bob)(uidNumber=abc))"), kFalse);
  EXPECT_EQ(on_alice("(|(uid=alice)(uidNumber=abc))"), kTrue);
  EXPECT_EQ(on_alice("(|(uid=bob)(uidNumber=abc))"), kUndefined);
  EXPECT_EQ(on_alice("(!(&(uid=bob)(uidNumber=abc)))"), kTrue);
  EXPECT_EQ(on_alice("(!(|(uid=bob)(uidNumber=abc)))"), kUndefined);
  EXPECT_EQ(on_alice("(&)"), kTrue);
  EXPECT_EQ(on_alice("(|)"), kFalse);
}

TEST(FilterEval, GrafanasUidOrMail) {
  EXPECT_EQ(on_alice("(|(uid=alice)(mail=alice))"), kTrue);
  EXPECT_EQ(on_alice("(|(uid=alice@example.com)(mail=alice@example.com))"), kTrue);
  EXPECT_EQ(on_alice("(|(uid=bob)(mail=bob))"), kFalse);
}

TEST(FilterEval, SssdUserFilter) {
  EXPECT_EQ(on_alice("(&(uid=alice)(objectclass=posixAccount)(uid=*)(&(uidNumber=*)(!(uidNumber=0))))"), kTrue);
  EXPECT_EQ(on_admins("(&(uid=alice)(objectclass=posixAccount)(uid=*)(&(uidNumber=*)(!(uidNumber=0))))"), kFalse);
}

TEST(FilterEval, NslcdGroupFilter) {
  EXPECT_EQ(on_admins("(&(objectClass=posixGroup)(memberUid=ALICE))"), kTrue);
  EXPECT_EQ(on_admins("(&(objectClass=posixGroup)(gidNumber=20001))"), kTrue);
  EXPECT_EQ(on_alice("(&(objectClass=posixGroup)(memberUid=alice))"), kFalse);
}

TEST(FilterEval, ExtensibleMatchWithARuleWeImplement) {
  EXPECT_EQ(on_alice("(uid:caseExactMatch:=alice)"), kTrue);
  EXPECT_EQ(on_alice("(uid:caseExactMatch:=Alice)"), kFalse);
  EXPECT_EQ(on_alice("(uid:2.5.13.5:=Alice)"), kFalse);
  EXPECT_EQ(on_alice("(uid:caseIgnoreMatch:=ALICE)"), kTrue);
  EXPECT_EQ(on_alice("(uid:2.5.13.2:=ALICE)"), kTrue);
  EXPECT_EQ(on_alice("(uidNumber:integerMatch:=010001)"), kTrue);
  EXPECT_EQ(on_alice("(uidNumber:2.5.13.14:=10002)"), kFalse);
  EXPECT_EQ(on_alice("(uid:=alice)"), kTrue);  // no rule: the type's equality
}

TEST(FilterEval, ExtensibleMatchWithoutAType) {
  EXPECT_EQ(on_alice("(:caseIgnoreMatch:=LIDDELL)"), kTrue);  // sn
  EXPECT_EQ(on_alice("(:integerMatch:=10001)"), kTrue);
  EXPECT_EQ(on_alice("(:integerMatch:=4)"), kFalse);
}

TEST(FilterEval, ExtensibleMatchOnDnAttributes) {
  EXPECT_EQ(on_alice("(ou:dn:=people)"), kTrue);
  EXPECT_EQ(on_alice("(ou:=people)"), kFalse);
  EXPECT_EQ(on_alice("(:dn:caseIgnoreMatch:=EXAMPLE)"), kTrue);
  EXPECT_EQ(on_admins("(ou:dn:=people)"), kFalse);
}

TEST(FilterEval, ExtensibleMatchWithARuleWeLackIsUndefined) {
  EXPECT_EQ(on_alice("(memberOf:1.2.840.113556.1.4.1941:=cn=admins,ou=groups,dc=example,dc=com)"), kUndefined);
  EXPECT_EQ(on_alice("(uid:integerMatch:=1)"), kUndefined);  // a rule that does not fit the type
  EXPECT_EQ(on_alice("(uidNumber:integerMatch:=x)"), kUndefined);
  EXPECT_EQ(on_alice("(nosuch:caseIgnoreMatch:=x)"), kUndefined);
}

}  // namespace
}  // namespace dirproxy::ldap
