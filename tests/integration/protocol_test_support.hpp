// Shared by the protocol and daemon life-cycle tests: a fixture that owns one
// DaemonHarness, and small helpers to arrange state through the protocol and
// to read outcomes (error codes, fields) off responses. Arranging requests
// throw when the daemon refuses them, so a test that cannot set up its state
// fails at the step that broke instead of asserting on nonsense.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "daemon_harness.hpp"
#include "storage/state_database.hpp"

namespace dirproxy::integration {

// The error code of a response, or "ok" for a success: one string to compare,
// which prints the whole story when an assertion fails.
inline std::string outcome_of(const Json& response) {
  if (response.value("ok", false) == true) return "ok";
  if (response.contains("error") && response["error"].contains("code") && response["error"]["code"].is_string()) {
    return response["error"]["code"].get<std::string>();
  }
  return "malformed response: " + response.dump();
}

// The "field" of a refusal, or "" when it has none.
inline std::string field_of(const Json& response) {
  if (!response.contains("error")) return "";
  return response["error"].value("field", std::string());
}

inline std::vector<std::string> usernames_of(const Json& users) {
  std::vector<std::string> names;
  for (const auto& user : users) names.push_back(user.at("username").get<std::string>());
  return names;
}

// The next response on `client`, parsed. Throws when none arrives (closed or
// timed out) or when it is not JSON: the test then fails at that step.
inline Json next_response(ProtocolClient& client) {
  auto line = client.read_line();
  if (!line) {
    throw std::runtime_error(std::string("no response line: ") + (client.eof() ? "connection closed" : "timed out"));
  }
  Json parsed = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) throw std::runtime_error("response is not JSON: " + *line);
  return parsed;
}

// Sends `request` on `client` and returns the response. Throws when the
// transport fails.
inline Json call_on(ProtocolClient& client, const Json& request) {
  auto response = client.call(request);
  if (!response) throw std::runtime_error("call failed: " + response.error().message);
  return std::move(response).value();
}

// True when a ping on `client` is answered with ok.
inline bool ping_succeeds(ProtocolClient& client) {
  auto response = client.call({{"op", "ping"}, {"id", "ping"}});
  return response && outcome_of(*response) == "ok" && (*response)["id"] == "ping";
}

// A strong enough password for the default policy (10 characters or more).
constexpr const char* kPassword = "correct horse battery";

// An add_user request for `username` (email username@example.com, display
// name "User username") with kPassword and no notification.
inline Json add_user_request(const std::string& username) {
  return {{"op", "add_user"},
          {"username", username},
          {"email", username + "@example.com"},
          {"display_name", "User " + username},
          {"password", kPassword},
          {"notify", false}};
}

class DaemonTest : public ::testing::Test {
 protected:
  // Sends `request` (with id 1) on a new connection; the response, refusal or not.
  Json send(Json request) {
    if (!request.contains("id")) request["id"] = 1;
    return daemon_.call(request);
  }

  // Sends an arranging request; the test cannot go on if the daemon refuses.
  Json arrange(Json request) {
    Json response = send(request);
    if (outcome_of(response) != "ok") {
      throw std::runtime_error("arranging request failed: " + request.dump() + " -> " + response.dump());
    }
    return response;
  }

  void add_user(const std::string& username) { arrange(add_user_request(username)); }

  void add_group(const std::string& name) { arrange({{"op", "add_group"}, {"name", name}}); }

  void add_member(const std::string& group, const std::string& username) {
    arrange({{"op", "add_member"}, {"group", group}, {"username", username}});
  }

  Json get_user(const std::string& username) { return send({{"op", "get_user"}, {"username", username}}); }

  Json authenticate(const std::string& username, const std::string& password) {
    return send({{"op", "authenticate"}, {"username", username}, {"password", password}});
  }

  Json signup_options() { return send({{"op", "signup_options"}}); }

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

  // The integer that `sql` selects (one row, one column) from the daemon's
  // state database, for a check on a stored row.
  std::int64_t select_from_state_database(const std::string& sql) {
    auto database = StateDatabase::open(daemon_.state_dir(), 1);
    if (!database) throw std::runtime_error("cannot open the state database: " + database.error().message);
    auto lease = (*database)->acquire();
    auto select = lease.prepare(sql);
    if (!select) throw std::runtime_error(sql + ": " + select.error().message);
    auto row = select->step();
    if (!row || !*row) throw std::runtime_error(sql + ": no row");
    return select->column_int64(0);
  }

  // Runs `sql` on the daemon's state database, to arrange what no request
  // can: a window that has passed, by moving a row's times into the past
  // instead of waiting. (Where each window ends, to the second, is for the
  // unit tests on a ManualClock; these tests show what the daemon answers
  // once it has.)
  void execute_on_state_database(const std::string& sql) {
    auto database = StateDatabase::open(daemon_.state_dir(), 1);
    if (!database) throw std::runtime_error("cannot open the state database: " + database.error().message);
    auto lease = (*database)->acquire();
    if (auto done = lease.execute(sql); !done) throw std::runtime_error(sql + ": " + done.error().message);
  }

  DaemonHarness daemon_;
};

}  // namespace dirproxy::integration
