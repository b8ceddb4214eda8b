// Logging for dirproxyd through spdlog: one logger per component ("server",
// "request", "audit", "config", ...) so that every line carries its component,
// all writing to stderr, as text or one JSON object per line (log.format).
// Secrets never reach these loggers: requests are logged through
// redacted_request() (request_redaction.hpp).
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "config/config.hpp"

namespace dirproxy::logging {

// Creates the component loggers on first use; safe to call again on reload to
// change the level and format.
void configure(const config::Log& settings);

// The logger of a component, e.g. logger("server").
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// The audit trail: one line per admin operation, signup and failed
// authentication; a no-op when log.audit is false.
void audit(const std::string& line);

}  // namespace dirproxy::logging
