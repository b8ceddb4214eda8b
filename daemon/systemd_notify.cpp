#include "daemon/systemd_notify.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace dirproxy {
namespace {

constexpr int kFirstPassedDescriptor = 3;  // SD_LISTEN_FDS_START

std::optional<unsigned long long> number_from_environment(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return value;
}

}  // namespace

SystemdNotifier SystemdNotifier::from_environment() {
  SystemdNotifier notifier;
  if (const char* path = std::getenv("NOTIFY_SOCKET"); path != nullptr && (path[0] == '/' || path[0] == '@')) {
    notifier.socket_path_ = path;
    if (notifier.socket_path_[0] == '@') notifier.socket_path_[0] = '\0';
  }
  // The watchdog is for us only when WATCHDOG_PID is unset or names us.
  auto usec = number_from_environment("WATCHDOG_USEC");
  auto pid = number_from_environment("WATCHDOG_PID");
  if (usec && *usec > 0 && (!pid || *pid == static_cast<unsigned long long>(::getpid()))) {
    notifier.watchdog_interval_ = std::chrono::microseconds(*usec / 2);
  }
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  return notifier;
}

bool SystemdNotifier::notify(std::string_view state) const {
  if (!enabled()) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
  // An abstract name's length counts exactly; a path's includes its NUL.
  const socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size() + (socket_path_[0] == '\0' ? 0 : 1));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  const ssize_t sent =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::string reloading_state() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const unsigned long long usec =
      static_cast<unsigned long long>(now.tv_sec) * 1000000ULL + static_cast<unsigned long long>(now.tv_nsec / 1000);
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}

ActivationSockets activation_sockets(std::string* error) {
  auto pid = number_from_environment("LISTEN_PID");
  auto count = number_from_environment("LISTEN_FDS");
  const char* names_variable = std::getenv("LISTEN_FDNAMES");
  const std::string names_text = names_variable != nullptr ? names_variable : "";
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  ActivationSockets sockets;
  if (!pid || *pid != static_cast<unsigned long long>(::getpid()) || !count || *count == 0) return sockets;
  std::vector<std::string> names;
  for (std::size_t start = 0;;) {
    const std::size_t colon = names_text.find(':', start);
    names.push_back(names_text.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  auto refuse = [&](const std::string& why) {
    if (error != nullptr) *error = why;
    return ActivationSockets{};
  };
  if (*count > 16) return refuse("systemd passed " + std::to_string(*count) + " sockets; dirproxyd takes at most 16");
  for (int fd = kFirstPassedDescriptor; fd < kFirstPassedDescriptor + static_cast<int>(*count); ++fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    const std::size_t index = static_cast<std::size_t>(fd - kFirstPassedDescriptor);
    const std::string name = index < names.size() ? names[index] : "";
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    int type = 0;
    socklen_t type_length = sizeof(type);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 || type != SOCK_STREAM) {
      return refuse("systemd passed a socket (fd " + std::to_string(fd) + ") that is not a stream socket");
    }
    if (address.ss_family == AF_UNIX) {
      if (sockets.unix_socket) return refuse("systemd passed two Unix sockets; dirproxyd takes one");
      sockets.unix_socket = fd;
    } else if (address.ss_family == AF_INET || address.ss_family == AF_INET6) {
      sockets.tcp.push_back({fd, name});
    } else {
      return refuse("systemd passed a socket (fd " + std::to_string(fd) + ") that is neither Unix nor TCP");
    }
  }
  return sockets;
}

}  // namespace dirproxy
