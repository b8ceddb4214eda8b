#include "core/timestamp.hpp"

#include <ctime>

namespace dirproxy {

namespace {

std::string utc_text(std::int64_t seconds, const char* format) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

}  // namespace

std::string rfc3339(std::int64_t seconds) { return utc_text(seconds, "%Y-%m-%dT%H:%M:%SZ"); }

std::string generalized_time(std::int64_t seconds) { return utc_text(seconds, "%Y%m%d%H%M%SZ"); }

namespace {

// The number made of `text`'s digits at [at, at + count), nullopt when one
// is not a digit.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Unix seconds of a UTC civil time, after checking the fields' ranges
// (timegm would quietly carry 2026-02-30 into March).
std::optional<std::int64_t> utc_seconds(int year, int month, int day, int hour, int minute, int second) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const std::time_t seconds = timegm(&utc);
  if (utc.tm_mday != day) return std::nullopt;
  return static_cast<std::int64_t>(seconds);
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return std::nullopt;
  }
  auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  return utc_seconds(*year, *month, *day, *hour, *minute, *second);
}

std::optional<std::int64_t> parse_generalized_time(std::string_view text) {
  auto year = digits(text, 0, 4), month = digits(text, 4, 2), day = digits(text, 6, 2);
  auto hour = digits(text, 8, 2), minute = digits(text, 10, 2), second = digits(text, 12, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  std::size_t at = 14;
  if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
    ++at;
    const std::size_t fraction = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    if (at == fraction) return std::nullopt;
  }
  std::int64_t offset = 0;  // seconds east of UTC
  if (at + 1 == text.size() && text[at] == 'Z') {
    offset = 0;
  } else if (at + 5 == text.size() && (text[at] == '+' || text[at] == '-')) {
    auto hours = digits(text, at + 1, 2), minutes = digits(text, at + 3, 2);
    if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
    offset = (text[at] == '+' ? 1 : -1) * (*hours * 3600 + *minutes * 60);
  } else {
    return std::nullopt;
  }
  auto local = utc_seconds(*year, *month, *day, *hour, *minute, *second);
  if (!local) return std::nullopt;
  return *local - offset;
}

std::int64_t whole_seconds(std::chrono::milliseconds duration) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration).count();
  return seconds < 1 ? 1 : seconds;
}

}  // namespace dirproxy
