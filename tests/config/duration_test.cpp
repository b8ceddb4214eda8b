#include "config/duration.hpp"

#include <gtest/gtest.h>

namespace dirproxy::config {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ReadsEachUnit) {
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("24h"), milliseconds(86'400'000));
  EXPECT_EQ(parse_duration("7d"), milliseconds(604'800'000));
}

TEST(Duration, BareIntegerIsSeconds) {
  EXPECT_EQ(parse_duration("30"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(Duration, ZeroWithAUnitIsZero) { EXPECT_EQ(parse_duration("0s"), milliseconds(0)); }

TEST(Duration, RefusesNegatives) {
  EXPECT_EQ(parse_duration("-5s"), std::nullopt);
  EXPECT_EQ(parse_duration("-1"), std::nullopt);
}

TEST(Duration, RefusesJunk) {
  for (const char* text :
       {"", "s", "5x", "5 s", " 5s", "5s ", "+5s", "1.5s", "1h30m", "5S", "5sec", "ms", "0x10", "five"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(Duration, RefusesOverflow) {
  EXPECT_EQ(parse_duration("99999999999999999999"), std::nullopt);  // beyond int64
  EXPECT_EQ(parse_duration("9223372036854775807d"), std::nullopt);  // fits, but not in ms
  EXPECT_EQ(parse_duration("106751991168d"), std::nullopt);
  EXPECT_EQ(parse_duration("106751991167d"), milliseconds(106751991167LL * 86'400'000));
}

TEST(Duration, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(300'000)), "5m");
  EXPECT_EQ(format_duration(std::chrono::hours(24 * 7)), "7d");
  EXPECT_EQ(format_duration(std::chrono::hours(36)), "36h");
  EXPECT_EQ(format_duration(milliseconds(-2000)), "-2s");
}

TEST(Duration, FormatRoundTripsThroughParse) {
  for (auto value :
       {milliseconds(1), milliseconds(999), milliseconds(61'000), milliseconds(3'600'000), milliseconds(172'800'000)}) {
    EXPECT_EQ(parse_duration(format_duration(value)), value);
  }
}

}  // namespace
}  // namespace dirproxy::config
