#include "core/readable_text.hpp"

#include <cstdio>
#include <string>

#include "core/unicode_text.hpp"

namespace dirproxy {
namespace {

// "U+001B", "U+202E": how Unicode names a code point.
std::string unicode_name(char32_t code_point) {
  char name[16];
  std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(code_point));
  return name;
}

std::string_view describe(TextHazard hazard) {
  switch (hazard) {
    case TextHazard::control: return "a control character";
    case TextHazard::line_separator: return "a line or paragraph separator";
    case TextHazard::bidi_control: return "a bidirectional formatting character";
    case TextHazard::none: break;
  }
  return "";
}

bool is_layout_of_a_message(char32_t code_point) { return code_point == '\n' || code_point == '\t'; }

}  // namespace

Result<void> check_readable_text(std::string_view text, TextKind kind, std::string_view field) {
  const std::string quoted = "'" + std::string(field) + "'";
  if (text.size() > max_bytes(kind)) {
    return fail(ErrorCode::bad_request, quoted + " is longer than " + std::to_string(max_bytes(kind)) + " bytes",
                std::string(field));
  }
  for (std::size_t at = 0; at < text.size();) {
    const auto character = decode_utf8(text.substr(at));
    if (!character) {
      return fail(ErrorCode::bad_request, quoted + " is not valid UTF-8 (byte " + std::to_string(at + 1) + ")",
                  std::string(field));
    }
    const TextHazard hazard = hazard_of(character->code_point);
    const bool allowed = kind == TextKind::message && is_layout_of_a_message(character->code_point);
    if (hazard != TextHazard::none && !allowed) {
      return fail(
          ErrorCode::bad_request,
          quoted + " must not contain " + unicode_name(character->code_point) + ", " + std::string(describe(hazard)),
          std::string(field));
    }
    at += character->bytes;
  }
  return {};
}

Result<void> check_required_name(std::string_view name, std::string_view field) {
  if (name.empty())
    return fail(ErrorCode::bad_request, "'" + std::string(field) + "' must not be empty", std::string(field));
  return check_readable_text(name, TextKind::name, field);
}

}  // namespace dirproxy
