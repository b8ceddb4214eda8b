// Distinguished names (RFC 4514) for the LDAP directory, all through libldap's
// DN parser and printer (ldap_bv2dn, ldap_dn2str): DNs of new entries are
// built with every special character escaped (uid "frank, jr" becomes
// "uid=frank\2C jr"), member DNs are mapped back to their RDN values, and DNs
// are compared in a canonical form so that "UID=Frank , ou=People" and
// "uid=frank,ou=people" are the same entry.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace dirproxy {

// "rdn_attribute=<escaped rdn_value>,parent_dn" (just the RDN when parent_dn
// is empty). libldap escapes the value in its LDAPv3 form: `,+="\<>;` and a
// leading '#' or space or trailing space as \XX, and non-ASCII bytes as \XX,
// which parses back to the same value. Fails with bad_request when
// rdn_attribute is not an attribute name, rdn_value is empty, or rdn_value is
// not valid UTF-8 (libldap refuses it); internal_error if libldap fails
// otherwise. parent_dn comes from the configuration and is used as it is.
Result<std::string> make_dn(std::string_view rdn_attribute, std::string_view rdn_value, std::string_view parent_dn);

// The attribute type (as written) and the unescaped value of the first RDN of
// `dn`: "uid=frank\2C jr,ou=people" -> {"uid", "frank, jr"}. nullopt when the
// DN does not parse, is empty, its first RDN is multi-valued ("cn=a+uid=b"),
// or the value is given in BER form ("uid=#0403..."), which no directory
// attribute we map uses.
std::optional<std::pair<std::string, std::string>> first_rdn(std::string_view dn);

// One attribute-value pair of an RDN: the attribute type as written and the
// value unescaped; `ber` when the value was given in BER form ("uid=#0403..."),
// whose bytes `value` then holds as they are (the encoding, not text).
struct DnAva {
  std::string type;
  std::string value;
  bool ber = false;

  bool operator==(const DnAva&) const = default;
};
using DnRdn = std::vector<DnAva>;

// The RDNs of `dn`, leftmost first, each with its pairs in the order written:
// "uid=frank\2C jr+cn=F,ou=people" -> {{uid "frank, jr", cn "F"}, {ou "people"}}.
// Empty for the empty (root) DN; nullopt when the DN does not parse. For
// code that needs the structure (how deep a DN is, what its leaf RDN says);
// comparisons go through normalize_dn() and dn_is_under().
std::optional<std::vector<DnRdn>> split_dn(std::string_view dn);

// A canonical form of `dn` for comparisons: parsed and printed again by
// libldap in LDAPv3 form (so whitespace around separators is gone and escapes
// are uniform), attribute types and values ASCII-lower-cased, and the
// attribute-value pairs of a multi-valued RDN sorted. Lower-casing values is
// right for what we compare: uid, cn, ou, dc and sAMAccountName all have
// case-insensitive equality matching in the standard schemas and in AD. It is
// not a full RFC 4518 string preparation (inner spaces are kept, "uid" and
// its OID are different types). nullopt when the DN does not parse; "" for
// the empty (root) DN.
std::optional<std::string> normalize_dn(std::string_view dn);

// True when `dn` is `base` or lies below it, compared RDN by RDN in the
// normalize_dn() form: "uid=a,dc=example,dc=com" is under "DC=Example, dc=com",
// "dc=evilexample,dc=com" is not under "dc=example,dc=com". Every DN is under
// the empty base. False when either DN does not parse.
bool dn_is_under(std::string_view dn, std::string_view base);

// "relative,base"; an empty `relative` gives `base` and an empty `base` gives
// `relative`. For joining configured DN fragments (users.base and base_dn),
// which are already in DN syntax; values are never joined this way.
std::string join_dn(std::string_view relative, std::string_view base);

}  // namespace dirproxy
