// Whether a DN written in the configuration is one the LDAP code can use:
// libldap's own LDAPv3 parser decides (RFC 4514), the same parser
// directories/ldap/ldap_dn.hpp compares DNs with, so that a DN accepted here
// is never refused later by the LDAP front end.
#pragma once

#include <string_view>

namespace dirproxy::config {

// True when libldap parses `dn` as an LDAPv3 DN (the empty DN included) and
// no attribute value is an empty BER value ("uid=#"), which libldap reads but
// cannot print back.
bool is_ldap_dn(std::string_view dn);

}  // namespace dirproxy::config
