// systemd's notify protocol (sd_notify(3)), spoken directly: one datagram of
// "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or
// an abstract name written with a leading '@'). dirproxyd reports READY=1,
// RELOADING=1 with MONOTONIC_USEC, STOPPING=1, STATUS= lines and WATCHDOG=1.
// Outside systemd (no $NOTIFY_SOCKET) every call does nothing.
//
// Also socket activation (sd_listen_fds(3)): the listening socket systemd
// passes as fd 3 when $LISTEN_PID is this process and $LISTEN_FDS is 1.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

namespace dirproxy {

class SystemdNotifier final {
 public:
  // Reads $NOTIFY_SOCKET and $WATCHDOG_USEC / $WATCHDOG_PID, then unsets
  // them so that child processes do not inherit them.
  static SystemdNotifier from_environment();

  bool enabled() const { return !socket_path_.empty(); }

  // Sends `state` (lines "KEY=VALUE" separated by '\n'); false when it could
  // not be sent. Never blocks.
  bool notify(std::string_view state) const;

  // How often to send WATCHDOG=1 (half of WATCHDOG_USEC), when systemd asked.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_interval_; }

 private:
  std::string socket_path_;  // '@' already turned into a leading NUL
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

// "RELOADING=1\nMONOTONIC_USEC=<now on CLOCK_MONOTONIC>", as systemd wants it.
std::string reloading_state();

// The listening sockets passed by systemd (from fd 3), when $LISTEN_PID is
// this process: the Unix socket of the protocol, and the TCP sockets of the
// LDAP front end (a second ListenStream=), told apart by their address
// family, each with its name from $LISTEN_FDNAMES (FileDescriptorName=).
// The LISTEN_* variables are unset either way. Anything else passed (two
// Unix sockets, a datagram socket) is refused with `error` set.
struct ActivationSockets {
  struct Tcp {
    int fd = -1;
    std::string name;  // "ldaps" serves ldaps:// on it
  };
  std::optional<int> unix_socket;
  std::vector<Tcp> tcp;
};
ActivationSockets activation_sockets(std::string* error);

}  // namespace dirproxy
