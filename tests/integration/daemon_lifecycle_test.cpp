// dirproxyd as a process: clean shutdown on SIGTERM (requests in flight are
// still answered, the socket file goes away), recovery after SIGKILL (no
// acknowledged write is lost, the stale socket is replaced), refusal to share
// a socket with a running daemon, the socket's mode, and configuration
// reloads through the reload operation and SIGHUP (a bad file keeps the
// running configuration, a good one applies).
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "protocol_test_support.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {
namespace {

using Clock = std::chrono::steady_clock;

// The systemd variables a daemon started by a test must not see.
std::vector<std::pair<std::string, std::string>> without_systemd() {
  return {{"NOTIFY_SOCKET", ""},  {"LISTEN_FDS", ""},    {"LISTEN_PID", ""},  {"LISTEN_FDNAMES", ""},
          {"JOURNAL_STREAM", ""}, {"WATCHDOG_USEC", ""}, {"WATCHDOG_PID", ""}};
}

// lstat's answer for `path`, or nullopt when there is nothing there.
std::optional<struct stat> file_status(const std::string& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) return std::nullopt;
  return status;
}

class DaemonLifecycle : public DaemonTest {};

// --- SIGTERM ------------------------------------------------------------------

TEST_F(DaemonLifecycle, SigtermExitsZeroAndRemovesTheSocketFile) {
  daemon_.start();

  int status = daemon_.stop();

  EXPECT_EQ(status, 0);
  EXPECT_FALSE(file_status(daemon_.socket_path()).has_value()) << daemon_.socket_path() << " is still there";
  EXPECT_TRUE(daemon_.wait_for_log("stopped", 0ms)) << daemon_.log_tail();
}

TEST_F(DaemonLifecycle, SigtermStillAnswersEveryRequestAlreadySent) {
  daemon_.start();
  auto client = daemon_.connect(10s);
  ASSERT_TRUE(ping_succeeds(client));  // the daemon has accepted this connection
  // Writes on one connection run one after the other (each a synchronous
  // SQLite commit), so most of the batch is still waiting when SIGTERM lands.
  std::string batch;
  for (int id = 1; id <= 50; ++id) {
    Json request = id % 5 == 0 ? Json{{"op", "get_user"}, {"username", "u" + std::to_string(id - 1)}}
                               : add_user_request("u" + std::to_string(id));
    request["id"] = id;
    batch += request.dump() + "\n";
  }
  ASSERT_TRUE(client.send_raw(batch));

  daemon_.signal(SIGTERM);
  std::vector<Json> responses;
  for (int i = 0; i < 50; ++i) responses.push_back(next_response(client));

  for (int id = 1; id <= 50; ++id) {
    const Json& response = responses[static_cast<std::size_t>(id - 1)];
    EXPECT_EQ(response["id"], id) << response;
    EXPECT_EQ(outcome_of(response), "ok") << response;
  }
  EXPECT_EQ(daemon_.wait_exit(10s), 0);
}

TEST_F(DaemonLifecycle, WritesAnsweredDuringShutdownAreThereAfterRestart) {
  daemon_.start();
  auto client = daemon_.connect(10s);
  ASSERT_TRUE(ping_succeeds(client));
  std::string batch;
  for (int id = 1; id <= 20; ++id) {
    Json request = add_user_request("u" + std::to_string(id));
    request["id"] = id;
    batch += request.dump() + "\n";
  }
  ASSERT_TRUE(client.send_raw(batch));
  daemon_.signal(SIGTERM);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(outcome_of(next_response(client)), "ok");
  ASSERT_EQ(daemon_.wait_exit(10s), 0);

  daemon_.restart();

  for (int id = 1; id <= 20; ++id) EXPECT_EQ(outcome_of(get_user("u" + std::to_string(id))), "ok") << id;
}

// --- SIGKILL and what survives it ---------------------------------------------

TEST_F(DaemonLifecycle, EveryAcknowledgedUserSurvivesASigkillDuringWrites) {
  constexpr int kWriters = 4;
  constexpr int kAcknowledgedBeforeKill = 40;
  daemon_.start();
  std::atomic<int> acknowledged_count{0};
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::vector<std::string> refused;
  std::vector<std::thread> writers;

  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto client = ProtocolClient::connect(daemon_.socket_path(), 10s);
      if (!client) return;
      for (int n = 0; n < 1000; ++n) {
        const std::string name = "w" + std::to_string(w) + "n" + std::to_string(n);
        Json request = add_user_request(name);
        request["id"] = n;
        auto response = client->call(request);
        if (!response) return;  // the daemon died: this ack is lost
        std::lock_guard lock(mutex);
        if (outcome_of(*response) == "ok") {
          acknowledged.push_back(name);
          ++acknowledged_count;
        } else {
          refused.push_back(name + ": " + response->dump());
        }
      }
    });
  }
  for (auto deadline = Clock::now() + 10s; acknowledged_count < kAcknowledgedBeforeKill && Clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);
  }
  daemon_.kill9();
  for (auto& writer : writers) writer.join();
  daemon_.restart();

  EXPECT_TRUE(refused.empty()) << ::testing::PrintToString(refused);
  EXPECT_GE(acknowledged.size(), static_cast<std::size_t>(kAcknowledgedBeforeKill));
  for (const auto& name : acknowledged) EXPECT_EQ(outcome_of(get_user(name)), "ok") << name;
}

TEST_F(DaemonLifecycle, AStaleSocketFileIsReplacedAtStart) {
  daemon_.start();
  daemon_.kill9();
  auto leftover = file_status(daemon_.socket_path());
  ASSERT_TRUE(leftover && S_ISSOCK(leftover->st_mode)) << "SIGKILL left no socket file behind";

  daemon_.spawn();
  daemon_.wait_until_ready();

  auto client = daemon_.connect();
  EXPECT_TRUE(ping_succeeds(client));
  EXPECT_TRUE(daemon_.wait_for_log("removing stale socket " + daemon_.socket_path(), 0ms)) << daemon_.log_tail();
}

TEST_F(DaemonLifecycle, AFileThatIsNotASocketAtTheSocketPathIsNotReplaced) {
  {
    std::ofstream precious(daemon_.socket_path());
    precious << "not a socket\n";
  }
  daemon_.write_config(daemon_.default_config());

  daemon_.spawn();
  auto status = daemon_.wait_exit(10s);

  EXPECT_EQ(status, 1);
  std::ifstream precious(daemon_.socket_path());
  std::string content;
  std::getline(precious, content);
  EXPECT_EQ(content, "not a socket");
  EXPECT_NE(daemon_.log().find(daemon_.socket_path()), std::string::npos) << daemon_.log_tail();
}

TEST_F(DaemonLifecycle, ASecondDaemonOnTheSameSocketRefusesToStartNamingThePath) {
  daemon_.start();
  Json second = daemon_.default_config();
  second["state_dir"] = daemon_.dir() + "/state2";
  ASSERT_EQ(::mkdir((daemon_.dir() + "/state2").c_str(), 0700), 0);
  const std::string second_config = daemon_.dir() + "/second.yaml";
  std::ofstream(second_config) << second.dump(2);
  RunOptions options;
  options.env = without_systemd();
  options.timeout = 10s;

  auto result = run_program(DIRPROXYD_PATH, {"--config", second_config}, options);

  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find(daemon_.socket_path()), std::string::npos) << result.err;
  auto client = daemon_.connect();
  EXPECT_TRUE(ping_succeeds(client)) << "the first daemon's socket must survive";
}

// --- socket mode --------------------------------------------------------------

TEST_F(DaemonLifecycle, TheSocketFileHasTheConfiguredMode) {
  Json config = daemon_.default_config();
  config["server"]["socket_mode"] = "0600";
  daemon_.start(config);

  auto status = file_status(daemon_.socket_path());

  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(S_ISSOCK(status->st_mode));
  EXPECT_EQ(status->st_mode & 07777, 0600u);
}

// --- reload -------------------------------------------------------------------

// A configuration written out line by line, so that a test knows on which
// line and column each key is.
constexpr const char* kBaseConfig =
    "server:\n"                                                 // 1
    "  socket: {dir}/dirproxy.sock\n"                           // 2
    "  socket_mode: \"0666\"\n"                                 // 3
    "state_dir: {dir}/state\n"                                  // 4
    "log:\n"                                                    // 5
    "  level: debug\n"                                          // 6
    "directories:\n"                                            // 7
    "  - name: internal\n"                                      // 8
    "    type: internal\n"                                      // 9
    "    permissions: read_write\n"                             // 10
    "accounts:\n"                                               // 11
    "  password_hash:\n"                                        // 12
    "    opslimit: 1\n"                                         // 13
    "    memlimit: 8192\n";                                     // 14
constexpr const char* kOpenSignup = "signup:\n  mode: open\n";  // 15-16
constexpr const char* kUnknownKey = "frobnicate: 1\n";          // 17
constexpr const char* kUnknownKeyMessage = ":17:1: frobnicate: unknown key 'frobnicate'";

class DaemonReload : public DaemonTest {
 protected:
  void SetUp() override { daemon_.start(std::string(kBaseConfig)); }

  // Open signup plus an unknown key: were it applied even in part, signup
  // would show as open.
  void write_bad_config() { daemon_.write_config(std::string(kBaseConfig) + kOpenSignup + kUnknownKey); }
  void write_open_signup_config() { daemon_.write_config(std::string(kBaseConfig) + kOpenSignup); }
};

TEST_F(DaemonReload, ReloadOfAFileWithAnUnknownKeyIsBadRequestNamingFileLineColumnAndKey) {
  write_bad_config();

  auto response = send({{"op", "reload"}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  const std::string message = response["error"].value("message", "");
  EXPECT_NE(message.find(daemon_.config_path() + kUnknownKeyMessage), std::string::npos) << message;
}

TEST_F(DaemonReload, ReloadOfABadFileKeepsTheRunningConfiguration) {
  write_bad_config();

  send({{"op", "reload"}});

  EXPECT_EQ(signup_options()["mode"], "disabled");
  EXPECT_EQ(outcome_of(send({{"op", "ping"}})), "ok");
}

TEST_F(DaemonReload, ReloadOfAGoodFileAppliesIt) {
  write_open_signup_config();

  auto response = send({{"op", "reload"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(signup_options()["mode"], "open");
}

TEST_F(DaemonReload, ReloadOfAGoodFileAfterABadOneAppliesIt) {
  write_bad_config();
  send({{"op", "reload"}});
  write_open_signup_config();

  auto response = send({{"op", "reload"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(signup_options()["mode"], "open");
}

TEST_F(DaemonReload, ReloadAppliesANewPasswordMinimumLength) {
  daemon_.write_config(std::string(kBaseConfig) + "  password_min_length: 30\n");  // under accounts:
  arrange({{"op", "reload"}});

  auto response = send(add_user_request("alice"));  // a 21-character password

  EXPECT_EQ(outcome_of(response), "weak_password") << response;
}

TEST_F(DaemonReload, ReloadKeepsTheDataOfTheInternalDirectory) {
  add_user("alice");
  write_open_signup_config();

  arrange({{"op", "reload"}});

  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

// The state database is opened once, at start: a reload that names another
// backend is applied otherwise, warns, and keeps the running database.
TEST_F(DaemonReload, AChangeOfStateWaitsForARestartAndKeepsTheRunningDatabase) {
  add_user("alice");
  daemon_.write_config(std::string(kBaseConfig) + kOpenSignup +
                       "state:\n"
                       "  backend: postgresql\n"
                       "  postgresql:\n"
                       "    url: \"postgresql://dirproxy@127.0.0.1:1/dirproxy\"\n");

  auto response = send({{"op", "reload"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_TRUE(daemon_.wait_for_log("reload: state.backend changed; it takes effect at the next restart"))
      << daemon_.log_tail();
  EXPECT_TRUE(daemon_.wait_for_log("reload: state.postgresql changed; it takes effect at the next restart"))
      << daemon_.log_tail();
  EXPECT_EQ(signup_options()["mode"], "open");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(DaemonReload, SighupWithABadFileLogsTheErrorAndKeepsServingTheOldConfiguration) {
  write_bad_config();

  daemon_.signal(SIGHUP);

  EXPECT_TRUE(daemon_.wait_for_log(daemon_.config_path() + kUnknownKeyMessage)) << daemon_.log_tail();
  EXPECT_EQ(signup_options()["mode"], "disabled");
  EXPECT_TRUE(daemon_.running());
}

TEST_F(DaemonReload, SighupWithAGoodFileAppliesIt) {
  write_open_signup_config();

  daemon_.signal(SIGHUP);

  ASSERT_TRUE(daemon_.wait_for_log("configuration reloaded from " + daemon_.config_path())) << daemon_.log_tail();
  EXPECT_EQ(signup_options()["mode"], "open");
}

}  // namespace
}  // namespace dirproxy::integration
