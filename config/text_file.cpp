#include "config/text_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>

#include "core/unique_fd.hpp"

namespace dirproxy::config {

namespace {

namespace fs = std::filesystem;

// strerror() is not thread-safe, and a reload may run beside other threads.
std::string errno_text() { return std::generic_category().message(errno); }

std::string cannot_read(const fs::path& path, std::string_view why) {
  return "cannot read " + path.string() + ": " + std::string(why);
}

// Opens `path` and checks on the open descriptor, not on the name (which
// could be swapped in between), that it is a regular file. O_NONBLOCK, so
// that opening a FIFO does not wait for a writer; it changes nothing for the
// regular files that are then read.
UniqueFd open_regular_file(const fs::path& path, std::string& reason) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    reason = cannot_read(path, errno_text());
    return {};
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) {
    reason = cannot_read(path, errno_text());
    return {};
  }
  if (S_ISDIR(status.st_mode)) {
    reason = cannot_read(path, "is a directory");
    return {};
  }
  if (!S_ISREG(status.st_mode)) {
    reason = cannot_read(path, "not a regular file");
    return {};
  }
  return fd;
}

}  // namespace

bool check_readable_file(const fs::path& path, std::string& reason) {
  return static_cast<bool>(open_regular_file(path, reason));
}

std::optional<std::string> read_text_file(const fs::path& path, std::size_t max_bytes, std::string& reason) {
  UniqueFd fd = open_regular_file(path, reason);
  if (!fd) return std::nullopt;
  // One byte more than allowed tells a file at the limit from a larger one;
  // st_size would not (a file can grow, and /proc files report 0).
  std::string content(max_bytes + 1, '\0');
  std::size_t filled = 0;
  while (filled < content.size()) {
    const ssize_t got = ::read(fd.get(), content.data() + filled, content.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      reason = cannot_read(path, errno_text());
      return std::nullopt;
    }
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  if (filled > max_bytes) {
    reason = cannot_read(path, "larger than " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  content.resize(filled);
  return content;
}

std::optional<std::string> read_first_line(const fs::path& path, std::string& reason) {
  auto content = read_text_file(path, kMaxSecretFileBytes, reason);
  if (!content) return std::nullopt;
  std::string line = content->substr(0, content->find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    reason = "the first line of " + path.string() + " is empty";
    return std::nullopt;
  }
  return line;
}

}  // namespace dirproxy::config
