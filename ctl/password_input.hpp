// Reading a password for dirproxyctl. Passwords never come from argv, which
// every local user can read in /proc: they come from standard input, typed at
// a prompt with echo off when stdin is a terminal, or piped in by a script.
#pragma once

#include <string>

#include "core/result.hpp"

namespace dirproxy::ctl {

// Reads one password from standard input.
// - On a terminal: writes `prompt` to stderr, reads a line with echo off and
//   restores the terminal afterwards, also when SIGINT, SIGTERM, SIGHUP or
//   SIGQUIT ends the program mid-prompt. With `confirm`, asks a second time
//   and fails when the two differ.
// - Otherwise: reads everything up to end of file; `confirm` is ignored.
// One trailing "\n" (or "\r\n") is stripped. An empty password is returned as
// is: the daemon, not the CLI, decides that it is unacceptable. Fails (with a
// message for humans) when stdin cannot be read or holds more than 64 KiB.
Result<std::string> read_password(const std::string& prompt, bool confirm);

}  // namespace dirproxy::ctl
