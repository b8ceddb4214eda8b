#include "directories/ldap/active_directory.hpp"

#include <ldap.h>

#include <charconv>

#include "core/names.hpp"
#include "core/unicode_text.hpp"
#include "directories/ldap/ldap_dn.hpp"

namespace dirproxy::active_directory {
namespace {

void append_utf16le(std::string& out, char16_t unit) {
  out.push_back(static_cast<char>(unit & 0xFF));
  out.push_back(static_cast<char>(unit >> 8));
}

bool contains_ignoring_case(std::string_view text, std::string_view part) {
  return ascii_lower(text).find(ascii_lower(part)) != std::string::npos;
}

// A whole decimal number, nothing else.
std::optional<std::size_t> whole_number(std::string_view text) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<std::string> unicode_password(std::string_view password, std::string_view field) {
  std::string encoded;
  encoded.reserve(2 * password.size() + 4);
  append_utf16le(encoded, u'"');
  while (!password.empty()) {
    const auto character = decode_utf8(password);
    if (!character) {
      return fail(ErrorCode::bad_request, "the password is not valid UTF-8", std::string(field));
    }
    password.remove_prefix(character->bytes);
    const char32_t code_point = character->code_point;
    if (code_point < 0x10000) {
      append_utf16le(encoded, static_cast<char16_t>(code_point));
    } else {
      const char32_t offset = code_point - 0x10000;
      append_utf16le(encoded, static_cast<char16_t>(0xD800 + (offset >> 10)));
      append_utf16le(encoded, static_cast<char16_t>(0xDC00 + (offset & 0x3FF)));
    }
  }
  append_utf16le(encoded, u'"');
  return encoded;
}

std::optional<ValueRange> parse_value_range(std::string_view attribute_description) {
  const auto semicolon = attribute_description.find(';');
  if (semicolon == std::string_view::npos || semicolon == 0) return std::nullopt;
  ValueRange range;
  range.attribute = std::string(attribute_description.substr(0, semicolon));
  std::string_view options = attribute_description.substr(semicolon + 1);
  constexpr std::string_view kRange = "range=";
  while (!options.empty()) {
    const auto end = options.find(';');
    const std::string_view option = options.substr(0, end);
    options = end == std::string_view::npos ? std::string_view() : options.substr(end + 1);
    if (option.size() <= kRange.size() || !same_name(option.substr(0, kRange.size()), kRange)) continue;
    const std::string_view bounds = option.substr(kRange.size());
    const auto dash = bounds.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto first = whole_number(bounds.substr(0, dash));
    if (!first) return std::nullopt;
    range.first = *first;
    const std::string_view last = bounds.substr(dash + 1);
    if (last == "*") return range;
    const auto last_number = whole_number(last);
    if (!last_number || *last_number < *first) return std::nullopt;
    range.last = *last_number;
    return range;
  }
  return std::nullopt;
}

std::string range_request(std::string_view attribute, std::size_t first) {
  return std::string(attribute) + ";range=" + std::to_string(first) + "-*";
}

Error password_refusal(std::string_view directory, int result_code, std::string_view diagnostic,
                       std::string_view field) {
  const std::string server_text =
      std::string(ldap_err2string(result_code)) + (diagnostic.empty() ? "" : " (" + std::string(diagnostic) + ")");
  const std::string who = "directory '" + std::string(directory) + "'";
  // 0x56 ERROR_INVALID_PASSWORD: the old value of a delete/add change did
  // not match.
  if (contains_ignoring_case(diagnostic, "00000056")) {
    return make_error(ErrorCode::invalid_credentials, who + " refused the old password", "old_password");
  }
  // 0x52D ERROR_PASSWORD_RESTRICTION: too short, not complex enough, in the
  // history, or changed again before the minimum age.
  if (contains_ignoring_case(diagnostic, "0000052D") || result_code == LDAP_CONSTRAINT_VIOLATION) {
    return make_error(ErrorCode::weak_password,
                      who + " refused the password by its password policy: " +
                          std::string(diagnostic.empty() ? server_text : diagnostic),
                      std::string(field));
  }
  return make_error(ErrorCode::internal_error, who + ": the password write failed: " + server_text);
}

std::string dns_domain_of(std::string_view dn) {
  std::string domain;
  const auto rdns = split_dn(dn);
  if (!rdns) return domain;
  for (const auto& rdn : *rdns) {
    if (rdn.size() != 1 || !same_name(rdn.front().type, "dc") || rdn.front().ber) continue;
    if (!domain.empty()) domain += '.';
    domain += rdn.front().value;
  }
  return domain;
}

}  // namespace dirproxy::active_directory
