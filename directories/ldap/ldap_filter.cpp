#include "directories/ldap/ldap_filter.hpp"

#include <new>
#include <span>
#include <stdexcept>

#include "directories/ldap/ldap_handles.hpp"

namespace dirproxy {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// number = DIGIT / ( LDIGIT 1*DIGIT )
bool is_number(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_digit(c)) return false;
  }
  return text.size() == 1 || text.front() != '0';
}

bool is_numericoid(std::string_view text) {
  std::size_t arcs = 0;
  while (true) {
    const auto dot = text.find('.');
    if (!is_number(text.substr(0, dot))) return false;
    ++arcs;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return arcs >= 2;
}

bool is_descr(std::string_view text) {
  if (text.empty() || !is_alpha(text.front())) return false;
  for (char c : text) {
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
  }
  return true;
}

// True when `filter` is one parenthesised filter: the '(' at the start is
// closed by the last character and depth never drops below zero. A backslash
// protects the character after it (RFC 4515 escapes are \XX, but servers also
// accept the older \( form).
bool is_single_filter(std::string_view filter) {
  if (filter.size() < 2 || filter.front() != '(') return false;
  int depth = 0;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    const char c = filter[i];
    if (c == '\\') {
      ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
      if (depth == 0) return i == filter.size() - 1;
    }
  }
  return false;
}

std::string combine(char op, std::span<const std::string_view> parts) {
  std::string joined;
  std::size_t count = 0;
  for (std::string_view part : parts) {
    const auto normalized = normalize_filter(part);
    if (!normalized) throw std::invalid_argument("malformed LDAP filter part");
    if (normalized->empty()) continue;
    joined += *normalized;
    ++count;
  }
  if (count <= 1) return joined;
  std::string result;
  result.reserve(joined.size() + 3);
  result += '(';
  result += op;
  result += joined;
  result += ')';
  return result;
}

std::string combine(char op, const std::vector<std::string>& parts) {
  const std::vector<std::string_view> views(parts.begin(), parts.end());
  return combine(op, std::span<const std::string_view>(views));
}

}  // namespace

std::string escape_filter_value(std::string_view value) {
  if (value.empty()) return {};
  // libldap only reads `in`; its prototype is not const-correct.
  struct berval in {
    value.size(), const_cast<char*>(value.data())
  };
  struct berval out {
    0, nullptr
  };
  const int rc = ldap_bv2escaped_filter_value(&in, &out);
  LdapStringPtr escaped(out.bv_val);
  // The only failure is an allocation failure.
  if (rc != 0 || escaped == nullptr) throw std::bad_alloc();
  return std::string(escaped.get(), out.bv_len);
}

namespace {

// "(attribute<relation>escaped value)".
std::string assertion(std::string_view attribute, std::string_view relation, std::string_view value) {
  std::string filter;
  filter += '(';
  filter += attribute;
  filter += relation;
  filter += escape_filter_value(value);
  filter += ')';
  return filter;
}

}  // namespace

std::string extensible_filter(std::string_view attribute, std::string_view matching_rule, std::string_view value) {
  return assertion(attribute, ":" + std::string(matching_rule) + ":=", value);
}

std::string equality_filter(std::string_view attribute, std::string_view value) { return assertion(attribute, "=", value); }

std::string substring_filter(std::string_view attribute, std::string_view value) {
  std::string filter;
  filter += '(';
  filter += attribute;
  filter += "=*";
  if (!value.empty()) {
    filter += escape_filter_value(value);
    filter += '*';
  }
  filter += ')';
  return filter;
}

std::optional<std::string> normalize_filter(std::string_view filter) {
  filter = trim(filter);
  if (filter.empty()) return std::string();
  std::string normalized;
  if (filter.front() == '(') {
    normalized = filter;
  } else {
    normalized.reserve(filter.size() + 2);
    normalized += '(';
    normalized += filter;
    normalized += ')';
  }
  if (!is_single_filter(normalized)) return std::nullopt;
  return normalized;
}

std::string and_filters(std::initializer_list<std::string_view> parts) {
  return combine('&', std::span<const std::string_view>(parts.begin(), parts.size()));
}

std::string and_filters(const std::vector<std::string>& parts) { return combine('&', parts); }

std::string or_filters(std::initializer_list<std::string_view> parts) {
  return combine('|', std::span<const std::string_view>(parts.begin(), parts.size()));
}

std::string or_filters(const std::vector<std::string>& parts) { return combine('|', parts); }

bool is_valid_attribute_name(std::string_view name) {
  if (name.empty()) return false;
  return is_digit(name.front()) ? is_numericoid(name) : is_descr(name);
}

}  // namespace dirproxy
