// Child processes for the test fixtures (SlapdServer, the integration tests'
// DaemonHarness): start a server with its output going to a log, run a
// program to completion and capture what it wrote (a setup command, an
// ldap-utils call, dirproxyctl), or run a function in a forked child as
// another local user.
//
// A program is found before fork() (a name without '/' on PATH, then in
// /usr/sbin and /sbin), since the child may not allocate before exec. Every
// child dies with the test process (PR_SET_PDEATHSIG) and gets default
// SIGPIPE handling and an empty signal mask whatever the test process
// changed; an exec'd program inherits no descriptor but stdin, stdout and
// stderr.
//
// Failing to start a child (no such program, fork or pipe fails) throws
// std::runtime_error; whatever the child itself does is in its result.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dirproxy::testing {

// Environment entries set for a child on top of the test's own; an empty
// value removes the variable.
using Environment = std::vector<std::pair<std::string, std::string>>;

// A local account to run a child as.
struct RunAs {
  uid_t uid;
  gid_t gid;
};

// What a finished child left behind.
struct ChildResult {
  // The exit status; 128 + N when signal N ended it (as a shell reports it);
  // -1 when it outlived its timeout and was killed.
  int exit_code = -1;
  std::string out;  // everything it wrote to stdout
  std::string err;  // everything it wrote to stderr
};

// Aggregate: set members one by one (g++ 12 warns about designated
// initializers that leave members out, and warnings are errors).
struct ChildOptions {
  std::string stdin_text;  // written to the child's stdin, which is then closed
  // Taken in the child before exec (supplementary groups dropped, then gid,
  // then uid); exit code 126 when it cannot be. Only root can.
  std::optional<RunAs> run_as;
  Environment env;
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

// Runs argv[0] with `argv` and waits for it to exit, killing it when it runs
// longer than options.timeout (exit_code -1). Ignores SIGPIPE in the test
// process: a child that exits without reading its stdin gives EPIPE.
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

// Starts argv[0] with `argv`, stdin from /dev/null and stdout and stderr on
// the given descriptors (a log file, say), and returns its pid at once.
// Reap it with wait_for_child or kill_and_reap.
pid_t spawn_child(const std::vector<std::string>& argv, const Environment& env, int stdout_fd, int stderr_fd);

// Runs `function` in a forked child as `who` (supplementary groups dropped,
// then gid, then uid) and returns what it returned (as the child's exit
// code; 126 when the identity could not be taken, 125 when it threw, 128 + N
// on signal N). The child keeps the test process's descriptors. gtest
// assertions inside `function` do not reach the test: return non-zero to
// report failure. Killed after `timeout`, giving -1.
int run_as(RunAs who, const std::function<int()>& function,
           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Waits up to `timeout` for child `pid`; its status as ChildResult::exit_code
// has it, or nullopt while it still runs. A pid that is no longer our child
// counts as gone (-1).
std::optional<int> wait_for_child(pid_t pid, std::chrono::milliseconds timeout);

// SIGKILL and reap (waiting up to 10 s: SIGKILL cannot be refused).
void kill_and_reap(pid_t pid);

// Throws std::runtime_error "<what>: <strerror(errno)>". For the fixtures'
// own system calls too.
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace dirproxy::testing
