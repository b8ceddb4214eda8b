// Logging for every layer through spdlog: one logger per component ("server",
// "request", "audit", "config", ...) so that every line carries its component,
// all writing to stderr, as text or one JSON object per line (log.format).
// Secrets never reach these loggers: requests are logged through
// redacted_request() (request_redaction.hpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

namespace dirproxy::logging {

// Sets the level of every component logger (the audit trail is never filtered
// below info), the line format, and whether audit() writes; safe to call
// again on reload. daemon/log_setup.hpp maps the configuration to it.
void apply(spdlog::level::level_enum level, std::unique_ptr<spdlog::formatter> formatter, bool audit);

// The logger of a component, e.g. logger("server").
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// The audit trail: one line per admin operation, signup and failed
// authentication; a no-op when log.audit is false.
void audit(const std::string& line);

// `text` in double quotes, with quotes, backslashes, control characters and
// invalid UTF-8 escaped (fmt's "{:?}"), so a value from a client can never
// forge a second key=value or a second line in a log.
std::string quoted(std::string_view text);

}  // namespace dirproxy::logging
