// UUIDs as text: the canonical form, and Active Directory's binary objectGUID.
#include "core/uuid.hpp"

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

TEST(Uuid, TextIsLowerCaseWithDashesAfterFieldsOf8_4_4_4) {
  UuidBytes bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
  EXPECT_EQ(uuid_text(bytes), "01234567-89ab-cdef-fedc-ba9876543210");
}

TEST(Uuid, AnObjectGuidHasItsFirstThreeFieldsLittleEndian) {
  // Microsoft's documented example: {6F9619FF-8B86-D011-B42D-00C04FC964FF}.
  const std::string bytes("\xff\x19\x96\x6f\x86\x8b\x11\xd0\xb4\x2d\x00\xc0\x4f\xc9\x64\xff", 16);
  EXPECT_EQ(uuid_from_guid_bytes(bytes), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  EXPECT_EQ(uuid_from_guid_bytes(bytes.substr(1)), std::nullopt);
}

TEST(Uuid, NormalizedAcceptsAnyCaseAndRefusesOtherText) {
  EXPECT_EQ(normalized_uuid("6F9619FF-8B86-D011-B42D-00C04FC964FF"), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  EXPECT_EQ(normalized_uuid("6f9619ff8b86d011b42d00c04fc964ff"), std::nullopt);
  EXPECT_EQ(normalized_uuid("6f9619ff-8b86-d011-b42d-00c04fc964fg"), std::nullopt);
}

}  // namespace
}  // namespace dirproxy
