#include "terminal_session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <thread>
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {

TerminalSession::TerminalSession(const std::string& socket, const std::vector<std::string>& args) {
  int master = -1;
  int slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) throw std::runtime_error("openpty failed");
  master_.reset(master);
  slave_.reset(slave);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  out_.reset(out[0]);
  UniqueFd out_write(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  err_.reset(err[0]);
  UniqueFd err_write(err[1]);

  // Built before fork(): the child may not allocate.
  std::vector<std::string> words = {DIRPROXYCTL_PATH, "--socket", socket};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::setsid();  // away from the test's own terminal, if it has one
    ::dup2(slave_.get(), STDIN_FILENO);
    ::dup2(out_write.get(), STDOUT_FILENO);
    ::dup2(err_write.get(), STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

TerminalSession::~TerminalSession() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool TerminalSession::wait_for_stderr(std::string_view text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (err_text_.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline || !pump(10ms)) return false;
  }
  return true;
}

bool TerminalSession::echo_on() const {
  termios settings{};
  ::tcgetattr(slave_.get(), &settings);
  return (settings.c_lflag & ECHO) != 0;
}

void TerminalSession::type(std::string_view text) {
  ssize_t written = ::write(master_.get(), text.data(), text.size());
  if (written != static_cast<ssize_t>(text.size())) throw std::runtime_error("cannot type on the terminal");
}

void TerminalSession::signal(int signal_number) {
  if (pid_ > 0) ::kill(pid_, signal_number);
}

ProcessOutput TerminalSession::finish(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while ((out_ || err_) && std::chrono::steady_clock::now() < deadline) pump(10ms);
  ProcessOutput result;
  result.out = out_text_;
  result.err = err_text_;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  return result;
}

bool TerminalSession::pump(std::chrono::milliseconds wait) {
  std::vector<pollfd> fds;
  if (out_) fds.push_back({out_.get(), POLLIN, 0});
  if (err_) fds.push_back({err_.get(), POLLIN, 0});
  if (fds.empty()) return false;
  if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) <= 0) return true;
  for (const auto& entry : fds) {
    if (entry.revents == 0) continue;
    bool is_out = entry.fd == out_.get();
    char chunk[4096];
    ssize_t got = ::read(entry.fd, chunk, sizeof(chunk));
    if (got > 0) {
      (is_out ? out_text_ : err_text_).append(chunk, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      (is_out ? out_ : err_).reset();
    }
  }
  return true;
}

}  // namespace dirproxy::integration
