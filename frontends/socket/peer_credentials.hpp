// Who is on the other end of a Unix socket connection, from the kernel
// (SO_PEERCRED), and whether that peer may run admin operations. Admin
// identity never comes from anything the client sends.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "config/config.hpp"

namespace dirproxy {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

// The credentials of the peer of a connected AF_UNIX socket; nullopt when the
// kernel does not say (then the peer is treated as nobody in particular).
std::optional<PeerCredentials> peer_credentials(int socket_fd);

// uid 0 is always an admin; otherwise the peer's account name must be in
// server.admins.users, or the account must belong (primary or supplementary)
// to a group in server.admins.groups. Looks up the user and group databases
// (NSS), so call it once per connection, not per request.
bool is_admin(const PeerCredentials& peer, const config::Admins& admins);

}  // namespace dirproxy
