// One dirproxyctl command, once the command line is parsed: the request to
// send and how to show its result to a human. Kept apart from CLI11 so that
// main() runs every command the same way (connect, read a password if needed,
// call, print).
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "core/result.hpp"
#include "frontends/socket/protocol.hpp"

namespace dirproxy::ctl {

using protocol::Json;

enum class PasswordInput {
  none,
  once,            // e.g. auth: one password
  confirm_on_tty,  // a new password: asked twice when typed on a terminal
};

// Prints a successful result (the response minus "id" and "ok") for humans.
using PrintHuman = std::function<void(const Json& result, std::ostream& out)>;

// A command that needs no daemon (hash-password): computes the result from
// the password read from stdin (empty when it reads none). An error with
// code bad_request is the input's fault (exit code usage).
using Offline = std::function<Result<Json>(const std::string& password)>;

struct Command {
  Json request = Json::object();  // "op" and parameters; "id" and "actor" are added when sent
  bool admin = false;             // admin ops carry "actor" (public ops would reject it)
  PasswordInput password_input = PasswordInput::none;
  std::string password_field = "password";  // where the password read from stdin goes
  PrintHuman print_human;
  Offline offline;  // set: run here instead of sending `request`
};

// A command for a public operation: `request` as it is.
Command public_command(Json request);

// A command for an admin operation: `request` sent with the caller's login
// name as "actor".
Command admin_command(Json request);

// The print function of a write whose answer says no more than "done": the
// one line `message`, whatever the result holds.
PrintHuman confirm(std::string message);

}  // namespace dirproxy::ctl
