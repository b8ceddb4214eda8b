// Fuzz target ldap_filter: search filters (directories/ldap/ldap_filter.hpp)
// built from values that clients choose (a username, a search query) and
// from the administrator's extra filter (users.filter, groups.filter).
//
// Input: "VALUE\0ATTRIBUTE\0EXTRA_FILTER" (fuzz_input.hpp's fields).
//
// Properties checked besides "no crash": an escaped value holds no filter
// syntax (no '(' ')' '*' NUL or non-ASCII byte, every '\' starts a \XX
// escape); a filter built from a valid attribute and any value is exactly one
// balanced filter, and stays so when combined with the extra filter;
// normalize_filter is idempotent.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "directories/ldap/ldap_filter.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

using dirproxy::fuzz::require;

// Exactly one parenthesised filter as libldap reads it: depth never below
// zero, and back to zero only at the last character; a backslash protects
// the character after it (libldap's find_right_paren).
bool is_one_filter(std::string_view filter) {
  if (filter.empty() || filter.front() != '(') return false;
  int depth = 0;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '\\') {
      ++i;
      continue;
    }
    if (filter[i] == '(') ++depth;
    if (filter[i] == ')') --depth;
    if (depth < 0 || (depth == 0 && i + 1 != filter.size())) return false;
  }
  return depth == 0;
}

void check_escaped(std::string_view value) {
  const std::string escaped = dirproxy::escape_filter_value(value);
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(escaped[i]);
    require(c != '(' && c != ')' && c != '*' && c != 0 && c < 0x80, "an escaped value holds no filter syntax", escaped);
    if (c == '\\') {
      require(i + 2 < escaped.size() && std::isxdigit(static_cast<unsigned char>(escaped[i + 1])) &&
                  std::isxdigit(static_cast<unsigned char>(escaped[i + 2])),
              "every backslash of an escaped value starts a \\XX escape", escaped);
      i += 2;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = dirproxy::fuzz::fields(data, size, 3);
  const std::string_view value = input[0];
  const std::string_view attribute = input[1];
  check_escaped(value);

  const auto extra = dirproxy::normalize_filter(input[2]);
  if (extra && !extra->empty()) {
    require(is_one_filter(*extra), "a normalised filter is one balanced filter", *extra);
    require(dirproxy::normalize_filter(*extra) == extra, "normalize_filter is idempotent", *extra);
  }
  if (!dirproxy::is_valid_attribute_name(attribute)) return 0;
  const std::string equality = dirproxy::equality_filter(attribute, value);
  const std::string substring = dirproxy::substring_filter(attribute, value);
  require(is_one_filter(equality) && is_one_filter(substring), "a value cannot break out of its filter", equality);
  if (extra) {
    const std::string conjunction = dirproxy::and_filters({std::string_view(*extra), equality});
    const std::string disjunction = dirproxy::or_filters({std::string_view(*extra), substring});
    require(is_one_filter(conjunction) && is_one_filter(disjunction), "combined filters stay one filter",
            conjunction + " " + disjunction);
  }
  return 0;
}
