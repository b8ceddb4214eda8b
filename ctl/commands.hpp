// dirproxyctl's command line: every subcommand, its arguments, and the
// protocol request it becomes (see the table in docs/protocol.md). Declaring a
// subcommand and building its request sit side by side so that the two
// cannot drift apart.
#pragma once

#include <CLI/CLI.hpp>

#include "ctl/command.hpp"

namespace dirproxy::ctl {

// Sets request[parameter] to `value` when `option` was given on the command
// line; an option left out is left out of the request, so that the daemon's
// default applies.
template <typename Value>
void set_if_given(Json& request, const char* parameter, const CLI::Option* option, const Value& value) {
  if (option->count() > 0) request[parameter] = value;
}

// Declares the subcommands on `app`. When app.parse() succeeds, `command`
// holds the chosen one. Usage errors surface as CLI::ParseError from parse().
void add_commands(CLI::App& app, Command& command);

// The account life cycle's commands, one file each: `invite ...`, `access
// ...` and `signup options` (account_commands.cpp); `mail queue`
// (mail_commands.cpp).
void add_account_commands(CLI::App& app, Command& command);
void add_mail_commands(CLI::App& app, Command& command);

// `hash-password`, which needs no daemon (hash_password.cpp).
void add_hash_password(CLI::App& app, Command& command);

}  // namespace dirproxy::ctl
