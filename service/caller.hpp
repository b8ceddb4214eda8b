// Who asks the service for an operation, as the front end that took the
// request knows them. The service decides from this alone whether the
// operation is allowed and what the audit line says; no rule asks which
// front end it came through.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dirproxy {

// The front end a request came through. Only the request metrics read it
// (their `frontend` label): no rule depends on it.
enum class FrontEnd : std::uint8_t {
  socket,  // JSON Lines on the Unix socket
  ldap,    // the LDAPv3 listener
  web,     // the web pages and admin console
};

constexpr std::string_view to_string(FrontEnd front_end) {
  switch (front_end) {
    case FrontEnd::socket: return "socket";
    case FrontEnd::ldap: return "ldap";
    case FrontEnd::web: return "web";
  }
  return "socket";
}

// The local process at the other end of a Unix socket (SO_PEERCRED).
struct PeerProcess {
  uid_t uid = static_cast<uid_t>(-1);
  pid_t pid = 0;
};

struct Caller {
  // Which front end took the request, for the request metrics.
  FrontEnd front_end = FrontEnd::socket;
  // The front end's number for the connection, for log lines.
  std::uint64_t connection = 0;
  // The local process, when the front end knows it (the Unix socket).
  std::optional<PeerProcess> peer;
  // May run admin operations. Decided by the front end from what the
  // kernel or a verified credential says, never from the request itself.
  bool admin = false;
  // The end user's address as the application saw it (the socket
  // protocol's client_ip), for rate limits and the audit log.
  std::optional<std::string> client_address;
  // The application-level user acting (the socket protocol's actor), for
  // the audit log.
  std::optional<std::string> actor;
  // The application the request is made for (APPLICATIONS.md), by name, as
  // the front end knows it: the socket's from the peer's uid
  // (socket_application), the LDAP front end's from the bind. The service
  // reads the application's rules from the configuration in force at each
  // request, so a reload that changes them applies to open connections; a
  // name the configuration no longer has is no application.
  std::optional<std::string> application;
};

}  // namespace dirproxy
