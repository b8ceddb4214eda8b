#include "ctl/password_input.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>

namespace dirproxy::ctl {
namespace {

// Anything longer cannot fit in a request line anyway (max_request_bytes).
constexpr std::size_t kMaxPasswordBytes = 65536;

constexpr std::array kRestoringSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// The terminal settings to put back if a signal ends the program while echo
// is off. Globals because a signal handler can reach nothing else.
termios g_saved_termios{};
volatile sig_atomic_t g_echo_disabled = 0;

extern "C" void restore_terminal_and_reraise(int signal_number) {
  if (g_echo_disabled) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  // Die of the same signal, so the shell sees what really happened; the
  // signal is blocked inside this handler and is delivered once it returns.
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

// Turns terminal echo off for its lifetime. Echo stays on (the password is
// visible, but still read) if the terminal settings cannot be changed.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
    struct sigaction action {};
    action.sa_handler = restore_terminal_and_reraise;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kRestoringSignals.size(); ++i) {
      ::sigaction(kRestoringSignals[i], nullptr, &previous_[i]);
      // A signal the caller chose to ignore (nohup) stays ignored.
      if (previous_[i].sa_handler == SIG_IGN) continue;
      ::sigaction(kRestoringSignals[i], &action, nullptr);
    }
    termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter key still moves to the next line
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0) g_echo_disabled = 1;
    armed_ = true;
  }

  ~EchoOff() {
    if (!armed_) return;
    if (g_echo_disabled) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
    g_echo_disabled = 0;
    for (std::size_t i = 0; i < kRestoringSignals.size(); ++i) {
      ::sigaction(kRestoringSignals[i], &previous_[i], nullptr);
    }
  }

  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  bool armed_ = false;
  std::array<struct sigaction, kRestoringSignals.size()> previous_{};
};

void strip_one_newline(std::string& text) {
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
}

Result<std::string> too_long() {
  return fail(ErrorCode::bad_request, "the password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
}

Result<std::string> read_error() {
  return fail(ErrorCode::internal_error, std::string("cannot read the password from stdin: ") + std::strerror(errno));
}

// Reads from stdin until `stop_at_newline` and a '\n' is seen (kept), or end
// of file.
Result<std::string> read_stdin(bool stop_at_newline) {
  std::string text;
  char chunk[4096];
  for (;;) {
    // Byte by byte on a terminal, so nothing typed after the line is eaten.
    std::size_t want = stop_at_newline ? 1 : sizeof(chunk);
    ssize_t got = ::read(STDIN_FILENO, chunk, want);
    if (got < 0) {
      if (errno == EINTR) continue;
      return read_error();
    }
    if (got == 0) break;
    text.append(chunk, static_cast<std::size_t>(got));
    if (text.size() > kMaxPasswordBytes + 2) return too_long();  // + room for "\r\n"
    if (stop_at_newline && text.back() == '\n') break;
  }
  return text;
}

Result<std::string> prompt_on_terminal(const std::string& prompt) {
  // Echo goes off before the prompt appears, so that nothing typed right
  // after seeing it can be echoed.
  EchoOff echo_off;
  std::cerr << prompt << std::flush;
  auto line = read_stdin(/*stop_at_newline=*/true);
  if (!line) return line;
  strip_one_newline(*line);
  return line;
}

}  // namespace

Result<std::string> read_password(const std::string& prompt, bool confirm) {
  if (!::isatty(STDIN_FILENO)) {
    auto text = read_stdin(/*stop_at_newline=*/false);
    if (!text) return text;
    strip_one_newline(*text);
    if (text->size() > kMaxPasswordBytes) return too_long();
    return text;
  }
  auto first = prompt_on_terminal(prompt);
  if (!first || !confirm) return first;
  auto second = prompt_on_terminal("Repeat password: ");
  if (!second) return second;
  if (*first != *second) return fail(ErrorCode::bad_request, "the passwords do not match");
  return first;
}

}  // namespace dirproxy::ctl
