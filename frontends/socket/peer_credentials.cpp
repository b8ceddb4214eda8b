#include "frontends/socket/peer_credentials.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace dirproxy {
namespace {

std::optional<passwd> lookup_user(uid_t uid, std::vector<char>& buffer) {
  passwd entry{};
  passwd* found = nullptr;
  buffer.resize(16384);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return entry;
}

std::optional<gid_t> lookup_group(const std::string& name) {
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return entry.gr_gid;
}

std::vector<gid_t> groups_of(const char* user_name, gid_t primary) {
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (getgrouplist(user_name, primary, groups.data(), &count) == -1) {
    groups.resize(static_cast<std::size_t>(count) + 16);
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<std::size_t>(count));
  return groups;
}

}  // namespace

std::optional<PeerCredentials> peer_credentials(int socket_fd) {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 || length != sizeof(credentials)) {
    return std::nullopt;
  }
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

bool is_admin(const PeerCredentials& peer, const config::Admins& admins) {
  if (peer.uid == 0) return true;
  if (admins.users.empty() && admins.groups.empty()) return false;

  std::vector<char> buffer;
  auto account = lookup_user(peer.uid, buffer);
  if (account) {
    const std::string name = account->pw_name;
    if (std::find(admins.users.begin(), admins.users.end(), name) != admins.users.end()) return true;
  }
  if (admins.groups.empty()) return false;

  // The peer's gid from the kernel counts, and so do the account's groups.
  std::vector<gid_t> member_of{peer.gid};
  if (account) {
    auto listed = groups_of(account->pw_name, account->pw_gid);
    member_of.insert(member_of.end(), listed.begin(), listed.end());
  }
  for (const auto& group_name : admins.groups) {
    auto gid = lookup_group(group_name);
    if (gid && std::find(member_of.begin(), member_of.end(), *gid) != member_of.end()) return true;
  }
  return false;
}

}  // namespace dirproxy
