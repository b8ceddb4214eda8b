// Every human-readable field an operation stores or mails -- display, first
// and last names, group names and descriptions, invitation and
// access-request messages -- refuses what would change how text around it is
// shown (control characters, line and paragraph separators, bidirectional
// formatting characters) and text that is not UTF-8, with bad_request naming
// the field, and refuses a value one byte over its kind's limit. Each field
// is checked through the operation that takes it, so a field that skips the
// validation fails here.
#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "service/access_request_requests.hpp"
#include "service/directory_requests.hpp"
#include "service/invitation_requests.hpp"
#include "service/mailing_runtime.hpp"
#include "service/signup_requests.hpp"

namespace dirproxy {
namespace {

using namespace std::string_literals;

constexpr char kPassword[] = "correct horse battery";

// An operation run with `value` in the field under test; its error, if any.
using Submit = std::function<Result<void>(const OperationContext& op, const std::string& value)>;

enum class Lines { one, many };  // many: a message, where newline and tab are text

struct TextField {
  std::string test_name;
  std::string field;  // what the refusal names
  Lines lines;
  std::size_t max_bytes;
  Submit submit;
};

void PrintTo(const TextField& text_field, std::ostream* out) { *out << text_field.test_name; }

template <typename T>
Result<void> outcome(const Result<T>& result) {
  if (!result) return result.error();
  return {};
}

AddUserRequest new_user() {
  return AddUserRequest{.username = "ben",
                        .email = "ben@example.com",
                        .display_name = "Ben",
                        .first_name = std::nullopt,
                        .last_name = std::nullopt,
                        .password = kPassword,
                        .groups = {},
                        .notify = false};
}

std::vector<TextField> text_fields() {
  return {
      {"AddUserDisplayName", "display_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         auto request = new_user();
         request.display_name = value;
         return outcome(run(op, request));
       }},
      {"AddUserFirstName", "first_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         auto request = new_user();
         request.first_name = value;
         return outcome(run(op, request));
       }},
      {"AddUserLastName", "last_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         auto request = new_user();
         request.last_name = value;
         return outcome(run(op, request));
       }},
      {"UpdateUserDisplayName", "display_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         UpdateUserRequest request{.username = "alice", .changes = {}};
         request.changes.display_name = value;
         return outcome(run(op, request));
       }},
      {"UpdateUserFirstName", "first_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         UpdateUserRequest request{.username = "alice", .changes = {}};
         request.changes.first_name = value;
         return outcome(run(op, request));
       }},
      {"UpdateUserLastName", "last_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         UpdateUserRequest request{.username = "alice", .changes = {}};
         request.changes.last_name = value;
         return outcome(run(op, request));
       }},
      {"AddGroupName", "name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         return outcome(run(op, AddGroupRequest{.name = value, .description = std::nullopt}));
       }},
      {"AddGroupDescription", "description", Lines::one, 1024,
       [](const OperationContext& op, const std::string& value) {
         return outcome(run(op, AddGroupRequest{.name = "builders", .description = value}));
       }},
      {"SignupDisplayName", "display_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         return outcome(run(op, SignupRequest{.username = "ben",
                                              .email = "ben@example.com",
                                              .display_name = value,
                                              .password = kPassword,
                                              .token = std::nullopt}));
       }},
      {"RequestAccessDisplayName", "display_name", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         return outcome(
             run(op, RequestAccessRequest{.email = "ben@example.com", .display_name = value, .message = std::nullopt}));
       }},
      {"RequestAccessMessage", "message", Lines::many, 2000,
       [](const OperationContext& op, const std::string& value) {
         return outcome(
             run(op, RequestAccessRequest{.email = "ben@example.com", .display_name = "Ben", .message = value}));
       }},
      {"ApproveAccessRequestGroups", "groups", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) -> Result<void> {
         RETURN_IF_ERROR(
             run(op, RequestAccessRequest{.email = "ben@example.com", .display_name = "Ben", .message = std::nullopt}));
         auto requests = run(op, ListAccessRequestsRequest{});
         RETURN_IF_ERROR(requests);
         return outcome(run(op, ApproveAccessRequestRequest{.request_id = requests->back().id, .groups = {value}}));
       }},
      {"SendInvitationsMessage", "message", Lines::many, 2000,
       [](const OperationContext& op, const std::string& value) {
         return outcome(run(op, SendInvitationsRequest{.emails = {"ben@example.com"}, .message = value}));
       }},
      {"CreateInvitationGroups", "groups", Lines::one, 256,
       [](const OperationContext& op, const std::string& value) {
         return outcome(
             run(op, CreateInvitationRequest{.email = std::nullopt, .groups = {value}, .ttl_s = std::nullopt}));
       }},
  };
}

// What no human-readable field may hold, each as it would arrive: inside
// ordinary text. The names say which character it is.
struct UnsafeText {
  const char* name;
  std::string bytes;
};

std::vector<UnsafeText> unsafe_in_every_field() {
  return {
      {"NUL", "\0"s},
      {"CR", "\r"},
      {"ESC", "\x1b[2J"},
      {"DEL", "\x7f"},
      {"U+0080", "\xc2\x80"},
      {"U+0085 next line", "\xc2\x85"},
      {"U+009F", "\xc2\x9f"},
      {"U+2028 line separator", "\xe2\x80\xa8"},
      {"U+2029 paragraph separator", "\xe2\x80\xa9"},
      {"U+202A", "\xe2\x80\xaa"},
      {"U+202E right-to-left override", "\xe2\x80\xae"},
      {"U+2066", "\xe2\x81\xa6"},
      {"U+2069", "\xe2\x81\xa9"},
      {"U+200E", "\xe2\x80\x8e"},
      {"U+200F", "\xe2\x80\x8f"},
      {"U+061C", "\xd8\x9c"},
      {"a byte that starts nothing", "\xff"},
      {"an overlong '/'", "\xc0\xaf"},
      {"a surrogate", "\xed\xa0\x80"},
      {"beyond U+10FFFF", "\xf4\x90\x80\x80"},
      {"a sequence cut short", "\xc3"},
  };
}

class ReadableTextField : public testing::MailingRuntime, public ::testing::WithParamInterface<TextField> {
 protected:
  ReadableTextField() {
    config_->signup.mode = config::SignupMode::open;
    config_->access_requests.enabled = true;
    // Every refusal of signup and request_access counts against the rate limit.
    config_->security.rate_limit.requests = 1000;
    directory_->put_user(User{"alice", "alice@example.com", "Alice", {}, {}, true, ""}, kPassword);
    directory_->put_group("staff", {"alice"});
    caller_.admin = true;
  }

  Result<void> submit(const std::string& value) { return GetParam().submit(context(), value); }

  void expect_refused(const std::string& value, const std::string& what) {
    auto refused = submit(value);
    ASSERT_FALSE(refused) << what << " was accepted";
    EXPECT_EQ(refused.error().code, ErrorCode::bad_request) << what << ": " << refused.error().message;
    EXPECT_EQ(refused.error().field, GetParam().field) << what << ": " << refused.error().message;
    EXPECT_EQ(refused.error().message.rfind("'" + GetParam().field + "' ", 0), 0u) << refused.error().message;
  }
};

TEST_P(ReadableTextField, RefusesControlSeparatorAndBidiCharactersAndBrokenUtf8) {
  for (const auto& unsafe : unsafe_in_every_field()) {
    expect_refused("Ben" + unsafe.bytes + "son", unsafe.name);
  }
}

TEST_P(ReadableTextField, TakesNewlineAndTabOnlyInAMessage) {
  for (const std::string& layout : {"\n"s, "\t"s, "\r\n"s}) {
    const std::string value = "first line" + layout + "second line";
    const bool is_text = GetParam().lines == Lines::many && layout != "\r\n";
    if (is_text) {
      auto accepted = submit(value);
      EXPECT_TRUE(accepted) << accepted.error().message;
    } else {
      expect_refused(value, "a layout character");
    }
  }
}

TEST_P(ReadableTextField, TakesTheLongestValueItsKindAllows) {
  // "é" is two bytes: the limit is in bytes.
  const std::string longest = std::string(GetParam().max_bytes - 2, 'x') + "\xc3\xa9";

  auto accepted = submit(longest);

  EXPECT_TRUE(accepted) << accepted.error().message;
}

TEST_P(ReadableTextField, RefusesOneByteMoreThanItsKindAllows) {
  const std::string too_long(GetParam().max_bytes + 1, 'x');

  auto refused = submit(too_long);

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::bad_request);
  EXPECT_EQ(refused.error().field, GetParam().field);
  EXPECT_EQ(refused.error().message,
            "'" + GetParam().field + "' is longer than " + std::to_string(GetParam().max_bytes) + " bytes");
}

TEST_P(ReadableTextField, TakesLettersOfAnyScript) {
  auto accepted = submit("Zo\xc3\xab \xc3\x85gren \xe6\x9d\x8e \xd8\xb9\xd9\x84\xd9\x8a");  // Zoë Ågren 李 علي

  EXPECT_TRUE(accepted) << accepted.error().message;
}

INSTANTIATE_TEST_SUITE_P(EveryField, ReadableTextField, ::testing::ValuesIn(text_fields()),
                         [](const ::testing::TestParamInfo<TextField>& info) { return info.param.test_name; });

}  // namespace
}  // namespace dirproxy
