// Helpers shared by the configuration tests: a minimal valid file to build
// on, a loader call with a fixed display name, and a scratch directory.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config_loader.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy::config::testing {

// The smallest file that loads.
inline const std::string kMinimal =
    "directories:\n"
    "  - name: internal\n"
    "    type: internal\n";

inline LoadResult load(std::string_view yaml, const std::filesystem::path& base_dir = "/etc/dirproxy") {
  return load_config_text(yaml, "dirproxy.yaml", base_dir);
}

// Loads `yaml`, which must be valid, and returns its Config.
inline Config load_ok(std::string_view yaml, const std::filesystem::path& base_dir = "/etc/dirproxy") {
  LoadResult result = load(yaml, base_dir);
  EXPECT_THAT(result.errors, ::testing::IsEmpty());
  return result.config.value_or(Config{});
}

// A fresh directory for one test, removed with its content.
using ScratchDirectory = dirproxy::testing::TemporaryDirectory;

// Sets an environment variable for the lifetime of the object.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnvironment() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace dirproxy::config::testing
