// One client connection on the Unix socket. Three coroutines share it, all on
// the connection's thread (IoThreads), so they need no locks: the reader
// splits the input into lines and starts each request at once (so pipelined
// requests run concurrently), the writer sends the responses strictly in
// request order, and the idle watch closes the connection after
// server.idle_timeout without traffic or work.
//
// Pipelined reads run concurrently; a write waits for every earlier request
// and holds back every later one, so a client always sees its own writes
// (add_user then authenticate on one connection works as written).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "frontends/socket/request_dispatcher.hpp"

namespace dirproxy {

using UnixSocket = asio::local::stream_protocol::socket;

struct ConnectionLimits {
  std::size_t max_request_bytes = 65536;
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(5);
  std::size_t max_in_flight = 128;  // pipelined requests answered before reading more
};

class Connection final : public std::enable_shared_from_this<Connection> {
 public:
  Connection(UnixSocket socket, Peer peer, ConnectionLimits limits, RequestDispatcher& dispatcher);

  // Runs the connection until it closes; `on_closed` is called once then.
  void start(std::function<void()> on_closed);

  // Graceful stop: read no further requests, answer those already read,
  // then close. Safe from any thread: it runs on the connection's own.
  void stop();

  std::uint64_t id() const { return peer_.connection; }

 private:
  // A request's place in the reply order; `response` is set when it is done.
  struct Slot {
    std::optional<std::string> response;
    bool writes = false;
  };

  awaitable<void> read_requests();
  awaitable<void> write_responses();
  awaitable<void> watch_idle();
  awaitable<void> answer(PreparedRequest request, std::shared_ptr<Slot> slot);
  bool may_start(const Slot& slot) const;
  void stop_reading();
  void enqueue_final(std::string response);
  void wake(asio::steady_timer& timer) { timer.cancel(); }
  awaitable<void> wait(asio::steady_timer& timer);
  void close();

  UnixSocket socket_;
  Peer peer_;
  ConnectionLimits limits_;
  RequestDispatcher& dispatcher_;
  asio::steady_timer writer_wake_;
  asio::steady_timer reader_wake_;
  asio::steady_timer idle_timer_;
  // Requests waiting for an earlier one to finish; each waits on its own
  // timer, and a finishing request cancels them all so they look again.
  std::vector<asio::steady_timer*> blocked_;
  std::deque<std::shared_ptr<Slot>> slots_;
  bool reading_done_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_activity_;
  std::function<void()> on_closed_;
};

}  // namespace dirproxy
