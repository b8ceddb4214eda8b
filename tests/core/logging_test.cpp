// What a log line shows of a value from a client: cut to a documented length
// with a marker, quoted so that it cannot forge a field or a line.
#include "core/logging.hpp"

#include <string>

#include <gtest/gtest.h>

namespace dirproxy::logging {
namespace {

TEST(Logging, AShortValueIsQuotedWhole) { EXPECT_EQ(logging::quoted("alice"), "\"alice\""); }

TEST(Logging, AValueOfExactlyTheLimitIsNotCut) {
  const std::string value(kMaxLoggedValueBytes, 'a');

  EXPECT_EQ(logging::quoted(value), "\"" + value + "\"");
}

// A 20,000-character username made a 20 KB audit line.
TEST(Logging, ALongValueIsCutWithAMarkerGivingItsLength) {
  const std::string value(20000, 'a');

  EXPECT_EQ(logging::quoted(value), "\"" + std::string(kMaxLoggedValueBytes, 'a') + "...(20000 bytes)\"");
}

TEST(Logging, AValueIsCutBetweenCharactersNotInsideOne) {
  // 'é' is two bytes: the limit falls inside the last one that would fit.
  std::string value(kMaxLoggedValueBytes - 1, 'a');
  for (int i = 0; i < 10; ++i) value += "é";

  EXPECT_EQ(shortened(value),
            std::string(kMaxLoggedValueBytes - 1, 'a') + "...(" + std::to_string(value.size()) + " bytes)");
}

TEST(Logging, QuotesAndLineBreaksInAValueAreEscaped) {
  EXPECT_EQ(logging::quoted("a\" result=ok\nforged"), R"("a\" result=ok\nforged")");
}

}  // namespace
}  // namespace dirproxy::logging
