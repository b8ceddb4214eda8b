#include "daemon/daemon.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <thread>

#include "config/config_loader.hpp"
#include "core/io_threads.hpp"
#include "core/logging.hpp"
#include "core/worker_pool.hpp"
#include "daemon/log_setup.hpp"
#include "daemon/state_opening.hpp"
#include "frontends/ldap/ldap_server.hpp"
#include "frontends/metrics/metrics_server.hpp"
#include "frontends/socket/request_dispatcher.hpp"
#include "frontends/socket/server.hpp"
#include "frontends/web/web_server.hpp"
#include "service/account_creation.hpp"
#include "service/runtime_metrics.hpp"
#include "storage/node_registry.hpp"

namespace dirproxy {
namespace {

constexpr std::chrono::seconds kShutdownGrace{10};
// How often account creations that could not be settled are tried again.
constexpr std::chrono::seconds kCreationRetryInterval{30};

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("daemon");
  return logger;
}

// server.workers: 0 means one thread per core for CPU work (Argon2id, whose
// concurrency the hasher bounds to the cores anyway) plus one per pooled LDAP
// connection, since those threads mostly wait on the network: a hung LDAP
// server must not occupy every thread the internal directory needs. On
// PostgreSQL the internal directory's requests wait on the network too: one
// more thread per pooled connection (state.postgresql.pool_size), so that
// the pool is used (docs/benchmarks.md measured two workers idling it).
unsigned worker_count(const config::Config& config) {
  if (config.server.workers != 0) return config.server.workers;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (const auto& directory : config.directories) {
    if (directory.type == config::DirectoryType::ldap) threads += directory.ldap.pool_size;
  }
  if (config.state.backend == config::StateBackend::postgresql) {
    threads += static_cast<unsigned>(config.state.postgresql.pool_size);
  }
  return threads;
}

// Whether a TCP socket passed by systemd serves ldaps://: its name says so
// (FileDescriptorName=ldaps), or its port is that of an ldaps:// URI of
// ldap_server.listen and of no ldap:// one.
bool ldaps_socket(const ActivationSockets::Tcp& passed, const config::LdapServer& settings) {
  if (passed.name == "ldaps") return true;
  if (passed.name == "ldap") return false;
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(passed.fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
  const std::uint16_t port = ntohs(address.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&address)->sin_port
                                                                 : reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  bool ldaps = false;
  for (const auto& uri : settings.listen) {
    if (uri.port != port) continue;
    if (uri.scheme == config::LdapListenScheme::ldap) return false;
    ldaps = true;
  }
  return ldaps;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string joined;
  for (const auto& line : lines) joined += (joined.empty() ? "" : "; ") + line;
  return joined;
}

// Settings that the running process cannot change without a restart.
void warn_about_restart_only_changes(const config::Config& running, const config::Config& loaded) {
  auto warn = [](const char* key) { log()->warn("reload: {} changed; it takes effect at the next restart", key); };
  if (running.server.socket != loaded.server.socket) warn("server.socket");
  if (running.server.socket_mode != loaded.server.socket_mode) warn("server.socket_mode");
  if (running.server.socket_group != loaded.server.socket_group) warn("server.socket_group");
  if (running.server.workers != loaded.server.workers) warn("server.workers");
  if (running.state_dir != loaded.state_dir) warn("state_dir");
  if (running.state.backend != loaded.state.backend) warn("state.backend");
  if (running.state.postgresql != loaded.state.postgresql) warn("state.postgresql");
  const auto& ldap_was = running.ldap_server;
  const auto& ldap_now = loaded.ldap_server;
  if (ldap_was.has_value() != ldap_now.has_value()) {
    warn("ldap_server");
  } else if (ldap_was) {
    std::vector<std::string> uris_was;
    std::vector<std::string> uris_now;
    for (const auto& uri : ldap_was->listen) uris_was.push_back(uri.uri);
    for (const auto& uri : ldap_now->listen) uris_now.push_back(uri.uri);
    if (uris_was != uris_now) warn("ldap_server.listen");
  }
  if (running.web.has_value() != loaded.web.has_value()) {
    warn("web");
  } else if (running.web && running.web->listen.url != loaded.web->listen.url) {
    warn("web.listen");
  }
  const auto& was = running.metrics.listen;
  const auto& now = loaded.metrics.listen;
  if (was.has_value() != now.has_value() || (was && (was->address != now->address || was->port != now->port))) {
    warn("metrics.listen");
  }
}

// Every client connection holds a descriptor, and the soft limit a service
// starts with (1024 under systemd) is far below ldap_server.limits.
// max_connections and server.max_connections: raise it to the hard limit,
// which an administrator sets (LimitNOFILE=) and a process may use freely.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur >= limit.rlim_max) {
    log()->debug("open file limit: {}", static_cast<unsigned long long>(limit.rlim_cur));
    return;
  }
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    log()->warn("cannot raise the open file limit from {}: {}", static_cast<unsigned long long>(before),
                std::strerror(errno));
    return;
  }
  log()->info("raised the open file limit from {} to {}", static_cast<unsigned long long>(before),
              static_cast<unsigned long long>(limit.rlim_max));
}

}  // namespace

int check_config(const std::filesystem::path& config_path) {
  auto loaded = config::load_config_file(config_path);
  for (const auto& warning : loaded.warnings) std::cerr << "warning: " << warning << "\n";
  for (const auto& error : loaded.errors) std::cerr << error << "\n";
  if (!loaded.ok()) {
    std::cerr << config_path.string() << ": " << loaded.errors.size() << " error(s)\n";
    return 1;
  }
  // The applications' LDAP trees are checked against each other where the
  // LDAP front end builds them, as at start-up and reload.
  if (loaded.config->ldap_server) {
    if (auto tree = ldap::tree_settings(*loaded.config->ldap_server, loaded.config->applications); !tree) {
      std::cerr << tree.error().message << "\n" << config_path.string() << ": 1 error(s)\n";
      return 1;
    }
  }
  // The web templates, certificate and proxies, checked where the web front
  // end builds them, as at start-up and reload.
  if (loaded.config->web) {
    if (auto web = web::web_state(*loaded.config); !web) {
      std::cerr << web.error().message << "\n" << config_path.string() << ": 1 error(s)\n";
      return 1;
    }
  }
  std::cerr << config_path.string() << ": OK\n";
  return 0;
}

Daemon::Daemon(std::filesystem::path config_path) : config_path_(std::move(config_path)) {}

int Daemon::run() {
  notifier_ = SystemdNotifier::from_environment();
  std::string activation_error;
  const ActivationSockets inherited = activation_sockets(&activation_error);
  auto loaded = config::load_config_file(config_path_);
  for (const auto& error : loaded.errors) std::cerr << error << "\n";
  if (!loaded.ok()) {
    std::cerr << "dirproxyd: " << config_path_.string() << " is not valid; not starting\n";
    return 1;
  }
  auto config = std::make_shared<const config::Config>(std::move(*loaded.config));
  logging::configure(config->log);
  for (const auto& warning : loaded.warnings) log()->warn("{}", warning);
  raise_open_file_limit();

  const unsigned workers = worker_count(*config);
  auto database = open_state_database(*config, workers);
  if (!database) {
    log()->critical("cannot open the state database: {}", database.error().message);
    return 1;
  }
  database_ = std::move(*database);
  auto runtime = build_runtime(config, database_, rate_limiter_, nullptr, metrics_);
  if (!runtime) {
    log()->critical("{}", runtime.error().message);
    return 1;
  }
  // This run's row in nodes first: from now on what it records is its own,
  // and no other node's recovery takes it.
  if (auto alive = record_node_heartbeat(database_->acquire(), this_process(), (*runtime)->clock->unix_seconds());
      !alive) {
    log()->error("cannot record this node in the state database: {}", alive.error().message);
  }
  // Before the first request: account creations that an earlier run left
  // unfinished (it stopped or died, and its row is gone or stale), or a
  // dead node sharing the database, are completed or undone; those that
  // cannot be decided yet, and those of a node that died less than
  // kNodeStaleAfter ago, are settled while the daemon runs.
  (void)recover_account_creations(**runtime);
  runtime_.store(std::move(*runtime));

  // Writes to a client that went away must fail, not kill the daemon.
  std::signal(SIGPIPE, SIG_IGN);

  // The daemon's own event loop: signals, accept, reload, the watchdog.
  // Connections are served on the io threads, which are made first so that
  // they outlive it: an accept still pending when the loop stops holds the
  // new socket, which belongs to a connection thread's context, and that
  // socket is destroyed with the loop (found by ASan: a heap-use-after-free
  // at shutdown when the io threads went first).
  IoThreads connection_threads(IoThreads::default_count());
  asio::io_context io(1);
  io_ = &io;
  WorkerPool pool(workers);
  pool_ = &pool;
  auto current_runtime = [this] { return runtime_.load(); };
  Service service(
      pool, current_runtime, [this] { return reload_from_connection(); }, system_clock(), metrics_.get());
  RequestDispatcher dispatcher(service);
  Server server(io, connection_threads, pool, dispatcher, current_runtime, metrics_.get());
  const auto runtime_gauges = watch_runtime(*metrics_, current_runtime);
  metrics_->gauge("dirproxy_build_info", "Always 1; the version of the running dirproxyd is its label.", {"version"})
      .with({DIRPROXY_VERSION})
      .set(1);
  if (!activation_error.empty()) {
    log()->critical("{}", activation_error);
    return 1;
  }
  if (!inherited.tcp.empty() && !inherited.unix_socket) {
    log()->critical("systemd passed TCP sockets but not the Unix socket of server.socket");
    return 1;
  }
  if (auto listening = inherited.unix_socket ? server.adopt(*inherited.unix_socket) : server.listen(config->server);
      !listening) {
    log()->critical("{}", listening.error().message);
    return 1;
  }
  // The LDAP front end: on the TCP sockets systemd passed, else on
  // ldap_server.listen.
  std::optional<ldap::LdapServer> ldap_server;
  if (!inherited.tcp.empty() && !config->ldap_server) {
    log()->critical("systemd passed TCP sockets for LDAP, but ldap_server is not configured");
    return 1;
  }
  if (config->ldap_server) {
    ldap_server.emplace(io, connection_threads, service, current_runtime, metrics_.get());
    Result<void> listening;
    for (const auto& passed : inherited.tcp) {
      if (listening) listening = ldap_server->adopt(passed.fd, ldaps_socket(passed, *config->ldap_server), *config->ldap_server,
                                                      config->applications);
    }
    if (inherited.tcp.empty()) listening = ldap_server->listen(*config->ldap_server, config->applications);
    if (!listening) {
      log()->critical("{}", listening.error().message);
      return 1;
    }
  }
  ldap_server_ = ldap_server ? &*ldap_server : nullptr;
  std::optional<web::WebServer> web_server;
  if (config->web) {
    web_server.emplace(io, connection_threads, service, current_runtime, web::site_routes());
    if (auto listening = web_server->listen(*config); !listening) {
      log()->critical("{}", listening.error().message);
      return 1;
    }
  }
  web_server_ = web_server ? &*web_server : nullptr;
  std::optional<MetricsServer> metrics_server;
  if (config->metrics.listen) {
    metrics_server.emplace(io, connection_threads, pool, *metrics_);
    if (auto listening = metrics_server->listen(*config->metrics.listen); !listening) {
      log()->critical("{}", listening.error().message);
      return 1;
    }
  }

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  request_stop_ = [&] {
    if (stopping_) return;
    stopping_ = true;
    log()->info("stopping: no new connections; finishing requests in flight");
    notifier_.notify("STOPPING=1\nSTATUS=stopping: finishing requests in flight");
    signals.cancel();
    if (metrics_server) metrics_server->stop();
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          if (ldap_server) co_await ldap_server->shutdown(kShutdownGrace);
          if (web_server) co_await web_server->shutdown(kShutdownGrace);
          co_await server.shutdown(kShutdownGrace);
          io.stop();
        },
        asio::detached);
  };
  asio::co_spawn(io, handle_signals(signals), asio::detached);
  server.start();
  if (ldap_server) ldap_server->start();
  if (web_server) web_server->start();
  if (metrics_server) metrics_server->start();
  // READY=1 once the socket listens and every directory has been checked.
  asio::co_spawn(
      io,
      [this, workers, threads = connection_threads.size()]() -> awaitable<void> {
        const std::string health = co_await directory_health();
        const std::string state = (database_->backend() == StateBackend::sqlite ? "sqlite " : "postgresql ") +
                                  database_->location();
        log()->info("dirproxyd {} ready ({} workers, {} connection threads); state: {}; directories: {}",
                    DIRPROXY_VERSION, workers, threads, state, health);
        notifier_.notify("READY=1\nSTATUS=ready; state: " + state + "; directories: " + health);
      },
      asio::detached);
  asio::co_spawn(io, settle_account_creations(), asio::detached);
  asio::co_spawn(io, keep_node_alive(), asio::detached);
  if (auto interval = notifier_.watchdog_interval()) {
    asio::co_spawn(io, feed_watchdog(*interval, connection_threads), asio::detached);
  }

  // Mail that earlier runs left pending goes out now.
  mail_sender_.start(runtime_.load());

  io.run();

  // The connections' event loops stop where they are; what they still hold
  // is destroyed with them, after the worker pool has finished (its work
  // posts its results to them).
  connection_threads.stop();

  // A delivery in progress is aborted (its row stays pending for the next
  // start), so a hung SMTP server cannot hold up the shutdown.
  mail_sender_.stop();
  // Blocking work still queued finishes before the database closes.
  pool.join();
  pool_ = nullptr;
  // A clean stop: nothing of this run is left in progress, and the next
  // start (or another node) settles at once whatever it handed over.
  if (auto removed = remove_node(database_->acquire(), this_process()); !removed) {
    log()->error("cannot remove this node from the state database: {}", removed.error().message);
  }
  io_ = nullptr;
  ldap_server_ = nullptr;
  web_server_ = nullptr;
  runtime_.store(nullptr);
  database_.reset();
  log()->info("stopped");
  return 0;
}

awaitable<void> Daemon::handle_signals(asio::signal_set& signals) {
  while (!stopping_) {
    boost::system::error_code ec;
    int signal = co_await signals.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    if (signal == SIGHUP) {
      log()->info("SIGHUP: reloading {}", config_path_.string());
      (void)co_await reload();
      continue;
    }
    request_stop_();
  }
}

awaitable<std::string> Daemon::directory_health() {
  RuntimePtr runtime = runtime_.load();
  auto check = [runtime]() {
    std::string health;
    for (const auto& directory : runtime->chain->directories()) {
      DirectoryStatus status = directory->status();
      if (!health.empty()) health += ", ";
      health += directory->name() + (status.up ? " up" : " down");
      if (!status.up && !status.detail.empty()) health += " (" + status.detail + ")";
    }
    return health;
  };
  co_return co_await pool_->run(check);
}

awaitable<void> Daemon::feed_watchdog(std::chrono::microseconds interval, IoThreads& connection_threads) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping_) {
    // Through every connection thread and back first: one whose event loop
    // is wedged holds this up, the pings stop, and systemd restarts the
    // daemon.
    for (std::size_t i = 0; i < connection_threads.size(); ++i) {
      auto connection_loop = connection_threads.at(i).get_executor();
      co_await asio::post(connection_loop, use_awaitable);
    }
    notifier_.notify("WATCHDOG=1");
    timer.expires_after(interval);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
}

awaitable<void> Daemon::settle_account_creations() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping_) {
    timer.expires_after(kCreationRetryInterval);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
    if (stopping_) break;
    RuntimePtr runtime = runtime_.load();
    auto settle = [runtime] { return recover_account_creations(*runtime); };
    (void)co_await pool_->run(settle);
  }
}

awaitable<void> Daemon::keep_node_alive() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping_) {
    timer.expires_after(kNodeHeartbeatInterval);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
    if (stopping_) break;
    RuntimePtr runtime = runtime_.load();
    auto heartbeat = [runtime] {
      auto alive = record_node_heartbeat(runtime->database->acquire(), this_process(), runtime->clock->unix_seconds());
      if (!alive) log()->error("cannot refresh this node's row in the state database: {}", alive.error().message);
      return alive.has_value();
    };
    (void)co_await pool_->run(heartbeat);
  }
}

awaitable<Result<void>> Daemon::reload_from_connection() {
  // Named first: no temporary with a destructor in a co_await expression
  // (worker_pool.hpp).
  auto on_daemon_loop = asio::co_spawn(*io_, reload(), use_awaitable);
  co_return co_await std::move(on_daemon_loop);
}

awaitable<Result<void>> Daemon::reload() {
  notifier_.notify(reloading_state());
  auto outcome = co_await reload_configuration();
  const std::string health = co_await directory_health();
  notifier_.notify(
      "READY=1\nSTATUS=" + std::string(outcome ? "reloaded" : "reload refused, running configuration kept") +
      "; directories: " + health);
  co_return outcome;
}

awaitable<Result<void>> Daemon::reload_configuration() {
  // Reading the file and building directories block: both run on the pool;
  // only the swap happens here, on the io thread.
  auto path = config_path_;
  auto database = database_;
  auto rate_limiter = rate_limiter_;
  auto metrics = metrics_;
  auto running = runtime_.load();
  auto rebuild = [path, database, rate_limiter, metrics, running]() -> Result<RuntimePtr> {
    auto loaded = config::load_config_file(path);
    if (!loaded.ok()) {
      return make_error(ErrorCode::bad_request, "the configuration was not reloaded: " + join_lines(loaded.errors));
    }
    for (const auto& warning : loaded.warnings) log()->warn("{}", warning);
    warn_about_restart_only_changes(*running->config, *loaded.config);
    // A certificate that does not load refuses the whole reload, so the LDAP
    // front end never runs on settings the rest of the daemon does not.
    if (loaded.config->ldap_server) {
      if (auto tls = ldap::load_tls(*loaded.config->ldap_server); !tls) {
        return make_error(ErrorCode::bad_request, "the configuration was not reloaded: " + tls.error().message);
      }
      if (auto tree = ldap::tree_settings(*loaded.config->ldap_server, loaded.config->applications); !tree) {
        return make_error(ErrorCode::bad_request, "the configuration was not reloaded: " + tree.error().message);
      }
    }
    // So do templates or a certificate of the web pages that do not load.
    if (loaded.config->web) {
      if (auto web = web::web_state(*loaded.config); !web) {
        return make_error(ErrorCode::bad_request, "the configuration was not reloaded: " + web.error().message);
      }
    }
    auto config = std::make_shared<const config::Config>(std::move(*loaded.config));
    auto runtime = build_runtime(config, database, rate_limiter, nullptr, metrics);
    if (!runtime) {
      return make_error(ErrorCode::bad_request, "the configuration was not reloaded: " + runtime.error().message);
    }
    return runtime;
  };
  Result<RuntimePtr> built = co_await pool_->run(rebuild);
  if (!built) {
    log()->error("{}", built.error().message);
    co_return std::move(built).error();
  }
  runtime_.store(*built);
  mail_sender_.use(*built);
  if (ldap_server_ != nullptr && (*built)->config->ldap_server) {
    // The new settings and certificate (checked above; it can only fail
    // if the files changed since).
    if (auto reloaded = ldap_server_->reload(*(*built)->config->ldap_server, (*built)->config->applications);
        !reloaded) {
      log()->error("reload: the LDAP front end keeps its settings: {}", reloaded.error().message);
    }
  }
  if (web_server_ != nullptr && (*built)->config->web) {
    if (auto reloaded = web_server_->reload(*(*built)->config); !reloaded) {
      log()->error("reload: the web pages keep their templates and certificate: {}", reloaded.error().message);
    }
  }
  logging::configure((*built)->config->log);
  log()->info("configuration reloaded from {}", path.string());
  co_return Result<void>{};
}

}  // namespace dirproxy
