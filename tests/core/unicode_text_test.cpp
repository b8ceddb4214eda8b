// Decoding UTF-8 one character at a time (strictly), and which characters
// act on the text around them: the list the daemon refuses and dirproxyctl
// escapes.
#include "core/unicode_text.hpp"

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

TEST(DecodeUtf8, GivesTheCodePointAndItsLength) {
  auto ascii = decode_utf8("ab");
  auto two = decode_utf8("\xc3\xa9!");
  auto three = decode_utf8("\xe2\x80\xae");
  auto four = decode_utf8("\xf0\x9f\x99\x82");

  ASSERT_TRUE(ascii && two && three && four);
  EXPECT_EQ(ascii->code_point, U'a');
  EXPECT_EQ(ascii->bytes, 1u);
  EXPECT_EQ(two->code_point, U'\u00e9');
  EXPECT_EQ(two->bytes, 2u);
  EXPECT_EQ(three->code_point, U'\u202e');
  EXPECT_EQ(three->bytes, 3u);
  EXPECT_EQ(four->code_point, U'\U0001F642');
  EXPECT_EQ(four->bytes, 4u);
}

TEST(DecodeUtf8, ANulIsACharacter) {
  auto nul = decode_utf8(std::string_view("\0x", 2));

  ASSERT_TRUE(nul);
  EXPECT_EQ(nul->code_point, U'\0');
  EXPECT_EQ(nul->bytes, 1u);
}

TEST(DecodeUtf8, RefusesWhatIsNotOneWholeWellFormedSequence) {
  for (const char* bad :
       {"", "\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\xff", "\xc3", "\xe2\x80", "\xc3(", "\xe2\x28\xa1"}) {
    EXPECT_FALSE(decode_utf8(bad)) << ::testing::PrintToString(bad);
  }
}

TEST(TextHazard, NamesControlsSeparatorsAndBidiCharactersAndNothingElse) {
  EXPECT_EQ(hazard_of(U'\0'), TextHazard::control);
  EXPECT_EQ(hazard_of(U'\x1b'), TextHazard::control);
  EXPECT_EQ(hazard_of(U'\x7f'), TextHazard::control);
  EXPECT_EQ(hazard_of(U'\u0085'), TextHazard::control);
  EXPECT_EQ(hazard_of(U'\u009f'), TextHazard::control);
  EXPECT_EQ(hazard_of(U'\u2028'), TextHazard::line_separator);
  EXPECT_EQ(hazard_of(U'\u2029'), TextHazard::line_separator);
  for (char32_t bidi : {U'\u061c', U'\u200e', U'\u200f', U'\u202a', U'\u202e', U'\u2066', U'\u2069'}) {
    EXPECT_EQ(hazard_of(bidi), TextHazard::bidi_control) << static_cast<unsigned>(bidi);
  }
  for (char32_t shown : {U' ', U'~', U'\u00a0', U'\u00e9', U'\u200d', U'\u202f', U'\u2065', U'\u206a', U'\U0001F642'}) {
    EXPECT_EQ(hazard_of(shown), TextHazard::none) << static_cast<unsigned>(shown);
  }
}

}  // namespace
}  // namespace dirproxy
