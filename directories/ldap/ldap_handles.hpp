// RAII owners for everything libldap and liblber hand out, so that no code
// path that returns early can leak a connection, a message or a string. Wrap a
// C out-parameter in its owner on the line after the call:
//
//   char* raw = nullptr;
//   const int rc = ldap_dn2str(dn, &raw, LDAP_DN_FORMAT_LDAPV3);
//   LdapStringPtr text(raw);
//
// A std::unique_ptr never calls its deleter on nullptr, so the deleters need
// no null checks of their own.
#pragma once

#include <lber.h>
#include <ldap.h>

#include <memory>

namespace dirproxy {

namespace ldap_deleter {

struct Unbind {
  // Unbinding also closes the socket and frees the handle; its result is of
  // no use to anyone at this point.
  void operator()(LDAP* ld) const noexcept { ldap_unbind_ext_s(ld, /*sctrls=*/nullptr, /*cctrls=*/nullptr); }
};

struct MessageFree {
  // Frees one message (or a chain received with LDAP_MSG_ALL).
  void operator()(LDAPMessage* message) const noexcept { ldap_msgfree(message); }
};

struct BerFree {
  // freebuf 0: the BerElement from ldap_first_attribute() shares its buffer
  // with the LDAPMessage, which frees it.
  void operator()(BerElement* ber) const noexcept { ber_free(ber, /*freebuf=*/0); }
};

struct MemFree {
  void operator()(char* text) const noexcept { ldap_memfree(text); }
};

struct ValueFreeLen {
  void operator()(struct berval** values) const noexcept { ldap_value_free_len(values); }
};

struct ControlFree {
  void operator()(LDAPControl* control) const noexcept { ldap_control_free(control); }
};

struct ControlsFree {
  void operator()(LDAPControl** controls) const noexcept { ldap_controls_free(controls); }
};

struct BerValFree {
  void operator()(struct berval* value) const noexcept { ber_bvfree(value); }
};

struct DnFree {
  void operator()(LDAPDN dn) const noexcept { ldap_dnfree(dn); }
};

}  // namespace ldap_deleter

// A connection (ldap_initialize); destroying it unbinds.
using LdapHandle = std::unique_ptr<LDAP, ldap_deleter::Unbind>;
// A result from ldap_result() or a ldap_*_s() search.
using LdapMessagePtr = std::unique_ptr<LDAPMessage, ldap_deleter::MessageFree>;
// The attribute iterator of ldap_first_attribute()/ldap_next_attribute().
using BerElementPtr = std::unique_ptr<BerElement, ldap_deleter::BerFree>;
// A string libldap allocated: ldap_get_dn(), ldap_first_attribute(),
// ldap_dn2str(), the bv_val of ldap_bv2escaped_filter_value(), ...
using LdapStringPtr = std::unique_ptr<char, ldap_deleter::MemFree>;
// The NULL-terminated array from ldap_get_values_len().
using BerValuesPtr = std::unique_ptr<struct berval*, ldap_deleter::ValueFreeLen>;
// One control, e.g. from ldap_create_page_control().
using LdapControlPtr = std::unique_ptr<LDAPControl, ldap_deleter::ControlFree>;
// A NULL-terminated control array, e.g. from ldap_parse_result().
using LdapControlsPtr = std::unique_ptr<LDAPControl*, ldap_deleter::ControlsFree>;
// A berval libldap allocated, e.g. the retdata of ldap_parse_extended_result().
using BerValPtr = std::unique_ptr<struct berval, ldap_deleter::BerValFree>;
// A parsed DN from ldap_str2dn()/ldap_bv2dn(). LDAPDN is LDAPRDN*, so this owns
// the pointer the parser returned.
using LdapDnPtr = std::unique_ptr<LDAPRDN, ldap_deleter::DnFree>;

}  // namespace dirproxy
