// A crash in the middle of account creation, for real: dirproxyd is killed
// with SIGKILL while clients add users who join three default groups
// (internal directory), then restarted, several times over. After each
// restart the state database must hold only whole accounts: every user in
// all three groups, with a password or exactly one unused set-password token,
// and that token's mail queued exactly when the user was to be mailed it; no
// token or mail of an account that does not exist, no mail held. A retry of
// every add_user that was never answered then succeeds, or is a conflict
// because that account exists, whole.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

constexpr int kCycles = 5;
constexpr int kClients = 2;
const std::vector<std::string> kDefaultGroups = {"ops", "staff", "users"};

// How an account gets its way in; the letter is part of its username.
enum class Credential : char {
  password = 'p',       // add_user with a password: no token, no mail
  mailed_link = 'm',    // no password, notify: a token and its new_user mail
  returned_link = 'r',  // no password, notify false: a token, no mail
};

Credential credential_of(const std::string& username) { return static_cast<Credential>(username.at(0)); }

Json request_for(const std::string& username) {
  Json request = add_user_request(username);
  switch (credential_of(username)) {
    case Credential::password: break;
    case Credential::mailed_link:
      request.erase("password");
      request["notify"] = true;
      break;
    case Credential::returned_link: request.erase("password"); break;
  }
  return request;
}

// What the state database holds about the accounts of this test.
struct Stored {
  std::map<std::string, bool> has_password;             // username -> password_hash set
  std::map<std::string, std::set<std::string>> groups;  // username -> its groups
  std::map<std::string, int> unused_tokens;             // username -> unused new_user tokens
  std::map<std::string, int> tokens;                    // username -> every token
  std::map<std::string, int> mails;                     // recipient -> new_user mails
  int held_mails = 0;
};

class AccountCreationCrash : public DaemonTest {
 protected:
  void SetUp() override {
    Json config = daemon_.default_config();
    config["accounts"]["default_groups"] = kDefaultGroups;
    config["site"] = {{"name", "Test Site"}, {"base_url", "https://dir.example"}};
    // Nothing listens there: mail stays queued, where the test counts it.
    config["mail"] = {{"smtp_url", "smtp://127.0.0.1:9"}, {"from", "dirproxy <dirproxy@dir.example>"}};
    daemon_.start(config);
  }

  // Adds users from kClients connections until the daemon dies under them;
  // returns every username tried, with whether its add_user was answered ok.
  std::map<std::string, bool> add_users_until_killed(int cycle, std::chrono::milliseconds kill_after) {
    std::mutex mutex;
    std::map<std::string, bool> attempts;
    std::vector<std::thread> clients;
    for (int client = 0; client < kClients; ++client) {
      clients.emplace_back([&, client] {
        std::optional<ProtocolClient> connection;
        try {
          connection.emplace(daemon_.connect(5s));
        } catch (const std::exception&) {
          return;  // killed before this client got in
        }
        for (int i = 0;; ++i) {
          const char credential = "pmr"[i % 3];
          const std::string username = std::string(1, credential) + "c" + std::to_string(cycle) + "t" +
                                       std::to_string(client) + "n" + std::to_string(i);
          {
            std::lock_guard lock(mutex);
            attempts[username] = false;
          }
          auto response = connection->call(request_for(username));
          if (!response) return;  // the daemon is gone
          ASSERT_EQ(outcome_of(*response), "ok") << username << ": " << response->dump();
          std::lock_guard lock(mutex);
          attempts[username] = true;
        }
      });
    }
    std::this_thread::sleep_for(kill_after);
    daemon_.kill9();
    for (auto& thread : clients) thread.join();
    return attempts;
  }

  Stored stored() {
    auto database = StateDatabase::open(daemon_.state_dir(), 1);
    if (!database) throw std::runtime_error(database.error().message);
    auto lease = (*database)->acquire();
    auto rows = [&](const std::string& sql, const std::function<void(const SqlStatement&)>& each) {
      auto query = lease.prepare(sql);
      if (!query) throw std::runtime_error(sql + ": " + query.error().message);
      while (true) {
        auto row = query->step();
        if (!row) throw std::runtime_error(sql + ": " + row.error().message);
        if (!*row) return;
        each(*query);
      }
    };
    Stored found;
    rows("SELECT username, password_hash IS NOT NULL FROM users",
         [&](const SqlStatement& row) { found.has_password[row.column_text(0)] = row.column_int64(1) != 0; });
    rows("SELECT m.username, g.name FROM memberships m JOIN groups g ON g.id = m.group_id",
         [&](const SqlStatement& row) { found.groups[row.column_text(0)].insert(row.column_text(1)); });
    rows("SELECT username, purpose, used_at IS NULL FROM reset_tokens", [&](const SqlStatement& row) {
      ++found.tokens[row.column_text(0)];
      if (row.column_text(1) == "new_user" && row.column_int64(2) != 0) ++found.unused_tokens[row.column_text(0)];
    });
    rows("SELECT recipient, state FROM outbox WHERE template = 'new_user'", [&](const SqlStatement& row) {
      ++found.mails[row.column_text(0)];
      if (row.column_text(1) == "held") ++found.held_mails;
    });
    return found;
  }

  // Every account whole, nothing of one that does not exist.
  void expect_only_whole_accounts(const Stored& found) {
    const std::set<std::string> all_groups(kDefaultGroups.begin(), kDefaultGroups.end());
    for (const auto& [username, has_password] : found.has_password) {
      SCOPED_TRACE(username);
      const auto groups = found.groups.find(username);
      EXPECT_EQ(groups == found.groups.end() ? std::set<std::string>() : groups->second, all_groups);
      const bool mailed = credential_of(username) == Credential::mailed_link;
      const bool linked = credential_of(username) != Credential::password;
      EXPECT_EQ(has_password, !linked);
      EXPECT_EQ(found.tokens.count(username) ? found.tokens.at(username) : 0, linked ? 1 : 0);
      EXPECT_EQ(found.unused_tokens.count(username) ? found.unused_tokens.at(username) : 0, linked ? 1 : 0);
      const std::string address = username + "@example.com";
      EXPECT_EQ(found.mails.count(address) ? found.mails.at(address) : 0, mailed ? 1 : 0);
    }
    for (const auto& [username, count] : found.tokens) {
      EXPECT_TRUE(found.has_password.count(username)) << "a token of " << username << ", who does not exist";
    }
    for (const auto& [recipient, count] : found.mails) {
      const std::string username = recipient.substr(0, recipient.find('@'));
      EXPECT_TRUE(found.has_password.count(username)) << "mail to " << recipient << ", who has no account";
    }
    EXPECT_EQ(found.held_mails, 0);
  }
};

TEST_F(AccountCreationCrash, AfterSigkillDuringAddUserEveryAccountIsWholeAndEveryRetryIsConsistent) {
  int acknowledged = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    const auto attempts = add_users_until_killed(cycle, std::chrono::milliseconds(400 + 150 * cycle));
    daemon_.restart();

    const Stored after_crash = stored();
    expect_only_whole_accounts(after_crash);
    for (const auto& [username, answered] : attempts) {
      if (answered) {
        ++acknowledged;
        EXPECT_TRUE(after_crash.has_password.count(username)) << username << " was acknowledged and is gone";
        continue;
      }
      // Never answered: made wholly or not at all. A retry makes it, or
      // finds the whole account already there.
      const Json retry = send(request_for(username));
      const bool exists = after_crash.has_password.count(username) != 0;
      EXPECT_EQ(outcome_of(retry), exists ? "conflict" : "ok") << username << ": " << retry.dump();
    }
    expect_only_whole_accounts(stored());
  }
  EXPECT_GT(acknowledged, 0) << "the clients never got an account made";
  EXPECT_EQ(daemon_.call({{"op", "get_user_groups"}, {"username", "pc0t0n0"}})["groups"], Json(kDefaultGroups));
}

}  // namespace
}  // namespace dirproxy::integration
