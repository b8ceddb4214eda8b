#include "frontends/ldap/ldap_connection.hpp"

#include <algorithm>
#include <array>
#include <type_traits>

#include "core/logging.hpp"

namespace dirproxy::ldap {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("ldap");
  return logger;
}

// Requests of one connection in progress at once; the reader waits for one
// to finish before it reads more.
constexpr std::size_t kMaxRunning = 64;
// Bytes of answers queued before an operation that sends more waits for the
// client to read them.
constexpr std::size_t kHighWater = 256 * 1024;
// The most bytes one write gathers from the queue.
constexpr std::size_t kWriteBatch = 64 * 1024;
// The most bytes one read takes from the connection.
constexpr std::size_t kReadBuffer = 16384;
// The TLS handshake of an ldaps:// connection must end within this.
constexpr std::chrono::seconds kHandshakeTimeout{10};

awaitable<void> wait(asio::steady_timer& timer) {
  timer.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
}

void wake(asio::steady_timer& timer) { timer.cancel(); }

// The critical controls the front end honours on each operation: any other
// critical control is unavailableCriticalExtension (RFC 4511 §4.1.11).
bool control_supported(const Operation& operation, const Control& control) {
  return control.type == oid::paged_results && std::holds_alternative<SearchRequest>(operation);
}

std::optional<ResponseType> response_type(const Operation& operation) {
  return std::visit(
      [](const auto& request) -> std::optional<ResponseType> {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, BindRequest>) return ResponseType::bind;
        if constexpr (std::is_same_v<T, SearchRequest>) return ResponseType::search_done;
        if constexpr (std::is_same_v<T, ModifyRequest>) return ResponseType::modify;
        if constexpr (std::is_same_v<T, AddRequest>) return ResponseType::add;
        if constexpr (std::is_same_v<T, DeleteRequest>) return ResponseType::delete_;
        if constexpr (std::is_same_v<T, ModifyDnRequest>) return ResponseType::modify_dn;
        if constexpr (std::is_same_v<T, CompareRequest>) return ResponseType::compare;
        return std::nullopt;  // unbind, abandon: no answer; extended: its own
      },
      operation);
}

}  // namespace

// Transport -------------------------------------------------------------------

awaitable<std::string_view> Transport::read_some(boost::system::error_code& ec) {
  if (tls_) {
    // OpenSSL may hold decrypted bytes the socket no longer shows: read
    // through the stream, into a buffer of this connection's.
    if (!tls_buffer_) tls_buffer_ = std::make_unique<char[]>(kReadBuffer);
    const std::size_t length = co_await tls_->async_read_some(asio::buffer(tls_buffer_.get(), kReadBuffer),
                                                               asio::redirect_error(use_awaitable, ec));
    co_return std::string_view(tls_buffer_.get(), length);
  }
  // Wait for readability, then read without waiting: nothing suspends
  // between the read and the caller's use of the bytes, so every
  // connection of this thread reads into the same buffer. Ten thousand idle
  // connections then hold no read buffer each (16 KiB apiece before).
  thread_local std::array<char, kReadBuffer> buffer;
  while (true) {
    co_await socket_.async_wait(tcp::socket::wait_read, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return std::string_view();
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    if (ec) co_return std::string_view();
    const std::size_t length = socket_.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec.clear();
      continue;  // woken without data (it can happen): wait again
    }
    co_return std::string_view(buffer.data(), length);
  }
}

awaitable<void> Transport::write(std::string_view bytes, boost::system::error_code& ec) {
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
  } else {
    co_await asio::async_write(socket_, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> Transport::start_tls(TlsContextPtr context, boost::system::error_code& ec) {
  context_ = std::move(context);
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *context_);
  co_await tls_->async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
}

void Transport::close() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

// Connection ------------------------------------------------------------------

Connection::Connection(tcp::socket socket, bool ldaps, std::uint64_t id, std::shared_ptr<const ConnectionShared> shared)
    : transport_(std::move(socket)),
      ldaps_(ldaps),
      id_(id),
      shared_(std::move(shared)),
      reader_(shared_->state()->settings.limits.max_request_bytes_anonymous),
      writer_wake_(transport_.socket().get_executor()),
      drained_(transport_.socket().get_executor()),
      reader_wake_(transport_.socket().get_executor()),
      idle_timer_(transport_.socket().get_executor()),
      last_activity_(std::chrono::steady_clock::now()) {
  boost::system::error_code ec;
  const auto remote = transport_.socket().remote_endpoint(ec);
  if (!ec) {
    auto address = remote.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    peer_address_ = address.to_string();
    peer_loopback_ = address.is_loopback();
  }
}

void Connection::start(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  auto self = shared_from_this();
  asio::co_spawn(
      transport_.socket().get_executor(), [self]() { return self->run(); }, asio::detached);
}

void Connection::stop() {
  asio::post(transport_.socket().get_executor(),
             [self = shared_from_this()] { self->disconnect(ResultCode::unavailable, "the server is shutting down"); });
}

awaitable<void> Connection::run() {
  auto self = shared_from_this();
  auto executor = transport_.socket().get_executor();
  asio::co_spawn(
      executor, [self]() { return self->watch_idle(); }, asio::detached);
  if (ldaps_) {
    TlsContextPtr context = state()->tls;
    if (!context) {
      close();
      co_return;
    }
    boost::system::error_code ec;
    asio::steady_timer limit(executor, kHandshakeTimeout);
    limit.async_wait([self](const boost::system::error_code& error) {
      if (!error && !self->transport_.secure()) self->close();
    });
    co_await transport_.start_tls(std::move(context), ec);
    limit.cancel();
    if (ec || closed_) {
      log()->debug("conn={} TLS handshake failed: {}", id_, ec.message());
      close();
      co_return;
    }
  }
  asio::co_spawn(
      executor, [self]() { return self->write_responses(); }, asio::detached);
  co_await read_requests();
}

awaitable<void> Connection::read_requests() {
  while (!closed_ && !close_after_writing_) {
    while (running_.size() >= kMaxRunning && !closed_) co_await wait(reader_wake_);
    if (closed_) break;
    boost::system::error_code ec;
    const std::string_view bytes = co_await transport_.read_some(ec);
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
        log()->debug("conn={} read ended: {}", id_, ec.message());
      }
      break;
    }
    touch();
    reader_.feed(bytes);
    while (!closed_ && !close_after_writing_) {
      auto decoded = reader_.next();
      if (!decoded) break;
      if (auto* error = std::get_if<DecodeError>(&*decoded)) {
        log()->info("conn={} from {}: malformed request ({}); disconnecting", id_, peer_address_, error->message);
        disconnect(error->code, error->message);
        break;
      }
      Request request = std::get<Request>(std::move(*decoded));
      if (std::holds_alternative<UnbindRequest>(request.operation)) {
        close();
        break;
      }
      const auto* extended = std::get_if<ExtendedRequest>(&request.operation);
      if (extended != nullptr && extended->name == oid::start_tls) {
        // Nothing else may be in flight, in either direction, while the
        // stream changes under it: the reader waits for the handshake.
        co_await start_tls(request.message_id);
        continue;
      }
      if (std::holds_alternative<BindRequest>(request.operation)) {
        // RFC 4511 §4.2.1: operations still running when a Bind arrives
        // are abandoned; the Bind runs alone and the requests after it wait
        // for its outcome, since they run as whoever it binds.
        for (auto& [id, running] : running_) running->abandoned = true;
        auto running = std::make_shared<Running>();
        running_[request.message_id] = running;
        co_await perform(std::move(request), running);
        continue;
      }
      dispatch(std::move(request));
    }
  }
  if (!close_after_writing_) close();
}

void Connection::dispatch(Request request) {
  if (const auto* abandon = std::get_if<AbandonRequest>(&request.operation)) {
    if (auto found = running_.find(abandon->message_id); found != running_.end()) found->second->abandoned = true;
    return;
  }
  auto running = std::make_shared<Running>();
  if (running_.contains(request.message_id)) {
    // A message id still in use is a protocol error (RFC 4511 §4.1.1.1).
    disconnect(ResultCode::protocol_error, "message id " + std::to_string(request.message_id) + " is in use");
    return;
  }
  running_[request.message_id] = running;
  asio::co_spawn(
      transport_.socket().get_executor(),
      [self = shared_from_this(), request = std::move(request), running]() mutable {
        return self->perform(std::move(request), std::move(running));
      },
      asio::detached);
}

awaitable<void> Connection::perform(Request request, std::shared_ptr<Running> running) {
  auto self = shared_from_this();
  const int id = request.message_id;
  const auto unsupported = std::find_if(request.controls.begin(), request.controls.end(), [&](const Control& control) {
    return control.critical && !control_supported(request.operation, control);
  });
  const std::optional<ResponseType> type = response_type(request.operation);
  if (unsupported != request.controls.end()) {
    const LdapResult refusal{ResultCode::unavailable_critical_extension, "",
                             "critical control " + unsupported->type + " is not supported"};
    if (type) {
      std::string message = encode_result(id, *type, refusal);
      co_await send(*running, std::move(message));
    } else {
      std::string message = encode_extended_response(id, refusal, std::nullopt, std::nullopt);
      co_await send(*running, std::move(message));
    }
  } else if (auto* bind_request = std::get_if<BindRequest>(&request.operation)) {
    co_await bind(id, *bind_request, running);
  } else if (auto* search_request = std::get_if<SearchRequest>(&request.operation)) {
    co_await search(request, *search_request, running);
  } else if (auto* compare_request = std::get_if<CompareRequest>(&request.operation)) {
    co_await compare(id, *compare_request, running);
  } else if (auto* extended_request = std::get_if<ExtendedRequest>(&request.operation)) {
    co_await extended(id, *extended_request, running);
  } else if (auto* add_request = std::get_if<AddRequest>(&request.operation)) {
    const LdapResult outcome = co_await add(*add_request);
    std::string message = encode_result(id, ResponseType::add, outcome);
    co_await send(*running, std::move(message));
  } else if (auto* modify_request = std::get_if<ModifyRequest>(&request.operation)) {
    const LdapResult outcome = co_await modify(*modify_request);
    std::string message = encode_result(id, ResponseType::modify, outcome);
    co_await send(*running, std::move(message));
  } else if (auto* delete_request = std::get_if<DeleteRequest>(&request.operation)) {
    const LdapResult outcome = co_await remove(*delete_request);
    std::string message = encode_result(id, ResponseType::delete_, outcome);
    co_await send(*running, std::move(message));
  } else if (std::holds_alternative<ModifyDnRequest>(request.operation)) {
    std::string message =
        encode_result(id, ResponseType::modify_dn, {ResultCode::unwilling_to_perform, "", "entries cannot be renamed"});
    co_await send(*running, std::move(message));
  }
  if (auto found = running_.find(id); found != running_.end() && found->second == running) running_.erase(found);
  touch();
  wake(reader_wake_);
}

awaitable<bool> Connection::send(const Running& running, std::string message) {
  if (running.abandoned || closed_ || close_after_writing_) co_return false;
  outgoing_bytes_ += message.size();
  outgoing_.push_back(std::move(message));
  wake(writer_wake_);
  while (outgoing_bytes_ > kHighWater && !closed_ && !running.abandoned) co_await wait(drained_);
  co_return !closed_ && !running.abandoned;
}

void Connection::disconnect(ResultCode code, std::string_view diagnostic) {
  if (closed_ || close_after_writing_) return;
  for (auto& [id, running] : running_) running->abandoned = true;
  outgoing_bytes_ += 1;
  outgoing_.push_back(encode_notice_of_disconnection(code, diagnostic));
  close_after_writing_ = true;
  wake(writer_wake_);
  wake(reader_wake_);
  // A client that reads nothing must not keep the connection: the idle
  // watch closes it.
}

awaitable<void> Connection::write_responses() {
  auto self = shared_from_this();
  std::string batch;
  while (!closed_) {
    while (outgoing_.empty() && !closed_ && !close_after_writing_) co_await wait(writer_wake_);
    if (closed_) break;
    if (outgoing_.empty()) {  // close_after_writing_, all written
      close();
      break;
    }
    batch.clear();
    std::size_t taken = 0;
    while (!outgoing_.empty() && (batch.empty() || batch.size() + outgoing_.front().size() <= kWriteBatch)) {
      batch += outgoing_.front();
      taken += outgoing_.front().size();
      outgoing_.pop_front();
    }
    boost::system::error_code ec;
    co_await transport_.write(batch, ec);
    outgoing_bytes_ -= std::min(outgoing_bytes_, taken);
    if (outgoing_.empty()) outgoing_bytes_ = 0;
    wake(drained_);
    if (ec) {
      close();
      break;
    }
    touch();
  }
}

awaitable<void> Connection::watch_idle() {
  auto self = shared_from_this();
  while (!closed_) {
    const auto timeout =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(state()->settings.limits.idle_timeout);
    // outgoing_bytes_ counts the batch being written too.
    const bool busy = !running_.empty() || outgoing_bytes_ > 0;
    const bool quiet = std::chrono::steady_clock::now() - last_activity_ >= timeout;
    if (!busy && quiet) {
      log()->debug("conn={} idle for {} s; closing", id_,
                   std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
      close();
      break;
    }
    if (outgoing_bytes_ > 0 && quiet) {
      // Answers are waiting and nothing was written or read for a whole
      // idle timeout: the client does not read. Its place is given back.
      log()->info("conn={} from {} read none of its answers for {} s; closing", id_, peer_address_,
                  std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
      close();
      break;
    }
    // Looked at again when the connection will have been quiet for a whole
    // timeout; work that writes nothing yet (a slow directory) is waited for.
    const auto now = std::chrono::steady_clock::now();
    auto next = last_activity_ + timeout;
    if (next <= now) next = now + timeout;
    idle_timer_.expires_at(next);
    boost::system::error_code ignored;
    co_await idle_timer_.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [id, running] : running_) running->abandoned = true;
  transport_.close();
  wake(writer_wake_);
  wake(reader_wake_);
  wake(drained_);
  idle_timer_.cancel();
  paged_.clear();
  if (on_closed_) {
    auto on_closed = std::move(on_closed_);
    on_closed_ = nullptr;
    on_closed();
  }
}

Caller Connection::caller() const {
  Caller caller;
  caller.front_end = FrontEnd::ldap;
  caller.connection = id_;
  if (!peer_address_.empty()) caller.client_address = peer_address_;
  if (bound_.kind != BoundIdentity::Kind::anonymous) caller.actor = bound_.dn;
  // A bound application's requests are made for it: the service shows it
  // only the users it admits (APPLICATIONS.md).
  if (bound_.kind == BoundIdentity::Kind::application) caller.application = bound_.name;
  return caller;
}

}  // namespace dirproxy::ldap
