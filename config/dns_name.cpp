#include "config/dns_name.hpp"

#include "core/names.hpp"

namespace dirproxy::config {

namespace {

constexpr std::size_t kMaxNameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::string_view kWildcardPrefix = "*.";

bool is_label_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_valid_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!is_label_character(c)) return false;
  }
  return true;
}

}  // namespace

bool is_valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_valid_label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_valid_domain_pattern(std::string_view pattern) {
  if (pattern.starts_with(kWildcardPrefix)) pattern.remove_prefix(kWildcardPrefix.size());
  return is_valid_dns_name(pattern);
}

bool domain_matches(std::string_view pattern, std::string_view domain) {
  if (!is_valid_domain_pattern(pattern) || !is_valid_dns_name(domain)) return false;
  if (!pattern.starts_with(kWildcardPrefix)) return equal_ignoring_ascii_case(pattern, domain);

  // "*.example.com" keeps its ".example.com": the domain must end with it on a
  // label boundary and have at least one label in front of it.
  const std::string_view parent_with_dot = pattern.substr(1);
  if (domain.size() <= parent_with_dot.size()) return false;
  return equal_ignoring_ascii_case(domain.substr(domain.size() - parent_with_dot.size()), parent_with_dot);
}

}  // namespace dirproxy::config
