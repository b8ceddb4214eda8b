// The tree and the entries the tree's tests share: BASE dc=example,dc=com,
// alice (in group "admins") and the group "admins".
#pragma once

#include <ostream>

#include "frontends/ldap/ldap_tree.hpp"

namespace dirproxy::ldap {

// For readable failures: "undefined", not "1-byte object <02>".
inline void PrintTo(FilterResult result, std::ostream* out) {
  *out << (result == FilterResult::true_ ? "true" : result == FilterResult::false_ ? "false" : "undefined");
}

}  // namespace dirproxy::ldap

namespace dirproxy::ldap::testing {

inline TreeSettings example_tree() {
  TreeSettings tree;
  tree.base_dn = "dc=example,dc=com";
  tree.vendor_version = "1.2.3";
  return tree;
}

inline UserEntry alice_entry() {
  UserEntry entry;
  entry.user.username = "alice";
  entry.user.email = "alice@example.com";
  entry.user.display_name = "Alice Liddell";
  entry.user.first_name = "Alice";
  entry.user.last_name = "Liddell";
  entry.user.directory = "internal";
  entry.identity = {"0f8fad5b-d9cb-469f-a165-70867728950e", 10001};
  entry.gid_number = 10001;
  entry.groups = {"admins"};
  entry.created_at = 1704067200;   // 2024-01-01T00:00:00Z
  entry.modified_at = 1717243200;  // 2024-06-01T12:00:00Z
  return entry;
}

inline GroupEntry admins_entry() {
  GroupEntry entry;
  entry.group.name = "admins";
  entry.group.description = "The administrators";
  entry.group.directory = "internal";
  entry.group.members = {"alice", "bob"};
  entry.identity = {"7c9e6679-7425-40de-944b-e07fc1f90ae7", 20001};
  return entry;
}

}  // namespace dirproxy::ldap::testing
