// The online backup through the real daemon: the `backup` admin operation and
// `dirproxyctl backup FILE`, what they refuse, and the point of it all: a
// copy taken while clients keep adding users is a consistent state database
// that a second daemon starts from, serving every user acknowledged before
// the backup began.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

std::string file_content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

mode_t file_mode(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw std::runtime_error("stat " + path + ": " + std::strerror(errno));
  return info.st_mode & 07777;
}

std::string describe(const ProcessOutput& result) {
  return "exit code " + std::to_string(result.exit_code) + "\n--- stdout ---\n" + result.out + "--- stderr ---\n" +
         result.err;
}

// Changes this process's working directory for one scope, so that a child
// started meanwhile (dirproxyctl) inherits it.
class WorkingDirectory final {
 public:
  explicit WorkingDirectory(const std::string& path) : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(path);
  }
  ~WorkingDirectory() {
    std::error_code ignored;
    std::filesystem::current_path(previous_, ignored);
  }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

 private:
  std::filesystem::path previous_;
};

class Backup : public DaemonTest {
 protected:
  void SetUp() override { daemon_.start(); }

  Json backup(const std::string& path) { return send({{"op", "backup"}, {"path", path}}); }

  std::string target() const { return daemon_.dir() + "/backup.db"; }
};

TEST_F(Backup, AnAdminGetsThePathAndTheSizeOfAPrivateFile) {
  add_user("alice");

  auto response = backup(target());

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const auto size = std::filesystem::file_size(target());
  EXPECT_GT(size, 0u);
  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}, {"path", target()}, {"bytes", size}}));
  EXPECT_EQ(file_mode(target()), 0600u);
}

TEST_F(Backup, IsAuditedWithThePath) {
  backup(target());

  ASSERT_TRUE(daemon_.wait_for_log("path=\"" + target() + "\" result=ok")) << daemon_.log_tail();
  EXPECT_NE(daemon_.log().find("[audit] op=backup peer_uid="), std::string::npos) << daemon_.log_tail();
}

TEST_F(Backup, ANonAdminPeerIsForbiddenAndNothingIsWritten) {
  if (!can_change_identity()) GTEST_SKIP() << "only root can run a client as nobody";
  const std::string socket = daemon_.socket_path();
  const std::string path = target();

  int outcome = run_as(nobody(), [&socket, &path] {
    auto client = ProtocolClient::connect(socket, 10s);
    if (!client) return 10;
    auto response = client->call({{"op", "backup"}, {"id", 1}, {"path", path}});
    if (!response) return 11;
    return outcome_of(*response) == "forbidden" ? 0 : 12;
  });

  EXPECT_EQ(outcome, 0);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(Backup, AnExistingPathIsABadRequestAndTheFileIsUnchanged) {
  std::ofstream(target(), std::ios::binary) << "last week's backup";

  auto response = backup(target());

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "path");
  EXPECT_EQ(response["error"]["message"],
            "backup target '" + target() + "' already exists; a backup never overwrites a file");
  EXPECT_EQ(file_content(target()), "last week's backup");
}

TEST_F(Backup, ARelativePathIsABadRequest) {
  auto response = backup("backup.db");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "path");
  EXPECT_EQ(response["error"]["message"], "backup target 'backup.db' is not an absolute path");
}

TEST_F(Backup, APathWithoutAParentDirectoryIsABadRequest) {
  const std::string path = daemon_.dir() + "/missing/backup.db";

  auto response = backup(path);

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "path");
  EXPECT_EQ(response["error"]["message"], "cannot create backup target '" + path + "': No such file or directory");
}

TEST_F(Backup, APathIsRequired) {
  auto response = send({{"op", "backup"}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "path");
}

// --- under write load ----------------------------------------------------------

// Clients that each add users one after the other on their own connection
// ("w<client>-<n>", n = 0, 1, 2, ...), each add sent only after the previous
// one was acknowledged. A consistent copy therefore holds, of each client's
// users, exactly its first k for some k.
class UserWriters final {
 public:
  UserWriters(const DaemonHarness& daemon, int clients, int max_per_client) : sequences_(clients) {
    for (int client = 0; client < clients; ++client) {
      threads_.emplace_back([this, &daemon, client, max_per_client] { write(daemon, client, max_per_client); });
    }
  }
  ~UserWriters() { stop(); }
  UserWriters(const UserWriters&) = delete;
  UserWriters& operator=(const UserWriters&) = delete;

  static std::string username(int client, int n) { return "w" + std::to_string(client) + "-" + std::to_string(n); }

  void stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  // Adds acknowledged so far, per client.
  std::vector<int> acknowledged() const {
    std::lock_guard lock(mutex_);
    return sequences_;
  }
  int acknowledged_total() const {
    int total = 0;
    for (int count : acknowledged()) total += count;
    return total;
  }
  // Adds sent so far (acknowledged or still in flight), over all clients.
  int sent() const { return sent_; }
  std::vector<std::string> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  void write(const DaemonHarness& daemon, int client, int max_per_client) {
    try {
      auto connection = daemon.connect();
      for (int n = 0; n < max_per_client && !stop_; ++n) {
        Json request = add_user_request(username(client, n));
        request["id"] = n;
        ++sent_;
        Json response = call_on(connection, request);
        std::lock_guard lock(mutex_);
        if (outcome_of(response) != "ok") {
          failures_.push_back(request.dump() + " -> " + response.dump());
          return;
        }
        ++sequences_[static_cast<std::size_t>(client)];
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      failures_.push_back(std::string("client ") + std::to_string(client) + ": " + e.what());
    }
  }

  mutable std::mutex mutex_;
  std::vector<int> sequences_;         // guarded by mutex_
  std::vector<std::string> failures_;  // guarded by mutex_
  std::atomic<int> sent_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// How many of `client`'s users "w<client>-0", "w<client>-1", ... `names` holds
// when they are a prefix of that sequence; -1 when one is missing before a later one.
int prefix_length(const std::set<std::string>& names, int client) {
  int present = 0;
  for (const auto& name : names) {
    if (name.starts_with("w" + std::to_string(client) + "-")) ++present;
  }
  for (int n = 0; n < present; ++n) {
    if (!names.contains(UserWriters::username(client, n))) return -1;
  }
  return present;
}

TEST(BackupUnderWriteLoad, RestoresToAWorkingDaemonWithEveryUserAcknowledgedBeforeIt) {
  constexpr int kClients = 4;
  constexpr int kMaxPerClient = 200;        // find_users returns at most 1000
  constexpr int kAcknowledgedBefore = 100;  // a database of some pages before the backup starts
  DaemonHarness original;
  original.start();
  const std::string backup_path = original.dir() + "/backup.db";

  std::vector<int> acknowledged_before;
  int sent_before_answer = 0;
  Json response;
  {
    UserWriters writers(original, kClients, kMaxPerClient);
    for (auto waited = 0ms; writers.acknowledged_total() < kAcknowledgedBefore && waited < 20s; waited += 5ms) {
      std::this_thread::sleep_for(5ms);
    }
    acknowledged_before = writers.acknowledged();

    response = original.call({{"op", "backup"}, {"id", 1}, {"path", backup_path}});
    sent_before_answer = writers.sent();

    // The load goes on after the backup: it was taken mid-stream.
    const int acknowledged_at_answer = writers.acknowledged_total();
    for (auto waited = 0ms; writers.acknowledged_total() < acknowledged_at_answer + kClients && waited < 20s;
         waited += 5ms) {
      std::this_thread::sleep_for(5ms);
    }
    writers.stop();
    ASSERT_EQ(writers.failures(), std::vector<std::string>{});
    ASSERT_GT(writers.acknowledged_total(), acknowledged_at_answer);
  }
  ASSERT_EQ(outcome_of(response), "ok") << response;
  int acknowledged_before_total = 0;
  for (int count : acknowledged_before) acknowledged_before_total += count;
  ASSERT_GE(acknowledged_before_total, kAcknowledgedBefore);

  DaemonHarness restored;
  std::filesystem::copy_file(backup_path, restored.state_dir() + "/dirproxy.db");
  restored.start();

  Json users = restored.call({{"op", "find_users"}, {"id", 1}, {"limit", 1000}});
  ASSERT_EQ(outcome_of(users), "ok") << users;
  const auto names_list = usernames_of(users["users"]);
  const std::set<std::string> names(names_list.begin(), names_list.end());
  for (int client = 0; client < kClients; ++client) {
    SCOPED_TRACE("client " + std::to_string(client));
    const int restored_count = prefix_length(names, client);
    EXPECT_GE(restored_count, acknowledged_before[static_cast<std::size_t>(client)]);
  }
  EXPECT_GE(names.size(), static_cast<std::size_t>(acknowledged_before_total));
  EXPECT_LE(names.size(), static_cast<std::size_t>(sent_before_answer));
  Json directories = restored.call({{"op", "list_directories"}, {"id", 2}});
  EXPECT_EQ(directories["directories"][0]["users"], names.size()) << directories;

  // The first user of a client that had one acknowledged before the backup
  // (on a busy machine one client may not have had its first answer yet).
  const auto busiest = std::max_element(acknowledged_before.begin(), acknowledged_before.end());
  ASSERT_GT(*busiest, 0);
  const std::string early = UserWriters::username(static_cast<int>(busiest - acknowledged_before.begin()), 0);
  Json authenticated = restored.call({{"op", "authenticate"}, {"id", 3}, {"username", early}, {"password", kPassword}});
  EXPECT_EQ(outcome_of(authenticated), "ok") << authenticated;
  Json add = add_user_request("after-restore");
  add["id"] = 4;
  Json added = restored.call(add);
  EXPECT_EQ(outcome_of(added), "ok") << added;
  EXPECT_EQ(outcome_of(restored.call({{"op", "get_user"}, {"id", 5}, {"username", "after-restore"}})), "ok");
}

// --- dirproxyctl backup ----------------------------------------------------------

class DirproxyctlBackup : public ::testing::Test {
 protected:
  void SetUp() override { daemon_.start(); }

  DaemonHarness daemon_;
};

TEST_F(DirproxyctlBackup, PrintsWhereTheCopyWentAndItsSize) {
  const std::string path = daemon_.dir() + "/ctl-backup.db";

  auto result = daemon_.run_ctl({"backup", path});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out,
            "backup written to " + path + " (" + std::to_string(std::filesystem::file_size(path)) + " bytes)\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(DirproxyctlBackup, ARelativeFileIsTakenFromTheCallersWorkingDirectory) {
  ProcessOutput result;
  {
    WorkingDirectory in_test_dir(daemon_.dir());
    result = daemon_.run_ctl({"backup", "relative.db"});
  }

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  const std::string path = daemon_.dir() + "/relative.db";
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  EXPECT_EQ(result.out,
            "backup written to " + path + " (" + std::to_string(std::filesystem::file_size(path)) + " bytes)\n");
}

TEST_F(DirproxyctlBackup, JsonPrintsTheResult) {
  const std::string path = daemon_.dir() + "/ctl-backup.db";

  auto result = daemon_.run_ctl({"--json", "backup", path});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(Json::parse(result.out), (Json{{"path", path}, {"bytes", std::filesystem::file_size(path)}}));
}

TEST_F(DirproxyctlBackup, AnExistingFileIsRefusedWithExitCodeOne) {
  const std::string path = daemon_.dir() + "/ctl-backup.db";
  std::ofstream(path, std::ios::binary) << "keep me";

  auto result = daemon_.run_ctl({"backup", path});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_EQ(result.err, "dirproxyctl: bad_request: backup target '" + path +
                            "' already exists; a backup never overwrites a file\n");
  EXPECT_EQ(file_content(path), "keep me");
}

}  // namespace
}  // namespace dirproxy::integration
