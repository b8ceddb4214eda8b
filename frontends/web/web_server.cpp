#include "frontends/web/web_server.hpp"

#include "core/logging.hpp"
#include "frontends/web/admin_console.hpp"
#include "frontends/web/public_pages.hpp"

namespace dirproxy::web {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("web");
  return logger;
}

std::string where(const config::WebListen& listen, std::uint16_t port) {
  const std::string host = listen.address.find(':') == std::string::npos ? listen.address : "[" + listen.address + "]";
  return host + ":" + std::to_string(port);
}

}  // namespace

Result<TlsContextPtr> load_tls(const config::Web& web) {
  if (!web.tls) return TlsContextPtr();
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(web.tls->certificate_file, ec);
  if (ec) {
    return fail(ErrorCode::internal_error,
                "web.tls.certificate_file: cannot use " + web.tls->certificate_file + ": " + ec.message());
  }
  context->use_private_key_file(web.tls->key_file, asio::ssl::context::pem, ec);
  if (ec) return fail(ErrorCode::internal_error, "web.tls.key_file: cannot use " + web.tls->key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return fail(ErrorCode::internal_error, "web.tls: the key in " + web.tls->key_file +
                                               " does not belong to the certificate in " + web.tls->certificate_file);
  }
  return context;
}

Result<WebStatePtr> web_state(const config::Config& config) {
  if (!config.web) return fail(ErrorCode::internal_error, "web is not configured");
  auto templates = PageTemplates::build(config);
  RETURN_IF_ERROR(templates);
  auto tls = load_tls(*config.web);
  RETURN_IF_ERROR(tls);
  auto proxies = TrustedProxies::parse(config.web->trusted_proxies);
  RETURN_IF_ERROR(proxies);
  return std::make_shared<const WebState>(
      WebState{std::move(*templates), std::move(*tls), std::move(*proxies), config.web->limits});
}

Routes site_routes() {
  Routes routes;
  add_public_pages(routes);
  add_admin_console(routes);
  return routes;
}

WebServer::WebServer(asio::io_context& io, IoThreads& connection_threads, Service& service,
                     std::function<RuntimePtr()> runtime, Routes routes)
    : io_(io), connection_threads_(connection_threads), acceptor_(io) {
  // Connections may outlive the server: they reach the state through an
  // object of their own.
  auto templates = [holder = state_] { return holder->get()->templates; };
  auto config = [runtime] { return runtime()->config; };
  shared_ = std::make_shared<const WebShared>(
      WebShared{std::move(routes), PageContext(service, templates, config), [holder = state_] { return holder->get(); }});
}

WebServer::~WebServer() = default;

Result<void> WebServer::listen(const config::Config& config) {
  RETURN_IF_ERROR(reload(config));
  const config::WebListen& listen = config.web->listen;
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(listen.address, ec), listen.port);
  if (!ec) acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && endpoint.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(ErrorCode::internal_error, "web.listen: cannot listen on " + listen.url + ": " + ec.message());
  }
  log()->info("serving the web pages on {}://{}", listen.scheme == config::WebScheme::https ? "https" : "http",
              where(listen, port()));
  return {};
}

Result<void> WebServer::reload(const config::Config& config) {
  auto state = web_state(config);
  RETURN_IF_ERROR(state);
  state_->set(std::move(*state));
  return {};
}

void WebServer::start() {
  accepting_ = true;
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

awaitable<void> WebServer::accept_loop() {
  while (accepting_) {
    boost::system::error_code ec;
    asio::io_context& connection_context = connection_threads_.next();
    tcp::socket socket = co_await acceptor_.async_accept(connection_context, asio::redirect_error(use_awaitable, ec));
    if (!accepting_) break;
    if (ec) {
      log()->warn("accept failed: {}", ec.message());
      co_await pause_after_failed_accept(io_, ec);
      continue;
    }
    serve(std::move(socket));
  }
}

void WebServer::serve(tcp::socket socket) {
  const std::uint64_t id = connections_.new_id();
  auto executor = socket.get_executor();
  if (!connections_.take_place(id, state_->get()->limits.max_connections)) {
    auto refusal = std::make_shared<WebConnection>(std::move(socket), id, shared_, /*refuse=*/true);
    asio::post(executor, [refusal] { refusal->start({}); });
    return;
  }
  auto connection = std::make_shared<WebConnection>(std::move(socket), id, shared_);
  connections_.hold(id, connection);
  // Started on the connection's own thread, like everything it does.
  asio::post(executor, [this, connection, id] {
    connection->start([this, id] { connections_.release(id); });
    if (!accepting_) connection->stop();
  });
}

awaitable<void> WebServer::shutdown(std::chrono::milliseconds grace) {
  accepting_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  connections_.stop_all();
  const std::size_t left =
      co_await wait_for_connections_to_close(io_, [this] { return connection_count(); }, grace);
  if (left > 0) log()->warn("{} web connection(s) still open after {} ms; closing them", left, grace.count());
}

std::size_t WebServer::connection_count() const { return connections_.size(); }

std::uint16_t WebServer::port() const {
  boost::system::error_code ec;
  const auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

}  // namespace dirproxy::web
