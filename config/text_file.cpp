#include "config/text_file.hpp"

#include <cerrno>
#include <iterator>
#include <system_error>

namespace dirproxy::config {

namespace {

namespace fs = std::filesystem;

// strerror() is not thread-safe, and a reload may run beside other threads.
std::string errno_text() { return std::generic_category().message(errno); }

}  // namespace

std::optional<std::ifstream> open_for_reading(const fs::path& path, std::string& reason) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reason = "cannot read " + path.string() + ": " + errno_text();
    return std::nullopt;
  }
  // Opening a directory succeeds on Linux; reading it would not.
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    reason = "cannot read " + path.string() + ": is a directory";
    return std::nullopt;
  }
  return in;
}

std::optional<std::string> read_first_line(const fs::path& path, std::string& reason) {
  auto in = open_for_reading(path, reason);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(*in, line);
  if (in->bad()) {
    reason = "cannot read " + path.string();
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    reason = "the first line of " + path.string() + " is empty";
    return std::nullopt;
  }
  return line;
}

std::optional<std::string> read_whole_file(const fs::path& path, std::string& reason) {
  auto in = open_for_reading(path, reason);
  if (!in) return std::nullopt;
  std::string content((std::istreambuf_iterator<char>(*in)), std::istreambuf_iterator<char>());
  if (in->bad()) {
    reason = "cannot read " + path.string();
    return std::nullopt;
  }
  return content;
}

}  // namespace dirproxy::config
