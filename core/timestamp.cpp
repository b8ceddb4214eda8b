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

std::int64_t whole_seconds(std::chrono::milliseconds duration) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration).count();
  return seconds < 1 ? 1 : seconds;
}

}  // namespace dirproxy
