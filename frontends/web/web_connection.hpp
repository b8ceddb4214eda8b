// One HTTP connection of the web listener: HTTP/1.1 with keep-alive, over
// TCP or TLS, served on one io thread by one coroutine. It reads a request
// within web.limits.read_timeout (head and body, up to max_header_bytes and
// max_body_bytes: 431 and 413 beyond, then the connection closes), runs the
// page's handler on the same thread (the service sends blocking work to the
// worker pool), writes the answer within write_timeout, then waits up to
// idle_timeout for the next request. Every wait is asynchronous, so a slow
// client holds a socket and a coroutine frame, never a thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "frontends/web/page_templates.hpp"
#include "frontends/web/trusted_proxies.hpp"
#include "frontends/web/web_page.hpp"
#include "frontends/web/web_response.hpp"

namespace dirproxy::web {

using tcp = asio::ip::tcp;
using TlsContextPtr = std::shared_ptr<asio::ssl::context>;

// The settings in force, replaced whole by a reload; a connection reads
// them again at each request (a handshake uses the certificate of its time).
struct WebState {
  std::shared_ptr<const PageTemplates> templates;
  TlsContextPtr tls;  // null: http://
  TrustedProxies trusted_proxies;
  config::WebLimits limits;
};
using WebStatePtr = std::shared_ptr<const WebState>;

// What every connection shares with the server. Connections may outlive
// the server (their io thread stops later), so they hold this, not it.
struct WebShared {
  Routes routes;
  PageContext page;
  std::function<WebStatePtr()> state;
};

class WebConnection final : public std::enable_shared_from_this<WebConnection> {
 public:
  // `refuse`: the connection answers 503 (web.limits.max_connections are
  // open) and closes, without reading a request.
  WebConnection(tcp::socket socket, std::uint64_t id, std::shared_ptr<const WebShared> shared, bool refuse = false);

  // Serves the connection on its socket's thread; `on_close` runs when it
  // has closed. Call on that thread.
  void start(std::function<void()> on_close);

  // Asks the connection to close: at once when it waits for a request, else
  // after the answer it is working on. Any thread.
  void stop();

 private:
  // `self` keeps the connection alive while it runs.
  awaitable<void> run(std::shared_ptr<WebConnection> self, std::function<void()> on_close);
  // The TLS handshake when the listener is https://, then the requests (or
  // the 503 of a refused connection).
  awaitable<void> converse();
  template <typename Stream>
  awaitable<void> serve(Stream& stream);
  template <typename Stream>
  awaitable<void> answer_busy(Stream& stream);
  // The answer to one request that was read whole.
  awaitable<HttpResponse> answer(const WebState& state,
                                 const boost::beast::http::request<boost::beast::http::string_body>& message);
  awaitable<Response> page_response(const WebState& state, const Request& request);
  // `response` as HTTP, or the 500 page when the page broke a rule.
  HttpResponse finish(const WebState& state, Response response, unsigned version, bool keep_alive, bool head);

  boost::beast::tcp_stream tcp_;
  const std::uint64_t id_;
  const std::shared_ptr<const WebShared> shared_;
  const bool refuse_;
  // On the connection's thread only: whether it is waiting for a request
  // (stop() may then cancel the read), and whether stop() was called.
  bool waiting_ = false;
  bool stopping_ = false;
};

}  // namespace dirproxy::web
