// parse_mailbox: mail.from's "address" and "Name <address>" forms, as the
// loader checks them and the composer and SMTP client take them apart.
#include "config/mailbox.hpp"

#include <gtest/gtest.h>

namespace dirproxy::config {
namespace {

TEST(Mailbox, ABareAddressIsTheAddressWithNoName) {
  const auto mailbox = parse_mailbox("noreply@example.com");

  ASSERT_TRUE(mailbox.has_value());
  EXPECT_EQ(mailbox->display_name, "");
  EXPECT_EQ(mailbox->address, "noreply@example.com");
}

TEST(Mailbox, NameAndAddressAreSplitAtTheAngleBracket) {
  const auto mailbox = parse_mailbox("Dirproxy <noreply@example.com>");

  ASSERT_TRUE(mailbox.has_value());
  EXPECT_EQ(mailbox->display_name, "Dirproxy");
  EXPECT_EQ(mailbox->address, "noreply@example.com");
}

TEST(Mailbox, TheNameLosesTheSpacesBeforeTheBracketAndItsQuotes) {
  const auto mailbox = parse_mailbox("\"Example Site, Inc.\"   <noreply@example.com>");

  ASSERT_TRUE(mailbox.has_value());
  EXPECT_EQ(mailbox->display_name, "Example Site, Inc.");
  EXPECT_EQ(mailbox->address, "noreply@example.com");
}

TEST(Mailbox, AnAddressInBracketsAloneHasNoName) {
  const auto mailbox = parse_mailbox("<noreply@example.com>");

  ASSERT_TRUE(mailbox.has_value());
  EXPECT_EQ(mailbox->display_name, "");
  EXPECT_EQ(mailbox->address, "noreply@example.com");
}

TEST(Mailbox, TheAddressIsNotChecked) {
  const auto mailbox = parse_mailbox("Site <a@example.com@evil.com>");

  ASSERT_TRUE(mailbox.has_value());
  EXPECT_EQ(mailbox->address, "a@example.com@evil.com");
}

TEST(Mailbox, AClosingBracketWithoutAnOpeningOneIsRefused) {
  EXPECT_EQ(parse_mailbox("noreply@example.com>"), std::nullopt);
}

TEST(Mailbox, ANameHoldingAnAngleBracketIsRefused) {
  EXPECT_EQ(parse_mailbox("a <b> <c@example.com>"), std::nullopt);
  EXPECT_EQ(parse_mailbox("a > b <c@example.com>"), std::nullopt);
}

}  // namespace
}  // namespace dirproxy::config
