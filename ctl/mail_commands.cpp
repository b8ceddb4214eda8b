// `dirproxyctl mail queue`: the outbox's counts (the mail_queue operation).
#include <string>
#include <utility>
#include <vector>

#include "ctl/commands.hpp"
#include "ctl/output.hpp"

namespace dirproxy::ctl {
namespace {

std::string format_mail_queue(const Json& result) {
  std::string oldest = "-";
  if (const Json& age = member(result, "oldest_pending_age_s"); age.is_number()) {
    oldest = std::to_string(age.get<long long>()) + " s";
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"pending", display_member(result, "pending")},
      {"failed", display_member(result, "failed")},
      {"held", display_member(result, "held")},
      {"oldest pending", oldest},
  };
  if (result.is_object() && result.value("mail_configured", true) == false) {
    fields.emplace_back("note", "no mail section configured: pending mail waits");
  }
  return format_fields(fields);
}

}  // namespace

void add_mail_commands(CLI::App& app, Command& command) {
  auto* mail = app.add_subcommand("mail", "The outgoing mail queue");
  mail->require_subcommand(1);
  mail->add_subcommand("queue", "Show how many emails are pending, failed and held, and the oldest pending's age")
      ->callback([&command] {
        command = admin_command({{"op", "mail_queue"}});
        command.print_human = [](const Json& result, std::ostream& out) { out << format_mail_queue(result); };
      });
}

}  // namespace dirproxy::ctl
