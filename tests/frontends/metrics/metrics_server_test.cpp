// The metrics listener over real TCP: GET and HEAD /metrics answer the
// registry's text, anything else a clear HTTP refusal, and its limits hold
// (connections, request head, body, read time).
#include "frontends/metrics/metrics_server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { registry_.counter("test_requests_total", "Test requests.").with({}).increment(3); }

  void start(MetricsServerLimits limits = {}) {
    server_ = std::make_unique<MetricsServer>(io_, threads_, pool_, registry_, limits);
    auto listening = server_->listen({"127.0.0.1", 0});
    ASSERT_TRUE(listening) << listening.error().message;
    server_->start();
    io_thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (server_) asio::post(io_, [this] { server_->stop(); });
    guard_.reset();
    if (io_thread_.joinable()) io_thread_.join();
    threads_.stop();
  }

  // A blocking connection to the server that gives up reading after 5 s.
  tcp::socket connect() {
    tcp::socket socket(client_io_);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    timeval timeout{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    return socket;
  }

  // Writes `request` and reads until the server closes the connection.
  static std::string exchange(tcp::socket& socket, const std::string& request) {
    if (!request.empty()) asio::write(socket, asio::buffer(request));
    std::string received;
    char chunk[4096];
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
      received.append(chunk, n);
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return received;
      if (ec) throw std::runtime_error("reading the answer: " + ec.message() + " after: " + received);
    }
  }

  std::string exchange(const std::string& request) {
    auto socket = connect();
    return exchange(socket, request);
  }

  static std::string get(const std::string& target, const std::string& method = "GET") {
    return method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  }

  metrics::Registry registry_;
  // Before io_, so that they outlive it (as in Daemon::run): a pending
  // accept on io_ holds a socket of theirs.
  IoThreads threads_{1};
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  WorkerPool pool_{1};
  std::unique_ptr<MetricsServer> server_;
  std::thread io_thread_;
  asio::io_context client_io_;
};

TEST_F(MetricsServerTest, GetMetricsAnswersTheRegistrysText) {
  start();

  const std::string answer = exchange(get("/metrics"));

  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
  EXPECT_NE(answer.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\n" + registry_.render())) << answer;
  EXPECT_NE(answer.find("\ntest_requests_total 3\n"), std::string::npos) << answer;
}

TEST_F(MetricsServerTest, AQueryStringIsIgnored) {
  start();

  EXPECT_TRUE(exchange(get("/metrics?format=text")).starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsServerTest, HeadAnswersTheHeadAlone) {
  start();

  const std::string answer = exchange(get("/metrics", "HEAD"));

  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\n")) << answer;
  EXPECT_NE(answer.find("Content-Length: " + std::to_string(registry_.render().size()) + "\r\n"), std::string::npos)
      << answer;
}

TEST_F(MetricsServerTest, OtherPathsAreNotFound) {
  start();

  EXPECT_TRUE(exchange(get("/")).starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(exchange(get("/metrics/x")).starts_with("HTTP/1.1 404 Not Found\r\n"));
}

TEST_F(MetricsServerTest, OtherMethodsAreRefusedWithTheAllowedOnes) {
  start();

  const std::string answer =
      exchange("POST /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");

  EXPECT_TRUE(answer.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << answer;
  EXPECT_NE(answer.find("Allow: GET, HEAD\r\n"), std::string::npos) << answer;
}

TEST_F(MetricsServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();

  const std::string answer = exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n" + get("/metrics"));

  std::size_t answers = 0;
  for (auto at = answer.find("HTTP/1.1 200 OK"); at != std::string::npos; at = answer.find("HTTP/1.1 200 OK", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 2u) << answer;
}

TEST_F(MetricsServerTest, ATooLargeRequestHeadIsRefusedAndTheConnectionClosed) {
  start({.max_connections = 8, .max_header_bytes = 1024, .read_timeout = 5s, .write_timeout = 5s});

  const std::string answer =
      exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + std::string(2000, 'x') + "\r\n\r\n");

  EXPECT_TRUE(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << answer;
}

TEST_F(MetricsServerTest, ARequestWithABodyIsRefused) {
  start();

  const std::string answer = exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");

  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n")) << answer;
}

TEST_F(MetricsServerTest, WhatIsNotHttpIsABadRequest) {
  start();

  EXPECT_TRUE(exchange("HELLO\r\n\r\n").starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_F(MetricsServerTest, ASilentConnectionIsClosedAfterTheReadTimeout) {
  start({.max_connections = 8, .max_header_bytes = 8192, .read_timeout = 300ms, .write_timeout = 5s});
  auto socket = connect();
  const auto began = std::chrono::steady_clock::now();

  const std::string answer = exchange(socket, "GET /metr");

  EXPECT_EQ(answer, "");
  EXPECT_LT(std::chrono::steady_clock::now() - began, 4s);
}

TEST_F(MetricsServerTest, ConnectionsBeyondTheLimitAreRefusedWithServiceUnavailable) {
  start({.max_connections = 2, .max_header_bytes = 8192, .read_timeout = 5s, .write_timeout = 5s});
  auto first = connect();
  auto second = connect();
  std::this_thread::sleep_for(100ms);  // both accepted and being served

  const std::string answer = exchange(get("/metrics"));

  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << answer;
  first.close();
  second.close();
}

TEST_F(MetricsServerTest, AClosedConnectionFreesItsPlace) {
  start({.max_connections = 1, .max_header_bytes = 8192, .read_timeout = 5s, .write_timeout = 5s});
  ASSERT_TRUE(exchange(get("/metrics")).starts_with("HTTP/1.1 200 OK\r\n"));
  std::this_thread::sleep_for(100ms);  // the server has seen the connection end

  EXPECT_TRUE(exchange(get("/metrics")).starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsServerTest, AnAddressInUseIsAClearError) {
  start();
  MetricsServer second(io_, threads_, pool_, registry_);

  auto listening = second.listen({"127.0.0.1", server_->port()});

  ASSERT_FALSE(listening);
  EXPECT_EQ(listening.error().message, "metrics.listen: cannot listen on 127.0.0.1:" + std::to_string(server_->port()) +
                                           ": Address already in use");
}

}  // namespace
}  // namespace dirproxy
