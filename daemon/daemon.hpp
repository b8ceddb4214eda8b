// dirproxyd's life cycle: load the configuration, open the state database,
// build the directory chain, listen, serve until SIGTERM/SIGINT, reload on
// SIGHUP or the `reload` operation, and shut down cleanly (stop accepting,
// finish in-flight requests, close the database, remove the socket).
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "core/io_threads.hpp"
#include "core/metrics_registry.hpp"
#include "core/worker_pool.hpp"
#include "daemon/mail_sender.hpp"
#include "daemon/systemd_notify.hpp"
#include "service/runtime.hpp"

namespace dirproxy {
namespace ldap {
class LdapServer;
}  // namespace ldap
namespace web {
class WebServer;
}  // namespace web


class Daemon final {
 public:
  explicit Daemon(std::filesystem::path config_path);

  // Runs until a stop signal; returns the process exit code (0 on a clean
  // stop, 1 when start-up failed).
  int run();

 private:
  // Around reload_configuration(): RELOADING=1 before, READY=1 after.
  awaitable<Result<void>> reload();
  // The `reload` operation, from a connection's thread: reload() runs on the
  // daemon's event loop, like a SIGHUP's, so two reloads never overlap.
  awaitable<Result<void>> reload_from_connection();
  awaitable<Result<void>> reload_configuration();
  awaitable<void> handle_signals(asio::signal_set& signals);
  // One line on every directory's state ("internal up, corp down: ..."),
  // checked on the worker pool; for STATUS= and the log.
  awaitable<std::string> directory_health();
  // WATCHDOG=1 from the daemon's event loop once every connection thread
  // has answered, so that any wedged event loop stops it.
  awaitable<void> feed_watchdog(std::chrono::microseconds interval, IoThreads& connection_threads);
  // Every 30 s on the worker pool: settles the account creations left
  // unfinished by an earlier run that could not be decided at start, those
  // of another node sharing the database that died (its nodes row went
  // stale), and those any run handed over after a failure it could not undo.
  awaitable<void> settle_account_creations();
  // Every kNodeHeartbeatInterval on the worker pool: refreshes this run's row
  // in nodes (storage/node_registry.hpp), which tells the other nodes that
  // what it recorded is still its own.
  awaitable<void> keep_node_alive();

  std::filesystem::path config_path_;
  // Read by every connection thread, replaced by a reload on the daemon's
  // event loop.
  std::atomic<RuntimePtr> runtime_;
  std::shared_ptr<StateDatabase> database_;
  // Every metric of the process, served by the metrics listener; it outlives
  // everything that counts into it.
  std::shared_ptr<metrics::Registry> metrics_ = std::make_shared<metrics::Registry>();
  RateLimiterPtr rate_limiter_ = std::make_shared<RateLimiter>(metrics_.get());
  SystemdNotifier notifier_;
  // Delivers the outbox on its own thread; started once the daemon listens.
  MailSender mail_sender_;
  WorkerPool* pool_ = nullptr;      // set while run() runs
  ldap::LdapServer* ldap_server_ = nullptr;  // while run() runs, when ldap_server is configured
  web::WebServer* web_server_ = nullptr;     // while run() runs, when web is configured
  asio::io_context* io_ = nullptr;  // the daemon's event loop, while run() runs
  std::function<void()> request_stop_;
  bool stopping_ = false;
};

// Validates a configuration file for --check-config: prints every error and
// warning to stderr; returns 0 when it is valid, 1 when not.
int check_config(const std::filesystem::path& config_path);

}  // namespace dirproxy
