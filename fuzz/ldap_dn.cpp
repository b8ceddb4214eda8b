// Fuzz target ldap_dn: distinguished names (directories/ldap/ldap_dn.hpp),
// built from values that clients choose (a new user's uid, a group's cn)
// and read back from what LDAP servers return (member DNs), all through
// libldap's DN parser and printer.
//
// Input: "ATTRIBUTE\0VALUE\0PARENT_DN\0DN" (fuzz_input.hpp's fields).
//
// Properties checked besides "no crash": a DN that make_dn builds under a
// parent that parses reads back as the attribute and value it was made of
// and lies under its parent (no value can add an RDN or change the entry's
// place); normalize_dn is idempotent, and a DN that parses is under itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "directories/ldap/ldap_dn.hpp"
#include "directories/ldap/ldap_filter.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

using dirproxy::fuzz::require;

void check_made(std::string_view attribute, std::string_view value, std::string_view parent) {
  const auto dn = dirproxy::make_dn(attribute, value, parent);
  if (!dn) return;
  require(dirproxy::is_valid_attribute_name(attribute), "make_dn takes only attribute names");
  if (!dirproxy::normalize_dn(parent)) return;  // the parent comes from the configuration
  const auto rdn = dirproxy::first_rdn(*dn);
  require(rdn.has_value() && rdn->first == attribute && rdn->second == value,
          "a made DN reads back as its attribute and value", *dn);
  require(dirproxy::dn_is_under(*dn, parent), "a made DN lies under its parent", *dn);
}

void check_normalized(std::string_view dn) {
  const auto normalized = dirproxy::normalize_dn(dn);
  (void)dirproxy::first_rdn(dn);
  if (!normalized) return;
  const auto again = dirproxy::normalize_dn(*normalized);
  require(again.has_value() && *again == *normalized, "normalize_dn is idempotent", *normalized);
  require(dirproxy::dn_is_under(dn, dn), "a DN is under itself", dn);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = dirproxy::fuzz::fields(data, size, 4);
  check_made(input[0], input[1], input[2]);
  check_normalized(input[3]);
  (void)dirproxy::dn_is_under(input[3], input[2]);
  (void)dirproxy::join_dn(input[3], input[2]);
  return 0;
}
