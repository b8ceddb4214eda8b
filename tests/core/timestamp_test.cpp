// Reading back the times dirproxy stores (RFC 3339) and the times LDAP
// servers send (GeneralizedTime), as Unix seconds.
#include "core/timestamp.hpp"

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

constexpr std::int64_t k2026_05_01_12_34_56 = 1777638896;

TEST(Timestamp, Rfc3339ReadsBackWhatItWrites) {
  EXPECT_EQ(rfc3339(k2026_05_01_12_34_56), "2026-05-01T12:34:56Z");
  EXPECT_EQ(parse_rfc3339("2026-05-01T12:34:56Z"), k2026_05_01_12_34_56);
}

TEST(Timestamp, Rfc3339RefusesOtherText) {
  EXPECT_EQ(parse_rfc3339("2026-05-01 12:34:56"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-02-30T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339(""), std::nullopt);
}

TEST(Timestamp, GeneralizedTimeInUtcWithAndWithoutAFraction) {
  EXPECT_EQ(parse_generalized_time("20260501123456Z"), k2026_05_01_12_34_56);
  EXPECT_EQ(parse_generalized_time("20260501123456.0Z"), k2026_05_01_12_34_56);
}

TEST(Timestamp, GeneralizedTimeWithAnOffsetIsConvertedToUtc) {
  EXPECT_EQ(parse_generalized_time("20260501143456+0200"), k2026_05_01_12_34_56);
  EXPECT_EQ(parse_generalized_time("20260501113456-0100"), k2026_05_01_12_34_56);
}

TEST(Timestamp, GeneralizedTimeRefusesOtherText) {
  EXPECT_EQ(parse_generalized_time("202605011234Z"), std::nullopt);
  EXPECT_EQ(parse_generalized_time("20260501123456"), std::nullopt);
  EXPECT_EQ(parse_generalized_time("20261301123456Z"), std::nullopt);
  EXPECT_EQ(parse_generalized_time("20260501123456.Z"), std::nullopt);
}

}  // namespace
}  // namespace dirproxy
