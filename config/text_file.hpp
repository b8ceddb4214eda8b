// Reading the files a configuration names: the configuration file itself,
// secret files and email template overrides. Every failure comes back as a
// reason that names the file but never quotes its content, so that a secret
// cannot leak into a message. Internal to the config module.
//
// Every read goes through one reader with a size limit, and only regular
// files are read: `password_file: /dev/zero` or a FIFO fails at once instead
// of reading gigabytes or waiting for a writer. The limits are in
// docs/configuration.md ("Limits").
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace dirproxy::config {

inline constexpr std::size_t kMaxConfigFileBytes = 1024 * 1024;
inline constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;
inline constexpr std::size_t kMaxMailTemplateBytes = 64 * 1024;

// Checks that `path` is a regular file this process can open for reading,
// without reading it (for files that a library reads later, such as CA
// bundles); on failure `reason` says why.
bool check_readable_file(const std::filesystem::path& path, std::string& reason);

// The whole content of the regular file `path`, at most `max_bytes` of it;
// on failure (including a larger file), `reason` says why.
std::optional<std::string> read_text_file(const std::filesystem::path& path, std::size_t max_bytes,
                                          std::string& reason);

// The first line of a secret file (at most kMaxSecretFileBytes in all),
// without its line ending. On failure `reason` says why without quoting any
// of the content.
std::optional<std::string> read_first_line(const std::filesystem::path& path, std::string& reason);

}  // namespace dirproxy::config
