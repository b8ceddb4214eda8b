#include "config/ldap_dn_syntax.hpp"

#include <ldap.h>

#include <memory>
#include <string>

namespace dirproxy::config {

bool is_ldap_dn(std::string_view dn) {
  // ldap_bv2dn takes the length, so an embedded NUL cannot cut the DN short;
  // the copy is because its prototype takes a non-const berval.
  std::string text(dn);
  struct berval input {
    text.size(), text.data()
  };
  LDAPDN parsed = nullptr;
  const int rc = ldap_bv2dn(&input, &parsed, LDAP_DN_FORMAT_LDAPV3);
  const std::unique_ptr<LDAPRDN, void (*)(LDAPDN)> owned(parsed, ldap_dnfree);
  if (rc != LDAP_SUCCESS) return false;
  if (parsed == nullptr) return true;  // the empty DN
  for (LDAPRDN* rdn = parsed; *rdn != nullptr; ++rdn) {
    for (LDAPAVA** ava = *rdn; *ava != nullptr; ++ava) {
      if (((*ava)->la_flags & LDAP_AVA_BINARY) != 0 && (*ava)->la_value.bv_len == 0) return false;
    }
  }
  return true;
}

}  // namespace dirproxy::config
