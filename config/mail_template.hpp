// Email templates: the messages dirproxy sends, the placeholders their text
// may use, and the one format every template is written in, whether built in
// or an override from mail.templates_dir:
//
//   Subject: Your invitation to {{site_name}}
//   <blank line>
//   the body, any number of lines, with {{link}} and the other placeholders
//
// The configuration loader checks the overrides with it at load time, so that
// a typo never silently falls back to the built-in text; the mail code parses
// its built-in templates with the same function, so both obey one rule.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace dirproxy::config {

// Every template, by name; an override of NAME is the file NAME.txt.
inline constexpr std::array<std::string_view, 6> kMailTemplateNames = {
    "signup_confirm", "invitation", "new_user", "password_reset", "admin_new_account", "access_request"};

// The placeholders a template may use, each written {{name}}, spelt exactly so.
inline constexpr std::array<std::string_view, 7> kMailTemplatePlaceholders = {
    "site_name", "link", "username", "display_name", "email", "message", "expires"};

struct MailTemplate {
  std::string subject;  // without "Subject: "
  std::string body;     // every line ends in "\n"
};

// Something wrong with a template text, at `line` (counted from 1).
struct MailTemplateProblem {
  std::size_t line;
  std::string message;  // e.g. "the second line must be blank"
};

// A template, or every problem of its text.
struct MailTemplateParse {
  std::optional<MailTemplate> mail_template;  // set when problems is empty
  std::vector<MailTemplateProblem> problems;  // in the order found

  explicit operator bool() const { return mail_template.has_value(); }
};

// Parses a template text: "Subject: ..." (not empty), a blank line, the body.
// CRLF line ends are accepted. An unknown or unclosed placeholder is a
// problem on the line it stands in.
MailTemplateParse parse_mail_template(std::string_view text);

// The overrides found in a templates_dir.
struct MailTemplateOverrides {
  std::vector<TemplateOverride> templates;  // the valid ones, by file name
  // "FILE:LINE: message", "FILE: message", or a message about the directory
  // itself; empty when every file is a valid override.
  std::vector<std::string> errors;
};

// Reads every NAME.txt of `dir`. Other files (a README, an editor's backup)
// are left alone, but a .txt file whose name is not a template is an error:
// it is most likely a misspelt override.
MailTemplateOverrides read_mail_template_overrides(const std::filesystem::path& dir);

}  // namespace dirproxy::config
