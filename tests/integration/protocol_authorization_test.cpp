// Who may run what, decided from the socket peer's credentials: a client
// running as "nobody" speaks the protocol directly and is refused every admin
// operation, may use the public ones, and becomes an admin when the
// configuration names its account or one of its groups in server.admins.
// Switching uid needs root; elsewhere these tests are skipped.
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

class ProtocolAuthorization : public DaemonTest {
 protected:
  void SetUp() override {
    if (::getuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
  }

  // Sends `requests` on one connection made as `who` and returns the
  // responses. The client runs in a forked child, which hands the responses
  // back through a pipe (they are small: far below the pipe's buffer).
  std::vector<Json> responses_as(RunAs who, const std::vector<Json>& requests) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    UniqueFd read_end(ends[0]);
    UniqueFd write_end(ends[1]);
    const std::string socket = daemon_.socket_path();

    int status = run_as(who, [&]() -> int {
      auto client = ProtocolClient::connect(socket, 10s);
      if (!client) return 10;
      Json responses = Json::array();
      for (const auto& request : requests) {
        auto response = client->call(request);
        if (!response) return 11;
        responses.push_back(*response);
      }
      const std::string text = responses.dump();
      std::string_view pending = text;
      while (!pending.empty()) {
        ssize_t written = ::write(write_end.get(), pending.data(), pending.size());
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return 12;
        pending.remove_prefix(static_cast<std::size_t>(written));
      }
      return 0;
    });
    write_end.reset();
    std::string text;
    char chunk[4096];
    for (ssize_t got; (got = ::read(read_end.get(), chunk, sizeof chunk)) != 0;) {
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) break;
      text.append(chunk, static_cast<std::size_t>(got));
    }
    if (status != 0)
      throw std::runtime_error("the client run as uid " + std::to_string(who.uid) + " failed with status " +
                               std::to_string(status));
    Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_array()) throw std::runtime_error("the client's responses are unreadable: " + text);
    return parsed.get<std::vector<Json>>();
  }

  Json response_as(RunAs who, Json request) {
    request["id"] = 1;
    return responses_as(who, {request}).at(0);
  }

  // The configuration with `who`'s account (or group) named in server.admins.
  Json config_with_admins(const std::string& key, const std::string& name) {
    Json config = daemon_.default_config();
    config["server"]["admins"][key] = {name};
    return config;
  }
};

// One request per admin operation, each well-formed and aimed at existing
// state, so that only the peer's identity can be the reason for a refusal.
std::vector<Json> every_admin_request() {
  Json add = add_user_request("mallory");
  return {add,
          {{"op", "update_user"}, {"username", "alice"}, {"display_name", "Mallory"}},
          {{"op", "delete_user"}, {"username", "alice"}},
          {{"op", "set_password"}, {"username", "alice"}, {"password", "mallory's password"}},
          {{"op", "send_password_reset"}, {"username", "alice"}},
          {{"op", "add_group"}, {"name", "mallorys"}},
          {{"op", "delete_group"}, {"name", "developers"}},
          {{"op", "add_member"}, {"group", "developers"}, {"username", "bob"}},
          {{"op", "remove_member"}, {"group", "developers"}, {"username", "alice"}},
          {{"op", "list_directories"}},
          {{"op", "reload"}}};
}

TEST_F(ProtocolAuthorization, ANonAdminPeerIsForbiddenEveryAdminOperation) {
  daemon_.start();
  add_user("alice");
  add_user("bob");
  add_group("developers");
  add_member("developers", "alice");
  const auto requests = every_admin_request();

  auto responses = responses_as(nobody(), requests);

  ASSERT_EQ(responses.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(outcome_of(responses[i]), "forbidden") << requests[i].dump() << " -> " << responses[i].dump();
  }
}

TEST_F(ProtocolAuthorization, AdminOperationsRefusedToANonAdminPeerChangeNothing) {
  daemon_.start();
  add_user("alice");
  add_user("bob");
  add_group("developers");
  add_member("developers", "alice");

  responses_as(nobody(), every_admin_request());

  EXPECT_EQ(get_user("alice")["user"]["display_name"], "User alice");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
  EXPECT_EQ(outcome_of(get_user("mallory")), "not_found");
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "mallorys"}})), "not_found");
  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], (Json{"alice"}));
}

TEST_F(ProtocolAuthorization, ANonAdminPeerMayLookUpAuthenticateAndPing) {
  daemon_.start();
  add_user("alice");
  add_group("developers");
  add_member("developers", "alice");

  auto responses =
      responses_as(nobody(), {{{"op", "ping"}, {"id", 1}},
                              {{"op", "get_user"}, {"id", 2}, {"username", "alice"}},
                              {{"op", "authenticate"}, {"id", 3}, {"username", "alice"}, {"password", kPassword}},
                              {{"op", "find_users"}, {"id", 4}},
                              {{"op", "get_group"}, {"id", 5}, {"name", "developers"}},
                              {{"op", "get_user_groups"}, {"id", 6}, {"username", "alice"}},
                              {{"op", "signup_options"}, {"id", 7}}});

  ASSERT_EQ(responses.size(), 7u);
  for (const auto& response : responses) EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(responses[1]["user"]["username"], "alice");
  EXPECT_EQ(responses[2]["user"]["groups"], (Json{"developers"}));
}

TEST_F(ProtocolAuthorization, ANonAdminPeerMayChangeItsOwnPasswordWithTheOldOne) {
  daemon_.start();
  add_user("alice");

  auto response = response_as(nobody(), {{"op", "change_password"},
                                         {"username", "alice"},
                                         {"old_password", kPassword},
                                         {"new_password", "a brand new password"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", "a brand new password")), "ok");
}

TEST_F(ProtocolAuthorization, APeerWhoseAccountIsInServerAdminsUsersMayRunAdminOperations) {
  daemon_.start(config_with_admins("users", "nobody"));

  auto response = response_as(nobody(), {{"op", "add_group"}, {"name", "developers"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "developers"}})), "ok");
}

TEST_F(ProtocolAuthorization, APeerInAGroupOfServerAdminsGroupsMayRunAdminOperations) {
  const group* primary = ::getgrgid(nobody().gid);
  ASSERT_NE(primary, nullptr) << "nobody's primary group " << nobody().gid << " has no name";
  daemon_.start(config_with_admins("groups", primary->gr_name));

  auto response = response_as(nobody(), {{"op", "add_group"}, {"name", "developers"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

TEST_F(ProtocolAuthorization, AdminsNamingAnotherAccountDoNotAdmitThePeer) {
  daemon_.start(config_with_admins("users", "root"));

  auto response = response_as(nobody(), {{"op", "add_group"}, {"name", "developers"}});

  EXPECT_EQ(outcome_of(response), "forbidden") << response;
}

}  // namespace
}  // namespace dirproxy::integration
