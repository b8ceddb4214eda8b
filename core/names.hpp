// Case-insensitive comparison of usernames and group names, shared by every
// directory and the chain. Folding is ASCII-only, like SQLite's NOCASE, so
// that the chain and the internal directory agree on what "the same name" is;
// usernames are limited to ASCII by the default accounts.username_pattern.
#pragma once

#include <string>
#include <string_view>

namespace dirproxy {

inline std::string fold_name(std::string_view name) {
  std::string folded(name);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

inline bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace dirproxy
