// Building LDAP search filters (RFC 4515) for the LDAP directory. Every value
// that reaches a filter goes through escape_filter_value(), which is libldap's
// ldap_bv2escaped_filter_value(): a username such as ")(uid=*" becomes a
// literal value, never filter syntax. Attribute names and the administrator's
// extra filter come from the configuration; the directory checks attribute
// names with is_valid_attribute_name() when it is constructed, so the builders
// here take them as they are.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dirproxy {

// `value` escaped for use as an assertion value in a filter: `*`, `(`, `)`,
// `\`, NUL and every byte >= 0x80 become \XX (so UTF-8 is escaped byte by
// byte, which RFC 4515 allows and servers match as the same value).
std::string escape_filter_value(std::string_view value);

// "(attribute=value)" with `value` escaped.
std::string equality_filter(std::string_view attribute, std::string_view value);

// "(attribute:matching_rule:=value)" with `value` escaped: an extensible
// match (RFC 4515) by the rule's OID, e.g. AD's LDAP_MATCHING_RULE_IN_CHAIN.
std::string extensible_filter(std::string_view attribute, std::string_view matching_rule, std::string_view value);

// "(attribute=*value*)" with `value` escaped; an empty value gives the
// presence filter "(attribute=*)".
std::string substring_filter(std::string_view attribute, std::string_view value);

// A configured extra filter in the form and_filters() combines: surrounding
// whitespace trimmed, wrapped in parentheses when it does not start with '('
// ("objectClass=person" -> "(objectClass=person)"). "" stays "" (no filter).
// nullopt when the result is not exactly one filter with balanced
// parentheses: "(|(a=b)(c=d)" would otherwise swallow the username condition
// that follows it into its OR, and "(a=b)(c=d)" is two filters. This checks
// the structure only; the server reports any other syntax error.
std::optional<std::string> normalize_filter(std::string_view filter);

// The conjunction of `parts`, each normalised by normalize_filter(); empty
// parts are skipped. One part is returned alone; no parts give "" (callers
// always have at least the object class, and "(&)" is not understood by
// every server). A part that normalize_filter() rejects is a programming
// error (the directory checks its configured filter at construction) and
// throws std::invalid_argument rather than widen a search.
std::string and_filters(std::initializer_list<std::string_view> parts);
std::string and_filters(const std::vector<std::string>& parts);

// The disjunction of `parts`, with the same rules as and_filters().
std::string or_filters(std::initializer_list<std::string_view> parts);
std::string or_filters(const std::vector<std::string>& parts);

// True for an RFC 4512 attribute type: a descr (ALPHA *(ALPHA / DIGIT / "-"))
// or a numericoid ("2.5.4.3", no leading zeros). Options such as ";binary"
// are not accepted.
bool is_valid_attribute_name(std::string_view name);

}  // namespace dirproxy
