// dirproxyd under systemd, without systemd: the notify protocol read from a
// real datagram socket (READY, STATUS, WATCHDOG, RELOADING then READY,
// STOPPING), socket activation with an inherited listening socket as fd 3
// and with the LDAP front end's TCP sockets beside it (checked with
// ldap-utils), and journald's priority prefixes on stderr. The daemon is
// spawned here rather than by the harness because the test must control its
// environment and its file descriptors between fork and exec, as systemd
// does.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
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
#include "integration/daemon_harness.hpp"
#include "integration/ldap_test_support.hpp"
#include "support/slapd_server.hpp"
#include "support/temporary_directory.hpp"
#include "support/binaries_under_test.hpp"

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
    std::vector<std::pair<std::string, std::string>> env = {};
    // Passed as fds 3, 4, … with LISTEN_FDS and LISTEN_PID, in this order.
    std::vector<int> listening_fds = {};
    // LISTEN_FDNAMES (FileDescriptorName= of each), unset when empty.
    std::string fd_names = {};
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
      if (!options.listening_fds.empty()) {
        // Each is first copied above the numbers they go to, so that none is
        // overwritten before it is moved; dup2 clears FD_CLOEXEC on the copy.
        std::vector<int> copies;
        for (int fd : options.listening_fds) copies.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
        for (std::size_t i = 0; i < copies.size(); ++i) ::dup2(copies[i], 3 + static_cast<int>(i));
        ::setenv("LISTEN_FDS", std::to_string(copies.size()).c_str(), 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        if (!options.fd_names.empty()) ::setenv("LISTEN_FDNAMES", options.fd_names.c_str(), 1);
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
    return wait();
  }

  // Exit status once it exits by itself (-1 when it did not within 10 s).
  int wait() {
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

// Whether the daemon logs that it is ready (what it says with READY=1)
// within 10 s; " ready (" and not "ready", which "already in use" has too.
bool became_ready(const SystemdStyleDaemon& daemon) {
  for (int i = 0; i < 400; ++i) {
    if (daemon.log().find(" ready (") != std::string::npos) return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

TEST(Systemd, NotifiesReadyThenWatchdogThenReloadingAndReadyThenStopping) {
  testing::TemporaryDirectory dir("dps-notify");
  write_config(dir);
  const std::string notify_path = (dir.path() / "notify.sock").string();
  int notify = bind_unix(SOCK_DGRAM, notify_path);
  std::vector<std::string> seen;

  SystemdStyleDaemon daemon(dir, {.env = {{"NOTIFY_SOCKET", notify_path}, {"WATCHDOG_USEC", "400000"}}});
  auto ready = await_message(notify, "READY=1", seen);
  ASSERT_TRUE(ready) << joined(seen) << daemon.log();
  const std::string state_file = (dir.path() / "state" / "dirproxy.db").string();
  EXPECT_NE(ready->find("STATUS=ready; state: sqlite " + state_file + "; directories: internal up"),
            std::string::npos)
      << *ready;
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
  SystemdStyleDaemon daemon(dir, {.env = {{"NOTIFY_SOCKET", notify_path}}});
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

  SystemdStyleDaemon daemon(dir, {.listening_fds = {listening}});
  ::close(listening);
  // Connect only once the daemon says it serves the passed socket: a socket
  // nobody accepts on would block connect() once its backlog is full.
  ASSERT_TRUE(became_ready(daemon)) << daemon.log();
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

// A Unix stream socket listening at `path`, as systemd makes one for
// dirproxyd.socket's ListenStream=.
int listen_unix(const std::string& path) {
  const int fd = bind_unix(SOCK_STREAM, path);
  if (::listen(fd, 16) != 0) throw std::runtime_error("cannot listen on " + path + ": " + std::strerror(errno));
  return fd;
}

// A TCP socket listening on 127.0.0.1 at a port the kernel chose, as
// systemd makes one for ListenStream=127.0.0.1:PORT.
struct TcpListener {
  int fd = -1;
  int port = 0;
};
TcpListener listen_tcp() {
  TcpListener listener{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 0};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listener.fd < 0 || ::bind(listener.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener.fd, 16) != 0 ||
      ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error(std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno));
  }
  listener.port = ntohs(address.sin_port);
  return listener;
}

bool answers_ping(const std::string& socket_path) {
  auto client = ProtocolClient::connect(socket_path, 5s);
  if (!client) return false;
  auto response = client->call(Json{{"op", "ping"}, {"id", 1}});
  return response && (*response)["ok"] == true;
}

constexpr const char* kLdapBase = "dc=example,dc=com";
constexpr const char* kGrafanaDn = "cn=grafana,ou=services,dc=example,dc=com";
constexpr const char* kGrafanaPassword = "grafana service secret";

// write_config's file with `ldap_server` (the section of
// ldap_server_section) and the grafana application.
void write_config_with_ldap(const testing::TemporaryDirectory& dir, const Json& ldap_server) {
  const Json applications =
      Json::array({{{"name", "grafana"}, {"ldap", {{"password_hash", application_password_hash(kGrafanaPassword)}}}}});
  write_config(dir, "ldap_server: " + ldap_server.dump() + "\napplications: " + applications.dump() + "\n");
}

// A test CA and a server certificate for 127.0.0.1 in DIR/tls
// (testing::make_test_certificates); that folder.
std::string certificates_in(const testing::TemporaryDirectory& dir) {
  const std::string tls_dir = (dir.path() / "tls").string();
  testing::make_test_certificates(tls_dir);
  return tls_dir;
}

// An ldap-utils program trusting the test CA in `tls_dir`, reading no
// ldap.conf or .ldaprc.
ProcessOutput ldap_tool(const std::string& program, const std::vector<std::string>& args, const std::string& tls_dir) {
  RunOptions options;
  options.env = {{"LDAPTLS_CACERT", tls_dir + "/ca.crt"},
                 {"LDAPTLS_REQCERT", "demand"},
                 {"LDAPCONF", "/dev/null"},
                 {"LDAPRC", "/dev/null"}};
  options.timeout = 30s;
  return run_program(program, args, options);
}

// dirproxyd.socket with the LDAP ports added in a drop-in, as
// docs/ldap-server.md says: systemd names every socket of the unit
// "dirproxyd.socket", so the one whose port is that of an ldaps:// URI of
// ldap_server.listen serves ldaps://, the other plain LDAP with StartTLS.
// The URIs of listen are not opened: the ldap:// one's port stays closed.
TEST(Systemd, ServesLdapOnInheritedTcpSocketsAndOpensNoListenUriItself) {
  testing::TemporaryDirectory dir("dps-ldap");
  const std::string tls_dir = certificates_in(dir);
  const std::string activated = (dir.path() / "activated.sock").string();
  const int unix_socket = listen_unix(activated);
  const TcpListener ldap = listen_tcp();
  const TcpListener ldaps = listen_tcp();
  std::vector<UniqueFd> held;
  const int unopened_port = testing::free_port(held);
  held.clear();
  write_config_with_ldap(dir, ldap_server_section(kLdapBase, unopened_port, ldaps.port, tls_dir));

  SystemdStyleDaemon daemon(dir, {.listening_fds = {unix_socket, ldap.fd, ldaps.fd},
                                  .fd_names = "dirproxyd.socket:dirproxyd.socket:dirproxyd.socket"});
  for (int fd : {unix_socket, ldap.fd, ldaps.fd}) ::close(fd);
  ASSERT_TRUE(became_ready(daemon)) << daemon.log();

  const std::string ldap_uri = "ldap://127.0.0.1:" + std::to_string(ldap.port);
  const std::string ldaps_uri = "ldaps://127.0.0.1:" + std::to_string(ldaps.port);
  EXPECT_TRUE(answers_ping(activated)) << daemon.log();
  const auto root_dse =
      ldap_tool("ldapsearch", {"-x", "-LLL", "-H", ldap_uri, "-b", "", "-s", "base", "namingContexts"}, tls_dir);
  EXPECT_EQ(root_dse.exit_code, 0) << root_dse.err;
  EXPECT_EQ(root_dse.out, "dn:\nnamingContexts: dc=example,dc=com\n\n");
  const auto over_start_tls =
      ldap_tool("ldapwhoami", {"-x", "-ZZ", "-H", ldap_uri, "-D", kGrafanaDn, "-w", kGrafanaPassword}, tls_dir);
  EXPECT_EQ(over_start_tls.exit_code, 0) << over_start_tls.err;
  EXPECT_EQ(over_start_tls.out, std::string("dn:") + kGrafanaDn + "\n");
  const auto over_ldaps =
      ldap_tool("ldapwhoami", {"-x", "-H", ldaps_uri, "-D", kGrafanaDn, "-w", kGrafanaPassword}, tls_dir);
  EXPECT_EQ(over_ldaps.exit_code, 0) << over_ldaps.err;
  EXPECT_EQ(over_ldaps.out, std::string("dn:") + kGrafanaDn + "\n");
  // 255: "Can't contact LDAP server".
  const auto unopened =
      ldap_tool("ldapwhoami", {"-x", "-H", "ldap://127.0.0.1:" + std::to_string(unopened_port)}, tls_dir);
  EXPECT_EQ(unopened.exit_code, 255) << unopened.out << unopened.err;
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// A socket of a unit with FileDescriptorName=ldaps (a second socket unit
// with Service=dirproxyd.service) serves ldaps:// whatever its port, and
// whatever the order systemd passes the units' sockets in.
TEST(Systemd, ServesLdapsOnAnInheritedSocketNamedLdaps) {
  testing::TemporaryDirectory dir("dps-ldaps");
  const std::string tls_dir = certificates_in(dir);
  const std::string activated = (dir.path() / "activated.sock").string();
  const int unix_socket = listen_unix(activated);
  const TcpListener named = listen_tcp();
  std::vector<UniqueFd> held;
  const int ldap_port = testing::free_port(held);
  const int ldaps_port = testing::free_port(held);
  held.clear();
  write_config_with_ldap(dir, ldap_server_section(kLdapBase, ldap_port, ldaps_port, tls_dir));

  SystemdStyleDaemon daemon(dir, {.listening_fds = {named.fd, unix_socket}, .fd_names = "ldaps:dirproxyd.socket"});
  for (int fd : {unix_socket, named.fd}) ::close(fd);
  ASSERT_TRUE(became_ready(daemon)) << daemon.log();

  EXPECT_TRUE(answers_ping(activated)) << daemon.log();
  const auto over_ldaps = ldap_tool(
      "ldapwhoami",
      {"-x", "-H", "ldaps://127.0.0.1:" + std::to_string(named.port), "-D", kGrafanaDn, "-w", kGrafanaPassword},
      tls_dir);
  EXPECT_EQ(over_ldaps.exit_code, 0) << over_ldaps.err;
  EXPECT_EQ(over_ldaps.out, std::string("dn:") + kGrafanaDn + "\n");
  // Plain LDAP on it is no TLS handshake: the connection ends unanswered.
  const auto plain = ldap_tool("ldapwhoami", {"-x", "-H", "ldap://127.0.0.1:" + std::to_string(named.port)}, tls_dir);
  EXPECT_EQ(plain.exit_code, 254) << plain.out;
  EXPECT_EQ(plain.err, "ldap_result: Can't contact LDAP server (-1)\n");
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// LDAP sockets for a daemon without an ldap_server section are a mistake in
// the units or the file: it refuses to start rather than leave them unserved.
TEST(Systemd, RefusesInheritedTcpSocketsWithoutAnLdapServerSection) {
  testing::TemporaryDirectory dir("dps-noldap");
  write_config(dir);
  const int unix_socket = listen_unix((dir.path() / "activated.sock").string());
  const TcpListener ldap = listen_tcp();

  SystemdStyleDaemon daemon(dir,
                            {.listening_fds = {unix_socket, ldap.fd}, .fd_names = "dirproxyd.socket:dirproxyd.socket"});
  for (int fd : {unix_socket, ldap.fd}) ::close(fd);

  EXPECT_EQ(daemon.wait(), 1) << daemon.log();
  EXPECT_NE(daemon.log().find("systemd passed TCP sockets for LDAP, but ldap_server is not configured"),
            std::string::npos)
      << daemon.log();
}

TEST(Systemd, JournalStreamLinesCarryPriorityPrefixesAndNoTimestamps) {
  testing::TemporaryDirectory dir("dps-journal");
  write_config(dir);
  SystemdStyleDaemon daemon(dir, {.env = {{"JOURNAL_STREAM", "8:12345"}}});
  ASSERT_TRUE(became_ready(daemon)) << daemon.log();
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
