#include "frontends/socket/connection.hpp"

#include <sys/socket.h>

#include "core/logging.hpp"

namespace dirproxy {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("server");
  return logger;
}

}  // namespace

Connection::Connection(UnixSocket socket, Peer peer, ConnectionLimits limits, RequestDispatcher& dispatcher)
    : socket_(std::move(socket)),
      peer_(std::move(peer)),
      limits_(limits),
      dispatcher_(dispatcher),
      writer_wake_(socket_.get_executor()),
      reader_wake_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()),
      last_activity_(std::chrono::steady_clock::now()) {}

void Connection::start(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->read_requests(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->write_responses(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->watch_idle(); }, asio::detached);
}

void Connection::stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->stop_reading(); });
}

void Connection::stop_reading() {
  if (closed_ || reading_done_) return;
  // Shutting down the receive side ends the pending read with EOF while the
  // writer can still send the answers to requests already read.
  boost::system::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_receive, ignored);
}

awaitable<void> Connection::wait(asio::steady_timer& timer) {
  timer.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
}

awaitable<void> Connection::read_requests() {
  auto self = shared_from_this();
  std::string buffer;
  // Two bytes more than the limit leave room for the line's end, "\r\n" or
  // "\n": the limit is on the request, which the '\r' is not part of.
  auto input = asio::dynamic_buffer(buffer, limits_.max_request_bytes + 2);
  while (!closed_) {
    while (slots_.size() >= limits_.max_in_flight && !closed_) co_await wait(reader_wake_);
    if (closed_) break;

    boost::system::error_code ec;
    std::size_t length = co_await asio::async_read_until(socket_, input, '\n', asio::redirect_error(use_awaitable, ec));
    last_activity_ = std::chrono::steady_clock::now();
    if (ec && ec != asio::error::not_found) {
      // EOF (perhaps mid-line: the partial line is dropped) or a reset.
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
        log()->debug("conn={} read ended: {}", peer_.connection, ec.message());
      }
      break;
    }
    std::string line;
    if (!ec) {
      line = buffer.substr(0, length - 1);
      input.consume(length);
      if (!line.empty() && line.back() == '\r') line.pop_back();
    }
    // not_found: the buffer is full and holds no '\n'.
    if (ec || line.size() > limits_.max_request_bytes) {
      log()->warn("conn={} sent a request line over {} bytes; closing", peer_.connection, limits_.max_request_bytes);
      enqueue_final(protocol::error_line(
          nullptr, make_error(ErrorCode::request_too_large,
                              "request line longer than " + std::to_string(limits_.max_request_bytes) + " bytes")));
      co_return;
    }

    auto slot = std::make_shared<Slot>();
    PreparedRequest request = dispatcher_.prepare(line, peer_);
    slot->writes = request.writes;
    slots_.push_back(slot);
    // A read that no earlier write holds back and that needs no blocking
    // work (a refusal, a cached lookup) is answered here, without a
    // coroutine of its own: at tens of thousands of requests a second the
    // frame, the post and the wake-ups cost more than the lookup.
    if (!slot->writes && may_start(*slot)) {
      if (auto response = dispatcher_.answer_now(request)) {
        slot->response = std::move(*response);
        wake(writer_wake_);
        continue;
      }
    }
    asio::co_spawn(socket_.get_executor(), answer(std::move(request), std::move(slot)), asio::detached);
  }
  reading_done_ = true;
  wake(writer_wake_);
}

bool Connection::may_start(const Slot& slot) const {
  for (const auto& earlier : slots_) {
    if (earlier.get() == &slot) return true;
    if (!earlier->response && (slot.writes || earlier->writes)) return false;
  }
  return true;
}

awaitable<void> Connection::answer(PreparedRequest request, std::shared_ptr<Slot> slot) {
  auto self = shared_from_this();
  while (!may_start(*slot)) {
    asio::steady_timer turn(socket_.get_executor(), asio::steady_timer::time_point::max());
    blocked_.push_back(&turn);
    boost::system::error_code ignored;
    co_await turn.async_wait(asio::redirect_error(use_awaitable, ignored));
    std::erase(blocked_, &turn);
  }
  try {
    slot->response = co_await dispatcher_.execute(request);
  } catch (const std::exception& e) {
    log()->error("conn={} request failed unexpectedly: {}", peer_.connection, e.what());
    slot->response = protocol::error_line(nullptr, make_error(ErrorCode::internal_error, "internal error"));
  }
  for (auto* waiting : blocked_) waiting->cancel();
  wake(writer_wake_);
}

void Connection::enqueue_final(std::string response) {
  auto slot = std::make_shared<Slot>();
  slot->response = std::move(response);
  slots_.push_back(std::move(slot));
  reading_done_ = true;
  wake(writer_wake_);
}

awaitable<void> Connection::write_responses() {
  auto self = shared_from_this();
  std::string output;
  while (!closed_) {
    // Send every answer that is ready at the head of the queue, in order.
    output.clear();
    while (!slots_.empty() && slots_.front()->response) {
      output += *slots_.front()->response;
      output += '\n';
      slots_.pop_front();
    }
    if (!output.empty()) {
      wake(reader_wake_);
      boost::system::error_code ec;
      co_await asio::async_write(socket_, asio::buffer(output), asio::redirect_error(use_awaitable, ec));
      last_activity_ = std::chrono::steady_clock::now();
      if (ec) {
        log()->debug("conn={} write failed: {}", peer_.connection, ec.message());
        break;
      }
      continue;
    }
    if (reading_done_ && slots_.empty()) break;
    co_await wait(writer_wake_);
  }
  close();
}

awaitable<void> Connection::watch_idle() {
  auto self = shared_from_this();
  while (!closed_) {
    const auto now = std::chrono::steady_clock::now();
    const auto deadline = last_activity_ + limits_.idle_timeout;
    if (now >= deadline && slots_.empty()) {
      log()->debug("conn={} idle for {} ms; closing", peer_.connection, limits_.idle_timeout.count());
      close();
      break;
    }
    // Past the deadline but still working on a request: not idle; look again
    // one whole timeout later (answering it counts as activity).
    idle_timer_.expires_at(now >= deadline ? now + limits_.idle_timeout : deadline);
    boost::system::error_code ignored;
    co_await idle_timer_.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  wake(writer_wake_);
  wake(reader_wake_);
  idle_timer_.cancel();
  if (on_closed_) {
    auto callback = std::move(on_closed_);
    on_closed_ = nullptr;
    callback();
  }
}

}  // namespace dirproxy
