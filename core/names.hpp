// Case-insensitive comparison of usernames and group names, shared by every
// directory and the chain, and the ASCII lower-casing it rests on. Folding is
// ASCII-only, like SQLite's NOCASE, so that the chain and the internal
// directory agree on what "the same name" is; usernames are limited to ASCII
// by the default accounts.username_pattern. The same lower-casing serves the
// other case-insensitive texts dirproxy reads (DNS names, email domains, URL
// schemes, LDAP attribute names), where only ASCII letters have a case; it
// never depends on the process locale.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace dirproxy {

// `c` lower-cased when it is an ASCII capital letter; any other byte
// (including every byte of a UTF-8 sequence) as it is.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `text` with its ASCII capital letters lower-cased and every other byte kept.
inline std::string ascii_lower(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = ascii_lower(c);
  return lowered;
}

// Whether `a` and `b` are the same text once ASCII-lower-cased.
constexpr bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// The form of a name under which all its spellings are equal (a map key, a
// lookup in a folded index).
inline std::string fold_name(std::string_view name) { return ascii_lower(name); }

// Whether two names are the same name, whatever their case.
constexpr bool same_name(std::string_view a, std::string_view b) { return equal_ignoring_ascii_case(a, b); }

}  // namespace dirproxy
