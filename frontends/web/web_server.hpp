// The web listener (web.listen, docs/web.md): HTTP/1.1 on one TCP address,
// http:// or https:// (OpenSSL, web.tls), serving the pages of a Routes
// table (site_routes(): the public pages and the admin console), the home
// page and /static/ (WebConnection). Connections
// are accepted on the daemon's event loop and served on the io threads, up
// to web.limits.max_connections; the next ones get 503 and are closed.
//
// A reload makes new templates, certificate, trusted proxies and limits the
// ones in force (new handshakes use the new certificate; a page reads the
// configuration, web.admin_groups included, at each request); the listen
// address needs a restart.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "core/connection_registry.hpp"
#include "core/io_threads.hpp"
#include "core/result.hpp"
#include "core/swapped_value.hpp"
#include "frontends/web/web_connection.hpp"
#include "service/runtime.hpp"

namespace dirproxy {
class Service;
}

namespace dirproxy::web {

// The server side of TLS for `web.tls` (null when unset), or a message
// naming the file that could not be used.
Result<TlsContextPtr> load_tls(const config::Web& web);

// Everything of `config.web` the listener builds before serving: the
// templates (PageTemplates::build), the certificate, the trusted proxies.
// Fails with a message saying what is wrong; the daemon refuses to start
// or reload then, and --check-config reports it.
Result<WebStatePtr> web_state(const config::Config& config);

// The pages dirproxyd serves: the public pages and the admin console.
Routes site_routes();

class WebServer final {
 public:
  // Serves `routes` (and the home page and /static/ itself); pages call
  // `service`, and `runtime` gives the configuration in force.
  WebServer(asio::io_context& io, IoThreads& connection_threads, Service& service,
            std::function<RuntimePtr()> runtime, Routes routes);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Builds the state of `config.web` (web_state) and listens on
  // web.listen; fails with a message naming the file or address.
  Result<void> listen(const config::Config& config);
  // Makes `config.web`'s state the one in force; on failure it stays as
  // it was and the message says why.
  Result<void> reload(const config::Config& config);

  void start();
  // Stops accepting, closes the connections that wait for a request, lets
  // the others finish their answer, and waits up to `grace` for them.
  awaitable<void> shutdown(std::chrono::milliseconds grace);

  std::size_t connection_count() const;
  // The port listened on (tests listen on port 0).
  std::uint16_t port() const;

 private:
  awaitable<void> accept_loop();
  void serve(tcp::socket socket);

  asio::io_context& io_;
  IoThreads& connection_threads_;
  // The state in force, replaced by reload().
  std::shared_ptr<SwappedValue<WebState>> state_ = std::make_shared<SwappedValue<WebState>>();
  std::shared_ptr<const WebShared> shared_;
  tcp::acceptor acceptor_;
  std::atomic<bool> accepting_{false};
  ConnectionRegistry<WebConnection> connections_;
};

}  // namespace dirproxy::web
