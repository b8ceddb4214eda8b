#include "mail/mail_composer.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "config/mail_template.hpp"
#include "config/mailbox.hpp"
#include "mail/builtin_mail_templates.hpp"
#include "mail/mail_encoding.hpp"

namespace dirproxy {
namespace {

// The value of placeholder `name`, or nullopt for a name that is not one.
std::optional<std::string_view> placeholder_value(std::string_view name, const std::string& site_name,
                                                  const MailValues& values) {
  if (name == "site_name") return site_name;
  if (name == "link") return values.link;
  if (name == "username") return values.username;
  if (name == "display_name") return values.display_name;
  if (name == "email") return values.email;
  if (name == "message") return values.message;
  if (name == "expires") return values.expires;
  return std::nullopt;
}

struct Substitution {
  std::string text;
  bool had_placeholders = false;
  bool all_placeholders_empty = true;
};

// One pass over `text`: each {{name}} is replaced by its value, and the
// values are never scanned again, so a value holding "{{link}}" stays as it
// is. Templates were checked at parse time; an unknown name is kept
// verbatim rather than guessed at.
Substitution substitute(std::string_view text, const std::string& site_name, const MailValues& values) {
  Substitution result;
  std::size_t position = 0;
  while (position < text.size()) {
    const std::size_t open = text.find("{{", position);
    const std::size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      result.text.append(text.substr(position));
      break;
    }
    result.text.append(text.substr(position, open - position));
    const std::string_view name = text.substr(open + 2, close - open - 2);
    if (auto value = placeholder_value(name, site_name, values)) {
      result.text.append(*value);
      result.had_placeholders = true;
      if (!value->empty()) result.all_placeholders_empty = false;
    } else {
      result.text.append(text.substr(open, close + 2 - open));
    }
    position = close + 2;
  }
  return result;
}

// A body line whose placeholders are all empty (an invitation without a
// personal message, a link without an expiry) is left out, with the blank
// line that would follow it, so that no half sentence or empty paragraph
// remains.
std::string substitute_body(std::string_view body, const std::string& site_name, const MailValues& values) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < body.size();) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    lines.push_back(body.substr(start, end - start));
    start = end + 1;
  }
  std::string out;
  bool last_kept_blank = true;  // the start of the body counts as a paragraph break
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Substitution line = substitute(lines[i], site_name, values);
    if (line.had_placeholders && line.all_placeholders_empty) {
      if (last_kept_blank && i + 1 < lines.size() && lines[i + 1].empty()) ++i;
      continue;
    }
    // A value's own line breaks (a user's message) stay line breaks in the
    // body, as "\n" whatever the user sent.
    std::string text;
    for (std::size_t c = 0; c < line.text.size(); ++c) {
      if (line.text[c] == '\r' && c + 1 < line.text.size() && line.text[c + 1] == '\n') continue;
      text += line.text[c] == '\r' ? '\n' : line.text[c];
    }
    out += text + "\n";
    last_kept_blank = lines[i].empty();
  }
  while (out.ends_with("\n\n")) out.pop_back();
  return out;
}

std::string message_id(const std::string& from_address) {
  unsigned char random[16];
  randombytes_buf(random, sizeof random);
  char hex[sizeof random * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, random, sizeof random);
  const std::string domain = from_address.substr(from_address.rfind('@') + 1);
  return "<" + std::string(hex) + "@" + domain + ">";
}

}  // namespace

MailComposer::MailComposer(const config::Site& site, const config::Mail& mail) : site_name_(site.name) {
  // randombytes_buf (Message-ID) needs it; idempotent and thread-safe.
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  // The loader refused a mail.from that parse_mailbox cannot take apart.
  const config::Mailbox from = config::parse_mailbox(mail.from).value_or(config::Mailbox{{}, mail.from});
  from_address_ = from.address;
  from_header_ = from.display_name.empty()
                     ? from.address
                     : mail_encoding::display_name_phrase(from.display_name) + " <" + from.address + ">";
  for (std::string_view name : config::kMailTemplateNames) {
    auto override_of = std::find_if(mail.templates.begin(), mail.templates.end(),
                                    [&](const config::TemplateOverride& o) { return o.name == name; });
    if (override_of != mail.templates.end()) {
      templates_.push_back({std::string(name), override_of->subject, override_of->body});
      continue;
    }
    // The built-in texts are part of this binary; the unit tests parse every
    // one, so value() cannot fail in a tested build.
    config::MailTemplateParse parse = config::parse_mail_template(builtin_mail_template(name));
    templates_.push_back({std::string(name), parse.mail_template.value().subject, parse.mail_template->body});
  }
}

Result<OutgoingMail> MailComposer::compose(std::string_view template_name, const std::string& recipient,
                                           const MailValues& values, std::int64_t now) const {
  return compose_at(template_name, recipient, values, std::chrono::system_clock::time_point(std::chrono::seconds(now)));
}

Result<OutgoingMail> MailComposer::compose_at(std::string_view template_name, const std::string& recipient,
                                              const MailValues& values,
                                              std::chrono::system_clock::time_point now) const {
  auto found = std::find_if(templates_.begin(), templates_.end(),
                            [&](const config::TemplateOverride& t) { return t.name == template_name; });
  if (found == templates_.end()) {
    return make_error(ErrorCode::internal_error, "no mail template '" + std::string(template_name) + "'");
  }
  const std::string subject = substitute(found->subject, site_name_, values).text;
  const std::string body = substitute_body(found->body, site_name_, values);

  std::string message;
  message += "From: " + from_header_ + "\r\n";
  message += "To: " + mail_encoding::single_line(recipient) + "\r\n";
  message += "Subject: " + mail_encoding::unstructured_header("Subject", subject) + "\r\n";
  message += "Date: " + mail_encoding::rfc5322_date(now) + "\r\n";
  message += "Message-ID: " + message_id(from_address_) + "\r\n";
  message += "MIME-Version: 1.0\r\n";
  message += "Content-Type: text/plain; charset=UTF-8\r\n";
  message += "Content-Transfer-Encoding: quoted-printable\r\n";
  message += "\r\n";
  message += mail_encoding::quoted_printable(body);
  return OutgoingMail{std::string(template_name), recipient, std::move(message)};
}

}  // namespace dirproxy
