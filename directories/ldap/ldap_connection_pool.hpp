// The connections of one ldap directory: at most pool_size libldap
// connections bound as the service account (or anonymous), lent out to one
// worker thread at a time, plus connections used for user binds only.
//
// User binds never use a service connection: a bind changes a connection's
// identity, and the service account's must not change. They get connections
// of their own, which are kept (up to pool_size idle) and reused for later
// user binds, since a bind on an open connection costs the server a fraction
// of a new TCP connection, bind and unbind. Nothing but binds ever runs on
// them, so whoever bound last on one is never asked anything.
//
// Every connection gets the same settings: LDAPv3, referrals not chased,
// timeouts.connect for the TCP connect and the TLS handshake (see
// tls_handshake_deadline.hpp for why libldap needs help there),
// timeouts.operation for every synchronous libldap call (so a hung server
// costs at most that), TCP keepalive, and for ldaps:// or start_tls the CA
// file and certificate verification (on unless tls_verify: false). StartTLS
// must succeed; there is never a fallback to plaintext.
//
// Failover and backoff are LdapServerList's: URIs are tried in order, a URI
// that failed is skipped until its backoff expires, and when every URI is in
// backoff acquire() answers directory_unavailable at once.
//
// libldap blocks, so every method may block for up to the connect plus the
// operation timeout; the daemon calls them from worker threads only. All
// methods are thread-safe; no network I/O ever happens with the pool's mutex
// held.
#pragma once

#include <sys/time.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "directories/directory.hpp"
#include "directories/ldap/ldap_handles.hpp"
#include "directories/ldap/ldap_server_list.hpp"

namespace dirproxy {

// A timeout as libldap takes it (LDAP_OPT_NETWORK_TIMEOUT, ldap_result,
// the time limit of a search).
timeval to_timeval(std::chrono::milliseconds duration);

// Where a pool counts the times acquire() waited for a free connection
// (dirproxy_ldap_pool_waits_total) and the waits that ended without one
// (dirproxy_ldap_pool_wait_timeouts_total); a null counter counts nothing.
struct PoolCounters {
  metrics::Counter* waits = nullptr;
  metrics::Counter* wait_timeouts = nullptr;
};

class LdapConnectionPool final {
 public:
  // A pooled connection lent out by acquire(); given back on destruction.
  // Give it back with no operation outstanding (every result read or
  // abandoned). Must not outlive its pool; use it from one thread at a time.
  class Lease final {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    // The connection; nullptr after discard() or a move.
    LDAP* get() const { return connection_.get(); }
    // The URI this connection talks to, e.g. for an error message.
    const std::string& uri() const { return *uri_; }
    // The operation failed in a way that means the connection is unusable
    // (is_connection_error()): it is closed instead of returned, and its URI
    // is marked down with backoff, `reason` being the error status() reports.
    void discard(std::string reason);

   private:
    friend class LdapConnectionPool;
    Lease(LdapConnectionPool* pool, LdapHandle connection, std::size_t server, bool user_binds);
    void give_back() noexcept;

    LdapConnectionPool* pool_ = nullptr;  // null once given back, discarded or moved from
    LdapHandle connection_;
    std::size_t server_ = 0;            // index of its URI in the configured list
    bool user_binds_ = false;           // from acquire_for_user_bind()
    const std::string* uri_ = nullptr;  // in the pool's settings, which outlive the lease
  };

  // No I/O: connections are opened by the first acquire(). `now` replaces
  // the clock of the backoff (tests); the default is steady_clock.
  LdapConnectionPool(std::string directory_name, const config::LdapSettings& settings, LdapServerList::Clock now = {},
                     PoolCounters counters = {});
  ~LdapConnectionPool();
  LdapConnectionPool(const LdapConnectionPool&) = delete;
  LdapConnectionPool& operator=(const LdapConnectionPool&) = delete;

  // A connection bound as the service account (or anonymous when bind_dn is
  // empty), an idle one (most recently used first) or a new one, waiting at
  // most the operation timeout for a free slot. directory_unavailable
  // (Error::directory set, the message naming each URI's last error and when
  // it is retried) when no URI can be reached now, including a failed
  // service bind, or when every slot stayed busy.
  Result<Lease> acquire();

  // An idle service connection (most recently used first), without
  // blocking: never opens a connection and never waits for one. nullopt
  // when none is idle; use acquire() on a worker thread then. For lookups
  // the daemon runs on its event loop without a worker (start_user_lookup).
  std::optional<Lease> try_acquire_idle();

  // A connection for user binds only (never a service connection): an idle
  // one kept from an earlier user bind, or a new unbound one to the first
  // reachable URI. Never waits: when every kept one is lent out another is
  // opened; at most pool_size of them are kept idle when given back. Do
  // nothing but binds on it. directory_unavailable as for acquire().
  Result<Lease> acquire_for_user_bind();

  // A fresh, unbound connection to the first reachable URI (TCP connected,
  // TLS set up), with the same TLS settings and timeouts, for one user bind;
  // the caller owns it. Never a pooled connection: a user bind must not
  // change the identity of the service connection. Does not count against
  // pool_size. directory_unavailable as for acquire().
  Result<LdapHandle> open_unbound();

  // For a connection from open_unbound() whose operation failed with a
  // connection error: marks its URI down as Lease::discard() does.
  void report_broken(LDAP* connection, std::string reason);

  // Whether a result code means the connection or the server is gone
  // (server down, timeout, connect error, undecodable stream, a local error
  // after which libldap refuses further results on the handle, server
  // unavailable) rather than an answer about the request. The caller then
  // discards the lease (or report_broken()s an unbound connection).
  static bool is_connection_error(int ldap_result_code);

  // For list_directories: up while some URI has not failed since its last
  // success (also before the first connection); otherwise down, the detail
  // naming each URI's last error and when it is retried.
  DirectoryStatus status() const;

  // Each URI's state, in configured order (status pages, tests).
  std::vector<LdapServerList::ServerState> server_states() const;

  // Service connections that exist now (idle, lent out or being opened).
  std::size_t open_connections() const;
  // Service connections waiting idle in the pool.
  std::size_t idle_connections() const;
  // The service connections' use now, at one moment (for the metrics).
  ConnectionPoolUse use() const;
  // User-bind connections waiting idle in the pool.
  std::size_t idle_user_bind_connections() const;

  // The configured operation timeout, for ldap_search_ext_s / result calls.
  std::chrono::milliseconds operation_timeout() const { return operation_timeout_; }
  const std::string& directory_name() const { return directory_name_; }

 private:
  // A connection and the index of the URI it talks to.
  struct ServerConnection {
    LdapHandle handle;
    std::size_t server = 0;
  };

  // Connects to the first usable URI (binding as the service account when
  // `bind`), moving on to the next URI after a failure. Takes the mutex only
  // between attempts.
  Result<ServerConnection> open_connection(bool bind);
  // Back from a Lease: kept idle, or closed when its URI is down or no
  // longer the preferred one (failback).
  void give_back(LdapHandle connection, std::size_t server, bool user_binds);
  void discard(LdapHandle connection, std::size_t server, bool user_binds, std::string reason);
  // Under the mutex: moves the idle connections (service and user-bind) to
  // `server` into `closing`, to be closed once the mutex is released.
  void take_idle_of(std::size_t server, std::vector<LdapHandle>& closing);
  Error unavailable(std::string message) const;
  // Where report_broken() finds a connection's URI: each configured URI as
  // libldap spells it back (LDAP_OPT_URI adds default ports).
  static std::vector<std::string> libldap_spellings(const std::vector<std::string>& uris);

  const std::string directory_name_;
  const config::LdapSettings settings_;
  const std::size_t pool_size_;
  const std::chrono::milliseconds operation_timeout_;
  const std::vector<std::string> libldap_uris_;  // libldap_spellings(settings_.uri)
  const PoolCounters counters_;

  mutable std::mutex mutex_;
  std::condition_variable slot_freed_;
  LdapServerList servers_;                         // guarded by mutex_
  std::vector<ServerConnection> idle_;             // guarded by mutex_; the back is the most recent
  std::vector<ServerConnection> idle_user_binds_;  // guarded by mutex_; likewise
  std::size_t open_ = 0;                           // guarded by mutex_; idle + lent out + being opened
};

}  // namespace dirproxy
