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

std::optional<int> activation_socket(std::string* error) {
  auto pid = number_from_environment("LISTEN_PID");
  auto count = number_from_environment("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!pid || *pid != static_cast<unsigned long long>(::getpid()) || !count || *count == 0) return std::nullopt;
  if (*count != 1) {
    if (error != nullptr) *error = "systemd passed " + std::to_string(*count) + " sockets; dirproxyd takes exactly one";
    return std::nullopt;
  }
  ::fcntl(kFirstPassedDescriptor, F_SETFD, FD_CLOEXEC);
  return kFirstPassedDescriptor;
}

}  // namespace dirproxy
