#include "frontends/ldap/ldap_server.hpp"

#include <sys/socket.h>

#include "core/logging.hpp"
#include "directories/ldap/ldap_dn.hpp"

namespace dirproxy::ldap {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("ldap");
  return logger;
}

std::string where(const std::string& host, std::uint16_t port) {
  return (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" + std::to_string(port);
}

awaitable<void> refuse(tcp::socket socket) {
  const std::string notice = encode_notice_of_disconnection(ResultCode::busy, "too many connections; try again later");
  boost::system::error_code ignored;
  co_await asio::async_write(socket, asio::buffer(notice), asio::redirect_error(use_awaitable, ignored));
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

Result<TlsContextPtr> load_tls(const config::LdapServer& settings) {
  if (!settings.tls) return TlsContextPtr();
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(settings.tls->certificate_file, ec);
  if (ec) {
    return fail(ErrorCode::internal_error,
                "ldap_server.tls.certificate_file: cannot use " + settings.tls->certificate_file + ": " + ec.message());
  }
  context->use_private_key_file(settings.tls->key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return fail(ErrorCode::internal_error,
                "ldap_server.tls.key_file: cannot use " + settings.tls->key_file + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return fail(ErrorCode::internal_error, "ldap_server.tls: the key in " + settings.tls->key_file +
                                               " does not belong to the certificate in " +
                                               settings.tls->certificate_file);
  }
  return context;
}

LdapServer::LdapServer(asio::io_context& io, IoThreads& connection_threads, Service& service,
                       std::function<RuntimePtr()> runtime, metrics::Registry* metrics)
    : io_(io), connection_threads_(connection_threads), runtime_(std::move(runtime)) {
  // Connections may outlive the server (their io thread ends later): they
  // reach the certificate through an object of their own, not the server.
  shared_ = std::make_shared<ConnectionShared>(
      ConnectionShared{service, runtime_, [holder = state_] { return holder->get(); }});
  if (metrics == nullptr) return;
  refused_ = &metrics
                  ->counter("dirproxy_connections_refused_total",
                            "Connections refused for want of a place (server.max_connections, or only the places kept "
                            "for admins left), answered rate_limited, by front end.",
                            {"frontend"})
                  .with({"ldap"});
  auto& open = metrics->gauge("dirproxy_connections_open", "Client connections open now, by front end.", {"frontend"})
                   .with({"ldap"});
  count_open_ = metrics->on_scrape([this, &open] { open.set(static_cast<double>(connection_count())); });
}

LdapServer::~LdapServer() = default;

Result<TreeSettings> tree_settings(const config::LdapServer& settings,
                                   const std::vector<config::Application>& applications) {
  TreeSettings tree;
  tree.base_dn = settings.base_dn;
  // Each DN belongs to one tree: no base may be, be under or be above
  // another (compared as DNs: case and spacing do not matter).
  const auto overlap = [](std::string_view a, std::string_view b) { return dn_is_under(a, b) || dn_is_under(b, a); };
  for (const auto& application : applications) {
    if (!application.ldap || application.ldap->base_dn.empty()) continue;
    const std::string& base = application.ldap->base_dn;
    const std::string what = "applications: " + application.name + "'s ldap.base_dn '" + base + "'";
    if (overlap(base, settings.base_dn)) {
      return fail(ErrorCode::bad_request, what + " is, is under or is above ldap_server.base_dn '" +
                                              settings.base_dn + "'; give it a base of its own");
    }
    for (const auto& other : tree.application_trees) {
      if (overlap(base, other.base_dn)) {
        return fail(ErrorCode::bad_request, what + " is, is under or is above " + other.application +
                                                "'s ldap.base_dn '" + other.base_dn + "'; give each a base of its own");
      }
    }
    tree.application_trees.push_back({application.name, base});
  }
  tree.home_directory = settings.posix.home_directory;
  tree.login_shell = settings.posix.login_shell;
  tree.start_tls = settings.tls.has_value();
  tree.vendor_version = DIRPROXY_VERSION;
  return tree;
}

Result<void> LdapServer::use(const config::LdapServer& settings,
                             const std::vector<config::Application>& applications) {
  auto tree = tree_settings(settings, applications);
  RETURN_IF_ERROR(tree);
  auto context = load_tls(settings);
  RETURN_IF_ERROR(context);
  state_->set(std::make_shared<const FrontEndState>(FrontEndState{settings, std::move(*tree), *context}));
  return {};
}

Result<void> LdapServer::listen(const config::LdapServer& settings,
                                const std::vector<config::Application>& applications) {
  RETURN_IF_ERROR(use(settings, applications));
  for (const auto& uri : settings.listen) {
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(uri.host, std::to_string(uri.port),
                                            tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec)
      return fail(ErrorCode::internal_error, "ldap_server.listen: cannot resolve " + uri.uri + ": " + ec.message());
    for (const auto& entry : endpoints) {
      auto listener =
          std::make_unique<Listener>(Listener{tcp::acceptor(io_), (uri.scheme == config::LdapListenScheme::ldaps)});
      auto& acceptor = listener->acceptor;
      const tcp::endpoint endpoint = entry.endpoint();
      acceptor.open(endpoint.protocol(), ec);
      if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      // [::] beside 0.0.0.0 must not take the IPv4 port too.
      if (!ec && endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
      if (!ec) acceptor.bind(endpoint, ec);
      if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        return fail(ErrorCode::internal_error, "ldap_server.listen: cannot listen on " + uri.uri + " (" +
                                                   where(endpoint.address().to_string(), endpoint.port()) +
                                                   "): " + ec.message());
      }
      log()->info("serving LDAP on {}://{}", (uri.scheme == config::LdapListenScheme::ldaps) ? "ldaps" : "ldap",
                  where(endpoint.address().to_string(), acceptor.local_endpoint().port()));
      listeners_.push_back(std::move(listener));
    }
  }
  return {};
}

Result<void> LdapServer::adopt(int listening_fd, bool ldaps, const config::LdapServer& settings,
                               const std::vector<config::Application>& applications) {
  if (listeners_.empty()) RETURN_IF_ERROR(use(settings, applications));
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      (address.ss_family != AF_INET && address.ss_family != AF_INET6)) {
    return fail(ErrorCode::internal_error, "the LDAP socket passed by systemd is not a TCP socket");
  }
  auto listener = std::make_unique<Listener>(Listener{tcp::acceptor(io_), ldaps});
  boost::system::error_code ec;
  listener->acceptor.assign(address.ss_family == AF_INET ? tcp::v4() : tcp::v6(), listening_fd, ec);
  if (ec) return fail(ErrorCode::internal_error, "cannot use the LDAP socket passed by systemd: " + ec.message());
  if (ldaps && !settings.tls) {
    return fail(ErrorCode::internal_error, "systemd passed an ldaps socket, but ldap_server.tls is not set");
  }
  const auto local = listener->acceptor.local_endpoint(ec);
  log()->info("serving LDAP on the socket passed by systemd ({}://{})", ldaps ? "ldaps" : "ldap",
              ec ? std::string("?") : where(local.address().to_string(), local.port()));
  listeners_.push_back(std::move(listener));
  return {};
}

Result<void> LdapServer::reload(const config::LdapServer& settings,
                                const std::vector<config::Application>& applications) {
  return use(settings, applications);
}

void LdapServer::start() {
  accepting_ = true;
  for (auto& listener : listeners_) asio::co_spawn(io_, accept_loop(*listener), asio::detached);
}

awaitable<void> LdapServer::accept_loop(Listener& listener) {
  while (accepting_) {
    boost::system::error_code ec;
    asio::io_context& connection_context = connection_threads_.next();
    tcp::socket socket =
        co_await listener.acceptor.async_accept(connection_context, asio::redirect_error(use_awaitable, ec));
    if (!accepting_) break;
    if (ec) {
      log()->warn("accept failed: {}", ec.message());
      co_await pause_after_failed_accept(io_, ec);
      continue;
    }
    serve(std::move(socket), listener.ldaps);
  }
}

void LdapServer::serve(tcp::socket socket, bool ldaps) {
  const std::size_t limit = state_->get()->settings.limits.max_connections;
  const std::uint64_t id = connections_.new_id();
  if (!connections_.take_place(id, limit)) {
    if (refused_ != nullptr) refused_->increment();
    auto executor = socket.get_executor();
    asio::co_spawn(executor, refuse(std::move(socket)), asio::detached);
    return;
  }
  auto executor = socket.get_executor();
  auto connection = std::make_shared<Connection>(std::move(socket), ldaps, id, shared_);
  connections_.hold(id, connection);
  // Started on the connection's own thread, like everything it does.
  asio::post(executor, [this, connection, id] {
    connection->start([this, id] { connections_.release(id); });
    if (!accepting_) connection->stop();
  });
}

awaitable<void> LdapServer::shutdown(std::chrono::milliseconds grace) {
  accepting_ = false;
  boost::system::error_code ignored;
  for (auto& listener : listeners_) listener->acceptor.close(ignored);
  connections_.stop_all();
  const std::size_t left =
      co_await wait_for_connections_to_close(io_, [this] { return connection_count(); }, grace);
  if (left > 0) {
    log()->warn("{} LDAP connection(s) still open after {} ms; closing them", left, grace.count());
  }
}

std::size_t LdapServer::connection_count() const { return connections_.size(); }

std::vector<std::uint16_t> LdapServer::ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& listener : listeners_) {
    boost::system::error_code ec;
    const auto endpoint = listener->acceptor.local_endpoint(ec);
    ports.push_back(ec ? 0 : endpoint.port());
  }
  return ports;
}

}  // namespace dirproxy::ldap
