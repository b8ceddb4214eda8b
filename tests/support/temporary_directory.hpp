// A fresh directory under /tmp for one test, removed with everything in it
// when the test ends, so tests never see each other's state files. Shared by
// every test executable (tests/ is on their include path).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace dirproxy::testing {

class TemporaryDirectory final {
 public:
  // /tmp/PREFIX-XXXXXX; keep the prefix short where a Unix socket will live
  // inside (socket paths are limited to 107 bytes).
  explicit TemporaryDirectory(const std::string& prefix = "dirproxy-test") {
    std::string name = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(name.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + name);
    }
    path_ = name;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to PATH/relative (creating folders); returns the file.
  std::filesystem::path write(const std::filesystem::path& relative, std::string_view content) const {
    const std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace dirproxy::testing
