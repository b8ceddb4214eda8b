// ProtocolClient against a scripted in-process server: framing (split and
// pipelined lines), timeouts versus end of file, and the error values that
// dirproxyctl turns into exit code 3.
#include "frontends/socket/protocol_client.hpp"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "support/temporary_directory.hpp"

namespace dirproxy::protocol {
namespace {

using namespace std::chrono_literals;

// A Unix socket server that accepts one connection and runs `script` on it
// in a thread; the script's reads are bounded so that no test can hang.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(int connection)> script) {
    path_ = (directory_.path() / "server.sock").string();
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listener_.get(), 1) != 0) {
      throw std::runtime_error("cannot listen on " + path_);
    }
    thread_ = std::thread([this, script = std::move(script)] {
      pollfd incoming{listener_.get(), POLLIN, 0};
      if (::poll(&incoming, 1, 10000) != 1) return;
      UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (connection) script(connection.get());
    });
  }

  ~ScriptedServer() { join(); }

  void join() {
    if (thread_.joinable()) thread_.join();
  }

  const std::string& path() const { return path_; }

  // Reads until `count` bytes or a '\n' (when `line`) arrived, or 10 s passed.
  static std::string receive(int connection, bool line, std::size_t count = SIZE_MAX) {
    std::string received;
    char chunk[65536];
    while (received.size() < count && !(line && received.find('\n') != std::string::npos)) {
      pollfd readable{connection, POLLIN, 0};
      if (::poll(&readable, 1, 10000) != 1) break;
      ssize_t got = ::read(connection, chunk, sizeof(chunk));
      if (got <= 0) break;
      received.append(chunk, static_cast<std::size_t>(got));
    }
    return received;
  }

  static void send(int connection, std::string_view bytes) {
    ASSERT_EQ(::write(connection, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

 private:
  dirproxy::testing::TemporaryDirectory directory_{"dpc"};
  std::string path_;
  UniqueFd listener_;
  std::thread thread_;
};

TEST(ProtocolClient, ConnectToAMissingSocketNamesThePathAndTheReason) {
  auto client = ProtocolClient::connect("/tmp/dirproxy-no-such-dir/dirproxy.sock");

  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().message,
            "cannot connect to /tmp/dirproxy-no-such-dir/dirproxy.sock: No such file or directory");
}

TEST(ProtocolClient, ConnectToAPathTooLongForASocketFails) {
  std::string path = "/tmp/" + std::string(200, 'x') + ".sock";

  auto client = ProtocolClient::connect(path);

  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().message, "cannot connect to " + path + ": File name too long");
}

TEST(ProtocolClient, CallSendsOneLineAndReturnsTheParsedResponse) {
  std::string request_line;
  ScriptedServer server([&](int connection) {
    request_line = ScriptedServer::receive(connection, /*line=*/true);
    ScriptedServer::send(connection, "{\"id\":7,\"ok\":true,\"version\":\"1\"}\n");
  });
  auto client = ProtocolClient::connect(server.path(), 10s);
  ASSERT_TRUE(client) << client.error().message;

  auto response = client->call({{"op", "ping"}, {"id", 7}});
  server.join();

  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(*response, (Json{{"id", 7}, {"ok", true}, {"version", "1"}}));
  EXPECT_EQ(request_line, "{\"id\":7,\"op\":\"ping\"}\n");
}

TEST(ProtocolClient, ReadLineReturnsPipelinedLinesOneByOne) {
  ScriptedServer server([](int connection) { ScriptedServer::send(connection, "first\nsecond\n"); });
  auto client = ProtocolClient::connect(server.path(), 10s);
  ASSERT_TRUE(client);

  auto first = client->read_line();
  auto second = client->read_line();

  EXPECT_EQ(first, "first");
  EXPECT_EQ(second, "second");
}

TEST(ProtocolClient, ReadLineJoinsALineSplitAcrossWrites) {
  ScriptedServer server([](int connection) {
    ScriptedServer::send(connection, "{\"ok\"");
    std::this_thread::sleep_for(20ms);
    ScriptedServer::send(connection, ":true}\n");
  });
  auto client = ProtocolClient::connect(server.path(), 10s);
  ASSERT_TRUE(client);

  EXPECT_EQ(client->read_line(), "{\"ok\":true}");
}

TEST(ProtocolClient, ReadLineTimesOutWithoutReportingEof) {
  ScriptedServer server([](int connection) { ScriptedServer::receive(connection, /*line=*/true); });
  auto client = ProtocolClient::connect(server.path());
  ASSERT_TRUE(client);

  auto line = client->read_line(50ms);

  EXPECT_EQ(line, std::nullopt);
  EXPECT_FALSE(client->eof());
  ASSERT_TRUE(client->send_raw("bye\n"));  // lets the server finish
}

TEST(ProtocolClient, ReadLineReturnsNulloptAndEofWhenThePeerCloses) {
  ScriptedServer server([](int connection) { ScriptedServer::send(connection, "partial"); });
  auto client = ProtocolClient::connect(server.path(), 10s);
  ASSERT_TRUE(client);

  auto line = client->read_line();

  EXPECT_EQ(line, std::nullopt);
  EXPECT_TRUE(client->eof());
}

TEST(ProtocolClient, CallFailsNamingTheSocketWhenTheConnectionClosesFirst) {
  ScriptedServer server([](int connection) { ScriptedServer::receive(connection, /*line=*/true); });
  auto client = ProtocolClient::connect(server.path(), 10s);
  ASSERT_TRUE(client);

  auto response = client->call({{"op", "ping"}});

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::internal_error);
  EXPECT_EQ(response.error().message, "connection to " + server.path() + " closed before a response arrived");
}

TEST(ProtocolClient, CallFailsWhenNoResponseArrivesInTime) {
  ScriptedServer server([](int connection) {
    ScriptedServer::receive(connection, /*line=*/true);
    ScriptedServer::receive(connection, /*line=*/false);  // until the client hangs up
  });
  auto client = ProtocolClient::connect(server.path(), 50ms);
  ASSERT_TRUE(client);

  auto response = client->call({{"op", "ping"}});
  client->close();

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message, "no response from " + server.path() + " in time");
}

TEST(ProtocolClient, CallRefusesTextThatIsNotUtf8WithoutSendingAnything) {
  std::string received = "unset";
  ScriptedServer server([&](int connection) { received = ScriptedServer::receive(connection, /*line=*/false); });
  auto client = ProtocolClient::connect(server.path(), 10s);
  ASSERT_TRUE(client);

  auto response = client->call({{"op", "authenticate"}, {"password", "\xff\xfe"}});
  client->close();
  server.join();

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::bad_request);
  EXPECT_EQ(received, "");
}

TEST(ProtocolClient, SendRawWritesLargeBuffersCompletely) {
  const std::string big(4 << 20, 'x');  // far more than a socket buffer holds
  std::size_t received = 0;
  ScriptedServer server(
      [&](int connection) { received = ScriptedServer::receive(connection, /*line=*/false, big.size()).size(); });
  auto client = ProtocolClient::connect(server.path(), 10s);
  ASSERT_TRUE(client);

  auto sent = client->send_raw(big);
  server.join();

  EXPECT_TRUE(sent);
  EXPECT_EQ(received, big.size());
}

}  // namespace
}  // namespace dirproxy::protocol
