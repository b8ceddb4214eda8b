#include "daemon_harness.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "daemon/protocol/unique_fd.hpp"

extern char** environ;

namespace dirproxy::integration {
namespace {

using Clock = std::chrono::steady_clock;

// Polling interval of the bounded waits below: short enough not to slow
// tests down, long enough not to spin.
constexpr auto kPollInterval = 5ms;

// Variables through which systemd talks to a service. The test's own
// environment may carry them (a CI job run under systemd); a daemon started
// by a test must not think it is a service unless the test says so.
constexpr const char* kSystemdVariables[] = {
    "NOTIFY_SOCKET",  "LISTEN_FDS",   "LISTEN_PID",           "LISTEN_FDNAMES",
    "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY"};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits up to `timeout` for child `pid`; its decoded status, or nullopt.
std::optional<int> wait_for_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return decode_status(status);
    if (done < 0 && errno != EINTR) return -1;  // not our child any more: treat as gone
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// argv and envp for execve, built before fork(): between fork() and exec the
// child may only make async-signal-safe calls, so it must not allocate.
class ExecImage {
 public:
  ExecImage(const std::string& program, const std::vector<std::string>& args,
            const std::vector<std::pair<std::string, std::string>>& env) {
    args_.push_back(program);
    args_.insert(args_.end(), args.begin(), args.end());
    auto overridden = [&](std::string_view entry) {
      std::string_view name = entry.substr(0, entry.find('='));
      for (const auto& [key, value] : env) {
        if (key == name) return true;
      }
      return false;
    };
    for (char** entry = environ; *entry != nullptr; ++entry) {
      if (!overridden(*entry)) env_.emplace_back(*entry);
    }
    for (const auto& [key, value] : env) {
      if (!value.empty()) env_.push_back(key + "=" + value);
    }
    for (auto& arg : args_) argv_.push_back(arg.data());
    argv_.push_back(nullptr);
    for (auto& entry : env_) envp_.push_back(entry.data());
    envp_.push_back(nullptr);
  }

  // Only returns when execve failed.
  void exec() const { ::execve(argv_[0], argv_.data(), envp_.data()); }

 private:
  std::vector<std::string> args_, env_;
  std::vector<char*> argv_, envp_;
};

// In a forked child: die with the test process, and undo what the test
// process changed that exec would carry over (ignored SIGPIPE, signal mask).
void prepare_child(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// In a forked child: take on `who`'s identity, groups first (after setuid
// there is no permission left to change them).
bool become(RunAs who) {
  return ::setgroups(0, nullptr) == 0 && ::setgid(who.gid) == 0 && ::setuid(who.uid) == 0;
}

void write_child_error(const char* message) {
  ssize_t ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  (void)ignored;
}

UniqueFd open_or_throw(const std::string& path, int flags, mode_t mode = 0) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  if (!fd) throw_errno("cannot open " + path);
  return fd;
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw_errno("pipe2");
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

RunAs nobody() {
  const passwd* entry = ::getpwnam("nobody");
  if (entry == nullptr) throw std::runtime_error("no local user 'nobody'");
  return RunAs{entry->pw_uid, entry->pw_gid};
}

bool can_change_identity() { return ::geteuid() == 0; }

ProcessOutput run_program(const std::string& program, const std::vector<std::string>& args,
                          const RunOptions& options) {
  // A child that exits without reading its stdin must give EPIPE, not kill
  // the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);

  auto [stdin_read, stdin_write] = make_pipe();
  auto [stdout_read, stdout_write] = make_pipe();
  auto [stderr_read, stderr_write] = make_pipe();
  const ExecImage image(program, args, options.env);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    prepare_child(parent);
    ::dup2(stdin_read.get(), STDIN_FILENO);
    ::dup2(stdout_write.get(), STDOUT_FILENO);
    ::dup2(stderr_write.get(), STDERR_FILENO);
    if (options.run_as && !become(*options.run_as)) {
      write_child_error("run_program: cannot change identity\n");
      ::_exit(126);
    }
    image.exec();
    write_child_error("run_program: execve failed\n");
    ::_exit(127);
  }
  stdin_read.reset();
  stdout_write.reset();
  stderr_write.reset();

  ProcessOutput output;
  std::string_view pending_stdin = options.stdin_text;
  if (pending_stdin.empty()) stdin_write.reset();
  if (stdin_write) ::fcntl(stdin_write.get(), F_SETFL, O_NONBLOCK);

  const auto deadline = Clock::now() + options.timeout;
  bool timed_out = false;
  while (stdout_read || stderr_read) {
    std::vector<pollfd> fds;
    if (stdout_read) fds.push_back({stdout_read.get(), POLLIN, 0});
    if (stderr_read) fds.push_back({stderr_read.get(), POLLIN, 0});
    if (stdin_write) fds.push_back({stdin_write.get(), POLLOUT, 0});
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) throw_errno("poll");
    if (ready <= 0) continue;
    for (const auto& entry : fds) {
      if (entry.revents == 0) continue;
      if (stdin_write && entry.fd == stdin_write.get()) {
        ssize_t written = ::write(entry.fd, pending_stdin.data(), pending_stdin.size());
        if (written > 0) pending_stdin.remove_prefix(static_cast<std::size_t>(written));
        bool broken = written < 0 && errno != EAGAIN && errno != EINTR;
        if (pending_stdin.empty() || broken) stdin_write.reset();
        continue;
      }
      UniqueFd& source = entry.fd == stdout_read.get() ? stdout_read : stderr_read;
      std::string& sink = entry.fd == stdout_read.get() ? output.out : output.err;
      char chunk[8192];
      ssize_t got = ::read(entry.fd, chunk, sizeof(chunk));
      if (got > 0) {
        sink.append(chunk, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        source.reset();
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  auto status = wait_for_child(pid, timed_out ? 10s : options.timeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = wait_for_child(pid, 10s);
    timed_out = true;
  }
  output.exit_code = timed_out ? -1 : status.value_or(-1);
  return output;
}

int run_as(RunAs who, const std::function<int()>& function, std::chrono::milliseconds timeout) {
  // Buffered output would otherwise be written twice, by parent and child.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    prepare_child(parent);
    if (!become(who)) ::_exit(126);
    int code = 125;
    try {
      code = function();
    } catch (...) {
      // 125: the function threw.
    }
    std::fflush(nullptr);
    ::_exit(code & 0xff);
  }
  auto status = wait_for_child(pid, timeout);
  if (status) return *status;
  ::kill(pid, SIGKILL);
  wait_for_child(pid, 10s);
  return -1;
}

DaemonHarness::DaemonHarness() {
  char path[] = "/tmp/dpt-XXXXXX";
  if (::mkdtemp(path) == nullptr) throw_errno("mkdtemp");
  dir_ = path;
  // Other users (the non-admin tests run as nobody) must reach the socket,
  // but need not list the directory.
  if (::chmod(dir_.c_str(), 0711) != 0) throw_errno("chmod " + dir_);
  if (::mkdir(state_dir().c_str(), 0700) != 0) throw_errno("mkdir " + state_dir());
}

DaemonHarness::~DaemonHarness() {
  if (::testing::Test::HasFailure()) {
    std::string tail = log_tail();
    if (!tail.empty()) std::cerr << "--- dirproxyd log (" << log_path() << ", tail) ---\n" << tail;
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_for_child(pid_, 10s);
    pid_ = -1;
  }
  if (std::getenv("DIRPROXY_KEEP_TEST_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

Json DaemonHarness::default_config() const {
  Json server = {{"socket", socket_path()}, {"socket_mode", "0666"}};
  if (::geteuid() != 0) {
    // uid 0 is always an admin; anyone else running the tests must be named.
    const passwd* self = ::getpwuid(::geteuid());
    if (self != nullptr) server["admins"] = {{"users", {self->pw_name}}};
  }
  return Json{
      {"server", server},
      {"state_dir", state_dir()},
      {"log", {{"level", "debug"}}},
      {"directories", Json::array({{{"name", "internal"},
                                    {"type", "internal"},
                                    {"permissions", "read_write"}}})},
      {"accounts", {{"password_hash", {{"opslimit", 1}, {"memlimit", 8192}}}}},
  };
}

void DaemonHarness::write_config(std::string yaml) const {
  for (auto at = yaml.find("{dir}"); at != std::string::npos; at = yaml.find("{dir}", at)) {
    yaml.replace(at, 5, dir_);
    at += dir_.size();
  }
  std::ofstream out(config_path(), std::ios::binary | std::ios::trunc);
  out << yaml;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + config_path());
}

void DaemonHarness::write_config(const Json& config) const { write_config(config.dump(2)); }

void DaemonHarness::start() { start(default_config()); }

void DaemonHarness::start(const std::string& yaml) {
  write_config(yaml);
  spawn();
  wait_until_ready();
}

void DaemonHarness::start(const Json& config) {
  write_config(config);
  spawn();
  wait_until_ready();
}

void DaemonHarness::spawn() {
  if (pid_ > 0) throw std::runtime_error("dirproxyd is already running (pid " + std::to_string(pid_) + ")");
  UniqueFd log_file = open_or_throw(log_path(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  UniqueFd null_input = open_or_throw("/dev/null", O_RDONLY);
  std::vector<std::pair<std::string, std::string>> env;
  for (const char* name : kSystemdVariables) env.emplace_back(name, "");
  const ExecImage image(DIRPROXYD_PATH, {"--config", config_path()}, env);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    prepare_child(parent);
    ::dup2(null_input.get(), STDIN_FILENO);
    ::dup2(log_file.get(), STDOUT_FILENO);
    ::dup2(log_file.get(), STDERR_FILENO);
    image.exec();
    write_child_error("daemon_harness: execve " DIRPROXYD_PATH " failed\n");
    ::_exit(127);
  }
  pid_ = pid;
}

void DaemonHarness::wait_until_ready(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (pid_ <= 0) fail_with_log("dirproxyd is not running");
    if (auto status = reap(0ms)) {
      fail_with_log("dirproxyd exited with status " + std::to_string(*status) +
                    " before its socket accepted connections");
    }
    if (ProtocolClient::connect(socket_path())) return;
    if (Clock::now() >= deadline) {
      fail_with_log("dirproxyd's socket " + socket_path() + " did not accept connections within " +
                    std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::optional<int> DaemonHarness::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) throw std::runtime_error("dirproxyd is not running");
  return reap(timeout);
}

std::optional<int> DaemonHarness::reap(std::chrono::milliseconds timeout) {
  auto status = wait_for_child(pid_, timeout);
  if (status) pid_ = -1;
  return status;
}

ProtocolClient DaemonHarness::connect(std::chrono::milliseconds receive_timeout) const {
  auto client = ProtocolClient::connect(socket_path(), receive_timeout);
  if (!client) fail_with_log(client.error().message);
  return std::move(client).value();
}

Json DaemonHarness::call(const Json& request) const {
  auto client = connect();
  auto response = client.call(request);
  if (!response) fail_with_log(response.error().message);
  return std::move(response).value();
}

void DaemonHarness::signal(int signal_number) const {
  if (pid_ <= 0) throw std::runtime_error("dirproxyd is not running");
  if (::kill(pid_, signal_number) != 0) throw_errno("kill");
}

int DaemonHarness::stop(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  if (auto status = reap(timeout)) return *status;
  ::kill(pid_, SIGKILL);
  reap(10s);
  fail_with_log("dirproxyd did not exit within " + std::to_string(timeout.count()) +
                " ms of SIGTERM (killed)");
}

void DaemonHarness::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  if (!reap(10s)) fail_with_log("dirproxyd survived SIGKILL for 10 s");
}

void DaemonHarness::restart() {
  if (pid_ > 0) stop();
  spawn();
  wait_until_ready();
}

std::string DaemonHarness::log() const { return read_file(log_path()); }

bool DaemonHarness::wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (log().find(text) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string DaemonHarness::log_tail(std::size_t lines) const {
  std::string text = log();
  std::size_t start = text.size();
  // Skip a final newline, then walk back `lines` line breaks.
  if (start > 0 && text[start - 1] == '\n') --start;
  for (std::size_t seen = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++seen == lines) break;
  }
  return text.substr(start);
}

ProcessOutput DaemonHarness::run_ctl(const std::vector<std::string>& args,
                                     const std::string& stdin_text) const {
  std::vector<std::string> full = {"--socket", socket_path()};
  full.insert(full.end(), args.begin(), args.end());
  RunOptions options;
  options.stdin_text = stdin_text;
  return run_program(DIRPROXYCTL_PATH, full, options);
}

ProcessOutput DaemonHarness::run_ctl_as(RunAs who, const std::vector<std::string>& args,
                                        const std::string& stdin_text) const {
  std::vector<std::string> full = {"--socket", socket_path()};
  full.insert(full.end(), args.begin(), args.end());
  RunOptions options;
  options.stdin_text = stdin_text;
  options.run_as = who;
  return run_program(DIRPROXYCTL_PATH, full, options);
}

void DaemonHarness::fail_with_log(const std::string& what) const {
  throw std::runtime_error(what + "\n--- dirproxyd log (" + log_path() + ", tail) ---\n" +
                           log_tail());
}

}  // namespace dirproxy::integration
