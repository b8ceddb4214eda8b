// dirproxyd under systemd, without systemd: the notify protocol read from a
// real datagram socket (READY, STATUS, WATCHDOG, RELOADING then READY,
// STOPPING), socket activation with an inherited listening socket as fd 3,
// and journald's priority prefixes on stderr. The daemon is spawned here
// rather than by the harness because the test must control its environment
// and its file descriptors between fork and exec, as systemd does.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "frontends/socket/protocol_client.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy::integration {
namespace {

using namespace std::chrono_literals;
using protocol::Json;
using protocol::ProtocolClient;

int bind_unix(int type, const std::string& path) {
  int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error("cannot bind " + path + ": " + std::strerror(errno));
  }
  return fd;
}

// A daemon started the way systemd starts one.
class SystemdStyleDaemon {
 public:
  struct Options {
    std::vector<std::pair<std::string, std::string>> env;
    int listening_fd = -1;  // passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID
  };

  SystemdStyleDaemon(const testing::TemporaryDirectory& dir, const Options& options)
      : log_path_((dir.path() / "dirproxyd.log").string()) {
    const std::string config = (dir.path() / "dirproxy.yaml").string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                               "LISTEN_FDNAMES", "JOURNAL_STREAM"}) {
        ::unsetenv(name);
      }
      for (const auto& [name, value] : options.env) ::setenv(name.c_str(), value.c_str(), 1);
      if (options.listening_fd >= 0) {
        // dup2 clears FD_CLOEXEC on the copy, but dup2(3, 3) does nothing.
        if (options.listening_fd != 3) ::dup2(options.listening_fd, 3);
        ::fcntl(3, F_SETFD, 0);
        ::setenv("LISTEN_FDS", "1", 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
      }
      ::execl(DIRPROXYD_PATH, DIRPROXYD_PATH, "--config", config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~SystemdStyleDaemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void signal(int number) const { ::kill(pid_, number); }

  // Exit status after SIGTERM (-1 when it did not exit within 10 s).
  int stop() {
    signal(SIGTERM);
    for (int i = 0; i < 1000; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  std::string log() const {
    std::ifstream file(log_path_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
};

void write_config(const testing::TemporaryDirectory& dir, const std::string& extra = "") {
  std::ofstream(dir.path() / "dirproxy.yaml")
      << "server:\n  socket: " << (dir.path() / "dirproxy.sock").string() << "\n  socket_mode: \"0600\"\n"
      << "state_dir: " << (dir.path() / "state").string() << "\n"
      << "directories:\n  - name: internal\n    type: internal\n"
      << "accounts:\n  password_hash: {opslimit: 1, memlimit: 8192}\n"
      << extra;
}

// Reads notify datagrams until one contains `wanted` (or the time is up);
// every message read is kept in `seen`.
std::optional<std::string> await_message(int socket, const std::string& wanted, std::vector<std::string>& seen,
                                         std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd ready{socket, POLLIN, 0};
    if (::poll(&ready, 1, 50) != 1) continue;
    char buffer[4096];
    ssize_t length = ::recv(socket, buffer, sizeof buffer, 0);
    if (length <= 0) continue;
    seen.emplace_back(buffer, static_cast<std::size_t>(length));
    if (seen.back().find(wanted) != std::string::npos) return seen.back();
  }
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& messages) {
  std::string all;
  for (const auto& message : messages) all += "[" + message + "] ";
  return all;
}

TEST(Systemd, NotifiesReadyThenWatchdogThenReloadingAndReadyThenStopping) {
  testing::TemporaryDirectory dir("dps-notify");
  write_config(dir);
  const std::string notify_path = (dir.path() / "notify.sock").string();
  int notify = bind_unix(SOCK_DGRAM, notify_path);
  std::vector<std::string> seen;

  SystemdStyleDaemon daemon(dir, {{{"NOTIFY_SOCKET", notify_path}, {"WATCHDOG_USEC", "400000"}}, -1});
  auto ready = await_message(notify, "READY=1", seen);
  ASSERT_TRUE(ready) << joined(seen) << daemon.log();
  EXPECT_NE(ready->find("STATUS=ready; directories: internal up"), std::string::npos) << *ready;
  // Half of WATCHDOG_USEC: two pings arrive well within a second.
  std::vector<std::string> after_ready;
  ASSERT_TRUE(await_message(notify, "WATCHDOG=1", after_ready, 2s)) << joined(after_ready);
  ASSERT_TRUE(await_message(notify, "WATCHDOG=1", after_ready, 2s)) << joined(after_ready);

  daemon.signal(SIGHUP);
  std::vector<std::string> reload;
  auto reloading = await_message(notify, "RELOADING=1", reload);
  auto ready_again = await_message(notify, "READY=1", reload);
  ASSERT_TRUE(reloading) << joined(reload);
  EXPECT_TRUE(std::regex_search(*reloading, std::regex("^RELOADING=1\nMONOTONIC_USEC=[0-9]+$"))) << *reloading;
  ASSERT_TRUE(ready_again) << joined(reload);
  EXPECT_NE(ready_again->find("STATUS=reloaded"), std::string::npos) << *ready_again;

  daemon.signal(SIGTERM);
  std::vector<std::string> stopping;
  EXPECT_TRUE(await_message(notify, "STOPPING=1", stopping)) << joined(stopping);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  ::close(notify);
}

TEST(Systemd, RefusedReloadStillReportsReadyWithTheReason) {
  testing::TemporaryDirectory dir("dps-notify");
  write_config(dir);
  const std::string notify_path = (dir.path() / "notify.sock").string();
  int notify = bind_unix(SOCK_DGRAM, notify_path);
  std::vector<std::string> seen;
  SystemdStyleDaemon daemon(dir, {{{"NOTIFY_SOCKET", notify_path}}, -1});
  ASSERT_TRUE(await_message(notify, "READY=1", seen)) << daemon.log();

  write_config(dir, "bogus_key: 1\n");
  daemon.signal(SIGHUP);
  std::vector<std::string> reload;
  auto ready = await_message(notify, "READY=1", reload);

  ASSERT_TRUE(ready) << joined(reload);
  EXPECT_NE(ready->find("STATUS=reload refused, running configuration kept"), std::string::npos) << *ready;
  EXPECT_EQ(daemon.stop(), 0);
  ::close(notify);
}

TEST(Systemd, ServesOnAnInheritedListeningSocketAndLeavesItsFileAlone) {
  testing::TemporaryDirectory dir("dps-listen");
  write_config(dir);  // server.socket names dirproxy.sock, which must stay unused
  const std::string activated = (dir.path() / "activated.sock").string();
  int listening = bind_unix(SOCK_STREAM, activated);
  ASSERT_EQ(::listen(listening, 16), 0);

  SystemdStyleDaemon daemon(dir, {{}, listening});
  ::close(listening);
  // Connect only once the daemon says it serves the passed socket: a socket
  // nobody accepts on would block connect() once its backlog is full.
  bool ready = false;
  for (int i = 0; i < 400 && !ready; ++i) {
    ready = daemon.log().find("ready") != std::string::npos;
    if (!ready) std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(ready) << daemon.log();
  std::optional<Json> pong;
  if (auto client = ProtocolClient::connect(activated, 5s)) {
    if (auto response = client->call(Json{{"op", "ping"}, {"id", 1}})) pong = *response;
  }

  ASSERT_TRUE(pong) << daemon.log();
  EXPECT_EQ((*pong)["ok"], true) << *pong;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "dirproxy.sock"));
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  // The socket belongs to the .socket unit: the daemon does not remove it.
  EXPECT_TRUE(std::filesystem::exists(activated));
}

TEST(Systemd, JournalStreamLinesCarryPriorityPrefixesAndNoTimestamps) {
  testing::TemporaryDirectory dir("dps-journal");
  write_config(dir);
  SystemdStyleDaemon daemon(dir, {{{"JOURNAL_STREAM", "8:12345"}}, -1});
  for (int i = 0; i < 400 && daemon.log().find("ready") == std::string::npos; ++i) std::this_thread::sleep_for(25ms);
  // A restart-only change on reload logs a warning: priority 4.
  std::ofstream(dir.path() / "dirproxy.yaml", std::ios::trunc)
      << "server:\n  socket: " << (dir.path() / "dirproxy.sock").string() << "\n  socket_mode: \"0600\"\n"
      << "  workers: 3\n"
      << "state_dir: " << (dir.path() / "state").string() << "\n"
      << "directories:\n  - name: internal\n    type: internal\n"
      << "accounts:\n  password_hash: {opslimit: 1, memlimit: 8192}\n";
  daemon.signal(SIGHUP);
  for (int i = 0; i < 400 && daemon.log().find("reloaded") == std::string::npos; ++i) std::this_thread::sleep_for(25ms);
  ASSERT_EQ(daemon.stop(), 0);

  const std::string log = daemon.log();
  EXPECT_NE(log.find("<6>info [daemon] dirproxyd"), std::string::npos) << log;
  EXPECT_NE(log.find("<4>warning [daemon] reload: server.workers changed"), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(std::regex_search(line, std::regex("^<[0-7]>"))) << line;
    EXPECT_FALSE(std::regex_search(line, std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T"))) << line;
  }
}

}  // namespace
}  // namespace dirproxy::integration
