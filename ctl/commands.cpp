#include "ctl/commands.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ctl/output.hpp"

namespace dirproxy::ctl {
namespace {

std::string single_quoted(const std::string& name) { return "'" + name + "'"; }

// --- top level ---------------------------------------------------------------

void add_ping(CLI::App& app, Command& command) {
  app.add_subcommand("ping", "Check that dirproxyd answers; show its version and uptime")->callback([&command] {
    command = public_command({{"op", "ping"}});
    command.print_human = [](const Json& result, std::ostream& out) { out << format_ping(result); };
  });
}

void add_auth(CLI::App& app, Command& command) {
  auto username = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("auth", "Check a user's password (read from stdin) and show the user");
  cmd->add_option("USERNAME", *username, "Login name")->required();
  cmd->callback([username, &command] {
    command = public_command({{"op", "authenticate"}, {"username", *username}});
    command.password_input = PasswordInput::once;
    command.print_human = [](const Json& result, std::ostream& out) { out << format_user(member(result, "user")); };
  });
}

void add_directories(CLI::App& app, Command& command) {
  app.add_subcommand("directories", "List the configured directories and their state")->callback([&command] {
    command = admin_command({{"op", "list_directories"}});
    command.print_human = [](const Json& result, std::ostream& out) {
      out << format_directory_table(member(result, "directories"));
      out << format_state_line(member(result, "state"));
    };
  });
}

void add_applications(CLI::App& app, Command& command) {
  app.add_subcommand("applications", "List the applications, who may use them and how many users each admits")
      ->callback([&command] {
        command = admin_command({{"op", "list_applications"}});
        command.print_human = [](const Json& result, std::ostream& out) {
          out << format_application_table(member(result, "applications"));
        };
      });
}

void add_reload(CLI::App& app, Command& command) {
  app.add_subcommand("reload", "Make dirproxyd re-read its configuration file")->callback([&command] {
    command = admin_command({{"op", "reload"}});
    command.print_human = confirm("configuration reloaded");
  });
}

void add_backup(CLI::App& app, Command& command) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("backup", "Write an online copy of dirproxyd's state database to FILE");
  cmd->add_option("FILE", *file, "Where the copy goes (must not exist yet; relative to the current directory)")
      ->required();
  cmd->callback([file, &command] {
    // The daemon resolves nothing against its own working directory.
    command = admin_command({{"op", "backup"}, {"path", std::filesystem::absolute(*file).string()}});
    command.print_human = [](const Json& result, std::ostream& out) { out << format_backup(result); };
  });
}

// --- user --------------------------------------------------------------------

void add_user_add(CLI::App& user, Command& command) {
  struct Options {
    std::string username, email, display_name, first_name, last_name;
    std::vector<std::string> groups;
    bool password_stdin = false;
    bool no_notify = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = user.add_subcommand("add", "Create a user");
  cmd->add_option("USERNAME", o->username, "Login name")->required();
  cmd->add_option("--email", o->email, "Email address")->required();
  cmd->add_option("--name", o->display_name, "Display name")->required();
  auto* first = cmd->add_option("--first", o->first_name, "First name");
  auto* last = cmd->add_option("--last", o->last_name, "Last name");
  // One group per --group, so that a following USERNAME is not taken for one.
  cmd->add_option("--group", o->groups, "Put the user in this group (repeatable)")->allow_extra_args(false);
  cmd->add_flag("--password-stdin", o->password_stdin, "Read the initial password from stdin");
  cmd->add_flag("--no-notify", o->no_notify,
                "Do not email a set-password link (it is printed instead when no password is set)");
  cmd->callback([o, first, last, &command] {
    Json request = {
        {"op", "add_user"}, {"username", o->username}, {"email", o->email}, {"display_name", o->display_name}};
    set_if_given(request, "first_name", first, o->first_name);
    set_if_given(request, "last_name", last, o->last_name);
    if (!o->groups.empty()) request["groups"] = o->groups;
    // Without --no-notify the daemon's default (notify) applies.
    if (o->no_notify) request["notify"] = false;
    command = admin_command(std::move(request));
    if (o->password_stdin) command.password_input = PasswordInput::confirm_on_tty;
    command.print_human = [username = o->username](const Json& result, std::ostream& out) {
      out << "user " << single_quoted(username) << " added\n";
      if (result.is_object() && result.contains("set_password_link")) {
        out << "set-password link: " << display_value(result["set_password_link"]) << '\n';
      }
    };
  });
}

void add_user_show(CLI::App& user, Command& command) {
  struct Options {
    std::string username, email;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = user.add_subcommand("show", "Show a user, found by login name or by email");
  auto* username = cmd->add_option("USERNAME", o->username, "Login name");
  auto* email = cmd->add_option("--email", o->email, "Email address instead of USERNAME");
  username->excludes(email);
  cmd->callback([o, username, email, &command] {
    Json request = {{"op", "get_user"}};
    if (username->count() > 0) {
      request["username"] = o->username;
    } else if (email->count() > 0) {
      request["email"] = o->email;
    } else {
      throw CLI::RequiredError("USERNAME or --email");
    }
    command = public_command(std::move(request));
    command.print_human = [](const Json& result, std::ostream& out) { out << format_user(member(result, "user")); };
  });
}

void add_user_list(CLI::App& user, Command& command) {
  struct Options {
    std::string query;
    int limit = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = user.add_subcommand("list", "List users, optionally only those matching QUERY");
  auto* query = cmd->add_option("QUERY", o->query, "Substring of the username, email or display name");
  auto* limit = cmd->add_option("--limit", o->limit, "At most this many users")
                    ->check(CLI::Validator(
                        [](std::string& value) {
                          // The maximum is the daemon's to enforce (docs/protocol.md: find_users).
                          return !value.empty() && value.find_first_not_of("0123456789") == std::string::npos &&
                                         value.find_first_not_of('0') != std::string::npos
                                     ? std::string()
                                     : std::string("must be a whole number of at least 1");
                        },
                        "N"));
  cmd->callback([o, query, limit, &command] {
    Json request = {{"op", "find_users"}};
    set_if_given(request, "query", query, o->query);
    set_if_given(request, "limit", limit, o->limit);
    command = public_command(std::move(request));
    command.print_human = [](const Json& result, std::ostream& out) {
      out << format_user_table(member(result, "users"));
    };
  });
}

void add_user_update(CLI::App& user, Command& command) {
  struct Options {
    std::string username, email, display_name, first_name, last_name, active;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = user.add_subcommand("update", "Change a user's attributes");
  cmd->add_option("USERNAME", o->username, "Login name")->required();
  struct Field {
    CLI::Option* option;
    const char* parameter;
    std::string* value;
  };
  std::vector<Field> fields = {
      {cmd->add_option("--email", o->email, "New email address"), "email", &o->email},
      {cmd->add_option("--name", o->display_name, "New display name"), "display_name", &o->display_name},
      {cmd->add_option("--first", o->first_name, "New first name"), "first_name", &o->first_name},
      {cmd->add_option("--last", o->last_name, "New last name"), "last_name", &o->last_name},
  };
  auto* active = cmd->add_option("--active", o->active, "Enable (true) or disable (false) the account")
                     ->check(CLI::IsMember({"true", "false"}));
  cmd->callback([o, fields, active, &command] {
    Json request = {{"op", "update_user"}, {"username", o->username}};
    for (const auto& field : fields) set_if_given(request, field.parameter, field.option, *field.value);
    set_if_given(request, "active", active, o->active == "true");
    if (request.size() == 2) {
      throw CLI::ValidationError("user update", "nothing to change: give --email, --name, --first, --last or --active");
    }
    command = admin_command(std::move(request));
    command.print_human = confirm("user " + single_quoted(o->username) + " updated");
  });
}

// The user subcommands that take nothing but USERNAME.
void add_user_by_name(CLI::App& user, Command& command, const char* name, const char* description, const char* op,
                      bool admin, std::function<void(Command&, const std::string& username)> finish) {
  auto username = std::make_shared<std::string>();
  auto* cmd = user.add_subcommand(name, description);
  cmd->add_option("USERNAME", *username, "Login name")->required();
  cmd->callback([username, op, admin, finish, &command] {
    Json request = {{"op", op}, {"username", *username}};
    command = admin ? admin_command(std::move(request)) : public_command(std::move(request));
    finish(command, *username);
  });
}

void add_user(CLI::App& app, Command& command) {
  auto* user = app.add_subcommand("user", "Manage users");
  user->require_subcommand(1);
  add_user_add(*user, command);
  add_user_show(*user, command);
  add_user_list(*user, command);
  add_user_update(*user, command);
  add_user_by_name(*user, command, "delete", "Delete a user", "delete_user", /*admin=*/true,
                   [](Command& c, const std::string& username) {
                     c.print_human = confirm("user " + single_quoted(username) + " deleted");
                   });
  add_user_by_name(*user, command, "passwd", "Set a user's password (read from stdin)", "set_password", /*admin=*/true,
                   [](Command& c, const std::string& username) {
                     c.password_input = PasswordInput::confirm_on_tty;
                     c.print_human = confirm("password of user " + single_quoted(username) + " set");
                   });
  add_user_by_name(*user, command, "reset-password", "Email a user a fresh set-password link", "send_password_reset",
                   /*admin=*/true, [](Command& c, const std::string& username) {
                     c.print_human =
                         confirm("set-password link for user " + single_quoted(username) + " queued for mailing");
                   });
  add_user_by_name(*user, command, "groups", "List the groups a user is in", "get_user_groups",
                   /*admin=*/false, [](Command& c, const std::string&) {
                     c.print_human = [](const Json& result, std::ostream& out) {
                       out << format_name_list(member(result, "groups"));
                     };
                   });
  add_user_by_name(*user, command, "access", "Show a user's groups and the applications they may use",
                   "get_user_access", /*admin=*/true, [](Command& c, const std::string&) {
                     c.print_human = [](const Json& result, std::ostream& out) { out << format_user_access(result); };
                   });
}

// --- group -------------------------------------------------------------------

void add_group_add(CLI::App& group, Command& command) {
  struct Options {
    std::string name, description;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = group.add_subcommand("add", "Create a group");
  cmd->add_option("NAME", o->name, "Group name")->required();
  auto* description = cmd->add_option("--description", o->description, "What the group is for");
  cmd->callback([o, description, &command] {
    Json request = {{"op", "add_group"}, {"name", o->name}};
    set_if_given(request, "description", description, o->description);
    command = admin_command(std::move(request));
    command.print_human = confirm("group " + single_quoted(o->name) + " added");
  });
}

void add_group_by_name(CLI::App& group, Command& command, const char* name, const char* description, const char* op,
                       bool admin, std::function<void(Command&, const std::string& group_name)> finish) {
  auto group_name = std::make_shared<std::string>();
  auto* cmd = group.add_subcommand(name, description);
  cmd->add_option("NAME", *group_name, "Group name")->required();
  cmd->callback([group_name, op, admin, finish, &command] {
    Json request = {{"op", op}, {"name", *group_name}};
    command = admin ? admin_command(std::move(request)) : public_command(std::move(request));
    finish(command, *group_name);
  });
}

void add_group_membership(CLI::App& group, Command& command, const char* name, const char* description, const char* op,
                          const char* done) {
  struct Options {
    std::string group, username;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = group.add_subcommand(name, description);
  cmd->add_option("GROUP", o->group, "Group name")->required();
  cmd->add_option("USERNAME", o->username, "Login name")->required();
  cmd->callback([o, op, done, &command] {
    command = admin_command({{"op", op}, {"group", o->group}, {"username", o->username}});
    command.print_human =
        confirm("user " + single_quoted(o->username) + " " + done + " group " + single_quoted(o->group));
  });
}

void add_group(CLI::App& app, Command& command) {
  auto* group = app.add_subcommand("group", "Manage groups");
  group->require_subcommand(1);
  add_group_add(*group, command);
  add_group_by_name(*group, command, "show", "Show a group and its members", "get_group",
                    /*admin=*/false, [](Command& c, const std::string&) {
                      c.print_human = [](const Json& result, std::ostream& out) {
                        out << format_group(member(result, "group"));
                      };
                    });
  add_group_by_name(*group, command, "delete", "Delete a group", "delete_group", /*admin=*/true,
                    [](Command& c, const std::string& name) {
                      c.print_human = confirm("group " + single_quoted(name) + " deleted");
                    });
  add_group_membership(*group, command, "add-member", "Put a user in a group", "add_member", "added to");
  add_group_membership(*group, command, "remove-member", "Take a user out of a group", "remove_member", "removed from");
}

}  // namespace

void add_commands(CLI::App& app, Command& command) {
  add_ping(app, command);
  add_user(app, command);
  add_auth(app, command);
  add_group(app, command);
  add_directories(app, command);
  add_applications(app, command);
  add_reload(app, command);
  add_backup(app, command);
  add_account_commands(app, command);
  add_mail_commands(app, command);
  add_hash_password(app, command);
}

}  // namespace dirproxy::ctl
