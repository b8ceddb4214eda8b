// The socket protocol under bad and heavy input, against the real dirproxyd:
// malformed lines, unknown or ill-typed parameters, oversized lines, clients
// that vanish mid-line, pipelining (order and read-your-writes), many
// concurrent clients, and the connection limits (idle timeout,
// max_connections). After every refusal the daemon must go on serving.
#include <atomic>
#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxRequestBytes = 1024;

// A ping request line of exactly `length` bytes (without its '\n'), padded
// through the id.
std::string ping_line_of_length(std::size_t length) {
  const std::string head = R"({"op":"ping","id":")";
  const std::string tail = R"("})";
  return head + std::string(length - head.size() - tail.size(), 'x') + tail;
}

class ProtocolRobustness : public DaemonTest {
 protected:
  void SetUp() override {
    Json config = daemon_.default_config();
    config["server"]["max_request_bytes"] = kMaxRequestBytes;
    daemon_.start(config);
  }

  // Sends `bytes` on `client` as they are and returns the next response.
  Json exchange(ProtocolClient& client, const std::string& bytes) {
    if (auto sent = client.send_raw(bytes); !sent) throw std::runtime_error(sent.error().message);
    return next_response(client);
  }

  bool ping_succeeds_on_a_new_connection() {
    auto client = daemon_.connect(10s);
    return ping_succeeds(client);
  }
};

// --- malformed lines ----------------------------------------------------------

TEST_F(ProtocolRobustness, ALineThatIsNotJsonIsBadRequestAndTheConnectionStaysUsable) {
  auto client = daemon_.connect();

  auto response = exchange(client, "this is not json\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(response["id"], nullptr);
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, AJsonArrayIsBadRequestAndTheConnectionStaysUsable) {
  auto client = daemon_.connect();

  auto response = exchange(client, R"([{"op":"ping","id":1}])"
                                   "\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, AJsonScalarIsBadRequestAndTheConnectionStaysUsable) {
  auto client = daemon_.connect();

  auto response = exchange(client, "42\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, InvalidUtf8IsBadRequestAndTheConnectionStaysUsable) {
  auto client = daemon_.connect();

  auto response = exchange(client, "{\"op\":\"get_user\",\"id\":1,\"username\":\"\xff\xfe\"}\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, ARequestWithoutOpIsBadRequestNamingOp) {
  auto client = daemon_.connect();

  auto response = exchange(client, R"({"id":5,"username":"alice"})"
                                   "\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "op");
  EXPECT_EQ(response["id"], 5);
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, ANonScalarIdIsBadRequestNamingId) {
  auto client = daemon_.connect();

  auto response = exchange(client, R"({"op":"ping","id":[1,2]})"
                                   "\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "id");
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, AnUnknownOpIsUnknownOpAndTheConnectionStaysUsable) {
  auto client = daemon_.connect();

  auto response = call_on(client, {{"op", "frobnicate"}, {"id", 3}});

  EXPECT_EQ(outcome_of(response), "unknown_op") << response;
  EXPECT_EQ(field_of(response), "op");
  EXPECT_EQ(response["id"], 3);
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, ACrLfLineEndingIsAccepted) {
  auto client = daemon_.connect();

  auto response = exchange(client, "{\"op\":\"ping\",\"id\":1}\r\n");

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

// --- ids ----------------------------------------------------------------------

TEST_F(ProtocolRobustness, ARequestWithoutIdIsAnsweredWithANullId) {
  auto client = daemon_.connect();

  auto response = exchange(client, R"({"op":"ping"})"
                                   "\n");

  EXPECT_EQ(outcome_of(response), "ok") << response;
  ASSERT_TRUE(response.contains("id")) << response;
  EXPECT_EQ(response["id"], nullptr);
}

TEST_F(ProtocolRobustness, TheIdIsEchoedUnchanged) {
  auto client = daemon_.connect();
  for (const Json& id : {Json("request-7"), Json(-12), Json(3.25), Json(true), Json(nullptr)}) {
    SCOPED_TRACE(id.dump());

    auto response = call_on(client, {{"op", "ping"}, {"id", id}});

    EXPECT_EQ(response["id"], id);
  }
}

TEST_F(ProtocolRobustness, ARefusalEchoesTheId) {
  auto response = send({{"op", "get_user"}, {"id", "lookup-1"}, {"username", "nosuchuser"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(response["id"], "lookup-1");
}

// --- parameters ---------------------------------------------------------------

TEST_F(ProtocolRobustness, AnUnknownParameterIsBadRequestNamingIt) {
  auto client = daemon_.connect();

  auto response = call_on(client, {{"op", "get_user"}, {"id", 1}, {"username", "alice"}, {"nickname", "al"}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "nickname");
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, ClientIpAndActorAreAcceptedOnAPublicOperation) {
  add_user("alice");

  auto response = send({{"op", "get_user"}, {"username", "alice"}, {"client_ip", "192.0.2.1"}, {"actor", "webapp"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

TEST_F(ProtocolRobustness, ClientIpAndActorAreAcceptedOnAnAdminOperation) {
  auto response =
      send({{"op", "add_group"}, {"name", "developers"}, {"client_ip", "192.0.2.1"}, {"actor", "webadmin"}});

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

TEST_F(ProtocolRobustness, AnIllTypedClientIpIsBadRequestNamingIt) {
  auto response = send({{"op", "ping"}, {"client_ip", 192}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "client_ip");
}

struct IllTypedRequest {
  std::string name;  // for the test's name
  Json request;
  std::string field;
};

// How GoogleTest shows a case (a failure's "GetParam() = ..."): the request
// itself, not the struct's bytes.
void PrintTo(const IllTypedRequest& example, std::ostream* out) {
  *out << example.name << ": " << example.request.dump() << " (at fault: " << example.field << ")";
}

class ProtocolIllTypedParameter : public ProtocolRobustness, public ::testing::WithParamInterface<IllTypedRequest> {};

TEST_P(ProtocolIllTypedParameter, IsBadRequestNamingTheParameter) {
  auto client = daemon_.connect();
  Json request = GetParam().request;
  request["id"] = 1;

  auto response = call_on(client, request);

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), GetParam().field);
  EXPECT_TRUE(ping_succeeds(client));
}

INSTANTIATE_TEST_SUITE_P(
    ProtocolExamples, ProtocolIllTypedParameter,
    ::testing::Values(
        IllTypedRequest{"UsernameNumber", {{"op", "get_user"}, {"username", 5}}, "username"},
        IllTypedRequest{"LimitString", {{"op", "find_users"}, {"limit", "x"}}, "limit"},
        IllTypedRequest{"LimitFloat", {{"op", "find_users"}, {"limit", 2.5}}, "limit"},
        IllTypedRequest{"GroupsNotAList",
                        {{"op", "add_user"},
                         {"username", "alice"},
                         {"email", "alice@example.com"},
                         {"display_name", "Alice"},
                         {"password", kPassword},
                         {"groups", "notalist"}},
                        "groups"},
        IllTypedRequest{"GroupsListOfNumbers",
                        {{"op", "add_user"},
                         {"username", "alice"},
                         {"email", "alice@example.com"},
                         {"display_name", "Alice"},
                         {"password", kPassword},
                         {"groups", {1, 2}}},
                        "groups"},
        IllTypedRequest{"ActiveString", {{"op", "update_user"}, {"username", "alice"}, {"active", "no"}}, "active"},
        IllTypedRequest{
            "PasswordObject", {{"op", "authenticate"}, {"username", "alice"}, {"password", {{"a", 1}}}}, "password"}),
    [](const ::testing::TestParamInfo<IllTypedRequest>& info) { return info.param.name; });

TEST_F(ProtocolRobustness, AMissingParameterIsBadRequestNamingIt) {
  auto client = daemon_.connect();

  auto response = call_on(client, {{"op", "authenticate"}, {"id", 1}, {"username", "alice"}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "password");
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, ANullRequiredParameterCountsAsMissing) {
  auto response = send({{"op", "get_group"}, {"name", nullptr}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "name");
}

// --- line length --------------------------------------------------------------

TEST_F(ProtocolRobustness, ALineOfExactlyTheLimitIsAccepted) {
  auto client = daemon_.connect();
  const std::string line = ping_line_of_length(kMaxRequestBytes);

  auto response = exchange(client, line + "\n");

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

TEST_F(ProtocolRobustness, ALineOneByteOverTheLimitIsRequestTooLarge) {
  auto client = daemon_.connect();
  const std::string line = ping_line_of_length(kMaxRequestBytes + 1);

  auto response = exchange(client, line + "\n");

  EXPECT_EQ(outcome_of(response), "request_too_large") << response;
}

TEST_F(ProtocolRobustness, AnOversizedLineIsAnsweredOnceWithANullIdThenTheConnectionCloses) {
  auto client = daemon_.connect(5s);

  auto response = exchange(client, ping_line_of_length(4 * kMaxRequestBytes) + "\n");
  auto after = client.read_line();

  EXPECT_EQ(outcome_of(response), "request_too_large") << response;
  EXPECT_EQ(response["id"], nullptr);
  EXPECT_FALSE(after.has_value()) << *after;
}

TEST_F(ProtocolRobustness, AnOversizedLineLeavesOtherConnectionsServed) {
  auto bystander = daemon_.connect();
  ASSERT_TRUE(ping_succeeds(bystander));
  auto client = daemon_.connect(5s);

  exchange(client, ping_line_of_length(4 * kMaxRequestBytes) + "\n");

  EXPECT_TRUE(ping_succeeds(bystander));
  EXPECT_TRUE(ping_succeeds_on_a_new_connection());
}

TEST_F(ProtocolRobustness, AnswersToRequestsBeforeAnOversizedLineAreStillSent) {
  auto client = daemon_.connect(5s);
  const std::string batch = R"({"op":"ping","id":1})"
                            "\n" +
                            ping_line_of_length(4 * kMaxRequestBytes) + "\n";

  auto first = exchange(client, batch);
  auto second = next_response(client);

  EXPECT_EQ(outcome_of(first), "ok") << first;
  EXPECT_EQ(first["id"], 1);
  EXPECT_EQ(outcome_of(second), "request_too_large") << second;
}

TEST_F(ProtocolRobustness, AnEndlessLineWithoutNewlineIsRequestTooLarge) {
  auto client = daemon_.connect(5s);

  auto response = exchange(client, std::string(2 * kMaxRequestBytes, 'x'));

  EXPECT_EQ(outcome_of(response), "request_too_large") << response;
}

// --- vanishing clients --------------------------------------------------------

TEST_F(ProtocolRobustness, HalfALineThenDisconnectLeavesTheDaemonServing) {
  auto quitter = daemon_.connect();
  ASSERT_TRUE(quitter.send_raw(R"({"op":"get_user","username":"al)"));
  ASSERT_TRUE(ping_succeeds_on_a_new_connection());  // served while the half line waits

  quitter.close();

  EXPECT_TRUE(ping_succeeds_on_a_new_connection());
}

TEST_F(ProtocolRobustness, AClientThatLeavesWithoutReadingItsAnswersLeavesTheDaemonServing) {
  add_user("alice");
  auto quitter = daemon_.connect();
  std::string batch;
  for (int i = 0; i < 100; ++i)
    batch += R"({"op":"authenticate","username":"alice","password":"wrong password"})"
             "\n";
  ASSERT_TRUE(quitter.send_raw(batch));

  quitter.close();

  EXPECT_TRUE(ping_succeeds_on_a_new_connection());
  EXPECT_EQ(outcome_of(get_user("alice")), "ok");
}

// --- pipelining ---------------------------------------------------------------

class ProtocolPipelining : public DaemonTest {
 protected:
  void SetUp() override { daemon_.start(); }
};

TEST_F(ProtocolPipelining, TwoHundredPipelinedRequestsAreAnsweredInRequestOrder) {
  add_user("alice");
  add_user("bob");
  auto client = daemon_.connect();
  std::string batch;
  for (int id = 1; id <= 200; ++id) {
    Json request;
    switch (id % 3) {
      case 0: request = {{"op", "get_user"}, {"username", "alice"}}; break;
      case 1: request = {{"op", "ping"}}; break;
      default: request = {{"op", "find_users"}, {"query", "b"}}; break;
    }
    request["id"] = id;
    batch += request.dump() + "\n";
  }

  ASSERT_TRUE(client.send_raw(batch));
  std::vector<Json> responses;
  for (int i = 0; i < 200; ++i) responses.push_back(next_response(client));

  for (int id = 1; id <= 200; ++id) {
    const Json& response = responses[static_cast<std::size_t>(id - 1)];
    SCOPED_TRACE("request " + std::to_string(id));
    ASSERT_EQ(response["id"], id) << response;
    ASSERT_EQ(outcome_of(response), "ok") << response;
    switch (id % 3) {
      case 0: EXPECT_EQ(response["user"]["username"], "alice"); break;
      case 1: EXPECT_TRUE(response.contains("uptime_s")) << response; break;
      default: EXPECT_EQ(usernames_of(response["users"]), std::vector<std::string>{"bob"}); break;
    }
  }
}

TEST_F(ProtocolPipelining, APipelinedAddUserIsVisibleToTheAuthenticateAfterIt) {
  auto client = daemon_.connect();
  Json add = add_user_request("alice");
  add["id"] = 1;
  Json login = {{"op", "authenticate"}, {"id", 2}, {"username", "alice"}, {"password", kPassword}};

  ASSERT_TRUE(client.send_raw(add.dump() + "\n" + login.dump() + "\n"));
  auto added = next_response(client);
  auto authenticated = next_response(client);

  EXPECT_EQ(outcome_of(added), "ok") << added;
  EXPECT_EQ(authenticated["id"], 2);
  EXPECT_EQ(outcome_of(authenticated), "ok") << authenticated;
  EXPECT_EQ(authenticated["user"]["username"], "alice");
}

TEST_F(ProtocolPipelining, APipelinedDeleteIsSeenByLaterRequestsAndNotByEarlierOnes) {
  add_user("alice");
  auto client = daemon_.connect();
  const std::string batch = R"({"op":"get_user","id":1,"username":"alice"})"
                            "\n"
                            R"({"op":"delete_user","id":2,"username":"alice"})"
                            "\n"
                            R"({"op":"get_user","id":3,"username":"alice"})"
                            "\n";

  ASSERT_TRUE(client.send_raw(batch));
  auto before = next_response(client);
  auto deleted = next_response(client);
  auto after = next_response(client);

  EXPECT_EQ(outcome_of(before), "ok") << before;
  EXPECT_EQ(outcome_of(deleted), "ok") << deleted;
  EXPECT_EQ(outcome_of(after), "not_found") << after;
  EXPECT_EQ(after["id"], 3);
}

TEST_F(ProtocolPipelining, RefusedAndAcceptedRequestsKeepTheirOrder) {
  auto client = daemon_.connect();
  const std::string batch = R"({"op":"ping","id":1})"
                            "\n"
                            "garbage\n"
                            R"({"op":"nosuchop","id":3})"
                            "\n"
                            R"({"op":"get_user","id":4,"username":"nosuchuser"})"
                            "\n"
                            R"({"op":"ping","id":5})"
                            "\n";

  ASSERT_TRUE(client.send_raw(batch));
  std::vector<std::string> outcomes;
  std::vector<Json> ids;
  for (int i = 0; i < 5; ++i) {
    auto response = next_response(client);
    outcomes.push_back(outcome_of(response));
    ids.push_back(response["id"]);
  }

  EXPECT_EQ(outcomes, (std::vector<std::string>{"ok", "bad_request", "unknown_op", "not_found", "ok"}));
  EXPECT_EQ(ids, (std::vector<Json>{1, nullptr, 3, 4, 5}));
}

// --- many clients at once -----------------------------------------------------

class ProtocolConcurrency : public DaemonTest {
 protected:
  void SetUp() override { daemon_.start(); }
};

TEST_F(ProtocolConcurrency, ThirtyTwoConcurrentClientsAreAllAnsweredCorrectly) {
  constexpr int kClients = 32;
  constexpr int kUsersPerClient = 4;  // 5 requests per user: 20 per client
  add_group("everyone");
  std::vector<std::vector<std::string>> failures(kClients);
  std::vector<std::thread> clients;

  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto& failed = failures[static_cast<std::size_t>(c)];
      // Each answer must be a success and carry the id of its own request.
      auto check = [&](const Json& request, const Json& response) {
        if (outcome_of(response) != "ok" || response["id"] != request["id"]) {
          failed.push_back(request.dump() + " -> " + response.dump());
        }
      };
      try {
        auto client = daemon_.connect();
        for (int u = 0; u < kUsersPerClient; ++u) {
          const std::string name = "c" + std::to_string(c) + "u" + std::to_string(u);
          Json add = add_user_request(name);
          add["id"] = "add " + name;
          add["groups"] = {"everyone"};
          const Json lookup = {{"op", "get_user"}, {"id", "get " + name}, {"username", name}};
          const Json login = {
              {"op", "authenticate"}, {"id", "auth " + name}, {"username", name}, {"password", kPassword}};
          const Json search = {{"op", "find_users"}, {"id", "find " + name}, {"query", "u"}, {"limit", 1000}};
          for (const Json& request : {add, lookup, login, search}) check(request, call_on(client, request));
          auto found = call_on(client, lookup);
          if (found["user"]["username"] != name) failed.push_back("get_user " + name + " -> " + found.dump());
        }
      } catch (const std::exception& e) {
        failed.push_back(std::string("exception: ") + e.what());
      }
    });
  }
  for (auto& thread : clients) thread.join();

  for (int c = 0; c < kClients; ++c) {
    EXPECT_TRUE(failures[static_cast<std::size_t>(c)].empty())
        << "client " << c << ": " << ::testing::PrintToString(failures[static_cast<std::size_t>(c)]);
  }
  auto all = send({{"op", "find_users"}, {"limit", 1000}});
  EXPECT_EQ(all["users"].size(), static_cast<std::size_t>(kClients * kUsersPerClient));
  auto everyone = send({{"op", "get_group"}, {"name", "everyone"}});
  EXPECT_EQ(everyone["group"]["members"].size(), static_cast<std::size_t>(kClients * kUsersPerClient));
}

// --- connection limits --------------------------------------------------------

class ProtocolConnectionLimits : public DaemonTest {
 protected:
  // A connection that the daemon serves. The harness's readiness probe, and
  // any connection closed just before, hold a slot until the daemon notices
  // the close: retry for a bounded while.
  ProtocolClient connect_served() {
    for (auto deadline = Clock::now() + 3s;;) {
      auto client = daemon_.connect(5s);
      if (ping_succeeds(client)) return client;
      if (Clock::now() >= deadline) throw std::runtime_error("no connection was served within 3 s");
      std::this_thread::sleep_for(10ms);
    }
  }
};

TEST_F(ProtocolConnectionLimits, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  Json config = daemon_.default_config();
  config["server"]["idle_timeout"] = "1s";
  daemon_.start(config);
  auto client = daemon_.connect(5s);
  ASSERT_TRUE(ping_succeeds(client));
  const auto idle_since = Clock::now();

  auto line = client.read_line(5s);

  const auto idle_for = Clock::now() - idle_since;
  const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(idle_for).count();
  EXPECT_FALSE(line.has_value()) << *line;
  EXPECT_TRUE(client.eof());
  EXPECT_GE(idle_ms, 900);
  EXPECT_LT(idle_ms, 3000);
}

TEST_F(ProtocolConnectionLimits, AConnectionOverMaxConnectionsIsRateLimitedAndClosed) {
  Json config = daemon_.default_config();
  config["server"]["max_connections"] = 2;
  daemon_.start(config);
  auto first = connect_served();
  auto second = connect_served();

  auto third = daemon_.connect(5s);
  auto refusal = next_response(third);
  auto after = third.read_line();

  EXPECT_EQ(outcome_of(refusal), "rate_limited") << refusal;
  EXPECT_EQ(refusal["retry_after"], 1) << refusal;
  EXPECT_EQ(refusal["id"], nullptr);
  EXPECT_FALSE(after.has_value()) << *after;
  EXPECT_TRUE(ping_succeeds(first));
}

TEST_F(ProtocolConnectionLimits, AConnectionSlotIsFreedWhenAClientLeaves) {
  Json config = daemon_.default_config();
  config["server"]["max_connections"] = 1;
  daemon_.start(config);
  auto first = connect_served();

  first.close();

  EXPECT_NO_THROW(connect_served());
}

}  // namespace
}  // namespace dirproxy::integration
