// dirproxyctl's account life cycle commands: `invite ...` (the shared link
// and single-use invitations), `access ...` (access requests) and `signup
// options`, with the human formatting of their results.
#include <memory>
#include <string>
#include <vector>

#include "config/duration.hpp"
#include "ctl/commands.hpp"
#include "ctl/output.hpp"

namespace dirproxy::ctl {
namespace {

std::string format_invitation(const Json& invitation) {
  return format_fields({{"id", display_member(invitation, "id")},
                        {"email", display_member(invitation, "email")},
                        {"groups", display_member(invitation, "groups")},
                        {"status", display_member(invitation, "status")},
                        {"created", display_member(invitation, "created_at")},
                        {"expires", display_member(invitation, "expires_at")}});
}

std::string format_invitation_table(const Json& invitations) {
  std::vector<std::vector<std::string>> rows;
  if (invitations.is_array()) {
    for (const auto& invitation : invitations) {
      rows.push_back({display_member(invitation, "id"), display_member(invitation, "email"),
                      display_member(invitation, "groups"), display_member(invitation, "status"),
                      display_member(invitation, "expires_at"), display_member(invitation, "used_by")});
    }
  }
  return format_table({"ID", "EMAIL", "GROUPS", "STATUS", "EXPIRES", "USED BY"}, rows);
}

std::string format_access_request_table(const Json& requests) {
  std::vector<std::vector<std::string>> rows;
  if (requests.is_array()) {
    for (const auto& request : requests) {
      rows.push_back({display_member(request, "id"), display_member(request, "email"),
                      display_member(request, "display_name"), display_member(request, "status"),
                      display_member(request, "created_at"), display_member(request, "message")});
    }
  }
  return format_table({"ID", "EMAIL", "NAME", "STATUS", "CREATED", "MESSAGE"}, rows);
}

void print_link(const Json& result, std::ostream& out) {
  out << "invitation link: " << display_value(member(result, "link")) << '\n';
}

// --- invite ------------------------------------------------------------------

void add_invite_link(CLI::App& invite, Command& command) {
  invite.add_subcommand("link", "Show the shared invitation link")->callback([&command] {
    command = admin_command({{"op", "get_invitation_link"}});
    command.print_human = print_link;
  });
  invite.add_subcommand("reset", "Replace the shared invitation link; the old one stops working at once")
      ->callback([&command] {
        command = admin_command({{"op", "reset_invitation_link"}});
        command.print_human = print_link;
      });
}

void add_invite_send(CLI::App& invite, Command& command) {
  struct Options {
    std::vector<std::string> emails;
    std::string message;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = invite.add_subcommand("send", "Mail invitations to EMAILS (separate addresses or comma-separated)");
  cmd->add_option("EMAILS", o->emails, "Email addresses")->required();
  auto* message = cmd->add_option("--message", o->message, "A personal message placed in each invitation");
  cmd->callback([o, message, &command] {
    // Each argument may itself be a comma-separated list: the daemon splits one string.
    std::string emails;
    for (const auto& email : o->emails) emails += (emails.empty() ? "" : ",") + email;
    Json request = {{"op", "send_invitations"}, {"emails", emails}};
    set_if_given(request, "message", message, o->message);
    command = admin_command(std::move(request));
    command.print_human = [](const Json& result, std::ostream& out) {
      for (const auto& email : member(result, "sent")) out << "sent: " << display_value(email) << '\n';
      for (const auto& refused : member(result, "rejected")) {
        out << "rejected: " << display_member(refused, "email") << " (" << display_member(refused, "code") << ")\n";
      }
    };
  });
}

void add_invite_create(CLI::App& invite, Command& command) {
  struct Options {
    std::string email, ttl;
    std::vector<std::string> groups;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = invite.add_subcommand("create", "Create a single-use invitation and show its link");
  auto* email = cmd->add_option("--email", o->email, "Only this address may use it");
  cmd->add_option("--group", o->groups, "The new account joins this group (repeatable)")->allow_extra_args(false);
  auto* ttl = cmd->add_option("--ttl", o->ttl, "How long it stays valid, e.g. 3d, 12h, 900s (default invitations.ttl)")
                  ->check(CLI::Validator(
                      [](std::string& value) {
                        auto duration = config::parse_duration(value);
                        return duration && duration->count() >= 1000 ? std::string()
                                                                     : std::string("must be a duration of 1s or more");
                      },
                      "DURATION"));
  cmd->callback([o, email, ttl, &command] {
    Json request = {{"op", "create_invitation"}};
    set_if_given(request, "email", email, o->email);
    if (!o->groups.empty()) request["groups"] = o->groups;
    if (ttl->count() > 0) {
      request["ttl_s"] = std::chrono::duration_cast<std::chrono::seconds>(*config::parse_duration(o->ttl)).count();
    }
    command = admin_command(std::move(request));
    command.print_human = [](const Json& result, std::ostream& out) {
      out << format_invitation(member(result, "invitation"));
      print_link(result, out);
    };
  });
}

void add_invite_list(CLI::App& invite, Command& command) {
  auto all = std::make_shared<bool>(false);
  auto* cmd = invite.add_subcommand("list", "List pending invitations");
  cmd->add_flag("--all", *all, "Also used, revoked and expired ones");
  cmd->callback([all, &command] {
    Json request = {{"op", "list_invitations"}};
    if (*all) request["include_used"] = true;
    command = admin_command(std::move(request));
    command.print_human = [](const Json& result, std::ostream& out) {
      out << format_invitation_table(member(result, "invitations"));
    };
  });
}

// Subcommands that take nothing but an ID.
void add_by_id(CLI::App& parent, Command& command, const char* name, const char* description, const char* op,
               const char* id_parameter, std::function<void(Command&, std::int64_t id)> finish) {
  auto id = std::make_shared<std::int64_t>(0);
  auto* cmd = parent.add_subcommand(name, description);
  cmd->add_option("ID", *id, "The id shown by the list command")->required();
  cmd->callback([id, op, id_parameter, finish, &command] {
    command = admin_command({{"op", op}, {id_parameter, *id}});
    finish(command, *id);
  });
}

void add_invite(CLI::App& app, Command& command) {
  auto* invite = app.add_subcommand("invite", "Invite people: the shared link and single-use invitations");
  invite->require_subcommand(1);
  add_invite_link(*invite, command);
  add_invite_send(*invite, command);
  add_invite_create(*invite, command);
  add_invite_list(*invite, command);
  add_by_id(
      *invite, command, "revoke", "Revoke an invitation", "revoke_invitation", "invitation_id",
      [](Command& c, std::int64_t id) { c.print_human = confirm("invitation " + std::to_string(id) + " revoked"); });
  add_by_id(*invite, command, "resend", "Mail an invitation again with a new link (the old one stops working)",
            "resend_invitation", "invitation_id", [](Command& c, std::int64_t) {
              c.print_human = [](const Json& result, std::ostream& out) {
                out << "invitation sent again\n" << format_invitation(member(result, "invitation"));
              };
            });
}

// --- access ------------------------------------------------------------------

void add_access(CLI::App& app, Command& command) {
  auto* access = app.add_subcommand("access", "Decide on access requests");
  access->require_subcommand(1);
  access->add_subcommand("list", "List access requests")->callback([&command] {
    command = admin_command({{"op", "list_access_requests"}});
    command.print_human = [](const Json& result, std::ostream& out) {
      out << format_access_request_table(member(result, "requests"));
    };
  });

  struct ApproveOptions {
    std::int64_t id = 0;
    std::vector<std::string> groups;
  };
  auto o = std::make_shared<ApproveOptions>();
  auto* approve = access->add_subcommand("approve", "Approve a request: its requester is mailed an invitation");
  approve->add_option("ID", o->id, "The id shown by `access list`")->required();
  approve->add_option("--group", o->groups, "The new account joins this group (repeatable)")->allow_extra_args(false);
  approve->callback([o, &command] {
    Json request = {{"op", "approve_access_request"}, {"request_id", o->id}};
    if (!o->groups.empty()) request["groups"] = o->groups;
    command = admin_command(std::move(request));
    command.print_human = [](const Json& result, std::ostream& out) {
      out << "access request approved; invitation mailed\n" << format_invitation(member(result, "invitation"));
    };
  });
  add_by_id(
      *access, command, "deny", "Deny a request", "deny_access_request", "request_id",
      [](Command& c, std::int64_t id) { c.print_human = confirm("access request " + std::to_string(id) + " denied"); });
}

// --- signup ------------------------------------------------------------------

void add_signup(CLI::App& app, Command& command) {
  auto* signup = app.add_subcommand("signup", "Self-signup settings");
  signup->require_subcommand(1);
  signup->add_subcommand("options", "Show the signup mode and allowed domains")->callback([&command] {
    command = public_command({{"op", "signup_options"}});
    command.print_human = [](const Json& result, std::ostream& out) {
      out << format_fields({{"mode", display_member(result, "mode")},
                            {"domains", display_member(result, "domains")},
                            {"user management", display_member(result, "user_management")},
                            {"access requests", display_member(result, "access_requests")}});
    };
  });
}

}  // namespace

void add_account_commands(CLI::App& app, Command& command) {
  add_invite(app, command);
  add_access(app, command);
  add_signup(app, command);
}

}  // namespace dirproxy::ctl
