#include "core/logging.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace dirproxy::logging {
namespace {

std::mutex registry_mutex;
std::shared_ptr<spdlog::sinks::stderr_sink_mt> shared_sink;
std::atomic<bool> audit_enabled{true};
spdlog::level::level_enum current_level = spdlog::level::info;

std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink() {
  if (!shared_sink) {
    shared_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    shared_sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v",
                                                                           spdlog::pattern_time_type::utc));
  }
  return shared_sink;
}

// The audit trail is kept whatever log.level says (at most info is filtered).
spdlog::level::level_enum level_of(const std::string& component) {
  if (component == "audit") return std::min(current_level, spdlog::level::info);
  return current_level;
}

}  // namespace

void apply(spdlog::level::level_enum level, std::unique_ptr<spdlog::formatter> formatter, bool audit) {
  std::lock_guard lock(registry_mutex);
  current_level = level;
  sink()->set_formatter(std::move(formatter));
  audit_enabled = audit;
  spdlog::apply_all(
      [&](const std::shared_ptr<spdlog::logger>& existing) { existing->set_level(level_of(existing->name())); });
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

std::string shortened(std::string_view text) {
  if (text.size() <= kMaxLoggedValueBytes) return std::string(text);
  std::size_t cut = kMaxLoggedValueBytes;
  // Not inside a character: step back over UTF-8 continuation bytes (at most
  // three, so invalid text is cut at the limit less three anyway).
  for (int step = 0; step < 3 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++step) --cut;
  return fmt::format("{}...({} bytes)", text.substr(0, cut), text.size());
}

std::string quoted(std::string_view text) { return fmt::format("{:?}", shortened(text)); }

void audit(const std::string& line) {
  if (!audit_enabled) return;
  logger("audit")->info("{}", line);
}

}  // namespace dirproxy::logging
