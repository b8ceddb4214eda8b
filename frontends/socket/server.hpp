// The Unix socket listener of the protocol: creates the socket file with the
// configured mode and group (replacing a stale one left by a crash, refusing
// to take over a live one), accepts connections up to server.max_connections
// (the last server.admin_reserved_connections of them for admins only, so
// that a flood of connections cannot lock admins out), learns each peer's
// credentials, and on shutdown stops accepting, lets every connection answer
// what it has read, and removes the socket file. Refused connections are
// logged at most once per kRefusalLogInterval, with their count.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "core/connection_registry.hpp"
#include "core/io_threads.hpp"
#include "core/log_throttle.hpp"
#include "core/metrics_registry.hpp"
#include "core/worker_pool.hpp"
#include "frontends/socket/connection.hpp"
#include "frontends/socket/request_dispatcher.hpp"

namespace dirproxy {

class Server final {
 public:
  static constexpr std::chrono::seconds kRefusalLogInterval{10};

  // Accepts on `io` (the daemon's own event loop); each connection is then
  // served on one of `connection_threads`. Its open and refused connections
  // are counted in `metrics` (frontend "socket"), when given.
  Server(asio::io_context& io, IoThreads& connection_threads, WorkerPool& pool, RequestDispatcher& dispatcher,
         std::function<RuntimePtr()> runtime, metrics::Registry* metrics = nullptr);
  ~Server();

  // Creates and binds the socket per `settings`. Fails with a message naming
  // the path when it cannot, or when another daemon is listening on it.
  Result<void> listen(const config::Server& settings);

  // Takes over a listening socket passed by systemd (socket activation). Its
  // path, mode and group are the .socket unit's business: nothing is
  // created, changed or removed on disk.
  Result<void> adopt(int listening_fd);

  // Starts accepting (listen() or adopt() must have succeeded).
  void start();

  // Stops accepting, stops every connection gracefully and waits up to
  // `grace` for them to finish, then closes what is left and removes the
  // socket file.
  awaitable<void> shutdown(std::chrono::milliseconds grace);

  std::size_t connection_count() const;

 private:
  awaitable<void> accept_loop();
  awaitable<void> serve(UnixSocket socket);
  // Whether `peer` is an admin (server.admins), looked up off the io thread.
  awaitable<bool> admin_check(const Peer& peer, const config::Server& settings);
  // Takes a place in connections_ for connection `id`, when one is left for
  // an admin or not (`admin`), before anything is awaited.
  bool take_place(std::uint64_t id, const config::Server& settings, bool admin);
  bool any_place_left(const config::Server& settings) const;
  awaitable<void> refuse(UnixSocket socket, const config::Server& settings);
  awaitable<void> log_held_back_refusals();
  void remove_socket_file();

  asio::io_context& io_;
  IoThreads& connection_threads_;
  WorkerPool& pool_;
  RequestDispatcher& dispatcher_;
  std::function<RuntimePtr()> runtime_;
  asio::local::stream_protocol::acceptor acceptor_;
  std::filesystem::path socket_path_;
  std::atomic<bool> accepting_{false};
  ConnectionRegistry<Connection> connections_;
  LogThrottle refusals_;
  // dirproxy_connections_refused_total; null without metrics.
  metrics::Counter* refused_ = nullptr;
  // Sets dirproxy_connections_open at each scrape.
  metrics::Registry::Hook count_open_;
};

}  // namespace dirproxy
