#include "directories/ldap/tls_handshake_deadline.hpp"

#include <sys/socket.h>

namespace dirproxy {

namespace {

// The deadline guarding the libldap call in progress on this thread: the
// connect callback runs on the thread that called ldap_connect().
thread_local TlsHandshakeDeadline* t_active_deadline = nullptr;

}  // namespace

TlsHandshakeDeadline::TlsHandshakeDeadline(std::chrono::milliseconds timeout)
    : timeout_(timeout), previous_(t_active_deadline) {
  watchdog_ = std::thread([this] { run(); });
  t_active_deadline = this;  // only once nothing can throw any more
}

TlsHandshakeDeadline::~TlsHandshakeDeadline() {
  {
    const std::lock_guard lock(mutex_);
    finished_ = true;
  }
  changed_.notify_all();
  watchdog_.join();
  t_active_deadline = previous_;
}

Result<void> TlsHandshakeDeadline::install_connect_callback(LDAP* connection) {
  // libldap keeps the pointer for the connection's lifetime: static storage.
  static ldap_conncb callback{&TlsHandshakeDeadline::on_connect, &TlsHandshakeDeadline::on_close,
                              /*lc_arg=*/nullptr};
  if (ldap_set_option(connection, LDAP_OPT_CONNECT_CB, &callback) != LDAP_OPT_SUCCESS) {
    return fail(ErrorCode::directory_unavailable, "cannot set LDAP_OPT_CONNECT_CB");
  }
  return {};
}

void TlsHandshakeDeadline::watch(int socket) {
  {
    const std::lock_guard lock(mutex_);
    socket_ = socket;
    deadline_ = std::chrono::steady_clock::now() + timeout_;
  }
  changed_.notify_all();
}

void TlsHandshakeDeadline::forget(int socket) {
  const std::lock_guard lock(mutex_);
  if (socket_ == socket) {
    socket_ = -1;  // about to be closed: its number may soon be another socket's
  }
}

bool TlsHandshakeDeadline::expired() const {
  const std::lock_guard lock(mutex_);
  return expired_;
}

void TlsHandshakeDeadline::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (finished_) {
      return;
    }
    if (socket_ < 0) {
      changed_.wait(lock);
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline_) {
      // Under the mutex, so that forget() (called before libldap closes the
      // socket) cannot let this hit a reused descriptor.
      ::shutdown(socket_, SHUT_RDWR);
      expired_ = true;
      return;
    }
    changed_.wait_until(lock, deadline_);
  }
}

int TlsHandshakeDeadline::on_connect(LDAP* /*connection*/, Sockbuf* socket_buffer, LDAPURLDesc* /*server*/,
                                     sockaddr* /*address*/, ldap_conncb* /*context*/) {
  ber_socket_t socket = -1;
  if (t_active_deadline != nullptr && ber_sockbuf_ctrl(socket_buffer, LBER_SB_OPT_GET_FD, &socket) == 1 &&
      socket >= 0) {
    t_active_deadline->watch(socket);
  }
  return 0;  // never refuse the connection
}

void TlsHandshakeDeadline::on_close(LDAP* /*connection*/, Sockbuf* socket_buffer, ldap_conncb* /*context*/) {
  // Also called with no Sockbuf just before the handle is freed.
  ber_socket_t socket = -1;
  if (t_active_deadline != nullptr && socket_buffer != nullptr &&
      ber_sockbuf_ctrl(socket_buffer, LBER_SB_OPT_GET_FD, &socket) == 1 && socket >= 0) {
    t_active_deadline->forget(socket);
  }
}

}  // namespace dirproxy
