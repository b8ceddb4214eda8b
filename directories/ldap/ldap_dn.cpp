#include "directories/ldap/ldap_dn.hpp"

#include <algorithm>
#include <vector>

#include "core/names.hpp"
#include "directories/ldap/ldap_filter.hpp"
#include "directories/ldap/ldap_handles.hpp"

namespace dirproxy {
namespace {

std::string_view view(const struct berval& value) { return {value.bv_val, value.bv_len}; }

void lower_ascii(struct berval& value) {
  for (ber_len_t i = 0; i < value.bv_len; ++i) value.bv_val[i] = ascii_lower(value.bv_val[i]);
}

// The parsed form of `dn`; a null LdapDnPtr is the empty DN. nullopt when
// libldap rejects the DN (including a DN with an embedded NUL).
std::optional<LdapDnPtr> parse_dn(std::string_view dn) {
  // ldap_bv2dn takes the length, so `dn` need not be NUL-terminated; the copy
  // is because its prototype takes a non-const berval.
  std::string text(dn);
  struct berval input {
    text.size(), text.data()
  };
  LDAPDN parsed = nullptr;
  const int rc = ldap_bv2dn(&input, &parsed, LDAP_DN_FORMAT_LDAPV3);
  LdapDnPtr owned(parsed);
  if (rc != LDAP_SUCCESS) return std::nullopt;
  return owned;
}

// Each RDN of `dn` in canonical form (see normalize_dn), leftmost first.
// Lower-cases and reorders the parsed structure in place; it is ours.
std::optional<std::vector<std::string>> canonical_rdns(std::string_view dn) {
  auto parsed = parse_dn(dn);
  if (!parsed) return std::nullopt;
  std::vector<std::string> rdns;
  if (*parsed == nullptr) return rdns;
  for (LDAPRDN* rdn = parsed->get(); *rdn != nullptr; ++rdn) {
    std::size_t count = 0;
    for (LDAPAVA** ava = *rdn; *ava != nullptr; ++ava, ++count) {
      // libldap reads "uid=#" (a '#' and no hex) as an empty BER value, but
      // prints it as "uid=#", which it then refuses: not a DN to compare by.
      if (((*ava)->la_flags & LDAP_AVA_BINARY) != 0 && (*ava)->la_value.bv_len == 0) return std::nullopt;
      lower_ascii((*ava)->la_attr);
      // A #hex value is BER; its bytes are not text to fold.
      if (((*ava)->la_flags & LDAP_AVA_BINARY) == 0) lower_ascii((*ava)->la_value);
    }
    std::sort(*rdn, *rdn + count, [](const LDAPAVA* a, const LDAPAVA* b) {
      return std::pair(view(a->la_attr), view(a->la_value)) < std::pair(view(b->la_attr), view(b->la_value));
    });
    char* raw = nullptr;
    const int rc = ldap_rdn2str(*rdn, &raw, LDAP_DN_FORMAT_LDAPV3);
    LdapStringPtr printed(raw);
    if (rc != LDAP_SUCCESS || printed == nullptr) return std::nullopt;
    rdns.emplace_back(printed.get());
  }
  return rdns;
}

}  // namespace

Result<std::string> make_dn(std::string_view rdn_attribute, std::string_view rdn_value, std::string_view parent_dn) {
  if (!is_valid_attribute_name(rdn_attribute)) {
    return fail(ErrorCode::bad_request, "not an LDAP attribute name: " + std::string(rdn_attribute));
  }
  if (rdn_value.empty()) return fail(ErrorCode::bad_request, "an RDN value cannot be empty");

  // One AVA in one RDN in a one-RDN DN, all NULL-terminated arrays. libldap
  // only reads them; they live on this stack frame, so no ldap_dnfree.
  std::string attribute(rdn_attribute);
  std::string value(rdn_value);
  LDAPAVA ava{};
  ava.la_attr = {attribute.size(), attribute.data()};
  ava.la_value = {value.size(), value.data()};
  ava.la_flags = LDAP_AVA_STRING;
  LDAPAVA* rdn[] = {&ava, nullptr};
  LDAPRDN dn[] = {rdn, nullptr};

  char* raw = nullptr;
  const int rc = ldap_dn2str(dn, &raw, LDAP_DN_FORMAT_LDAPV3);
  LdapStringPtr printed(raw);
  if (rc == LDAP_ENCODING_ERROR) return fail(ErrorCode::bad_request, "an RDN value must be valid UTF-8");
  if (rc != LDAP_SUCCESS || printed == nullptr) {
    return fail(ErrorCode::internal_error, std::string("ldap_dn2str: ") + ldap_err2string(rc));
  }
  return join_dn(printed.get(), parent_dn);
}

std::optional<std::pair<std::string, std::string>> first_rdn(std::string_view dn) {
  const auto parsed = parse_dn(dn);
  if (!parsed || *parsed == nullptr) return std::nullopt;
  const LDAPRDN rdn = (*parsed).get()[0];
  if (rdn == nullptr || rdn[0] == nullptr || rdn[1] != nullptr) return std::nullopt;
  const LDAPAVA& ava = *rdn[0];
  if ((ava.la_flags & LDAP_AVA_BINARY) != 0) return std::nullopt;
  return std::pair(std::string(view(ava.la_attr)), std::string(view(ava.la_value)));
}

std::optional<std::vector<DnRdn>> split_dn(std::string_view dn) {
  const auto parsed = parse_dn(dn);
  if (!parsed) return std::nullopt;
  std::vector<DnRdn> rdns;
  if (*parsed == nullptr) return rdns;
  for (LDAPRDN* rdn = parsed->get(); *rdn != nullptr; ++rdn) {
    DnRdn& avas = rdns.emplace_back();
    for (LDAPAVA** ava = *rdn; *ava != nullptr; ++ava) {
      avas.push_back({std::string(view((*ava)->la_attr)), std::string(view((*ava)->la_value)),
                      ((*ava)->la_flags & LDAP_AVA_BINARY) != 0});
    }
  }
  return rdns;
}

std::optional<std::string> normalize_dn(std::string_view dn) {
  const auto rdns = canonical_rdns(dn);
  if (!rdns) return std::nullopt;
  std::string normalized;
  for (const auto& rdn : *rdns) {
    if (!normalized.empty()) normalized += ',';
    normalized += rdn;
  }
  return normalized;
}

bool dn_is_under(std::string_view dn, std::string_view base) {
  const auto entry = canonical_rdns(dn);
  const auto ancestor = canonical_rdns(base);
  if (!entry || !ancestor) return false;
  if (ancestor->size() > entry->size()) return false;
  return std::equal(ancestor->rbegin(), ancestor->rend(), entry->rbegin());
}

std::string join_dn(std::string_view relative, std::string_view base) {
  if (relative.empty()) return std::string(base);
  if (base.empty()) return std::string(relative);
  std::string joined;
  joined.reserve(relative.size() + 1 + base.size());
  joined += relative;
  joined += ',';
  joined += base;
  return joined;
}

}  // namespace dirproxy
