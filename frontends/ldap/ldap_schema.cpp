// The definitions are the standard ones: RFC 4512 (operational and
// subschema attributes), RFC 4519 (user schema), RFC 2798 (inetOrgPerson),
// RFC 2307bis (posixAccount, posixGroup), RFC 4530 (entryUUID), RFC 3045
// (vendorName/vendorVersion), RFC 4524 (mail) and OpenLDAP's memberof overlay
// (memberOf). Deviations, each so that clients see one consistent schema:
//   - posixGroup is AUXILIARY as in RFC 2307bis (RFC 2307 makes it
//     STRUCTURAL, which cannot share an entry with groupOfNames);
//   - memberUid compares with caseIgnoreIA5Match, because dirproxy's
//     usernames are the same name in any case (core/names.hpp);
//   - the object classes' MAY lists name only attributes defined here, so
//     every name a class uses resolves in this subschema.
#include "frontends/ldap/ldap_schema.hpp"

#include <array>
#include <string>

#include "core/names.hpp"
#include "frontends/ldap/ldap_tree.hpp"

namespace dirproxy::ldap {
namespace {

using enum Matching;

constexpr std::array kAttributeTypes = {
    // RFC 4512 / RFC 4519 basics.
    AttributeType{"objectClass", "", "2.5.4.0", object_identifier, none, none, false,
                  "( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )"},
    AttributeType{"name", "", "2.5.4.41", case_ignore, none, case_ignore, false,
                  "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )"},
    AttributeType{"distinguishedName", "", "2.5.4.49", distinguished_name, none, none, false,
                  "( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )"},
    AttributeType{"cn", "commonName", "2.5.4.3", case_ignore, none, case_ignore, false,
                  "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )"},
    AttributeType{"sn", "surname", "2.5.4.4", case_ignore, none, case_ignore, false,
                  "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )"},
    AttributeType{"givenName", "", "2.5.4.42", case_ignore, none, case_ignore, false,
                  "( 2.5.4.42 NAME 'givenName' SUP name )"},
    AttributeType{"o", "organizationName", "2.5.4.10", case_ignore, none, case_ignore, false,
                  "( 2.5.4.10 NAME ( 'o' 'organizationName' ) SUP name )"},
    AttributeType{"ou", "organizationalUnitName", "2.5.4.11", case_ignore, none, case_ignore, false,
                  "( 2.5.4.11 NAME ( 'ou' 'organizationalUnitName' ) SUP name )"},
    AttributeType{"description", "", "2.5.4.13", case_ignore, none, case_ignore, false,
                  "( 2.5.4.13 NAME 'description' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} )"},
    AttributeType{"member", "", "2.5.4.31", distinguished_name, none, none, false,
                  "( 2.5.4.31 NAME 'member' SUP distinguishedName )"},
    AttributeType{"dc", "domainComponent", "0.9.2342.19200300.100.1.25", case_ignore, none, case_ignore, false,
                  "( 0.9.2342.19200300.100.1.25 NAME ( 'dc' 'domainComponent' ) EQUALITY caseIgnoreIA5Match "
                  "SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )"},
    AttributeType{"uid", "userid", "0.9.2342.19200300.100.1.1", case_ignore, none, case_ignore, false,
                  "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) EQUALITY caseIgnoreMatch "
                  "SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} )"},
    AttributeType{"mail", "rfc822Mailbox", "0.9.2342.19200300.100.1.3", case_ignore, none, case_ignore, false,
                  "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) EQUALITY caseIgnoreIA5Match "
                  "SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )"},
    // RFC 2798.
    AttributeType{"displayName", "", "2.16.840.1.113730.3.1.241", case_ignore, none, case_ignore, false,
                  "( 2.16.840.1.113730.3.1.241 NAME 'displayName' "
                  "DESC 'RFC2798: preferred name to be used when displaying entries' EQUALITY caseIgnoreMatch "
                  "SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )"},
    // RFC 2307bis.
    AttributeType{"uidNumber", "", "1.3.6.1.1.1.1.0", integer, integer, none, false,
                  "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' "
                  "DESC 'An integer uniquely identifying a user in an administrative domain' EQUALITY integerMatch "
                  "ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )"},
    AttributeType{"gidNumber", "", "1.3.6.1.1.1.1.1", integer, integer, none, false,
                  "( 1.3.6.1.1.1.1.1 NAME 'gidNumber' "
                  "DESC 'An integer uniquely identifying a group in an administrative domain' EQUALITY integerMatch "
                  "ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )"},
    AttributeType{"gecos", "", "1.3.6.1.1.1.1.2", case_ignore, none, case_ignore, false,
                  "( 1.3.6.1.1.1.1.2 NAME 'gecos' DESC 'The GECOS field; the common name' "
                  "EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )"},
    AttributeType{"homeDirectory", "", "1.3.6.1.1.1.1.3", case_exact, none, none, false,
                  "( 1.3.6.1.1.1.1.3 NAME 'homeDirectory' DESC 'The absolute path to the home directory' "
                  "EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )"},
    AttributeType{"loginShell", "", "1.3.6.1.1.1.1.4", case_exact, none, none, false,
                  "( 1.3.6.1.1.1.1.4 NAME 'loginShell' DESC 'The path to the login shell' "
                  "EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )"},
    AttributeType{"memberUid", "", "1.3.6.1.1.1.1.12", case_ignore, none, case_ignore, false,
                  "( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseIgnoreIA5Match "
                  "SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )"},
    // Operational: RFC 4530, the memberof overlay, RFC 4512.
    AttributeType{"entryUUID", "", "1.3.6.1.1.16.4", uuid, uuid, none, true,
                  "( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY uuidMatch "
                  "ORDERING uuidOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION "
                  "USAGE directoryOperation )"},
    AttributeType{"memberOf", "", "1.2.840.113556.1.2.102", distinguished_name, none, none, true,
                  "( 1.2.840.113556.1.2.102 NAME 'memberOf' DESC 'Group that the entry belongs to' "
                  "SYNTAX '1.3.6.1.4.1.1466.115.121.1.12' EQUALITY distinguishedNameMatch USAGE dSAOperation "
                  "NO-USER-MODIFICATION X-ORIGIN 'iPlanet Delegated Administrator' )"},
    AttributeType{"createTimestamp", "", "2.5.18.1", generalized_time, generalized_time, none, true,
                  "( 2.5.18.1 NAME 'createTimestamp' EQUALITY generalizedTimeMatch "
                  "ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE "
                  "NO-USER-MODIFICATION USAGE directoryOperation )"},
    AttributeType{"modifyTimestamp", "", "2.5.18.2", generalized_time, generalized_time, none, true,
                  "( 2.5.18.2 NAME 'modifyTimestamp' EQUALITY generalizedTimeMatch "
                  "ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE "
                  "NO-USER-MODIFICATION USAGE directoryOperation )"},
    AttributeType{"subschemaSubentry", "", "2.5.18.10", distinguished_name, none, none, true,
                  "( 2.5.18.10 NAME 'subschemaSubentry' EQUALITY distinguishedNameMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE NO-USER-MODIFICATION "
                  "USAGE directoryOperation )"},
    AttributeType{"subtreeSpecification", "", "2.5.18.6", none, none, none, true,
                  "( 2.5.18.6 NAME 'subtreeSpecification' SYNTAX 1.3.6.1.4.1.1466.115.121.1.45 SINGLE-VALUE "
                  "USAGE directoryOperation )"},
    AttributeType{"attributeTypes", "", "2.5.21.5", none, none, none, true,
                  "( 2.5.21.5 NAME 'attributeTypes' EQUALITY objectIdentifierFirstComponentMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.3 USAGE directoryOperation )"},
    AttributeType{"objectClasses", "", "2.5.21.6", none, none, none, true,
                  "( 2.5.21.6 NAME 'objectClasses' EQUALITY objectIdentifierFirstComponentMatch "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.37 USAGE directoryOperation )"},
    // The root DSE (RFC 4512 §5.1, RFC 3045).
    AttributeType{"namingContexts", "", "1.3.6.1.4.1.1466.101.120.5", none, none, none, true,
                  "( 1.3.6.1.4.1.1466.101.120.5 NAME 'namingContexts' SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 "
                  "USAGE dSAOperation )"},
    AttributeType{"supportedExtension", "", "1.3.6.1.4.1.1466.101.120.7", none, none, none, true,
                  "( 1.3.6.1.4.1.1466.101.120.7 NAME 'supportedExtension' "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )"},
    AttributeType{"supportedControl", "", "1.3.6.1.4.1.1466.101.120.13", none, none, none, true,
                  "( 1.3.6.1.4.1.1466.101.120.13 NAME 'supportedControl' "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )"},
    AttributeType{"supportedLDAPVersion", "", "1.3.6.1.4.1.1466.101.120.15", none, none, none, true,
                  "( 1.3.6.1.4.1.1466.101.120.15 NAME 'supportedLDAPVersion' "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 USAGE dSAOperation )"},
    AttributeType{"vendorName", "", "1.3.6.1.1.4", case_exact, none, none, true,
                  "( 1.3.6.1.1.4 NAME 'vendorName' EQUALITY caseExactIA5Match "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE NO-USER-MODIFICATION USAGE dSAOperation )"},
    AttributeType{"vendorVersion", "", "1.3.6.1.1.5", case_exact, none, none, true,
                  "( 1.3.6.1.1.5 NAME 'vendorVersion' EQUALITY caseExactIA5Match "
                  "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE NO-USER-MODIFICATION USAGE dSAOperation )"},
};

struct ObjectClass {
  std::string_view name;
  std::string_view oid;
  std::string_view definition;  // RFC 4512 ObjectClassDescription
};

constexpr std::array kObjectClasses = {
    ObjectClass{"top", "2.5.6.0", "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )"},
    ObjectClass{"person", "2.5.6.6", "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY description )"},
    ObjectClass{"organizationalPerson", "2.5.6.7",
                "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ou )"},
    ObjectClass{"inetOrgPerson", "2.16.840.1.113730.3.2.2",
                "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL "
                "MAY ( displayName $ givenName $ mail $ o $ uid ) )"},
    ObjectClass{"posixAccount", "1.3.6.1.1.1.2.0",
                "( 1.3.6.1.1.1.2.0 NAME 'posixAccount' DESC 'Abstraction of an account with POSIX attributes' "
                "SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ gidNumber $ homeDirectory ) "
                "MAY ( loginShell $ gecos $ description ) )"},
    ObjectClass{"groupOfNames", "2.5.6.9",
                "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) "
                "MAY ( ou $ o $ description ) )"},
    ObjectClass{"posixGroup", "1.3.6.1.1.1.2.2",
                "( 1.3.6.1.1.1.2.2 NAME 'posixGroup' DESC 'Abstraction of a group of accounts' SUP top AUXILIARY "
                "MUST gidNumber MAY ( memberUid $ description ) )"},
    ObjectClass{"organization", "2.5.6.4", "( 2.5.6.4 NAME 'organization' SUP top STRUCTURAL MUST o MAY description )"},
    ObjectClass{"organizationalUnit", "2.5.6.5",
                "( 2.5.6.5 NAME 'organizationalUnit' SUP top STRUCTURAL MUST ou MAY description )"},
    ObjectClass{"dcObject", "1.3.6.1.4.1.1466.344",
                "( 1.3.6.1.4.1.1466.344 NAME 'dcObject' SUP top AUXILIARY MUST dc )"},
    ObjectClass{"applicationProcess", "2.5.6.11",
                "( 2.5.6.11 NAME 'applicationProcess' SUP top STRUCTURAL MUST cn MAY ( ou $ description ) )"},
    ObjectClass{"extensibleObject", "1.3.6.1.4.1.1466.101.120.111",
                "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )"},
    ObjectClass{"subentry", "2.5.17.0",
                "( 2.5.17.0 NAME 'subentry' SUP top STRUCTURAL MUST ( cn $ subtreeSpecification ) )"},
    ObjectClass{"subschema", "2.5.20.1",
                "( 2.5.20.1 NAME 'subschema' AUXILIARY MAY ( objectClasses $ attributeTypes ) )"},
};

}  // namespace

bool names_type(std::string_view name, const AttributeType& type) {
  return same_name(type.name, name) || (!type.alias.empty() && same_name(type.alias, name)) || type.oid == name;
}

const AttributeType* find_attribute_type(std::string_view name) {
  for (const auto& type : kAttributeTypes) {
    if (names_type(name, type)) return &type;
  }
  return nullptr;
}

bool same_attribute_type(std::string_view a, std::string_view b) {
  const AttributeType* type = find_attribute_type(a);
  if (type == nullptr) return same_name(a, b);
  return type == find_attribute_type(b);
}

std::string_view object_class_name(std::string_view name_or_oid) {
  for (const auto& object_class : kObjectClasses) {
    if (same_name(object_class.name, name_or_oid) || object_class.oid == name_or_oid) return object_class.name;
  }
  return name_or_oid;
}

bool attribute_is_operational(std::string_view attribute) {
  const AttributeType* type = find_attribute_type(attribute);
  return type != nullptr && type->operational;
}

Entry subschema_entry() {
  Attribute object_classes{"objectClasses", {}};
  for (const auto& object_class : kObjectClasses) object_classes.values.emplace_back(object_class.definition);
  Attribute attribute_types{"attributeTypes", {}};
  for (const auto& type : kAttributeTypes) attribute_types.values.emplace_back(type.definition);
  return Entry{
      .dn = "cn=Subschema",
      .attributes = {{"objectClass", {"top", "subentry", "subschema", "extensibleObject"}},
                     {"cn", {"Subschema"}},
                     std::move(object_classes),
                     std::move(attribute_types)},
  };
}

}  // namespace dirproxy::ldap
