// The socket protocol under bad and heavy input, against the real dirproxyd:
// malformed lines (NUL bytes, deep nesting), unknown, ill-typed or
// out-of-range parameters, oversized lines, clients that vanish mid-line,
// pipelining (order and read-your-writes), many concurrent clients, and the
// connection limits (idle timeout, max_connections and the admins' reserve).
// After every refusal the daemon must go on serving.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
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

// nlohmann's parser stopped at the NUL: the ping ran, the delete_user after
// it was dropped without a word.
TEST_F(ProtocolRobustness, ALineWithANulByteIsBadRequestAndNothingInItRuns) {
  add_user("alice");
  auto client = daemon_.connect();
  const std::string line =
      std::string(R"({"op":"ping","id":6})") + '\0' + R"({"op":"delete_user","id":7,"username":"alice"})";

  auto response = exchange(client, line + "\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(response["error"]["message"], "the request is not valid JSON: it contains a NUL byte") << response;
  EXPECT_EQ(response["id"], nullptr);
  EXPECT_EQ(outcome_of(get_user("alice")), "ok");
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
  for (const Json& id : {Json("request-7"), Json(-12), Json(3.25), Json(true), Json(nullptr),
                         Json(std::uint64_t{18446744073709551615u}), Json(std::int64_t{-9223372036854775807 - 1})}) {
    SCOPED_TRACE(id.dump());

    auto response = call_on(client, {{"op", "ping"}, {"id", id}});

    EXPECT_EQ(response["id"], id);
  }
}

// A number beyond 64 bits is held as a double: it came back as a float
// (1.8446744073709552e+19), the same for several ids.
TEST_F(ProtocolRobustness, ANumericIdBeyond64BitsIsBadRequestNamingId) {
  auto client = daemon_.connect();

  auto response = exchange(client, R"({"op":"ping","id":18446744073709551616})"
                                   "\n");

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "id");
  EXPECT_EQ(response["id"], nullptr);
  EXPECT_TRUE(ping_succeeds(client));
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

// invitation_id 18446744073709551615 answered "no invitation -1", and
// request_id 2^63 named a negative id.
TEST_F(ProtocolRobustness, AnIdParameterBeyondInt64IsBadRequestNamingIt) {
  auto client = daemon_.connect();
  const std::string requests[][2] = {
      {R"({"op":"revoke_invitation","invitation_id":18446744073709551615})", "invitation_id"},
      {R"({"op":"resend_invitation","invitation_id":9223372036854775808})", "invitation_id"},
      {R"({"op":"approve_access_request","request_id":9223372036854775808})", "request_id"},
      {R"({"op":"deny_access_request","request_id":18446744073709551615})", "request_id"},
  };

  for (const auto& [line, field] : requests) {
    SCOPED_TRACE(line);

    auto response = exchange(client, line + "\n");

    EXPECT_EQ(outcome_of(response), "bad_request") << response;
    EXPECT_EQ(field_of(response), field) << response;
  }
}

TEST_F(ProtocolRobustness, AnIdParameterInRangeThatNamesNothingIsNotFoundWithTheIdAsSent) {
  auto client = daemon_.connect();

  auto response = exchange(client, R"({"op":"revoke_invitation","invitation_id":9223372036854775807})"
                                   "\n");

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(response["error"]["message"], "no invitation 9223372036854775807") << response;
}

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

// The limit is on the request: the '\r' of a "\r\n" ending, which the
// protocol ignores, is not part of it.
TEST_F(ProtocolRobustness, ALineOfExactlyTheLimitEndedByCrLfIsAccepted) {
  auto client = daemon_.connect();
  const std::string line = ping_line_of_length(kMaxRequestBytes);

  auto response = exchange(client, line + "\r\n");

  EXPECT_EQ(outcome_of(response), "ok") << response;
  EXPECT_TRUE(ping_succeeds(client));
}

TEST_F(ProtocolRobustness, ALineOneByteOverTheLimitEndedByCrLfIsRequestTooLarge) {
  auto client = daemon_.connect();
  const std::string line = ping_line_of_length(kMaxRequestBytes + 1);

  auto response = exchange(client, line + "\r\n");

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

// --- nesting ------------------------------------------------------------------

// The default limits and log level debug, at which every request is logged.
class ProtocolNesting : public DaemonTest {
 protected:
  void SetUp() override {
    if (!can_change_identity()) GTEST_SKIP() << "needs root to run a client as nobody";
    daemon_.start();
  }
};

// 24,000 levels in 48 KB (under max_request_bytes) overflowed the stack of
// the request log's redaction: any local client could kill the daemon.
TEST_F(ProtocolNesting, AHugelyNestedRequestFromANonAdminIsBadRequestAndTheDaemonLives) {
  const std::string line = R"({"op":"ping","id":1,"x":)" + std::string(24000, '[') + std::string(24000, ']') + "}";
  const std::string socket = daemon_.socket_path();

  // The child's exit code says what it was answered.
  const int answer = run_as(nobody(), [&]() -> int {
    auto client = ProtocolClient::connect(socket, 10s);
    if (!client || !client->send_raw(line + "\n")) return 10;
    auto response_line = client->read_line();
    if (!response_line) return 11;  // the connection closed: the daemon died
    const Json response = Json::parse(*response_line, nullptr, /*allow_exceptions=*/false);
    if (outcome_of(response) != "bad_request") return 12;
    if (response["error"]["message"] != "the request nests arrays and objects deeper than 32 levels") return 13;
    return 0;
  });

  EXPECT_EQ(answer, 0);
  auto after = daemon_.connect(10s);
  EXPECT_TRUE(ping_succeeds(after));
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

// Connections that a client running as `who` (in a forked child) opens and
// holds until the object is destroyed: a local user flooding the daemon.
class HeldConnections {
 public:
  // Opens connections as `who` until `wanted` of them are served (answered
  // a ping; refused ones are closed and tried again, for up to 3 s, as a
  // place held by a connection closed just before takes a moment to free),
  // then one more, whose outcome extra_outcome() tells. Returns once they
  // are all open.
  HeldConnections(RunAs who, const std::string& socket, int wanted) {
    int report[2];
    int release[2];
    if (::pipe2(report, O_CLOEXEC) != 0 || ::pipe2(release, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    report_read_.reset(report[0]);
    UniqueFd report_write(report[1]);
    UniqueFd release_read(release[0]);
    release_write_.reset(release[1]);
    child_ = std::thread([this, who, socket, wanted, report_write = std::move(report_write),
                          release_read = std::move(release_read)]() mutable {
      run_as(who, [&]() -> int {
        release_write_.reset();  // the child's copy, so that its read below sees the end
        std::vector<ProtocolClient> held;
        for (auto deadline = Clock::now() + 3s; static_cast<int>(held.size()) < wanted && Clock::now() < deadline;) {
          auto client = ProtocolClient::connect(socket, 5s);
          if (client && ping_succeeds(*client)) {
            held.push_back(std::move(*client));
          } else {
            std::this_thread::sleep_for(10ms);
          }
        }
        const std::size_t served = held.size();
        std::string extra = "no connection";
        if (auto client = ProtocolClient::connect(socket, 5s)) {
          // A refused connection is sent its refusal unasked (and closed, so
          // a request could fail to go out); a served one waits for a request.
          if (auto refusal = client->read_line(1s)) {
            extra = outcome_of(Json::parse(*refusal, nullptr, /*allow_exceptions=*/false));
          } else {
            extra = ping_succeeds(*client) ? "ok" : "no answer";
          }
          held.push_back(std::move(*client));
        }
        const std::string line = Json{{"served", served}, {"extra", extra}}.dump() + "\n";
        if (::write(report_write.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
        char byte;
        while (::read(release_read.get(), &byte, 1) < 0 && errno == EINTR) {
        }
        return 0;
      });
    });
    report_write.reset();
    release_read.reset();
    report_ = read_report();
  }

  ~HeldConnections() {
    release_write_.reset();
    child_.join();
  }

  // How many connections the daemon served (without the extra one).
  std::size_t served() const { return report_.value("served", std::size_t{0}); }
  // What the extra connection's ping got: "ok" or the refusal's code.
  std::string extra_outcome() const { return report_.value("extra", std::string("no report")); }

 private:
  Json read_report() {
    std::string text;
    for (auto deadline = Clock::now() + 20s; text.find('\n') == std::string::npos && Clock::now() < deadline;) {
      pollfd ready{report_read_.get(), POLLIN, 0};
      if (::poll(&ready, 1, 100) <= 0) continue;
      char chunk[256];
      const ssize_t got = ::read(report_read_.get(), chunk, sizeof chunk);
      if (got <= 0) break;
      text.append(chunk, static_cast<std::size_t>(got));
    }
    Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    return parsed.is_object() ? parsed : Json::object();
  }

  UniqueFd report_read_;
  UniqueFd release_write_;
  std::thread child_;
  Json report_;
};

// With max_connections idle connections held by a non-admin, root's requests
// were refused: admins had no way in to act on the flood.
TEST_F(ProtocolConnectionLimits, ANonAdminFloodLeavesTheReservedConnectionsToAdmins) {
  if (!can_change_identity()) GTEST_SKIP() << "needs root to run a client as nobody";
  Json config = daemon_.default_config();
  config["server"]["max_connections"] = 4;
  config["server"]["admin_reserved_connections"] = 2;
  daemon_.start(config);

  HeldConnections flood(nobody(), daemon_.socket_path(), 2);
  auto first_admin = connect_served();
  auto second_admin = connect_served();
  auto one_too_many = daemon_.connect(5s);
  auto refusal = next_response(one_too_many);

  EXPECT_EQ(flood.served(), 2u);
  EXPECT_EQ(flood.extra_outcome(), "rate_limited");
  EXPECT_TRUE(ping_succeeds(first_admin));
  EXPECT_TRUE(ping_succeeds(second_admin));
  EXPECT_EQ(outcome_of(refusal), "rate_limited") << refusal;  // every place is taken now
}

TEST_F(ProtocolConnectionLimits, WithoutTheSettingThreeConnectionsAreKeptForAdmins) {
  if (!can_change_identity()) GTEST_SKIP() << "needs root to run a client as nobody";
  Json config = daemon_.default_config();
  config["server"]["max_connections"] = 5;
  daemon_.start(config);

  HeldConnections flood(nobody(), daemon_.socket_path(), 2);
  auto admin = connect_served();

  EXPECT_EQ(flood.served(), 2u);
  EXPECT_EQ(flood.extra_outcome(), "rate_limited");
  EXPECT_TRUE(ping_succeeds(admin));
}

// One line per refused connection made a flood of connections a flood of log
// lines (about 1,000 for 1,000 connections).
TEST_F(ProtocolConnectionLimits, AFloodOfRefusedConnectionsIsLoggedInOneLineNotOnePerConnection) {
  Json config = daemon_.default_config();
  config["server"]["max_connections"] = 1;
  daemon_.start(config);
  auto holder = connect_served();
  const auto refusal_lines = [this] {
    const std::string log = daemon_.log();
    std::size_t lines = 0;
    for (auto at = log.find("[server] refus"); at != std::string::npos; at = log.find("[server] refus", at + 1)) {
      ++lines;
    }
    return lines;
  };
  const std::size_t before = refusal_lines();

  for (int i = 0; i < 100; ++i) {
    auto refused = daemon_.connect(5s);
    ASSERT_EQ(outcome_of(next_response(refused)), "rate_limited");
  }

  EXPECT_EQ(refusal_lines() - before, before == 0 ? 1u : 0u) << daemon_.log_tail();
  EXPECT_TRUE(ping_succeeds(holder));
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
