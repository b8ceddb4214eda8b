#include "frontends/metrics/metrics_server.hpp"

#include <string>
#include <string_view>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/logging.hpp"

namespace dirproxy {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("metrics");
  return logger;
}

constexpr std::string_view kPath = "/metrics";

// Counts a connection while it lives.
class OpenConnection final {
 public:
  explicit OpenConnection(std::shared_ptr<std::atomic<std::size_t>> open) : open_(std::move(open)) {}
  ~OpenConnection() { open_->fetch_sub(1, std::memory_order_relaxed); }
  OpenConnection(const OpenConnection&) = delete;
  OpenConnection& operator=(const OpenConnection&) = delete;

 private:
  std::shared_ptr<std::atomic<std::size_t>> open_;
};

http::response<http::string_body> plain_response(http::status status, std::string text, unsigned version) {
  http::response<http::string_body> response{status, version};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(text);
  response.prepare_payload();
  return response;
}

// The answer to a request that could not be read, or nullopt when the
// connection is simply over (closed by the client, or silent too long).
std::optional<http::response<http::string_body>> answer_to_read_error(const boost::system::error_code& ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    return std::nullopt;
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return plain_response(http::status::request_header_fields_too_large, "request head too large\n", 11);
  }
  if (ec == http::error::unexpected_body || ec == http::error::body_limit) {
    return plain_response(http::status::payload_too_large, "a metrics request has no body\n", 11);
  }
  return plain_response(http::status::bad_request, "malformed request\n", 11);
}

}  // namespace

MetricsServer::MetricsServer(asio::io_context& io, IoThreads& connection_threads, WorkerPool& pool,
                             metrics::Registry& registry, Limits limits)
    : io_(io),
      connection_threads_(connection_threads),
      pool_(pool),
      registry_(registry),
      limits_(limits),
      acceptor_(io) {}

Result<void> MetricsServer::listen(const config::ListenAddress& address) {
  const std::string where =
      (address.address.find(':') == std::string::npos ? address.address : "[" + address.address + "]") + ":" +
      std::to_string(address.port);
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(address.address, ec), address.port);
  if (!ec) acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::internal_error, "metrics.listen: cannot listen on " + where + ": " + ec.message());
  log()->info("serving metrics on http://{}{}", where, kPath);
  return {};
}

std::uint16_t MetricsServer::port() const {
  boost::system::error_code ec;
  const auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void MetricsServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void MetricsServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

awaitable<void> MetricsServer::accept_loop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    asio::io_context& connection_context = connection_threads_.next();
    tcp::socket socket = co_await acceptor_.async_accept(connection_context, asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted) break;
    if (ec) {
      log()->warn("accept failed: {}", ec.message());
      co_await pause_after_failed_accept(io_, ec);
      continue;
    }
    if (open_->fetch_add(1, std::memory_order_relaxed) >= limits_.max_connections) {
      open_->fetch_sub(1, std::memory_order_relaxed);
      asio::co_spawn(connection_context, refuse(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(connection_context, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> MetricsServer::refuse(tcp::socket socket) {
  log()->debug("refusing a metrics connection: {} are open", limits_.max_connections);
  beast::tcp_stream stream(std::move(socket));
  auto response = plain_response(http::status::service_unavailable, "too many connections\n", 11);
  response.set(http::field::retry_after, "1");
  response.keep_alive(false);
  stream.expires_after(limits_.write_timeout);
  boost::system::error_code ignored;
  co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ignored));
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<void> MetricsServer::serve(tcp::socket socket) {
  const OpenConnection counted(open_);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(limits_.max_header_bytes);
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    boost::system::error_code ec;
    stream.expires_after(limits_.read_timeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (auto refusal = answer_to_read_error(ec)) {
        log()->debug("metrics request refused: {}", ec.message());
        refusal->keep_alive(false);
        stream.expires_after(limits_.write_timeout);
        co_await http::async_write(stream, *refusal, asio::redirect_error(use_awaitable, ec));
      }
      break;
    }
    const auto& request = parser.get();
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    http::response<http::string_body> response;
    if (path != kPath) {
      response = plain_response(http::status::not_found, "the metrics are at /metrics\n", request.version());
    } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response = plain_response(http::status::method_not_allowed, "GET or HEAD only\n", request.version());
      response.set(http::field::allow, "GET, HEAD");
    } else {
      auto render = [this] { return registry_.render(); };
      std::string text = co_await pool_.run(render);
      response = http::response<http::string_body>(http::status::ok, request.version());
      const std::string_view content_type = metrics::Registry::kContentType;
      response.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
      response.body() = std::move(text);
      response.prepare_payload();
      // HEAD: the same head, Content-Length included, without the body.
      if (request.method() == http::verb::head) response.body().clear();
    }
    response.keep_alive(request.keep_alive());
    stream.expires_after(limits_.write_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace dirproxy
