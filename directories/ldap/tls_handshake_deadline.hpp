// A time limit for libldap's TLS handshakes, which have none of their own.
//
// libldap 2.5 as Debian 12 builds it runs the TLS handshake (of an ldaps://
// connect and of StartTLS) on a blocking socket and retries it for as long as
// the socket yields nothing: its timed, non-blocking handshake is compiled
// out (LDAP_USE_NON_BLOCKING_TLS), so neither LDAP_OPT_NETWORK_TIMEOUT nor a
// socket receive timeout bounds it. A server that accepts the TCP connection
// and then hangs would hold a worker thread forever.
//
// A TlsHandshakeDeadline watches one socket from a thread of its own and
// shuts it down (shutdown(2), not close: the descriptor stays libldap's)
// when the guarded call has not returned in time. The blocked read then sees
// the end of the stream and the handshake fails; expired() tells the caller
// why. The thread exists only while the guarded call runs, and only for TLS
// connections.
//
// The socket of an ldaps:// connection is created inside ldap_connect(), so
// the deadline learns it from a connect callback: install_connect_callback()
// on the connection before the call, and keep the deadline alive across it.
// The callback reports to the deadline of the thread that is connecting.
#pragma once

#include <ldap.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/result.hpp"

namespace dirproxy {

class TlsHandshakeDeadline final {
 public:
  // Arms a deadline of `timeout` from the moment the socket is known (watch()
  // or the connect callback), for calls made by this thread until destruction.
  explicit TlsHandshakeDeadline(std::chrono::milliseconds timeout);
  // Disarms the deadline and waits for the watchdog thread to end.
  ~TlsHandshakeDeadline();
  TlsHandshakeDeadline(const TlsHandshakeDeadline&) = delete;
  TlsHandshakeDeadline& operator=(const TlsHandshakeDeadline&) = delete;

  // Makes libldap report the sockets that `connection` opens to the deadline
  // alive on the connecting thread. Harmless when none is.
  static Result<void> install_connect_callback(LDAP* connection);

  // Watches `socket` (a connected socket): the time starts now.
  void watch(int socket);
  // Whether the deadline passed and the socket was shut down.
  bool expired() const;

 private:
  void forget(int socket);
  void run();

  static int on_connect(LDAP* connection, Sockbuf* socket_buffer, LDAPURLDesc* server, sockaddr* address,
                        ldap_conncb* context);
  static void on_close(LDAP* connection, Sockbuf* socket_buffer, ldap_conncb* context);

  const std::chrono::milliseconds timeout_;
  TlsHandshakeDeadline* const previous_;  // the thread's deadline before this one

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int socket_ = -1;                                   // guarded by mutex_; -1 until known or once closed
  std::chrono::steady_clock::time_point deadline_{};  // guarded by mutex_
  bool finished_ = false;                             // guarded by mutex_
  bool expired_ = false;                              // guarded by mutex_
  std::thread watchdog_;                              // started last, joined first
};

}  // namespace dirproxy
