// The integration tests' handle on real processes: a DaemonHarness owns one
// dirproxyd started from its built binary in a private temporary directory
// (config file, state_dir, socket and log all inside it), talks to it through
// the protocol client, runs dirproxyctl against it, and cleans everything up.
// Helpers run any program, or a function, as another local user (for the
// "non-admin peer" tests).
//
// Failures to start, stop or reach the daemon throw std::runtime_error with
// the tail of the daemon's log: gtest reports an exception as a failure of
// the test that caused it, so a test reads as straight-line code.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/socket/protocol.hpp"
#include "frontends/socket/protocol_client.hpp"
#include "support/child_process.hpp"

namespace dirproxy::integration {

using protocol::Json;
using protocol::ProtocolClient;
using namespace std::chrono_literals;

// What a finished child process left behind: exit_code (128 + N when
// signal N killed it, -1 when it outlived its timeout), out and err.
using ProcessOutput = dirproxy::testing::ChildResult;

// A local account to run a child process as.
using dirproxy::testing::RunAs;

// The "nobody" account (getpwnam): a peer that is certainly not an admin.
RunAs nobody();

// Whether this process may take another identity (run_as, RunOptions::run_as):
// only root can. Tests that need it skip otherwise.
bool can_change_identity();

// stdin_text, run_as, env (an empty value removes the variable) and timeout.
using RunOptions = dirproxy::testing::ChildOptions;

// Runs `program` with `args` (argv[0] is added) and waits for it to exit,
// killing it when it runs longer than options.timeout.
ProcessOutput run_program(const std::string& program, const std::vector<std::string>& args,
                          const RunOptions& options = {});

// Runs `function` in a forked child as `who` and returns its exit code (126
// when the identity could not be taken, -1 after `timeout`); see
// dirproxy::testing::run_as.
using dirproxy::testing::run_as;

class DaemonHarness {
 public:
  // Creates the temporary directory (mkdtemp /tmp/dpt-XXXXXX, mode 0711 so
  // that other users can reach the socket) with an empty state_dir in it.
  // The daemon is not started yet.
  DaemonHarness();
  // Kills the daemon if it still runs and removes the temporary directory
  // (kept when DIRPROXY_KEEP_TEST_DIR is set). When the test has failed, the
  // tail of the daemon's log goes to stderr first.
  ~DaemonHarness();
  DaemonHarness(const DaemonHarness&) = delete;
  DaemonHarness& operator=(const DaemonHarness&) = delete;

  const std::string& dir() const { return dir_; }
  std::string socket_path() const { return dir_ + "/dirproxy.sock"; }
  std::string config_path() const { return dir_ + "/dirproxy.yaml"; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string log_path() const { return dir_ + "/dirproxyd.log"; }

  // The default test configuration as a JSON object (JSON is YAML, so it can
  // be edited as JSON and written as is): one internal read_write directory,
  // socket (mode 0666) and state_dir in dir(), log level debug, the cheapest
  // Argon2id parameters (opslimit 1, memlimit 8192) so tests run fast. When
  // the tests do not run as root, the invoking user is made an admin
  // (server.admins.users) so that admin operations work the same.
  Json default_config() const;

  // Writes the configuration file. In `yaml`, every "{dir}" is replaced by
  // dir(), so a test can write its own file: "state_dir: {dir}/state".
  void write_config(std::string yaml) const;
  void write_config(const Json& config) const;

  // Writes the configuration (the default one when none is given), starts
  // dirproxyd --config config_path() and waits until its socket accepts
  // connections. Throws, with the log's tail, when the daemon exits first
  // or is not ready within 10 s.
  void start();
  void start(const std::string& yaml);
  void start(const Json& config);

  // The two halves of start(), for tests of start-up itself: spawn() starts
  // the process with the current configuration file and returns at once;
  // wait_until_ready() waits as start() does: until the socket accepts and the
  // daemon has logged that it is ready (its directories checked).
  void spawn();
  void wait_until_ready(std::chrono::milliseconds timeout = 10s);

  // Waits up to `timeout` for the daemon to exit by itself and returns its
  // status (as ProcessOutput::exit_code); nullopt while it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // A new connection to the daemon. Throws when it cannot connect.
  ProtocolClient connect(std::chrono::milliseconds receive_timeout = 30s) const;

  // Sends `request` on a new connection and returns the response (which may
  // be a refusal). Throws when the transport fails.
  Json call(const Json& request) const;

  // Sends signal `signal_number` to the daemon (e.g. SIGHUP).
  void signal(int signal_number) const;

  // SIGTERM, then waits up to `timeout` for the exit; returns the status
  // (0 for a clean shutdown). Throws (after SIGKILL) when it does not exit.
  int stop(std::chrono::milliseconds timeout = 10s);

  // SIGKILL, and reaps the process: a crash, for recovery tests.
  void kill9();

  // stop() (a kill9() is fine before it too), then start() again with the
  // configuration file as it is now.
  void restart();

  // Everything the daemon wrote to stdout and stderr so far, across restarts.
  std::string log() const;
  // Waits up to `timeout` for `text` to appear in log().
  bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = 5s) const;
  // The last `lines` lines of log().
  std::string log_tail(std::size_t lines = 40) const;

  // Runs dirproxyctl --socket socket_path() ARGS..., feeding `stdin_text`.
  ProcessOutput run_ctl(const std::vector<std::string>& args, const std::string& stdin_text = "") const;
  // The same as another local user, e.g. run_ctl_as(nobody(), {"user", "delete", "bob"}).
  ProcessOutput run_ctl_as(RunAs who, const std::vector<std::string>& args, const std::string& stdin_text = "") const;

 private:
  [[noreturn]] void fail_with_log(const std::string& what) const;
  std::optional<int> reap(std::chrono::milliseconds timeout);

  std::string dir_;
  pid_t pid_ = -1;
  std::size_t ready_lines_before_ = 0;  // "ready" lines in the log before this start
};

}  // namespace dirproxy::integration
