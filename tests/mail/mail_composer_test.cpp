// MailComposer: templates (built in and overridden), one-pass placeholder
// substitution and the exact RFC 5322 message it produces.
#include "mail/mail_composer.hpp"

#include <regex>

#include <gtest/gtest.h>

#include "config/mail_template.hpp"
#include "mail/builtin_mail_templates.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

const auto kNow = std::chrono::sys_days{std::chrono::December / 1 / 2026} + 3h + 2min + 7s;

config::Mail mail_config(std::vector<config::TemplateOverride> templates = {}) {
  config::Mail mail;
  mail.from = "Example Site <noreply@mail.example.com>";
  mail.templates = std::move(templates);
  return mail;
}

config::Site site() {
  config::Site site;
  site.name = "Example";
  return site;
}

// The message's headers (up to the blank line) and body, each as text.
struct Split {
  std::string headers;
  std::string body;
};

Split split(const std::string& message) {
  const std::size_t blank = message.find("\r\n\r\n");
  return {message.substr(0, blank + 2), message.substr(blank + 4)};
}

// The headers without the Message-ID line (random), which is returned apart.
std::string without_message_id(std::string headers, std::string& message_id) {
  const std::size_t start = headers.find("Message-ID: ");
  const std::size_t end = headers.find("\r\n", start);
  message_id = headers.substr(start + 12, end - start - 12);
  headers.erase(start, end + 2 - start);
  return headers;
}

TEST(MailComposer, EveryBuiltInTemplateParses) {
  for (std::string_view name : config::kMailTemplateNames) {
    const config::MailTemplateParse parse = config::parse_mail_template(builtin_mail_template(name));
    EXPECT_TRUE(parse) << name << ": " << (parse.problems.empty() ? "" : parse.problems[0].message);
  }
}

TEST(MailComposer, ComposesExactHeadersAndQuotedPrintableBody) {
  const MailComposer composer(site(), mail_config({{"password_reset", "Reset for {{username}}",
                                                    "Hi {{display_name}},\nopen {{link}}\nuntil {{expires}}.\n"}}));
  MailValues values;
  values.username = "alice";
  values.display_name = "Alice";
  values.link = "https://example.com/reset?token=abc=def";
  values.expires = "2026-12-02T03:02:07Z";

  auto mail = composer.compose_at("password_reset", "alice@example.com", values, kNow);

  ASSERT_TRUE(mail) << mail.error().message;
  EXPECT_EQ(mail->template_name, "password_reset");
  EXPECT_EQ(mail->recipient, "alice@example.com");
  const Split parts = split(mail->message);
  std::string message_id;
  EXPECT_EQ(without_message_id(parts.headers, message_id),
            "From: Example Site <noreply@mail.example.com>\r\n"
            "To: alice@example.com\r\n"
            "Subject: Reset for alice\r\n"
            "Date: Tue, 01 Dec 2026 03:02:07 +0000\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n");
  EXPECT_TRUE(std::regex_match(message_id, std::regex("<[0-9a-f]{32}@mail\\.example\\.com>"))) << message_id;
  EXPECT_EQ(parts.body,
            "Hi Alice,\r\n"
            "open https://example.com/reset?token=3Dabc=3Ddef\r\n"
            "until 2026-12-02T03:02:07Z.\r\n");
}

TEST(MailComposer, MessageIdsAreUnique) {
  const MailComposer composer(site(), mail_config());
  auto first = composer.compose("new_user", "a@example.com", {}, 1767225600);
  auto second = composer.compose("new_user", "a@example.com", {}, 1767225600);
  ASSERT_TRUE(first && second);
  std::string first_id, second_id;
  without_message_id(split(first->message).headers, first_id);
  without_message_id(split(second->message).headers, second_id);
  EXPECT_NE(first_id, second_id);
}

TEST(MailComposer, NonAsciiSubjectIsRfc2047Encoded) {
  const MailComposer composer(site(), mail_config({{"invitation", "Willkommen, {{display_name}}", "x\n"}}));
  MailValues values;
  values.display_name = "Jürgen";

  auto mail = composer.compose_at("invitation", "j@example.com", values, kNow);

  ASSERT_TRUE(mail);
  // "Willkommen, Jürgen" in UTF-8, base64.
  EXPECT_NE(mail->message.find("\r\nSubject: =?UTF-8?B?V2lsbGtvbW1lbiwgSsO8cmdlbg==?=\r\n"), std::string::npos)
      << mail->message;
}

TEST(MailComposer, BodyWithNonAsciiAndLongLinesIsQuotedPrintable) {
  const std::string long_link = "https://example.com/" + std::string(100, 'x');
  const MailComposer composer(site(), mail_config({{"new_user", "Hi", "Grüße {{display_name}}\n{{link}}\n"}}));
  MailValues values;
  values.display_name = "Zoë";
  values.link = long_link;

  auto mail = composer.compose_at("new_user", "z@example.com", values, kNow);

  ASSERT_TRUE(mail);
  EXPECT_EQ(split(mail->message).body,
            "Gr=C3=BC=C3=9Fe Zo=C3=AB\r\n"
            "https://example.com/" +
                std::string(55, 'x') + "=\r\n" + std::string(45, 'x') + "\r\n");
}

TEST(MailComposer, OverrideReplacesBuiltInText) {
  const MailComposer composer(site(), mail_config({{"invitation", "Join {{site_name}} now", "Go: {{link}}\n"}}));
  MailValues values;
  values.link = "https://example.com/j";

  auto mail = composer.compose_at("invitation", "x@example.com", values, kNow);

  ASSERT_TRUE(mail);
  EXPECT_NE(mail->message.find("\r\nSubject: Join Example now\r\n"), std::string::npos);
  EXPECT_EQ(split(mail->message).body, "Go: https://example.com/j\r\n");
}

TEST(MailComposer, BuiltInTemplateIsUsedWithoutOverride) {
  const MailComposer composer(site(), mail_config());
  MailValues values;
  values.link = "https://example.com/j";
  values.expires = "2026-12-08T00:00:00Z";

  auto mail = composer.compose_at("invitation", "x@example.com", values, kNow);

  ASSERT_TRUE(mail);
  EXPECT_NE(mail->message.find("\r\nSubject: You are invited to join Example\r\n"), std::string::npos);
  EXPECT_EQ(split(mail->message).body,
            "Hello,\r\n\r\n"
            "You are invited to join Example. To create your account, open this\r\n"
            "link:\r\n\r\n"
            "https://example.com/j\r\n\r\n"
            "The link expires at 2026-12-08T00:00:00Z.\r\n\r\n"
            "If you do not know why you received this invitation, ignore this message.\r\n");
}

TEST(MailComposer, LineWhosePlaceholdersAreAllEmptyIsLeftOut) {
  const MailComposer composer(
      site(),
      mail_config({{"invitation", "Hi", "Start\n\n{{message}}\n\nLink {{link}}\nExpires {{expires}}.\nEnd\n"}}));
  MailValues values;
  values.link = "L";

  auto mail = composer.compose_at("invitation", "x@example.com", values, kNow);

  ASSERT_TRUE(mail);
  EXPECT_EQ(split(mail->message).body, "Start\r\n\r\nLink L\r\nEnd\r\n");
}

TEST(MailComposer, ValueHoldingAPlaceholderIsNotExpanded) {
  const MailComposer composer(site(),
                              mail_config({{"access_request", "From {{display_name}}", "{{message}} / {{link}}\n"}}));
  MailValues values;
  values.display_name = "{{link}}";
  values.message = "see {{link}} and {{site_name}}";
  values.link = "L";

  auto mail = composer.compose_at("access_request", "admin@example.com", values, kNow);

  ASSERT_TRUE(mail);
  EXPECT_NE(mail->message.find("\r\nSubject: From {{link}}\r\n"), std::string::npos);
  EXPECT_EQ(split(mail->message).body, "see {{link}} and {{site_name}} / L\r\n");
}

TEST(MailComposer, LineBreakInADisplayNameCannotInjectAHeader) {
  const MailComposer composer(site(), mail_config());
  MailValues values;
  values.display_name = "M\r\nBcc: v@x.io\n";
  values.email = "m@example.com";
  values.message = "please";

  auto mail = composer.compose_at("access_request", "admin@example.com", values, kNow);

  ASSERT_TRUE(mail);
  const Split parts = split(mail->message);
  EXPECT_EQ(parts.headers.find("\r\nBcc:"), std::string::npos) << parts.headers;
  EXPECT_NE(parts.headers.find("\r\nSubject: Access request from M  Bcc: v@x.io  at Example\r\n"), std::string::npos)
      << parts.headers;
}

TEST(MailComposer, LineBreaksInAMessageStayInTheBody) {
  const MailComposer composer(site(), mail_config({{"access_request", "Hi", "> {{message}}\n"}}));
  MailValues values;
  values.message = "one\r\ntwo\rthree";

  auto mail = composer.compose_at("access_request", "admin@example.com", values, kNow);

  ASSERT_TRUE(mail);
  EXPECT_EQ(split(mail->message).body, "> one\r\ntwo\r\nthree\r\n");
}

TEST(MailComposer, FromWithoutDisplayNameIsTheAddress) {
  config::Mail mail = mail_config();
  mail.from = "noreply@example.com";
  const MailComposer composer(site(), mail);

  auto composed = composer.compose_at("new_user", "a@example.com", {}, kNow);

  ASSERT_TRUE(composed);
  EXPECT_TRUE(composed->message.starts_with("From: noreply@example.com\r\nTo: a@example.com\r\n"));
}

TEST(MailComposer, FromWithAQuotedDisplayNameIsQuotedOnceAndTheIdUsesTheAddressDomain) {
  config::Mail mail = mail_config();
  mail.from = "\"Example Site, Inc.\"  <noreply@example.org>";
  const MailComposer composer(site(), mail);

  auto composed = composer.compose_at("new_user", "a@example.com", {}, kNow);

  ASSERT_TRUE(composed);
  EXPECT_TRUE(composed->message.starts_with("From: \"Example Site, Inc.\" <noreply@example.org>\r\n"))
      << composed->message;
  EXPECT_TRUE(std::regex_search(composed->message, std::regex("\r\nMessage-ID: <[0-9a-f]{32}@example\\.org>\r\n")))
      << composed->message;
}

TEST(MailComposer, UnknownTemplateIsAnInternalError) {
  const MailComposer composer(site(), mail_config());

  auto mail = composer.compose("welcome", "a@example.com", {}, 1767225600);

  ASSERT_FALSE(mail);
  EXPECT_EQ(mail.error().code, ErrorCode::internal_error);
}

}  // namespace
}  // namespace dirproxy
