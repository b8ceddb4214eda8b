#include "daemon/log_setup.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>

#include <spdlog/pattern_formatter.h>
#include <nlohmann/json.hpp>

#include "core/logging.hpp"

namespace dirproxy::logging {
namespace {

// One JSON object per line: {"time", "level", "component", "message"}, with
// the message escaped by nlohmann-json so that any text stays one valid line.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto time = std::chrono::system_clock::to_time_t(msg.time);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()) % 1000;
    std::tm utc{};
    gmtime_r(&time, &utc);
    char seconds[32];
    std::strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &utc);
    const std::string stamp = fmt::format("{}.{:03}Z", seconds, millis.count());
    nlohmann::json line = {
        {"time", stamp},
        {"level",
         std::string(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size())},
        {"component", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"message", std::string(msg.payload.data(), msg.payload.size())},
    };
    auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Under systemd (JOURNAL_STREAM set) every line starts with its syslog
// priority, "<6>", which journald turns into the entry's priority, and
// carries no timestamp: the journal adds its own.
int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    case spdlog::level::critical: return 2;
    default: return 6;
  }
}

class JournalFormatter final : public spdlog::formatter {
 public:
  explicit JournalFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string prefix = "<" + std::to_string(syslog_priority(msg.level)) + ">";
    dest.append(prefix.data(), prefix.data() + prefix.size());
    inner_->format(msg, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JournalFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

spdlog::level::level_enum to_spdlog(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::trace: return spdlog::level::trace;
    case config::LogLevel::debug: return spdlog::level::debug;
    case config::LogLevel::info: return spdlog::level::info;
    case config::LogLevel::warn: return spdlog::level::warn;
    case config::LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void configure(const config::Log& settings) {
  const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  std::unique_ptr<spdlog::formatter> formatter;
  if (settings.format == config::LogFormat::json) {
    formatter = std::make_unique<JsonFormatter>();
  } else if (journal) {
    formatter = std::make_unique<spdlog::pattern_formatter>("%l [%n] %v");
  } else {
    formatter =
        std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc);
  }
  if (journal) formatter = std::make_unique<JournalFormatter>(std::move(formatter));
  apply(to_spdlog(settings.level), std::move(formatter), settings.audit);
}

}  // namespace dirproxy::logging
