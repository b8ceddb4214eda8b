// Reading the files a configuration names: the configuration file itself,
// secret files and email template overrides. Every failure comes back as a
// reason that names the file but never quotes its content, so that a secret
// cannot leak into a message. Internal to the config module.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace dirproxy::config {

// Opens `path` for reading; on failure `reason` says why.
std::optional<std::ifstream> open_for_reading(const std::filesystem::path& path, std::string& reason);

// The first line of a secret file, without its line ending. On failure
// `reason` says why without quoting any of the content.
std::optional<std::string> read_first_line(const std::filesystem::path& path, std::string& reason);

// The whole content of `path`; on failure, `reason` says why.
std::optional<std::string> read_whole_file(const std::filesystem::path& path, std::string& reason);

}  // namespace dirproxy::config
