// dirproxy-load's --user-pattern: the numbered usernames printf would have
// printed for the patterns the benchmark uses, and a clear refusal, never a
// crash, for a pattern printf would have misread.
#include "bench/user_pattern.hpp"

#include <gtest/gtest.h>

namespace dirproxy::bench {
namespace {

std::string formatted(std::string_view pattern, std::int64_t number) {
  auto parsed = UserPattern::parse(pattern);
  EXPECT_TRUE(parsed) << pattern << ": " << parsed.error().message;
  return parsed ? parsed->format(number) : std::string();
}

std::string refusal(std::string_view pattern) {
  auto parsed = UserPattern::parse(pattern);
  EXPECT_FALSE(parsed) << pattern;
  return parsed ? std::string() : parsed.error().message;
}

TEST(UserPattern, ZeroPadsToTheWidthLikePrintf) {
  EXPECT_EQ(formatted("user%05d", 1), "user00001");
  EXPECT_EQ(formatted("user%05d", 20000), "user20000");
  EXPECT_EQ(formatted("local%07d", 10000), "local0010000");
}

TEST(UserPattern, ANumberWiderThanTheWidthIsNotCut) { EXPECT_EQ(formatted("user%03d", 123456), "user123456"); }

TEST(UserPattern, PlainAndSpacePaddedPlaceholders) {
  EXPECT_EQ(formatted("user%d", 42), "user42");
  EXPECT_EQ(formatted("%4d-x", 42), "  42-x");
  EXPECT_EQ(formatted("u%0d", 7), "u7");
}

TEST(UserPattern, NegativeNumbersAreSignedBeforeTheZerosAndAfterTheSpaces) {
  EXPECT_EQ(formatted("%05d", -42), "-0042");
  EXPECT_EQ(formatted("%5d", -42), "  -42");
}

TEST(UserPattern, DoublePercentIsALiteralPercent) { EXPECT_EQ(formatted("100%%-user%02d%%", 3), "100%-user03%"); }

TEST(UserPattern, APatternWithoutAPlaceholderIsRefused) {
  EXPECT_EQ(refusal("alice"), "no %d, %Nd or %0Nd (e.g. user%05d) for the number");
  EXPECT_EQ(refusal("50%%"), "no %d, %Nd or %0Nd (e.g. user%05d) for the number");
}

TEST(UserPattern, OtherConversionsAreRefusedNamingThem) {
  EXPECT_EQ(refusal("user%s"), "'%s' is not %d, %Nd or %0Nd (e.g. user%05d); write %% for a '%'");
  EXPECT_EQ(refusal("user%ld"), "'%l' is not %d, %Nd or %0Nd (e.g. user%05d); write %% for a '%'");
  EXPECT_EQ(refusal("user%-5d"), "'%-' is not %d, %Nd or %0Nd (e.g. user%05d); write %% for a '%'");
  EXPECT_EQ(refusal("user%05"), "'%05' is not %d, %Nd or %0Nd (e.g. user%05d); write %% for a '%'");
}

TEST(UserPattern, TwoPlaceholdersAreRefused) {
  EXPECT_EQ(refusal("%d-%d"), "more than one %d, %Nd or %0Nd (e.g. user%05d)");
}

TEST(UserPattern, AWidthBeyondTheLimitIsRefused) {
  EXPECT_EQ(refusal("u%0256d"), "'%0256d' pads to more than 255 characters");
  EXPECT_EQ(refusal("u%99999999999999999999999d"), "'%99999999999999999999999d' pads to more than 255 characters");
  EXPECT_EQ(formatted("%0255d", 1).size(), 255u);
}

}  // namespace
}  // namespace dirproxy::bench
