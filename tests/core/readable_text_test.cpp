// The one rule for human-readable text: valid UTF-8, no character that acts
// on the text around it, a limit in bytes per kind; and the messages that
// say which rule a value broke.
#include "core/readable_text.hpp"

#include <string>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

using namespace std::string_literals;

// The message of the refusal of `text`, or "ok".
std::string verdict(const std::string& text, TextKind kind = TextKind::name) {
  auto checked = check_readable_text(text, kind, "first_name");
  if (checked) return "ok";
  EXPECT_EQ(checked.error().code, ErrorCode::bad_request);
  EXPECT_EQ(checked.error().field, "first_name");
  return checked.error().message;
}

TEST(ReadableText, TakesLettersOfAnyScriptPunctuationAndEmoji) {
  EXPECT_EQ(verdict("Zo\xc3\xab \xc3\x85gren-O'Brien (\xe6\x9d\x8e), \xd8\xb9\xd9\x84\xd9\x8a \xf0\x9f\x99\x82"), "ok");
}

TEST(ReadableText, RefusesEveryC0ControlCharacterDelAndEveryC1ControlCharacter) {
  for (char32_t code_point = 0; code_point < 0x20; ++code_point) {
    const std::string text = "a"s + static_cast<char>(code_point) + "b";
    char expected[80];
    std::snprintf(expected, sizeof expected, "'first_name' must not contain U+%04X, a control character",
                  static_cast<unsigned>(code_point));
    EXPECT_EQ(verdict(text), expected);
  }
  EXPECT_EQ(verdict("a\x7f"
                    "b"),
            "'first_name' must not contain U+007F, a control character");
  for (unsigned char second = 0x80; second <= 0x9f; ++second) {
    const std::string text = "a\xc2"s + static_cast<char>(second) + "b";
    char expected[80];
    std::snprintf(expected, sizeof expected, "'first_name' must not contain U+%04X, a control character", second);
    EXPECT_EQ(verdict(text), expected);
  }
  EXPECT_EQ(verdict("a\xc2\xa0"
                    "b"),
            "ok");  // U+00A0 NO-BREAK SPACE, the first character after C1
}

TEST(ReadableText, RefusesTheLineAndParagraphSeparators) {
  EXPECT_EQ(verdict("a\xe2\x80\xa8"
                    "b"),
            "'first_name' must not contain U+2028, a line or paragraph separator");
  EXPECT_EQ(verdict("a\xe2\x80\xa9"
                    "b"),
            "'first_name' must not contain U+2029, a line or paragraph separator");
}

TEST(ReadableText, RefusesEveryBidirectionalFormattingCharacter) {
  const std::pair<std::string, std::string> bidi[] = {
      {"\xd8\x9c", "U+061C"},     {"\xe2\x80\x8e", "U+200E"}, {"\xe2\x80\x8f", "U+200F"}, {"\xe2\x80\xaa", "U+202A"},
      {"\xe2\x80\xab", "U+202B"}, {"\xe2\x80\xac", "U+202C"}, {"\xe2\x80\xad", "U+202D"}, {"\xe2\x80\xae", "U+202E"},
      {"\xe2\x81\xa6", "U+2066"}, {"\xe2\x81\xa7", "U+2067"}, {"\xe2\x81\xa8", "U+2068"}, {"\xe2\x81\xa9", "U+2069"},
  };
  for (const auto& [bytes, name] : bidi) {
    EXPECT_EQ(verdict("a" + bytes + "b"),
              "'first_name' must not contain " + name + ", a bidirectional formatting character");
  }
  // Their neighbours show themselves: U+200D ZERO WIDTH JOINER (in emoji), U+202F, U+2065 (unassigned), U+206A.
  for (const char* neighbour : {"\xe2\x80\x8d", "\xe2\x80\xaf", "\xe2\x81\xa5", "\xe2\x81\xaa"}) {
    EXPECT_EQ(verdict("a"s + neighbour + "b"), "ok") << neighbour;
  }
}

TEST(ReadableText, RefusesWhatIsNotUtf8NamingTheFirstBadByte) {
  EXPECT_EQ(verdict("ab\xff"), "'first_name' is not valid UTF-8 (byte 3)");
  EXPECT_EQ(verdict("\xc0\xaf"), "'first_name' is not valid UTF-8 (byte 1)");           // overlong "/"
  EXPECT_EQ(verdict("a\xed\xa0\x80"), "'first_name' is not valid UTF-8 (byte 2)");      // a surrogate
  EXPECT_EQ(verdict("a\xf4\x90\x80\x80"), "'first_name' is not valid UTF-8 (byte 2)");  // beyond U+10FFFF
  EXPECT_EQ(verdict("ab\xc3"), "'first_name' is not valid UTF-8 (byte 3)");             // cut short
  EXPECT_EQ(verdict("a\x80"), "'first_name' is not valid UTF-8 (byte 2)");              // a lone continuation
}

TEST(ReadableText, AMessageTakesLineBreaksAndTabsButNoOtherControlCharacter) {
  EXPECT_EQ(verdict("Hello,\n\tplease join.\n", TextKind::message), "ok");
  EXPECT_EQ(verdict("a\r\nb", TextKind::message), "'first_name' must not contain U+000D, a control character");
  EXPECT_EQ(verdict("a\xe2\x80\xa8"
                    "b",
                    TextKind::message),
            "'first_name' must not contain U+2028, a line or paragraph separator");
  EXPECT_EQ(verdict("a\nb", TextKind::description), "'first_name' must not contain U+000A, a control character");
}

TEST(ReadableText, EachKindHasItsLimitInBytes) {
  for (auto [kind, limit] :
       {std::pair{TextKind::name, 256u}, {TextKind::description, 1024u}, {TextKind::message, 2000u}}) {
    EXPECT_EQ(max_bytes(kind), limit);
    EXPECT_EQ(verdict(std::string(limit - 2, 'x') + "\xc3\xa9", kind), "ok");
    EXPECT_EQ(verdict(std::string(limit - 1, 'x') + "\xc3\xa9", kind),
              "'first_name' is longer than " + std::to_string(limit) + " bytes");
  }
}

TEST(ReadableText, TheLimitIsCheckedBeforeTheCharacters) {
  EXPECT_EQ(verdict(std::string(300, '\x1b')), "'first_name' is longer than 256 bytes");
}

TEST(ReadableText, AnEmptyTextPassesUnlessANameIsRequired) {
  EXPECT_EQ(verdict(""), "ok");
  auto required = check_required_name("", "display_name");
  ASSERT_FALSE(required);
  EXPECT_EQ(required.error().code, ErrorCode::bad_request);
  EXPECT_EQ(required.error().field, "display_name");
  EXPECT_EQ(required.error().message, "'display_name' must not be empty");
  EXPECT_EQ(check_required_name("a\xe2\x80\xae", "name").error().message,
            "'name' must not contain U+202E, a bidirectional formatting character");
  EXPECT_TRUE(check_required_name("developers", "name"));
}

}  // namespace
}  // namespace dirproxy
