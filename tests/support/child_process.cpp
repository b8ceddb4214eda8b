#include "support/child_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "core/unique_fd.hpp"

extern char** environ;

namespace dirproxy::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polling interval of the bounded waits: short enough not to slow tests
// down, long enough not to spin.
constexpr auto kPollInterval = 5ms;
constexpr auto kKillTimeout = 10s;

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// argv[0] as a path.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string search_path = ::getenv("PATH") != nullptr ? ::getenv("PATH") : "/usr/bin:/bin";
  search_path += ":/usr/sbin:/sbin";
  std::istringstream folders(search_path);
  for (std::string folder; std::getline(folders, folder, ':');) {
    if (folder.empty()) continue;
    std::string candidate = folder + "/" + name;
    if (is_executable(candidate)) return candidate;
  }
  throw std::runtime_error("program not found: " + name);
}

// argv and envp for execve, built before fork(): between fork() and exec the
// child may only make async-signal-safe calls, so it must not allocate.
class ExecImage {
 public:
  ExecImage(const std::vector<std::string>& argv, const Environment& env)
      : path_(resolve_program(argv.at(0))),
        failure_message_("child_process: execve " + path_ + " failed\n"),
        args_(argv) {
    auto overridden = [&](std::string_view entry) {
      const std::string_view name = entry.substr(0, entry.find('='));
      return std::any_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == name; });
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
  void exec() const { ::execve(path_.c_str(), argv_.data(), envp_.data()); }
  const char* failure_message() const { return failure_message_.c_str(); }

 private:
  std::string path_;
  std::string failure_message_;
  std::vector<std::string> args_, env_;
  std::vector<char*> argv_, envp_;
};

void write_child_error(const char* message) {
  ssize_t ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  (void)ignored;
}

// Right after fork(), in the child: die with the test process, and undo what
// the test process changed that exec would carry over (ignored SIGPIPE,
// signal mask).
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
bool become(RunAs who) { return ::setgroups(0, nullptr) == 0 && ::setgid(who.gid) == 0 && ::setuid(who.uid) == 0; }

// Forks a child with the given standard descriptors, as `identity` when
// set, that execs `image`. Returns its pid.
pid_t start_child(const ExecImage& image, int stdin_fd, int stdout_fd, int stderr_fd,
                  const std::optional<RunAs>& identity) {
  const pid_t parent = ::getpid();
  // Buffered output would otherwise be written twice, by parent and child.
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid != 0) return pid;

  // The child: async-signal-safe calls only until exec.
  prepare_child(parent);
  ::dup2(stdin_fd, STDIN_FILENO);
  ::dup2(stdout_fd, STDOUT_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  ::close_range(3, ~0U, 0);
  if (identity && !become(*identity)) {
    write_child_error("child_process: cannot change identity\n");
    ::_exit(126);
  }
  image.exec();
  write_child_error(image.failure_message());
  ::_exit(127);
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw_errno("pipe2");
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

}  // namespace

void throw_errno(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

std::optional<int> wait_for_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return decode_status(status);
    if (done < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  wait_for_child(pid, kKillTimeout);
}

pid_t spawn_child(const std::vector<std::string>& argv, const Environment& env, int stdout_fd, int stderr_fd) {
  const ExecImage image(argv, env);
  UniqueFd null_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_input) throw_errno("open /dev/null");
  return start_child(image, null_input.get(), stdout_fd, stderr_fd, std::nullopt);
}

ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  ::signal(SIGPIPE, SIG_IGN);

  const ExecImage image(argv, options.env);
  auto [stdin_read, stdin_write] = make_pipe();
  auto [stdout_read, stdout_write] = make_pipe();
  auto [stderr_read, stderr_write] = make_pipe();
  const pid_t pid = start_child(image, stdin_read.get(), stdout_write.get(), stderr_write.get(), options.run_as);
  stdin_read.reset();
  stdout_write.reset();
  stderr_write.reset();

  ChildResult result;
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
      std::string& sink = entry.fd == stdout_read.get() ? result.out : result.err;
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
  auto status = wait_for_child(pid, timed_out ? kKillTimeout : options.timeout);
  if (!status) {
    kill_and_reap(pid);
    timed_out = true;
  }
  result.exit_code = timed_out ? -1 : status.value_or(-1);
  return result;
}

int run_as(RunAs who, const std::function<int()>& function, std::chrono::milliseconds timeout) {
  // Buffered output would otherwise be written twice, by parent and child.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
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
  if (auto status = wait_for_child(pid, timeout)) return *status;
  kill_and_reap(pid);
  return -1;
}

}  // namespace dirproxy::testing
