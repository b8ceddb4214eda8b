// Name folding: ASCII letters only, whatever the locale, so that every
// directory, the chain and SQLite's NOCASE agree on which names are the same.
#include "core/names.hpp"

#include <string>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

TEST(AsciiLower, LowerCasesEveryAsciiCapitalAndKeepsOtherAsciiAsItIs) {
  EXPECT_EQ(ascii_lower("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(ascii_lower("Alice.Liddell-42_@[Example].ORG"), "alice.liddell-42_@[example].org");
}

TEST(AsciiLower, KeepsTheBytesOfNonAsciiLettersAsTheyAre) {
  // "ÄÖÜ" and "İ" in UTF-8: folding them would need Unicode rules.
  EXPECT_EQ(ascii_lower("\xC3\x84\xC3\x96\xC3\x9C \xC4\xB0X"), "\xC3\x84\xC3\x96\xC3\x9C \xC4\xB0x");
}

TEST(AsciiLower, KeepsEmbeddedNulsAndTheLength) {
  const std::string text("A\0B", 3);

  EXPECT_EQ(ascii_lower(text), std::string("a\0b", 3));
}

TEST(AsciiLower, OfOneCharacterChangesOnlyCapitals) {
  EXPECT_EQ(ascii_lower('Q'), 'q');
  EXPECT_EQ(ascii_lower('q'), 'q');
  EXPECT_EQ(ascii_lower('@'), '@');  // just before 'A'
  EXPECT_EQ(ascii_lower('['), '[');  // just after 'Z'
  EXPECT_EQ(ascii_lower('\xC3'), '\xC3');
}

TEST(EqualIgnoringAsciiCase, MatchesSpellingsThatDifferOnlyInAsciiCase) {
  EXPECT_TRUE(equal_ignoring_ascii_case("Mail.Example.COM", "mail.example.com"));
  EXPECT_TRUE(equal_ignoring_ascii_case("", ""));
}

TEST(EqualIgnoringAsciiCase, TellsApartDifferentLengthsAndNonAsciiCase) {
  EXPECT_FALSE(equal_ignoring_ascii_case("alice", "alice2"));
  EXPECT_FALSE(equal_ignoring_ascii_case("@", "`"));                // 'A' - 1 and 'a' - 1
  EXPECT_FALSE(equal_ignoring_ascii_case("\xC3\x84", "\xC3\xA4"));  // "Ä" and "ä"
}

TEST(FoldName, IsTheAsciiLowerCaseOfTheName) {
  EXPECT_EQ(fold_name("Alice"), "alice");
  EXPECT_EQ(fold_name("J\xC3\x96RG"), "j\xC3\x96rg");
}

TEST(SameName, IsEqualityOfTheFoldedNames) {
  EXPECT_TRUE(same_name("ALICE", "alice"));
  EXPECT_FALSE(same_name("alice", "alicia"));
  EXPECT_TRUE(same_name("J\xC3\x96RG", "j\xC3\x96rg"));
  EXPECT_FALSE(same_name("J\xC3\x96RG", "j\xC3\xB6rg"));  // "Ö" is not folded to "ö"
}

}  // namespace
}  // namespace dirproxy
