#include "frontends/web/web_connection.hpp"

#include <boost/beast/http.hpp>

#include "core/logging.hpp"
#include "frontends/web/server_pages.hpp"
#include "frontends/web/web_request.hpp"

namespace dirproxy::web {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using HttpRequest = http::request<http::string_body>;

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("web");
  return logger;
}

// A refused connection gets this long to take its 503 and go.
constexpr std::chrono::seconds kRefusalTimeout{2};
// How much of a request the buffer holds beyond the head: the body passes
// through it into the parser's body in pieces.
constexpr std::size_t kBodyChunkBytes = 16 * 1024;
// The methods a page takes; any other is answered 405 before any page runs.
constexpr std::string_view kPageMethods = "GET, HEAD, POST";
constexpr std::string_view kReadOnlyMethods = "GET, HEAD";
constexpr std::string_view kStaticPrefix = "/static/";

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

// Every value of header `field`, joined with `separator` (Cookie and
// X-Forwarded-For may come in several headers).
std::string joined(const HttpRequest& message, std::string_view name, std::string_view separator) {
  std::string values;
  for (auto [it, end] = message.equal_range(beast::string_view(name.data(), name.size())); it != end; ++it) {
    if (!values.empty()) values += separator;
    values += view(it->value());
  }
  return values;
}

bool expects_continue(const HttpRequest& message) {
  const std::string_view expect = view(message[http::field::expect]);
  return expect.size() == 12 && beast::iequals(beast::string_view(expect.data(), expect.size()), "100-continue");
}

// Whether a read ended because the connection is over (closed, silent too
// long, stopped), not because of what the client sent.
bool connection_over(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == beast::error::timeout ||
         ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::ssl::error::stream_truncated;
}

// The status that answers a request that could not be read.
unsigned status_of_read_error(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) return 431;
  if (ec == http::error::body_limit) return 413;
  return 400;
}

Response with_allow(Response response, std::string_view methods) {
  response.headers.emplace_back("Allow", std::string(methods));
  return response;
}

}  // namespace

WebConnection::WebConnection(tcp::socket socket, std::uint64_t id, std::shared_ptr<const WebShared> shared,
                             bool refuse)
    : tcp_(std::move(socket)), id_(id), shared_(std::move(shared)), refuse_(refuse) {}

void WebConnection::start(std::function<void()> on_close) {
  asio::co_spawn(tcp_.get_executor(), run(shared_from_this(), std::move(on_close)), asio::detached);
}

void WebConnection::stop() {
  asio::post(tcp_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (self->waiting_) self->tcp_.cancel();
  });
}

awaitable<void> WebConnection::run(std::shared_ptr<WebConnection> self, std::function<void()> on_close) {
  (void)self;
  // An exception that escaped would end the io thread's event loop, and the
  // daemon with it: it ends this connection only.
  try {
    auto connection = converse();
    co_await std::move(connection);
  } catch (const std::exception& error) {
    log()->error("conn={} closed after an error: {}", id_, error.what());
  }
  boost::system::error_code ignored;
  tcp_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp_.close();
  if (on_close) on_close();
}

awaitable<void> WebConnection::converse() {
  const WebStatePtr state = shared_->state();
  boost::system::error_code ec;
  if (state->tls) {
    TlsContextPtr tls = state->tls;  // outlives the stream
    asio::ssl::stream<beast::tcp_stream&> stream(tcp_, *tls);
    tcp_.expires_after(refuse_ ? kRefusalTimeout : state->limits.read_timeout);
    waiting_ = true;
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    waiting_ = false;
    if (ec) {
      log()->debug("conn={} TLS handshake failed: {}", id_, ec.message());
    } else {
      if (refuse_) {
        co_await answer_busy(stream);
      } else {
        co_await serve(stream);
      }
      tcp_.expires_after(state->limits.write_timeout);
      co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
    }
  } else if (refuse_) {
    co_await answer_busy(tcp_);
  } else {
    co_await serve(tcp_);
  }
}

template <typename Stream>
awaitable<void> WebConnection::answer_busy(Stream& stream) {
  const WebStatePtr state = shared_->state();
  log()->debug("conn={} refused: web.limits.max_connections ({}) are open", id_, state->limits.max_connections);
  HttpResponse busy = finish(*state, error_page(*state->templates, 503), 11, false, false);
  busy.set(http::field::retry_after, "1");
  boost::system::error_code ec;
  tcp_.expires_after(kRefusalTimeout);
  co_await http::async_write(stream, busy, asio::redirect_error(use_awaitable, ec));
  // What the client sent meanwhile is read and dropped, so that closing
  // does not reset the connection before it has read the answer.
  if (!ec) tcp_.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 4096> discard;
  while (!ec) co_await stream.async_read_some(asio::buffer(discard), asio::redirect_error(use_awaitable, ec));
}

template <typename Stream>
awaitable<void> WebConnection::serve(Stream& stream) {
  beast::flat_buffer buffer;
  bool first = true;
  while (!stopping_) {
    const WebStatePtr state = shared_->state();
    const config::WebLimits& limits = state->limits;
    buffer.max_size(limits.max_header_bytes + kBodyChunkBytes);
    boost::system::error_code ec;
    waiting_ = true;
    if (!first && buffer.size() == 0) {
      // Between requests: up to idle_timeout for the next to begin.
      tcp_.expires_after(limits.idle_timeout);
      const std::size_t received = co_await stream.async_read_some(
          buffer.prepare(std::min<std::size_t>(4096, buffer.max_size())), asio::redirect_error(use_awaitable, ec));
      buffer.commit(received);
      if (ec) break;
    }
    first = false;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    tcp_.expires_after(limits.read_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    // A client that asks before sending its body (curl does, from 1 KiB)
    // gets the go-ahead rather than waiting a second for it; a body over
    // the limit has failed already, on its Content-Length.
    if (!ec && !parser.is_done() && expects_continue(parser.get())) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                                 asio::redirect_error(use_awaitable, ec));
    }
    if (!ec && !parser.is_done()) {
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    }
    waiting_ = false;
    if (ec) {
      // Closed, silent too long or stopped: there is no one to answer.
      if (connection_over(ec) || stopping_) break;
      const unsigned status = status_of_read_error(ec);
      log()->info("conn={} request refused: {} ({})", id_, status, ec.message());
      HttpResponse refusal = finish(*state, error_page(*state->templates, status), 11, false, false);
      tcp_.expires_after(limits.write_timeout);
      co_await http::async_write(stream, refusal, asio::redirect_error(use_awaitable, ec));
      break;
    }
    const HttpRequest& message = parser.get();
    HttpResponse response = co_await answer(*state, message);
    if (stopping_) response.keep_alive(false);
    tcp_.expires_after(limits.write_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
}

awaitable<HttpResponse> WebConnection::answer(const WebState& state, const HttpRequest& message) {
  const bool keep_alive = message.keep_alive();
  const unsigned version = message.version();
  const Method method = method_of(view(message.method_string()));
  const bool head = method == Method::head;
  const std::string content_type(view(message[http::field::content_type]));
  const std::string cookie = joined(message, "Cookie", "; ");
  const std::string forwarded_for = joined(message, "X-Forwarded-For", ", ");
  const std::string forwarded_proto(view(message["X-Forwarded-Proto"]));
  const HttpRequestParts parts{.method = view(message.method_string()),
                               .target = view(message.target()),
                               .content_type = content_type,
                               .cookie = cookie,
                               .forwarded_for = forwarded_for,
                               .forwarded_proto = forwarded_proto,
                               .body = message.body()};
  boost::system::error_code ec;
  const RequestOrigin origin{.peer = tcp_.socket().remote_endpoint(ec).address(),
                             .tls = state.tls != nullptr,
                             .connection = id_};
  auto request = build_request(parts, origin, state.trusted_proxies);
  // The log names the browser's address, the method, the path and the
  // status: never the query string or a form value, where tokens and
  // passwords are.
  const std::string_view method_name = view(message.method_string()).substr(0, 16);
  const std::string client = request ? request->client_address : unmapped(origin.peer).to_string();
  auto answered = [&](Response response, const std::string& path, bool keep) {
    HttpResponse http = finish(state, std::move(response), version, keep, head);
    log()->info("conn={} client={} {} {} {}", id_, client, method_name, path, http.result_int());
    return http;
  };
  if (!request) {
    log()->debug("conn={} the request target is refused: {}", id_, request.error().message);
    co_return answered(error_page(*state.templates, 400), "(not a path)", false);
  }
  if (method == Method::other) {
    co_return answered(with_allow(error_page(*state.templates, 405), kPageMethods), request->path, keep_alive);
  }
  if (method == Method::post && !is_form_content_type(content_type) &&
      !(content_type.empty() && message.body().empty())) {
    co_return answered(error_page(*state.templates, 415), request->path, keep_alive);
  }
  // HEAD is answered as GET, without the body: pages never see it.
  if (head) request->method = Method::get;
  Response response = co_await page_response(state, *request);
  co_return answered(std::move(response), request->path, keep_alive);
}

awaitable<Response> WebConnection::page_response(const WebState& state, const Request& request) {
  if (request.path.starts_with(kStaticPrefix)) {
    if (request.method != Method::get) co_return with_allow(error_page(*state.templates, 405), kReadOnlyMethods);
    co_return static_file(*state.templates, std::string_view(request.path).substr(kStaticPrefix.size()));
  }
  if (request.path == "/") {
    if (request.method != Method::get) co_return with_allow(error_page(*state.templates, 405), kReadOnlyMethods);
    co_return index_page(*state.templates, *shared_->page.config(), shared_->routes);
  }
  const Handler* handler = shared_->routes.find(request.path);
  if (handler == nullptr) co_return error_page(*state.templates, 404);
  try {
    auto pending = (*handler)(shared_->page, request);
    Response response = co_await std::move(pending);
    co_return response;
  } catch (const std::exception& error) {
    log()->error("conn={} {} failed: {}", id_, request.path, error.what());
  } catch (...) {
    log()->error("conn={} {} failed: an exception that is not a std::exception", id_, request.path);
  }
  co_return error_page(*state.templates, 500);
}

HttpResponse WebConnection::finish(const WebState& state, Response response, unsigned version, bool keep_alive,
                                   bool head) {
  auto answer = to_http(std::move(response), version, keep_alive, head);
  if (!answer) {
    log()->error("conn={} {}", id_, answer.error().message);
    answer = to_http(error_page(*state.templates, 500), version, keep_alive, head);
  }
  return std::move(*answer);
}

}  // namespace dirproxy::web
