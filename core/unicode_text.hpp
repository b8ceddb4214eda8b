// UTF-8 read one character at a time, and the characters that act on the
// text around them instead of showing themselves: control characters, which
// a terminal obeys (ESC starts a command, CR overwrites the line); line and
// paragraph separators, which break a line where no line break is expected;
// and bidirectional formatting characters, which reorder what follows them
// (U+202E shows "gpj.exe" as "exe.jpg"). The daemon refuses these in
// human-readable input (readable_text.hpp) and dirproxyctl escapes them in
// what it prints, so both use this one list. Header-only, because
// dirproxyctl links no project library. Decoding is Boost.Locale's, which is
// strict: overlong forms, surrogates and values beyond U+10FFFF are not
// UTF-8.
#pragma once

#include <boost/locale/utf.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace dirproxy {

struct Utf8Character {
  char32_t code_point = 0;
  std::size_t bytes = 0;  // how many bytes of the text it took
};

// The character at the start of `text`; nullopt when `text` is empty or does
// not start with one whole, well-formed UTF-8 sequence.
inline std::optional<Utf8Character> decode_utf8(std::string_view text) {
  using Traits = boost::locale::utf::utf_traits<char>;
  const char* position = text.data();
  const auto code_point = Traits::decode(position, text.data() + text.size());
  if (code_point == boost::locale::utf::illegal || code_point == boost::locale::utf::incomplete) return std::nullopt;
  return Utf8Character{static_cast<char32_t>(code_point), static_cast<std::size_t>(position - text.data())};
}

// What a character does to the text around it; `none` for one that shows
// itself (letters, digits, punctuation, spaces, emoji ...).
enum class TextHazard {
  none,
  control,         // C0 (U+0000-U+001F), DEL (U+007F), C1 (U+0080-U+009F)
  line_separator,  // U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR
  bidi_control,    // U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069
};

constexpr TextHazard hazard_of(char32_t code_point) {
  if (code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F)) return TextHazard::control;
  if (code_point == 0x2028 || code_point == 0x2029) return TextHazard::line_separator;
  if (code_point == 0x061C || code_point == 0x200E || code_point == 0x200F ||
      (code_point >= 0x202A && code_point <= 0x202E) || (code_point >= 0x2066 && code_point <= 0x2069)) {
    return TextHazard::bidi_control;
  }
  return TextHazard::none;
}

}  // namespace dirproxy
