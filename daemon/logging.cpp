#include "daemon/logging.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace dirproxy::logging {
namespace {

std::mutex registry_mutex;
std::shared_ptr<spdlog::sinks::stderr_sink_mt> shared_sink;
std::atomic<bool> audit_enabled{true};

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
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"component", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"message", std::string(msg.payload.data(), msg.payload.size())},
    };
    auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
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

std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink() {
  if (!shared_sink) {
    shared_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    shared_sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc));
  }
  return shared_sink;
}

config::Log current_settings;

// The audit trail is kept whatever log.level says (at most info is filtered).
spdlog::level::level_enum level_of(const std::string& component) {
  auto level = to_spdlog(current_settings.level);
  if (component == "audit") return std::min(level, spdlog::level::info);
  return level;
}

}  // namespace

void configure(const config::Log& settings) {
  std::lock_guard lock(registry_mutex);
  current_settings = settings;
  if (settings.format == config::LogFormat::json) {
    sink()->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink()->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc));
  }
  audit_enabled = settings.audit;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& existing) {
    existing->set_level(level_of(existing->name()));
  });
}

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  std::lock_guard lock(registry_mutex);
  if (auto existing = spdlog::get(component)) return existing;
  auto created = std::make_shared<spdlog::logger>(component, sink());
  created->set_level(level_of(component));
  created->flush_on(spdlog::level::trace);
  spdlog::register_logger(created);
  return created;
}

void audit(const std::string& line) {
  if (!audit_enabled) return;
  logger("audit")->info("{}", line);
}

}  // namespace dirproxy::logging
