// The virtual tree the LDAP front end serves (docs/ldap-server.md): where a
// DN points, the entries made from the chain's users and groups, the root
// DSE and cn=Subschema, filter evaluation with each attribute's matching
// rule, attribute selection, and which lookups a filter pins. Pure logic:
// no I/O, no BER.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/ldap/ldap_message.hpp"
#include "service/entry_requests.hpp"

namespace dirproxy::ldap {

// An application's tree of its own (applications[].ldap.base_dn): the same
// containers and entries as the main tree, under its base, holding only the
// users the application admits (docs/ldap-server.md).
struct ApplicationTree {
  std::string application;  // its name
  std::string base_dn;      // as configured; compared as a DN
};

struct TreeSettings {
  std::string base_dn;  // as configured; compared as a DN
  // The applications' trees beside the main one (in the main tree's
  // settings only: a view of one has none, see application_view).
  std::vector<ApplicationTree> application_trees;
  // In the view of an application's tree: that application; empty in the
  // main tree.
  std::string application;
  std::string home_directory = "/home/{username}";
  std::string login_shell = "/bin/bash";
  bool start_tls = false;  // the root DSE lists StartTLS
  std::string vendor_version;
};

// An entry: its DN as served and its attributes. Operational attributes
// (memberOf, entryUUID, createTimestamp, modifyTimestamp, subschemaSubentry,
// ...) are among `attributes`; attribute_is_operational tells them apart.
struct Entry {
  std::string dn;
  std::vector<Attribute> attributes;
};

bool attribute_is_operational(std::string_view attribute);

// Where a DN points in the tree.
struct DnTarget {
  enum class Kind : std::uint8_t {
    invalid,     // not a DN (invalidDNSyntax)
    root_dse,    // ""
    subschema,   // cn=Subschema
    base,        // BASE
    people,      // ou=people,BASE
    groups,      // ou=groups,BASE
    services,    // ou=services,BASE
    user,        // uid=NAME,ou=people,BASE (name holds NAME, unescaped)
    group,       // cn=NAME,ou=groups,BASE
    service,     // cn=NAME,ou=services,BASE
    below_leaf,  // under a user, group or service entry, or another name under a container: no such object
    outside,     // not under BASE or any application's base at all
  };
  Kind kind = Kind::invalid;
  std::string name;
  // The application whose tree holds the DN (applications[].ldap.base_dn);
  // empty for the main tree (and for the root DSE, cn=Subschema, invalid
  // and outside DNs).
  std::string application = {};
};
// The main tree's settings classify DNs under every base; an application's
// view (application_view) only those under its own.
DnTarget classify_dn(const TreeSettings& tree, std::string_view dn);

// The settings of `application`'s tree: `tree` with the application's base
// as BASE, so that the DNs it makes and reads are under that base. `tree`
// itself for an empty name or one without a tree of its own.
TreeSettings application_view(const TreeSettings& tree, std::string_view application);

// The DNs the tree serves, RFC 4514-escaped (by libldap, as the LDAP
// directory escapes: `,+"\<>;=`, a leading '#' or space, a trailing space
// and every non-ASCII byte as \XX). "" for a name no DN can hold (empty, or
// not UTF-8): such an entry is not served, and a member with it is left out.
std::string user_dn(const TreeSettings& tree, std::string_view username);
std::string group_dn(const TreeSettings& tree, std::string_view name);
std::string service_dn(const TreeSettings& tree, std::string_view name);
// The DN of a container (base, people, groups, services; BASE as configured
// for any other kind). Added for the server, which answers with it.
std::string container_dn(const TreeSettings& tree, DnTarget::Kind container);

// An entry whose name no DN can hold has dn "" (see user_dn): skip it.
Entry user_entry(const TreeSettings& tree, const UserEntry& user);
Entry group_entry(const TreeSettings& tree, const GroupEntry& group);
Entry service_entry(const TreeSettings& tree, std::string_view name);
Entry container_entry(const TreeSettings& tree, DnTarget::Kind container);  // base, people, groups, services
Entry root_dse(const TreeSettings& tree);
Entry subschema_entry();

// RFC 4511 §4.5.1.7: a filter is True, False or Undefined for an entry.
// Undefined: an unknown attribute type, no matching rule for the item
// (ordering on uid, substrings on uidNumber), an assertion value the rule
// cannot read (uidNumber=abc, a GeneralizedTime without a zone), or an
// extensible match naming a rule we do not implement. An assertion on an
// attribute the entry lacks is False, as in X.511 §7.8.2 and OpenLDAP, so
// that (!(memberOf=...)) finds the users in no group.
enum class FilterResult : std::uint8_t { true_, false_, undefined };
FilterResult evaluate(const Filter& filter, const Entry& entry);

// The attributes of `entry` a search returns for its attribute list
// (RFC 4511 §4.5.1.8: none/"*" the user attributes, "+" the operational
// ones, "1.1" none, names case-insensitively), values dropped for typesOnly
// by the encoder, not here. The root DSE's attributes are operational, but
// clients read it asking for nothing or "*" and expect namingContexts: for
// the root DSE, nothing, "*" and "+" each give all of them. Taken by value:
// a search moves its entry in, and the attributes are moved out.
std::vector<Attribute> select_attributes(Entry entry, const std::vector<std::string>& requested);

// The lookups that find every entry a filter can match, when it pins them:
// an entry matches only if it has one of these keys. nullopt: the filter
// does not pin entries of that kind, so they are enumerated. Keys with no
// values: no entry of that kind can match (memberOf=<a DN that is not one of
// our groups>, objectClass=posixGroup for users), so none is looked up.
// Names and emails are the assertion values as sent (without the leading
// and trailing spaces caseIgnoreMatch ignores); the lookups ignore case.
struct UserKeys {
  std::vector<std::string> usernames;
  std::vector<std::string> emails;
  std::vector<std::uint32_t> uid_numbers;
  std::vector<std::string> uuids;
  std::vector<std::string> member_of;  // group names (from memberOf=<group DN>)
};
std::optional<UserKeys> user_keys(const TreeSettings& tree, const Filter& filter);

struct GroupKeys {
  std::vector<std::string> names;
  std::vector<std::uint32_t> gid_numbers;
  std::vector<std::string> uuids;
  std::vector<std::string> members;  // usernames (from member=<user DN> or memberUid=NAME)
};
std::optional<GroupKeys> group_keys(const TreeSettings& tree, const Filter& filter);

}  // namespace dirproxy::ldap
