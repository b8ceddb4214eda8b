#include "config/mail_template.hpp"

#include <algorithm>
#include <sstream>
#include <system_error>
#include <utility>

#include "config/text_file.hpp"

namespace dirproxy::config {

namespace {

namespace fs = std::filesystem;

template <std::size_t N>
std::string joined(const std::array<std::string_view, N>& words, std::string_view before = "",
                   std::string_view after = "") {
  std::string out;
  for (std::string_view word : words) {
    out += (out.empty() ? "" : ", ") + std::string(before) + std::string(word) + std::string(after);
  }
  return out;
}

// What is wrong with the placeholders of one template line, or empty. Only
// the exact spellings count: "{{ link }}" would be sent as is, so it is an
// error like any other unknown placeholder.
std::string placeholder_problem(std::string_view line) {
  std::size_t open = 0;
  while ((open = line.find("{{", open)) != std::string_view::npos) {
    const std::size_t close = line.find("}}", open + 2);
    if (close == std::string_view::npos) return "'{{' without a closing '}}'";
    const std::string_view name = line.substr(open + 2, close - open - 2);
    if (std::find(kMailTemplatePlaceholders.begin(), kMailTemplatePlaceholders.end(), name) ==
        kMailTemplatePlaceholders.end()) {
      return "unknown placeholder {{" + std::string(name) +
             "}} (known: " + joined(kMailTemplatePlaceholders, "{{", "}}") + ")";
    }
    open = close + 2;
  }
  return {};
}

}  // namespace

MailTemplateParse parse_mail_template(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  MailTemplateParse parse;
  auto problem = [&](std::size_t line_number, std::string message) {
    parse.problems.push_back({line_number, std::move(message)});
  };

  constexpr std::string_view kSubject = "Subject:";
  if (lines.empty() || !lines[0].starts_with(kSubject)) {
    problem(1, "the first line must be 'Subject: ...'");
    return parse;
  }
  MailTemplate result;
  result.subject = lines[0].substr(kSubject.size());
  result.subject.erase(0, result.subject.find_first_not_of(' '));
  if (result.subject.empty()) problem(1, "the subject is empty");
  if (lines.size() < 2 || !lines[1].empty()) problem(2, "the second line must be blank");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (std::string message = placeholder_problem(lines[i]); !message.empty()) problem(i + 1, message);
    if (i >= 2) result.body += lines[i] + "\n";
  }
  if (parse.problems.empty()) parse.mail_template = std::move(result);
  return parse;
}

MailTemplateOverrides read_mail_template_overrides(const fs::path& dir) {
  MailTemplateOverrides overrides;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    overrides.errors.push_back("not a readable directory: " + dir.string());
    return overrides;
  }
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    files.push_back(it->path());
  }
  if (ec) {
    overrides.errors.push_back("cannot read " + dir.string() + ": " + ec.message());
    return overrides;
  }
  std::sort(files.begin(), files.end());

  for (const fs::path& file : files) {
    if (file.extension() != ".txt") continue;
    const std::string file_name = file.filename().string();
    const std::string name = file.stem().string();
    if (std::find(kMailTemplateNames.begin(), kMailTemplateNames.end(), name) == kMailTemplateNames.end()) {
      overrides.errors.push_back(file_name + ": not a template name (expected one of " + joined(kMailTemplateNames) +
                                 ")");
      continue;
    }
    std::string reason;
    auto content = read_text_file(file, kMaxMailTemplateBytes, reason);
    if (!content) {
      overrides.errors.push_back(file_name + ": " + reason);
      continue;
    }
    MailTemplateParse parse = parse_mail_template(*content);
    for (const MailTemplateProblem& problem : parse.problems) {
      overrides.errors.push_back(file_name + ":" + std::to_string(problem.line) + ": " + problem.message);
    }
    if (parse) {
      overrides.templates.push_back(
          {name, std::move(parse.mail_template->subject), std::move(parse.mail_template->body)});
    }
  }
  return overrides;
}

}  // namespace dirproxy::config
