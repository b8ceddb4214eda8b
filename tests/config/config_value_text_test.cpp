// What a value or a key of the file may contain: valid UTF-8 without control
// characters, and no YAML tag but !!str. Each refusal names the key and the
// position, like every other message, and never repeats the offending bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using testing::kMinimal;
using testing::load;
using testing::load_ok;

// site.name's value is at line 5, column 9.
std::vector<std::string> site_name_errors(const std::string& value) {
  return load(kMinimal + "site:\n  name: \"" + value + "\"\n").errors;
}

TEST(ValueText, InvalidUtf8IsAnErrorNamingTheKeyAndTheOffset) {
  EXPECT_THAT(site_name_errors("caf\xe9"),
              ElementsAre("dirproxy.yaml:5:9: site.name: must be valid UTF-8 (invalid byte sequence at offset 3)"));
}

TEST(ValueText, EveryKindOfMalformedUtf8IsRefused) {
  const std::pair<std::string, std::size_t> malformed[] = {
      {"\x80x", 0},             // a continuation byte with no lead
      {"ab\xe2\x82", 2},        // a sequence cut short
      {"\xc0\xaf", 0},          // an overlong encoding of '/'
      {"a\xed\xa0\x80", 1},     // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", 0},  // beyond U+10FFFF
      {"ok \xff\xfe", 3},       // bytes that never occur in UTF-8
  };
  for (const auto& [value, offset] : malformed) {
    EXPECT_THAT(site_name_errors(value),
                ElementsAre("dirproxy.yaml:5:9: site.name: must be valid UTF-8 (invalid byte sequence at offset " +
                            std::to_string(offset) + ")"))
        << "for the value at offset " << offset;
  }
}

TEST(ValueText, ValidUtf8IsKept) {
  const Config config = load_ok(kMinimal + "site:\n  name: \"Caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\"\n");
  EXPECT_EQ(config.site.name, "Caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80");
}

TEST(ValueText, InvalidUtf8InAListItemNamesTheItem) {
  EXPECT_THAT(load(kMinimal + "server:\n  admins:\n    users: [root, \"r\xffoot\"]\n").errors,
              ElementsAre("dirproxy.yaml:6:19: server.admins.users[1]: must be valid UTF-8 (invalid byte sequence "
                          "at offset 1)"));
}

TEST(ValueText, InvalidUtf8InAKeyIsAnErrorNamingTheSection) {
  // Only this error: the key is not reported again as unknown, which would
  // print the bytes.
  EXPECT_THAT(load(kMinimal + "site:\n  na\xffme: x\n").errors,
              ElementsAre("dirproxy.yaml:5:3: site: a key must be valid UTF-8 (invalid byte sequence at offset 2)"));
}

TEST(ValueText, NulInAPathIsAnErrorNamingTheKey) {
  EXPECT_THAT(load(kMinimal + "state_dir: \"/var/lib/a\\0b\"\n").errors,
              ElementsAre("dirproxy.yaml:4:12: state_dir: must not contain control characters or line breaks"));
}

TEST(ValueText, NulInASecretFilePathIsAnErrorNamingTheKey) {
  EXPECT_THAT(load(kMinimal + "mail:\n  from: a@example.com\n  password_file: \"/etc/smtp\\0.secret\"\n").errors,
              ElementsAre("dirproxy.yaml:6:18: mail.password_file: must not contain control characters or line "
                          "breaks"));
}

TEST(ValueText, EscapeInAListItemIsAnErrorNamingTheItem) {
  EXPECT_THAT(load(kMinimal + "server:\n  admins:\n    users: [\"\\e[31mroot\"]\n").errors,
              ElementsAre("dirproxy.yaml:6:13: server.admins.users[0]: must not contain control characters or line "
                          "breaks"));
}

TEST(ValueText, EveryControlCharacterIsRefusedInAnyValue) {
  // C0 (as YAML escapes), DEL, and C1: U+0085 and U+009B. (yaml-cpp turns
  // YAML's "\N" into the lone byte 0x85, which is refused as invalid UTF-8.)
  // socket_group is a setting with no rule of its own about its text.
  for (const std::string value : {"\\t", "\\r", "a\\nb", "\\x1b", "\\x7f", "\\u0085", "\\x9b"}) {
    EXPECT_THAT(load(kMinimal + "server:\n  socket_group: \"" + value + "\"\n").errors,
                ElementsAre("dirproxy.yaml:5:17: server.socket_group: must not contain control characters or line "
                            "breaks"))
        << "for " << value;
  }
}

TEST(ValueText, ControlCharacterInAKeyIsAnErrorNamingTheSection) {
  EXPECT_THAT(load(kMinimal + "site:\n  \"na\\0me\": x\n").errors,
              ElementsAre("dirproxy.yaml:5:3: site: a key must not contain control characters or line breaks"));
}

TEST(ValueTags, BinaryTagIsAnErrorNamingTheKey) {
  EXPECT_THAT(load(kMinimal + "site:\n  name: !!binary aGVsbG8=\n").errors,
              ElementsAre("dirproxy.yaml:5:9: site.name: unsupported YAML tag !!binary (only !!str is accepted)"));
}

TEST(ValueTags, LocalTagOnAMappingIsAnErrorNamingTheKey) {
  EXPECT_THAT(load(kMinimal + "server: !local\n  socket: /run/d.sock\n").errors,
              ElementsAre("dirproxy.yaml:4:9: server: unsupported YAML tag !local (only !!str is accepted)"));
}

TEST(ValueTags, TagOnAListIsAnErrorNamingTheKey) {
  EXPECT_THAT(load(kMinimal + "accounts:\n  default_groups: !!set [staff]\n").errors,
              ElementsAre("dirproxy.yaml:5:19: accounts.default_groups: unsupported YAML tag !!set (only !!str is "
                          "accepted)"));
}

TEST(ValueTags, TagOnAListItemIsAnErrorNamingTheItem) {
  EXPECT_THAT(load(kMinimal + "accounts:\n  default_groups: [staff, !!int 7]\n").errors,
              ElementsAre("dirproxy.yaml:5:27: accounts.default_groups[1]: unsupported YAML tag !!int (only !!str is "
                          "accepted)"));
}

TEST(ValueTags, VerbatimTagIsShownVerbatim) {
  EXPECT_THAT(load(kMinimal + "site:\n  name: !<tag:example.com,2024:x> Demo\n").errors,
              ElementsAre("dirproxy.yaml:5:9: site.name: unsupported YAML tag !<tag:example.com,2024:x> (only !!str "
                          "is accepted)"));
}

TEST(ValueTags, TagOnAKeyIsAnErrorNamingTheSection) {
  EXPECT_THAT(load(kMinimal + "site:\n  !!binary bmFtZQ==: x\n").errors,
              ElementsAre("dirproxy.yaml:5:3: site: a key must not have a YAML tag (found !!binary)"));
}

TEST(ValueTags, StrTagIsAccepted) {
  const Config config = load_ok(kMinimal + "server:\n  socket_mode: !!str 0640\nsite:\n  name: !!str Demo\n");
  EXPECT_EQ(config.server.socket_mode, 0640u);
  EXPECT_EQ(config.site.name, "Demo");
}

}  // namespace
}  // namespace dirproxy::config
