// One dirproxyctl command, once the command line is parsed: the request to
// send and how to show its result to a human. Kept apart from CLI11 so that
// main() runs every command the same way (connect, read a password if needed,
// call, print).
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "frontends/socket/protocol.hpp"

namespace dirproxy::ctl {

using protocol::Json;

enum class PasswordInput {
  none,
  once,            // e.g. auth: one password
  confirm_on_tty,  // a new password: asked twice when typed on a terminal
};

struct Command {
  Json request = Json::object();  // "op" and parameters; "id" and "actor" are added when sent
  bool admin = false;             // admin ops carry "actor" (public ops would reject it)
  PasswordInput password_input = PasswordInput::none;
  std::string password_field = "password";  // where the password read from stdin goes
  // Prints a successful result (the response minus "id" and "ok") for humans.
  std::function<void(const Json& result, std::ostream& out)> print_human;
};

}  // namespace dirproxy::ctl
