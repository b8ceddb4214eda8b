// Loads and validates the YAML configuration file into an immutable Config.
//
// Validation follows docs/configuration.md: an unknown key is an error, every error names
// "file:line:column: key.path: what is wrong", all errors are collected (not
// just the first), and the cross-field rules are checked once every key has
// been read. Relative paths in the file (state_dir, server.socket, secret
// files, templates_dir) are resolved against the directory of the file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace dirproxy::config {

struct LoadResult {
  std::optional<Config> config;       // set only when errors is empty
  std::vector<std::string> errors;    // "file:line:col: path: message"
  std::vector<std::string> warnings;  // same form; never prevent loading

  bool ok() const { return errors.empty(); }
};

// Reads and validates `path`. Never throws.
LoadResult load_config_file(const std::filesystem::path& path);

// Validates YAML text; `display_name` is used in messages and `base_dir` for
// resolving relative paths. Never throws.
LoadResult load_config_text(std::string_view yaml, const std::string& display_name,
                            const std::filesystem::path& base_dir);

}  // namespace dirproxy::config
