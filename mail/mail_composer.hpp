// Turns a template (config/mail_template.hpp: the built-in text, or the
// override from mail.templates_dir) and the values of one occasion into a
// complete RFC 5322 message: From (mail.from), To, Subject (RFC 2047 encoded
// when not ASCII), Date, Message-ID, MIME-Version, and a UTF-8 text/plain
// body with a transfer encoding (quoted-printable). Placeholders are replaced
// once, in one pass, so a value containing "{{link}}" is never expanded.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "mail/outbox.hpp"

namespace dirproxy {

// The values of the placeholders; site_name comes from the configuration.
// An empty value replaces its placeholder with nothing.
struct MailValues {
  std::string link;
  std::string username;
  std::string display_name;
  std::string email;
  std::string message;
  std::string expires;  // RFC 3339, UTC
};

class MailComposer final {
 public:
  // Built once per configuration; takes the built-in templates and the
  // overrides in `mail.templates` (already validated by the loader).
  MailComposer(const config::Site& site, const config::Mail& mail);

  // The message of template `template_name` (one of
  // config::kMailTemplateNames) to `recipient` (a parsed address), dated
  // `now` (Unix seconds, from the caller's Clock). internal_error only for
  // an unknown template name (a bug).
  Result<OutgoingMail> compose(std::string_view template_name, const std::string& recipient, const MailValues& values,
                               std::int64_t now) const;

  // compose() as of `now` (the Date header), so tests can check every byte
  // but the random Message-ID.
  Result<OutgoingMail> compose_at(std::string_view template_name, const std::string& recipient,
                                  const MailValues& values, std::chrono::system_clock::time_point now) const;

 private:
  std::string site_name_;
  std::string from_address_;  // the address inside mail.from: Message-ID's domain
  std::string from_header_;   // the From header's value
  // One per template name: the override or the parsed built-in text.
  std::vector<config::TemplateOverride> templates_;
};

using MailComposerPtr = std::shared_ptr<const MailComposer>;

}  // namespace dirproxy
