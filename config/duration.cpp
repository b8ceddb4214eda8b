#include "config/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace dirproxy::config {

namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

// Smallest unit first; format_duration walks it backwards to pick the largest.
constexpr std::array<Unit, 5> kUnits = {{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
}};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;  // also refuses "-5s", "+5s", " 5s"

  std::int64_t count = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, count);
  if (ec != std::errc() || end != text.data() + digits) return std::nullopt;

  const std::string_view suffix = text.substr(digits);
  std::int64_t scale = 0;
  if (suffix.empty()) {
    scale = 1000;  // a bare integer is seconds
  } else {
    for (const Unit& unit : kUnits) {
      if (suffix == unit.suffix) scale = unit.milliseconds;
    }
    if (scale == 0) return std::nullopt;
  }

  if (count > std::numeric_limits<std::chrono::milliseconds::rep>::max() / scale) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(count * scale);
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t count = duration.count();
  if (count < 0) {
    // Avoid negating the minimum value, which does not fit.
    if (count == std::numeric_limits<std::int64_t>::min()) return std::to_string(count) + "ms";
    return "-" + format_duration(std::chrono::milliseconds(-count));
  }
  if (count == 0) return "0s";
  for (auto unit = kUnits.rbegin(); unit != kUnits.rend(); ++unit) {
    if (count % unit->milliseconds == 0) {
      return std::to_string(count / unit->milliseconds) + std::string(unit->suffix);
    }
  }
  return std::to_string(count) + "ms";
}

}  // namespace dirproxy::config
