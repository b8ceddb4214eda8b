// The schema of the virtual tree: every attribute type and object class its
// entries carry, each with its RFC 4512 definition (what cn=Subschema
// publishes) and the matching rules that filter evaluation applies. One
// table, so that what the tree serves, what it publishes and how it compares
// cannot drift apart. Internal to the tree (ldap_tree.hpp is the interface).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace dirproxy::ldap {

// How the values of an attribute compare (the rules of RFC 4517 and RFC 4530
// that the tree's attributes use).
enum class Matching : std::uint8_t {
  none,                // no such rule: the assertion is Undefined
  case_ignore,         // caseIgnoreMatch, caseIgnoreIA5Match (ASCII folding, insignificant spaces)
  case_exact,          // caseExactMatch, caseExactIA5Match
  integer,             // integerMatch / integerOrderingMatch
  distinguished_name,  // distinguishedNameMatch
  uuid,                // uuidMatch / uuidOrderingMatch
  generalized_time,    // generalizedTimeMatch / generalizedTimeOrderingMatch
  object_identifier,   // objectIdentifierMatch (object class names or OIDs)
};

struct AttributeType {
  std::string_view name;   // the name the tree serves it under
  std::string_view alias;  // a second NAME, or empty
  std::string_view oid;
  Matching equality = Matching::none;
  Matching ordering = Matching::none;
  Matching substrings = Matching::none;  // only case_ignore and case_exact have a substrings rule
  bool operational = false;
  std::string_view definition;  // RFC 4512 AttributeTypeDescription
};

// The attribute type named `name` (either NAME or the OID, case-insensitively);
// nullptr when the tree does not know it.
const AttributeType* find_attribute_type(std::string_view name);

// Whether `name` is one of `type`'s names or its OID (names case-insensitively).
bool names_type(std::string_view name, const AttributeType& type);

// Whether `a` and `b` name the same attribute type (by either NAME or OID);
// for types the tree does not know, whether they are the same text ignoring
// ASCII case.
bool same_attribute_type(std::string_view a, std::string_view b);

// The NAME of the object class `name_or_oid` names (case-insensitively, or by
// its OID); `name_or_oid` as it is for a class the tree does not know.
std::string_view object_class_name(std::string_view name_or_oid);

// What every entry of one kind may look like: the object classes it has and
// every attribute type it may carry. user_entry() and group_entry() build
// from these, and the pinned keys rely on them: an item on anything else can
// never be True for that kind of entry.
struct EntryShape {
  std::span<const std::string_view> object_classes;
  std::span<const std::string_view> attributes;
};

inline constexpr std::array<std::string_view, 5> kUserObjectClasses = {"top", "person", "organizationalPerson",
                                                                       "inetOrgPerson", "posixAccount"};
inline constexpr std::array<std::string_view, 17> kUserAttributes = {"objectClass",
                                                                     "uid",
                                                                     "cn",
                                                                     "displayName",
                                                                     "givenName",
                                                                     "sn",
                                                                     "mail",
                                                                     "uidNumber",
                                                                     "gidNumber",
                                                                     "homeDirectory",
                                                                     "loginShell",
                                                                     "gecos",
                                                                     "entryUUID",
                                                                     "memberOf",
                                                                     "createTimestamp",
                                                                     "modifyTimestamp",
                                                                     "subschemaSubentry"};
inline constexpr EntryShape kUserShape{kUserObjectClasses, kUserAttributes};

inline constexpr std::array<std::string_view, 3> kGroupObjectClasses = {"top", "groupOfNames", "posixGroup"};
inline constexpr std::array<std::string_view, 8> kGroupAttributes = {
    "objectClass", "cn", "description", "member", "memberUid", "gidNumber", "entryUUID", "subschemaSubentry"};
inline constexpr EntryShape kGroupShape{kGroupObjectClasses, kGroupAttributes};

}  // namespace dirproxy::ldap
