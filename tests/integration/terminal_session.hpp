// dirproxyctl with its stdin on a pseudo-terminal, as when an admin types a
// password at the prompt: lets tests check that echo is off while typing and
// restored afterwards, even when a signal ends the program. stdout and stderr
// are pipes the test reads; the test keeps the terminal's slave side open to
// look at its settings.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "daemon_harness.hpp"

namespace dirproxy::integration {

class TerminalSession {
 public:
  // Starts dirproxyctl --socket `socket` ARGS... in a new session.
  TerminalSession(const std::string& socket, const std::vector<std::string>& args);
  // Kills the process if it still runs.
  ~TerminalSession();
  TerminalSession(const TerminalSession&) = delete;
  TerminalSession& operator=(const TerminalSession&) = delete;

  // Reads stderr until it contains `text`; false after `timeout` or at its end.
  bool wait_for_stderr(std::string_view text, std::chrono::milliseconds timeout = 5s);
  // Whether the terminal echoes what is typed.
  bool echo_on() const;
  // Types `text` on the terminal (include the "\n").
  void type(std::string_view text);
  void signal(int signal_number);
  // Reads stdout and stderr to their end and reaps the process (exit_code -1
  // if it did not exit within `timeout`).
  ProcessOutput finish(std::chrono::milliseconds timeout = 10s);

 private:
  // Reads what stdout and stderr have within `wait`; false once both ended.
  bool pump(std::chrono::milliseconds wait);

  UniqueFd master_, slave_, out_, err_;
  std::string out_text_, err_text_;
  pid_t pid_ = -1;
};

}  // namespace dirproxy::integration
