// Durations as the configuration file writes them: "500ms", "30s", "5m",
// "24h", "7d", or a bare integer meaning seconds. One number and one unit;
// no signs, fractions, spaces or combinations like "1h30m", so that a value
// reads the same to the administrator and to the daemon.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dirproxy::config {

// The duration `text` denotes, or nullopt when it is not a duration or does
// not fit in std::chrono::milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact spelling parse_duration accepts, e.g. "90s", "7d", "0s",
// "1500ms". Negative durations are written with a leading '-' (never parsed).
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace dirproxy::config
