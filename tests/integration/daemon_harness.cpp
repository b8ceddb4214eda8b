#include "daemon_harness.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::kill_and_reap;
using dirproxy::testing::spawn_child;
using dirproxy::testing::throw_errno;
using dirproxy::testing::wait_for_child;
using Clock = std::chrono::steady_clock;

// Polling interval of the bounded waits below: short enough not to slow
// tests down, long enough not to spin.
constexpr auto kPollInterval = 5ms;

// Variables through which systemd talks to a service. The test's own
// environment may carry them (a CI job run under systemd); a daemon started
// by a test must not think it is a service unless the test says so.
constexpr const char* kSystemdVariables[] = {"NOTIFY_SOCKET",  "LISTEN_FDS",           "LISTEN_PID",
                                             "LISTEN_FDNAMES", "JOURNAL_STREAM",       "WATCHDOG_USEC",
                                             "WATCHDOG_PID",   "CREDENTIALS_DIRECTORY"};

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

ProcessOutput run_program(const std::string& program, const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  return dirproxy::testing::run_child(argv, options);
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
    kill_and_reap(pid_);
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
      {"directories", Json::array({{{"name", "internal"}, {"type", "internal"}, {"permissions", "read_write"}}})},
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

namespace {
// What dirproxyd logs when it would send READY=1: the socket listens and
// every directory has been checked (whatever the log format).
constexpr std::string_view kReadyLine = " ready (";

std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}
}  // namespace

void DaemonHarness::spawn() {
  if (pid_ > 0) throw std::runtime_error("dirproxyd is already running (pid " + std::to_string(pid_) + ")");
  ready_lines_before_ = count_of(log(), kReadyLine);
  UniqueFd log_file(::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log_file) throw_errno("cannot open " + log_path());
  dirproxy::testing::Environment env;
  for (const char* name : kSystemdVariables) env.emplace_back(name, "");
  pid_ = spawn_child({DIRPROXYD_PATH, "--config", config_path()}, env, log_file.get(), log_file.get());
}

void DaemonHarness::wait_until_ready(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (pid_ <= 0) fail_with_log("dirproxyd is not running");
    if (auto status = reap(0ms)) {
      fail_with_log("dirproxyd exited with status " + std::to_string(*status) +
                    " before its socket accepted connections");
    }
    // Ready as systemd would see it: the socket accepts and the daemon has
    // checked its directories (a check that may hold an LDAP connection for
    // its timeouts, which a test's first request must not race).
    if (count_of(log(), kReadyLine) > ready_lines_before_ && ProtocolClient::connect(socket_path())) return;
    if (Clock::now() >= deadline) {
      fail_with_log("dirproxyd did not become ready (socket " + socket_path() + ") within " +
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
  fail_with_log("dirproxyd did not exit within " + std::to_string(timeout.count()) + " ms of SIGTERM (killed)");
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

ProcessOutput DaemonHarness::run_ctl(const std::vector<std::string>& args, const std::string& stdin_text) const {
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
  throw std::runtime_error(what + "\n--- dirproxyd log (" + log_path() + ", tail) ---\n" + log_tail());
}

}  // namespace dirproxy::integration
