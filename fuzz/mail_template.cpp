// Fuzz target mail_template: a mail template's text (config/mail_template.hpp,
// as an override in mail.templates_dir) and the values that fill it, some of
// which come from clients (a display name, a username, an invitation's
// message), through the composer (mail/mail_composer.hpp) to the message the
// outbox stores and the SMTP client sends.
//
// Input: "TEMPLATE\0DISPLAY_NAME\0USERNAME\0MESSAGE\0FROM" (fuzz_input.hpp's
// fields); FROM is mail.from, used when the loader would accept it.
//
// Properties checked besides "no crash": every line of the message ends in
// CRLF and has at most 998 octets; the header is exactly the composer's eight
// fields, in ASCII, so that no value can add a header or end the header
// early; the quoted-printable body's lines have at most 76 characters.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/email_address.hpp"
#include "config/mail_template.hpp"
#include "config/mailbox.hpp"
#include "fuzz/fuzz_input.hpp"
#include "mail/mail_composer.hpp"

namespace {

using dirproxy::fuzz::require;
namespace config = dirproxy::config;

// mail.from as the loader accepts it; otherwise a fixed sender.
std::string sender(std::string_view from) {
  auto mailbox = config::parse_mailbox(from);
  if (mailbox && config::parse_email_address(mailbox->address)) return std::string(from);
  return "Example Site <noreply@example.com>";
}

void check_message(const std::string& message) {
  std::size_t header_fields = 0;
  bool in_header = true;
  std::size_t start = 0;
  while (start < message.size()) {
    const std::size_t end = message.find("\r\n", start);
    require(end != std::string::npos, "the message ends in CRLF");
    const std::string_view line(message.data() + start, end - start);
    require(line.find('\n') == std::string_view::npos && line.find('\r') == std::string_view::npos,
            "no bare CR or LF in the message");
    require(line.size() <= 998, "a line of the message has at most 998 octets", line);
    if (in_header) {
      if (line.empty()) {
        in_header = false;
      } else if (line.front() != ' ' && line.front() != '\t') {
        ++header_fields;
      }
      for (char c : line) require(static_cast<unsigned char>(c) < 0x80, "the header is ASCII");
    } else {
      require(line.size() <= 76, "a quoted-printable line has at most 76 characters", line);
    }
    start = end + 2;
  }
  require(!in_header, "the message has a body");
  require(header_fields == 8, "the header has exactly the composer's fields", message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = dirproxy::fuzz::fields(data, size, 5);
  const config::MailTemplateParse parse = config::parse_mail_template(input[0]);
  require(parse.mail_template.has_value() == parse.problems.empty(), "a template parses or says why not");
  if (!parse) return 0;

  config::Site site;
  site.name = "Example Site";
  config::Mail mail;
  mail.from = sender(input[4]);
  mail.templates.push_back({"invitation", parse.mail_template->subject, parse.mail_template->body});
  const dirproxy::MailComposer composer(site, mail);

  dirproxy::MailValues values;
  values.link = "https://example.com/signup?token=abc";
  values.display_name = std::string(input[1]);
  values.username = std::string(input[2]);
  values.message = std::string(input[3]);
  values.email = "alice@example.com";
  values.expires = "2026-01-01T00:00:00Z";
  auto composed = composer.compose_at("invitation", "alice@example.com", values,
                                      std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)));
  require(composed.has_value(), "a known template composes");
  check_message(composed->message);
  return 0;
}
