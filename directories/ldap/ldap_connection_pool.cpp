#include "directories/ldap/ldap_connection_pool.hpp"

#include <poll.h>
#include <strings.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "config/duration.hpp"
#include "directories/ldap/tls_handshake_deadline.hpp"

namespace dirproxy {

namespace {

// TCP keepalive on pooled connections: a peer that vanished without a FIN
// (host down, firewall dropped the state) shows up as an error on the idle
// socket after about a minute and a half, and acquire() drops it unused.
constexpr int kKeepaliveIdleSeconds = 60;
constexpr int kKeepaliveProbes = 3;
constexpr int kKeepaliveIntervalSeconds = 10;

bool is_ldaps(const std::string& uri) { return ::strncasecmp(uri.c_str(), "ldaps://", 8) == 0; }

// The diagnostic message the server (or libldap's TLS layer) left on the
// connection; empty when there is none.
std::string diagnostic_message(LDAP* connection) {
  char* raw = nullptr;
  if (ldap_get_option(connection, LDAP_OPT_DIAGNOSTIC_MESSAGE, &raw) != LDAP_OPT_SUCCESS) {
    return {};
  }
  const LdapStringPtr diagnostic(raw);
  return diagnostic != nullptr ? std::string(diagnostic.get()) : std::string();
}

// libldap's text for `result_code`, with the diagnostic message if any.
std::string describe_ldap_error(LDAP* connection, int result_code) {
  std::string text = ldap_err2string(result_code);
  if (const std::string diagnostic = diagnostic_message(connection); !diagnostic.empty()) {
    text += " (" + diagnostic + ")";
  }
  return text;
}

// A failed TLS handshake. Debian's libldap (GnuTLS) reports a certificate
// that fails verification as "(unknown error code)", which tells an
// administrator nothing, so the likely causes are named instead.
std::string describe_tls_failure(LDAP* connection, int result_code, const config::LdapSettings& settings) {
  std::string text = "TLS handshake failed: " + std::string(ldap_err2string(result_code));
  const std::string diagnostic = diagnostic_message(connection);
  if (!diagnostic.empty() && diagnostic != "(unknown error code)") {
    text += " (" + diagnostic + ")";
  }
  if (settings.tls_verify) {
    text += settings.tls_ca_file.empty() ? "; is the server's certificate issued for the URI's host by a CA the "
                                           "system trusts (tls_ca_file is not set)?"
                                         : "; is the server's certificate issued for the URI's host by the CA in "
                                           "tls_ca_file?";
  }
  return text;
}

Unexpected connection_failure(std::string message) {
  return fail(ErrorCode::directory_unavailable, std::move(message));
}

// Sets one option on `connection`; the message names the option on failure.
Result<void> set_option(LDAP* connection, int option, const void* value, const char* name) {
  if (ldap_set_option(connection, option, value) != LDAP_OPT_SUCCESS) {
    return connection_failure(std::string("cannot set ") + name);
  }
  return {};
}

Result<void> set_connection_options(LDAP* connection, const config::LdapSettings& settings, const std::string& uri) {
  const int version = LDAP_VERSION3;
  const timeval connect_timeout = to_timeval(settings.timeouts.connect);
  const timeval operation_timeout = to_timeval(settings.timeouts.operation);
  const int keepalive_idle = kKeepaliveIdleSeconds;
  const int keepalive_probes = kKeepaliveProbes;
  const int keepalive_interval = kKeepaliveIntervalSeconds;
  struct Option {
    int option;
    const void* value;
    const char* name;
  };
  const Option options[] = {
      {LDAP_OPT_PROTOCOL_VERSION, &version, "LDAP_OPT_PROTOCOL_VERSION"},
      // A referral is returned to the caller as a result, never followed:
      // following it would bind the service account to a server nobody
      // configured.
      {LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "LDAP_OPT_REFERRALS"},
      // A signal arriving during a wait must not fail the operation.
      {LDAP_OPT_RESTART, LDAP_OPT_ON, "LDAP_OPT_RESTART"},
      // Bounds the TCP connect (TLS handshakes: TlsHandshakeDeadline).
      {LDAP_OPT_NETWORK_TIMEOUT, &connect_timeout, "LDAP_OPT_NETWORK_TIMEOUT"},
      // Bounds every synchronous call (ldap_*_s, ldap_result with no
      // timeout of its own): a hung server costs at most this.
      {LDAP_OPT_TIMEOUT, &operation_timeout, "LDAP_OPT_TIMEOUT"},
      {LDAP_OPT_X_KEEPALIVE_IDLE, &keepalive_idle, "LDAP_OPT_X_KEEPALIVE_IDLE"},
      {LDAP_OPT_X_KEEPALIVE_PROBES, &keepalive_probes, "LDAP_OPT_X_KEEPALIVE_PROBES"},
      {LDAP_OPT_X_KEEPALIVE_INTERVAL, &keepalive_interval, "LDAP_OPT_X_KEEPALIVE_INTERVAL"},
  };
  for (const Option& option : options) {
    if (auto set = set_option(connection, option.option, option.value, option.name); !set) {
      return set;
    }
  }

  if (!is_ldaps(uri) && !settings.start_tls) {
    return {};
  }
  if (!settings.tls_ca_file.empty()) {
    if (auto set = set_option(connection, LDAP_OPT_X_TLS_CACERTFILE, settings.tls_ca_file.c_str(),
                              "LDAP_OPT_X_TLS_CACERTFILE");
        !set) {
      return set;
    }
  }
  const int require_certificate = settings.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
  if (auto set =
          set_option(connection, LDAP_OPT_X_TLS_REQUIRE_CERT, &require_certificate, "LDAP_OPT_X_TLS_REQUIRE_CERT");
      !set) {
    return set;
  }
  // TLS options set on a connection take effect only in a TLS context of its
  // own (otherwise libldap uses the process-wide one from ldap.conf). This is
  // also where libldap reads the CA file, so a missing or unreadable file
  // fails here.
  const int is_server = 0;
  if (ldap_set_option(connection, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS) {
    return connection_failure(settings.tls_ca_file.empty()
                                  ? std::string("cannot set up TLS")
                                  : "cannot set up TLS with tls_ca_file '" + settings.tls_ca_file + "'");
  }
  return {};
}

// Opens one connection to `uri` as configured: options, TCP connect (and the
// TLS handshake for ldaps://), StartTLS when configured, and when `bind` the
// service bind (or the anonymous bind, which proves the server answers).
// The error message names the step that failed and libldap's reason.
Result<LdapHandle> connect_to(const std::string& uri, const config::LdapSettings& settings, bool bind) {
  LDAP* raw = nullptr;
  // ldap_initialize only parses the URI; the connect happens below.
  int rc = ldap_initialize(&raw, uri.c_str());
  LdapHandle connection(raw);
  if (rc != LDAP_SUCCESS || connection == nullptr) {
    return connection_failure("invalid URI: " + std::string(ldap_err2string(rc)));
  }
  RETURN_IF_ERROR(set_connection_options(connection.get(), settings, uri));

  const bool ldaps = is_ldaps(uri);
  const bool start_tls = settings.start_tls && !ldaps;
  if (ldaps || start_tls) {
    if (auto installed = TlsHandshakeDeadline::install_connect_callback(connection.get()); !installed) {
      return std::move(installed).error();
    }
  }

  bool handshake_timed_out = false;
  {
    // The TCP connect is bounded by LDAP_OPT_NETWORK_TIMEOUT; the TLS
    // handshake of ldaps:// by this deadline, counted from the connect.
    std::optional<TlsHandshakeDeadline> deadline;
    if (ldaps) {
      deadline.emplace(settings.timeouts.connect);
    }
    rc = ldap_connect(connection.get());
    handshake_timed_out = deadline && deadline->expired();
  }
  if (handshake_timed_out) {
    return connection_failure("TLS handshake timed out after " + config::format_duration(settings.timeouts.connect));
  }
  if (rc != LDAP_SUCCESS) {
    // A refused or timed-out TCP connect leaves no diagnostic; a failed
    // ldaps:// handshake does.
    const bool handshake_failed = ldaps && !diagnostic_message(connection.get()).empty();
    return connection_failure(handshake_failed ? describe_tls_failure(connection.get(), rc, settings)
                                               : describe_ldap_error(connection.get(), rc));
  }
  if (start_tls) {
    // No fallback to plaintext: without TLS the service password (and every
    // user's password at their bind) would cross the network in the clear.
    // The StartTLS request is bounded by LDAP_OPT_TIMEOUT, the handshake
    // after it by the connect timeout.
    const std::chrono::milliseconds budget = settings.timeouts.operation + settings.timeouts.connect;
    {
      TlsHandshakeDeadline deadline(budget);
      int socket = -1;
      if (ldap_get_option(connection.get(), LDAP_OPT_DESC, &socket) == LDAP_OPT_SUCCESS && socket >= 0) {
        deadline.watch(socket);
      }
      rc = ldap_start_tls_s(connection.get(), /*serverctrls=*/nullptr, /*clientctrls=*/nullptr);
      handshake_timed_out = deadline.expired();
    }
    if (handshake_timed_out) {
      return connection_failure("StartTLS failed: TLS handshake timed out after " + config::format_duration(budget));
    }
    if (rc != LDAP_SUCCESS) {
      // LDAP_CONNECT_ERROR: the server agreed, the handshake failed; anything
      // else is the server's answer (e.g. it offers no StartTLS).
      return connection_failure("StartTLS failed: " + (rc == LDAP_CONNECT_ERROR
                                                           ? describe_tls_failure(connection.get(), rc, settings)
                                                           : describe_ldap_error(connection.get(), rc)));
    }
  }
  if (!bind) {
    return connection;
  }

  // An empty DN with an empty password is the anonymous bind (RFC 4513
  // 5.1.1); making it anyway proves that the server answers.
  berval credentials{};
  credentials.bv_len = static_cast<ber_len_t>(settings.bind_password.size());
  credentials.bv_val = const_cast<char*>(settings.bind_password.data());
  rc = ldap_sasl_bind_s(connection.get(), settings.bind_dn.c_str(), LDAP_SASL_SIMPLE, &credentials,
                        /*serverctrls=*/nullptr, /*clientctrls=*/nullptr,
                        /*servercredp=*/nullptr);
  if (rc != LDAP_SUCCESS) {
    const std::string who =
        settings.bind_dn.empty() ? std::string("anonymous bind") : "service bind as " + settings.bind_dn;
    return connection_failure(who + " failed: " + describe_ldap_error(connection.get(), rc));
  }
  return connection;
}

// Whether an idle connection has gone bad while it sat in the pool: an idle
// LDAP connection never has anything to read, so readable means the server
// closed it (idle timeout, restart) or sent a Notice of Disconnection, and
// an error or hangup means the socket is dead. Checked without blocking.
bool has_gone_stale(LDAP* connection) {
  int descriptor = -1;
  if (ldap_get_option(connection, LDAP_OPT_DESC, &descriptor) != LDAP_OPT_SUCCESS || descriptor < 0) {
    return true;
  }
  pollfd socket{};
  socket.fd = descriptor;
  socket.events = POLLIN;
  const int ready = ::poll(&socket, 1, /*timeout=*/0);
  if (ready < 0) {
    return errno != EINTR;
  }
  return ready > 0;
}

}  // namespace

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval value{};
  value.tv_sec = static_cast<time_t>(duration.count() / 1000);
  value.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return value;
}

// ---- Lease ----

LdapConnectionPool::Lease::Lease(LdapConnectionPool* pool, LdapHandle connection, std::size_t server, bool user_binds)
    : pool_(pool),
      connection_(std::move(connection)),
      server_(server),
      user_binds_(user_binds),
      uri_(&pool->settings_.uri.at(server)) {}

LdapConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      connection_(std::move(other.connection_)),
      server_(other.server_),
      user_binds_(other.user_binds_),
      uri_(other.uri_) {}

LdapConnectionPool::Lease& LdapConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
    server_ = other.server_;
    user_binds_ = other.user_binds_;
    uri_ = other.uri_;
  }
  return *this;
}

LdapConnectionPool::Lease::~Lease() { give_back(); }

void LdapConnectionPool::Lease::give_back() noexcept {
  if (pool_ != nullptr) {
    std::exchange(pool_, nullptr)->give_back(std::move(connection_), server_, user_binds_);
  }
}

void LdapConnectionPool::Lease::discard(std::string reason) {
  if (pool_ != nullptr) {
    std::exchange(pool_, nullptr)->discard(std::move(connection_), server_, user_binds_, std::move(reason));
  }
}

// ---- LdapConnectionPool ----

LdapConnectionPool::LdapConnectionPool(std::string directory_name, const config::LdapSettings& settings,
                                       LdapServerList::Clock now, PoolCounters counters)
    : directory_name_(std::move(directory_name)),
      settings_(settings),
      pool_size_(std::max(1u, settings.pool_size)),
      operation_timeout_(settings.timeouts.operation),
      libldap_uris_(libldap_spellings(settings.uri)),
      counters_(counters),
      servers_(settings.uri, settings.retry_backoff, std::move(now)) {}

// Leases must not outlive the pool, so every connection left is idle here;
// they are unbound as idle_ is destroyed.
LdapConnectionPool::~LdapConnectionPool() = default;

std::vector<std::string> LdapConnectionPool::libldap_spellings(const std::vector<std::string>& uris) {
  std::vector<std::string> spellings;
  spellings.reserve(uris.size());
  for (const std::string& uri : uris) {
    LDAP* raw = nullptr;
    const int rc = ldap_initialize(&raw, uri.c_str());  // parses only, no I/O
    const LdapHandle parsed(raw);
    char* spelled = nullptr;
    if (rc == LDAP_SUCCESS && parsed != nullptr &&
        ldap_get_option(parsed.get(), LDAP_OPT_URI, &spelled) == LDAP_OPT_SUCCESS) {
      const LdapStringPtr owned(spelled);
      spellings.push_back(owned != nullptr ? std::string(owned.get()) : uri);
    } else {
      spellings.push_back(uri);
    }
  }
  return spellings;
}

Error LdapConnectionPool::unavailable(std::string message) const {
  Error error = make_error(ErrorCode::directory_unavailable, std::move(message));
  error.directory = directory_name_;
  return error;
}

Result<LdapConnectionPool::Lease> LdapConnectionPool::acquire() {
  // Declared before the lock: stale connections are closed after it is released.
  std::vector<LdapHandle> closing;
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + operation_timeout_;
  for (;;) {
    // Most recently used first: its socket is the least likely to have been
    // closed by the server's idle timeout, and the others can age out.
    while (!idle_.empty()) {
      ServerConnection idle = std::move(idle_.back());
      idle_.pop_back();
      if (!has_gone_stale(idle.handle.get())) {
        return Lease(this, std::move(idle.handle), idle.server, /*user_binds=*/false);
      }
      --open_;
      closing.push_back(std::move(idle.handle));
    }
    if (open_ < pool_size_) {
      break;
    }
    if (counters_.waits != nullptr) counters_.waits->increment();
    const bool slot_free =
        slot_freed_.wait_until(lock, deadline, [this] { return !idle_.empty() || open_ < pool_size_; });
    if (!slot_free) {
      if (counters_.wait_timeouts != nullptr) counters_.wait_timeouts->increment();
      return unavailable("all " + std::to_string(pool_size_) +
                         " connections are in use and none was given back within " +
                         config::format_duration(operation_timeout_));
    }
  }
  ++open_;  // reserves the slot while the connection is opened without the mutex
  lock.unlock();
  closing.clear();

  auto opened = open_connection(/*bind=*/true);
  if (!opened) {
    lock.lock();
    --open_;
    lock.unlock();
    slot_freed_.notify_one();
    return std::move(opened).error();
  }
  return Lease(this, std::move(opened->handle), opened->server, /*user_binds=*/false);
}

std::optional<LdapConnectionPool::Lease> LdapConnectionPool::try_acquire_idle() {
  std::vector<LdapHandle> closing;  // stale ones, closed after the lock is released
  std::optional<Lease> lease;
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty() && !lease) {
      ServerConnection idle = std::move(idle_.back());
      idle_.pop_back();
      if (!has_gone_stale(idle.handle.get())) {
        lease.emplace(Lease(this, std::move(idle.handle), idle.server, /*user_binds=*/false));
      } else {
        --open_;
        closing.push_back(std::move(idle.handle));
      }
    }
  }
  // A stale connection closed frees its slot for whoever waits in acquire().
  if (!closing.empty()) slot_freed_.notify_all();
  return lease;
}

Result<LdapConnectionPool::Lease> LdapConnectionPool::acquire_for_user_bind() {
  std::vector<LdapHandle> closing;  // stale ones, closed after the lock is released
  {
    const std::lock_guard lock(mutex_);
    while (!idle_user_binds_.empty()) {
      ServerConnection idle = std::move(idle_user_binds_.back());
      idle_user_binds_.pop_back();
      if (!has_gone_stale(idle.handle.get())) {
        return Lease(this, std::move(idle.handle), idle.server, /*user_binds=*/true);
      }
      closing.push_back(std::move(idle.handle));
    }
  }
  closing.clear();
  auto opened = open_connection(/*bind=*/false);
  RETURN_IF_ERROR(opened);
  return Lease(this, std::move(opened->handle), opened->server, /*user_binds=*/true);
}

Result<LdapHandle> LdapConnectionPool::open_unbound() {
  auto opened = open_connection(/*bind=*/false);
  RETURN_IF_ERROR(opened);
  return std::move(opened->handle);
}

Result<LdapConnectionPool::ServerConnection> LdapConnectionPool::open_connection(bool bind) {
  std::size_t first = 0;
  for (;;) {
    std::optional<LdapServerList::Attempt> attempt;
    {
      const std::lock_guard lock(mutex_);
      attempt = servers_.begin_attempt(first);
      if (!attempt) {
        const std::string failures = servers_.describe_failures();
        return unavailable(failures.empty() ? std::string("no LDAP server configured")
                                            : "no LDAP server reachable: " + failures);
      }
    }
    const std::string& uri = settings_.uri.at(attempt->server);
    auto connection = connect_to(uri, settings_, bind);

    std::vector<LdapHandle> closing;  // closed after the lock below is released
    {
      const std::lock_guard lock(mutex_);
      if (connection) {
        servers_.succeeded(*attempt);
        return ServerConnection{std::move(*connection), attempt->server};
      }
      servers_.failed(*attempt, std::move(connection).error().message);
      // Idle connections to a server that refuses new ones are not worth
      // a try either.
      take_idle_of(attempt->server, closing);
    }
    if (!closing.empty()) {
      slot_freed_.notify_all();
    }
    first = attempt->server + 1;
  }
}

void LdapConnectionPool::give_back(LdapHandle connection, std::size_t server, bool user_binds) {
  if (user_binds) {
    {
      const std::lock_guard lock(mutex_);
      if (!servers_.is_down(server) && !servers_.has_preferred_before(server) && idle_user_binds_.size() < pool_size_) {
        idle_user_binds_.push_back(ServerConnection{std::move(connection), server});
      }
    }
    connection.reset();  // unless kept idle: closed now that the lock is released
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    // A connection to a server that went down meanwhile is suspect, and one
    // to a lower-priority server makes way for a new connection to the
    // preferred one (failback). Either is closed after the lock is released.
    if (!servers_.is_down(server) && !servers_.has_preferred_before(server)) {
      idle_.push_back(ServerConnection{std::move(connection), server});
    } else {
      --open_;
    }
  }
  connection.reset();  // unless kept idle: closed now that the lock is released
  slot_freed_.notify_one();
}

void LdapConnectionPool::discard(LdapHandle connection, std::size_t server, bool user_binds, std::string reason) {
  std::vector<LdapHandle> closing;  // closed after the lock is released
  {
    const std::lock_guard lock(mutex_);
    servers_.connection_broke(server, std::move(reason));
    take_idle_of(server, closing);
    if (!user_binds) {
      --open_;
    }
  }
  connection.reset();
  slot_freed_.notify_all();
}

void LdapConnectionPool::report_broken(LDAP* connection, std::string reason) {
  char* spelled = nullptr;
  if (connection == nullptr || ldap_get_option(connection, LDAP_OPT_URI, &spelled) != LDAP_OPT_SUCCESS) {
    return;
  }
  const LdapStringPtr uri(spelled);
  if (uri == nullptr) {
    return;
  }
  const auto found = std::find(libldap_uris_.begin(), libldap_uris_.end(), uri.get());
  if (found == libldap_uris_.end()) {
    return;  // not one of ours
  }
  std::vector<LdapHandle> closing;
  {
    const std::lock_guard lock(mutex_);
    const auto server = static_cast<std::size_t>(found - libldap_uris_.begin());
    servers_.connection_broke(server, std::move(reason));
    take_idle_of(server, closing);
  }
  if (!closing.empty()) {
    slot_freed_.notify_all();
  }
}

void LdapConnectionPool::take_idle_of(std::size_t server, std::vector<LdapHandle>& closing) {
  const auto to_close = std::stable_partition(idle_.begin(), idle_.end(),
                                              [server](const ServerConnection& idle) { return idle.server != server; });
  for (auto it = to_close; it != idle_.end(); ++it) {
    closing.push_back(std::move(it->handle));
    --open_;
  }
  idle_.erase(to_close, idle_.end());
  // User-bind connections do not count in open_.
  const auto binds_to_close =
      std::stable_partition(idle_user_binds_.begin(), idle_user_binds_.end(),
                            [server](const ServerConnection& idle) { return idle.server != server; });
  for (auto it = binds_to_close; it != idle_user_binds_.end(); ++it) {
    closing.push_back(std::move(it->handle));
  }
  idle_user_binds_.erase(binds_to_close, idle_user_binds_.end());
}

bool LdapConnectionPool::is_connection_error(int ldap_result_code) {
  switch (ldap_result_code) {
    case LDAP_SERVER_DOWN:     // the connection broke or never came up
    case LDAP_TIMEOUT:         // no answer within the operation timeout
    case LDAP_CONNECT_ERROR:   // e.g. the TLS handshake failed
    case LDAP_LOCAL_ERROR:     // libldap refuses further results on the handle
    case LDAP_DECODING_ERROR:  // the stream is out of sync
    case LDAP_UNAVAILABLE:     // the server is shutting down or not serving
      return true;
    default: return false;
  }
}

DirectoryStatus LdapConnectionPool::status() const {
  const std::lock_guard lock(mutex_);
  DirectoryStatus status;
  status.up = servers_.any_up();
  if (!status.up) {
    status.detail = servers_.describe_failures();
  }
  return status;
}

std::vector<LdapServerList::ServerState> LdapConnectionPool::server_states() const {
  const std::lock_guard lock(mutex_);
  return servers_.states();
}

std::size_t LdapConnectionPool::open_connections() const {
  const std::lock_guard lock(mutex_);
  return open_;
}

std::size_t LdapConnectionPool::idle_connections() const {
  const std::lock_guard lock(mutex_);
  return idle_.size();
}

ConnectionPoolUse LdapConnectionPool::use() const {
  const std::lock_guard lock(mutex_);
  return ConnectionPoolUse{pool_size_, open_ - idle_.size(), idle_.size()};
}

std::size_t LdapConnectionPool::idle_user_bind_connections() const {
  const std::lock_guard lock(mutex_);
  return idle_user_binds_.size();
}

}  // namespace dirproxy
