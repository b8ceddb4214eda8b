// dirproxyctl prints nothing from the daemon raw: every value goes through
// terminal_safe, which escapes the characters a terminal acts on, and
// --json output escapes everything beyond printable ASCII.
#include "ctl/output.hpp"

#include <string>

#include <gtest/gtest.h>

namespace dirproxy::ctl {
namespace {

using namespace std::string_literals;

TEST(TerminalSafe, KeepsPrintableTextOfAnyScriptAsItIs) {
  const std::string text = "Zo\xc3\xab \xc3\x85gren \xe6\x9d\x8e \xf0\x9f\x99\x82 a\\b \"q\"";

  EXPECT_EQ(terminal_safe(text), text);
}

TEST(TerminalSafe, EscapesControlCharactersAsUnicodeEscapes) {
  EXPECT_EQ(terminal_safe("a\x1b[2Jb"), "a\\u001b[2Jb");
  EXPECT_EQ(terminal_safe("a\rb\nc\td"), "a\\u000db\\u000ac\\u0009d");
  EXPECT_EQ(terminal_safe("a\0b"s), "a\\u0000b");
  EXPECT_EQ(terminal_safe("a\x7f"
                          "b"),
            "a\\u007fb");
  EXPECT_EQ(terminal_safe("a\xc2\x85"
                          "b\xc2\x9b"
                          "c"),
            "a\\u0085b\\u009bc");
}

TEST(TerminalSafe, EscapesSeparatorsAndBidirectionalFormattingCharacters) {
  EXPECT_EQ(terminal_safe("a\xe2\x80\xa8"
                          "b\xe2\x80\xa9"
                          "c"),
            "a\\u2028b\\u2029c");
  EXPECT_EQ(terminal_safe("gpj.\xe2\x80\xae"
                          "exe"),
            "gpj.\\u202eexe");
  EXPECT_EQ(terminal_safe("\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"),
            "\\u2066\\u2069\\u200e\\u200f\\u061c");
}

TEST(TerminalSafe, EscapesEachByteThatIsNotUtf8) {
  EXPECT_EQ(terminal_safe("a\xff"
                          "b"),
            "a\\xffb");
  EXPECT_EQ(terminal_safe("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(terminal_safe("ab\xc3"), "ab\\xc3");
}

TEST(DisplayValue, EscapesStringsListsAndObjects) {
  EXPECT_EQ(display_value(Json("Al\x1b[2Jice")), "Al\\u001b[2Jice");
  EXPECT_EQ(display_value(Json::array({"a\xe2\x80\xae", "b"})), "a\\u202e, b");
  EXPECT_EQ(display_value(Json{{"k", "v\xc2\x85"}}), "{\"k\":\"v\\u0085\"}");
}

TEST(FormatUser, PrintsEveryStoredNameEscaped) {
  const Json user = {{"username", "alice"},
                     {"email", "alice@example.com"},
                     {"display_name", "A\nB"},
                     {"first_name", "Al\x1b[2Jice"},
                     {"last_name",
                      "Lid\xe2\x80\xae"
                      "dell"},
                     {"active", true},
                     {"directory", "internal"}};

  EXPECT_EQ(format_user(user),
            "username:     alice\n"
            "email:        alice@example.com\n"
            "display name: A\\u000aB\n"
            "first name:   Al\\u001b[2Jice\n"
            "last name:    Lid\\u202edell\n"
            "active:       true\n"
            "directory:    internal\n");
}

TEST(FormatApplicationTable, SaysEveryoneForNoAccessGroupsAndNoForNoLdapSection) {
  const Json applications = Json::array(
      {{{"name", "grafana"},
        {"access_groups", {"grafana-users", "ops"}},
        {"socket_users", {"grafana"}},
        {"ldap", nullptr},
        {"admitted_users", 2}},
       {{"name", "wiki"},
        {"access_groups", Json::array()},
        {"socket_users", Json::array()},
        {"ldap", {{"base_dn", "dc=wiki,dc=example,dc=com"}, {"may_write", true}}},
        {"admitted_users", 10}}});

  EXPECT_EQ(format_application_table(applications),
            "NAME     ACCESS GROUPS       SOCKET USERS  LDAP  BASE DN                    MAY WRITE  USERS\n"
            "grafana  grafana-users, ops  grafana       no    -                          -          2\n"
            "wiki     everyone            -             yes   dc=wiki,dc=example,dc=com  true       10\n");
}

TEST(FormatUserAccess, ListsGroupsAndApplicationsWithADashForNone) {
  EXPECT_EQ(format_user_access({{"username", "carol"}, {"groups", {"staff"}}, {"applications", Json::array()}}),
            "username:     carol\n"
            "groups:       staff\n"
            "applications: -\n");
}

TEST(FormatJson, IsTheSameJsonWithNothingBeyondPrintableAscii) {
  const Json result = {{"user",
                        {{"first_name", "Al\x1b[2Jice"},
                         {"last_name",
                          "Lid\xe2\x80\xae"
                          "dell"},
                         {"display_name", "Zo\xc3\xab\x7f"}}}};

  const std::string printed = format_json(result);

  for (char c : printed) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_TRUE(c == '\n' || (byte >= 0x20 && byte < 0x7f)) << "byte " << static_cast<int>(byte);
  }
  EXPECT_EQ(Json::parse(printed), result);
  EXPECT_NE(printed.find("\"Lid\\u202edell\""), std::string::npos) << printed;
}

}  // namespace
}  // namespace dirproxy::ctl
