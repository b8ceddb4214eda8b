// The LDAP listener (ldap_server, docs/ldap-server.md): every `listen` URI,
// ldap:// (StartTLS offered when TLS is configured) and ldaps://, IPv4 and
// IPv6, or sockets passed by systemd. Connections are accepted on the
// daemon's event loop and served on the io threads, up to
// ldap_server.limits.max_connections; the next ones get a Notice of
// Disconnection (busy) and are closed. A reload loads the certificate again
// (new handshakes use it; connections already secured keep theirs) and the
// limits, read at each use; the listen addresses need a restart.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "core/connection_registry.hpp"
#include "core/io_threads.hpp"
#include "core/metrics_registry.hpp"
#include "core/swapped_value.hpp"
#include "frontends/ldap/ldap_connection.hpp"
#include "service/service.hpp"

namespace dirproxy::ldap {

// The server side of TLS for `settings.tls` (null when unset), or a message
// naming the file that could not be used.
Result<TlsContextPtr> load_tls(const config::LdapServer& settings);

// The tree's settings from the front end's and the applications' (their
// ldap.base_dn trees). Fails, naming both, when an application's base_dn is,
// is under or is above ldap_server.base_dn or another application's: each
// DN must belong to one tree. The daemon refuses to start or reload then.
Result<TreeSettings> tree_settings(const config::LdapServer& settings,
                                   const std::vector<config::Application>& applications);

class LdapServer final {
 public:
  LdapServer(asio::io_context& io, IoThreads& connection_threads, Service& service,
             std::function<RuntimePtr()> runtime, metrics::Registry* metrics = nullptr);
  ~LdapServer();
  LdapServer(const LdapServer&) = delete;
  LdapServer& operator=(const LdapServer&) = delete;

  // Loads the certificate (when `tls` is set) and listens on every URI of
  // `settings.listen`; fails with a message naming the URI or file.
  // `applications` give the trees of their own (tree_settings).
  Result<void> listen(const config::LdapServer& settings, const std::vector<config::Application>& applications);
  // Takes over a listening TCP socket passed by systemd, serving ldaps://
  // on it when `ldaps` (FileDescriptorName=ldaps), else ldap://.
  Result<void> adopt(int listening_fd, bool ldaps, const config::LdapServer& settings,
                     const std::vector<config::Application>& applications);
  // Makes `settings` the ones in force and loads the certificate again; on
  // failure all stay as they were and the message says why.
  Result<void> reload(const config::LdapServer& settings, const std::vector<config::Application>& applications);

  void start();
  // Stops accepting, tells every connection the server is going away, and
  // waits up to `grace` for them to close.
  awaitable<void> shutdown(std::chrono::milliseconds grace);

  std::size_t connection_count() const;
  // The ports listened on, in `listen` order (tests listen on port 0).
  std::vector<std::uint16_t> ports() const;

 private:
  struct Listener {
    tcp::acceptor acceptor;
    bool ldaps = false;
  };

  // Makes `settings` (and its certificate) the ones in force.
  Result<void> use(const config::LdapServer& settings, const std::vector<config::Application>& applications);
  awaitable<void> accept_loop(Listener& listener);
  void serve(tcp::socket socket, bool ldaps);

  asio::io_context& io_;
  IoThreads& connection_threads_;
  std::function<RuntimePtr()> runtime_;
  std::shared_ptr<ConnectionShared> shared_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::atomic<bool> accepting_{false};
  // The settings and certificate in force, replaced by reload().
  std::shared_ptr<SwappedValue<FrontEndState>> state_ = std::make_shared<SwappedValue<FrontEndState>>();
  ConnectionRegistry<Connection> connections_;
  metrics::Counter* refused_ = nullptr;
  metrics::Registry::Hook count_open_;
};

}  // namespace dirproxy::ldap
