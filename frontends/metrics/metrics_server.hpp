// The metrics listener (metrics.listen): HTTP/1.1 on a TCP address, where
// GET or HEAD /metrics answers the registry's text (Prometheus' exposition
// format, version 0.0.4). HTTP is Boost.Beast's. Connections are accepted on
// the daemon's event loop and served on the io threads (IoThreads); the text
// is rendered on the worker pool, since a scrape reads the state database.
//
// The port has no authentication, so whoever can reach it is held to limits
// (docs/operations.md, "Monitoring"): a few connections at once (the next
// ones get 503 and are closed), a request head of a few KiB and no body (431
// and 413, then the connection closes), a time limit to read each request
// (an idle keep-alive connection included) and to write each answer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "core/io_threads.hpp"
#include "core/metrics_registry.hpp"
#include "core/result.hpp"
#include "core/worker_pool.hpp"

namespace dirproxy {

// What one metrics listener allows (documented in docs/operations.md).
struct MetricsServerLimits {
  std::size_t max_connections = 8;
  std::size_t max_header_bytes = 8192;
  std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
};

class MetricsServer final {
 public:
  using Limits = MetricsServerLimits;

  // Accepts on `io` (the daemon's own event loop) and serves each connection
  // on one of `connection_threads`, rendering `registry` on `pool`.
  MetricsServer(asio::io_context& io, IoThreads& connection_threads, WorkerPool& pool, metrics::Registry& registry,
                Limits limits = {});
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and listens on `address`; a message naming it when it cannot.
  // Port 0 picks a free port (tests; the configuration refuses it).
  Result<void> listen(const config::ListenAddress& address);

  // The port it listens on.
  std::uint16_t port() const;

  // Starts accepting (listen() must have succeeded).
  void start();

  // Stops accepting. Connections open now end at their next time limit, or
  // when their io thread stops.
  void stop();

 private:
  awaitable<void> accept_loop();
  awaitable<void> serve(asio::ip::tcp::socket socket);
  awaitable<void> refuse(asio::ip::tcp::socket socket);

  asio::io_context& io_;
  IoThreads& connection_threads_;
  WorkerPool& pool_;
  metrics::Registry& registry_;
  const Limits limits_;
  asio::ip::tcp::acceptor acceptor_;
  // Shared with the connections, whose coroutines may be destroyed with
  // their io thread after this server.
  std::shared_ptr<std::atomic<std::size_t>> open_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace dirproxy
