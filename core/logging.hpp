// Logging for every layer through spdlog: one logger per component ("server",
// "request", "audit", "config", ...) so that every line carries its component,
// all writing to stderr, as text or one JSON object per line (log.format).
// Secrets never reach these loggers: requests are logged through
// redacted_request() (request_redaction.hpp).
#pragma once

#include <cstddef>
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

// How much of a value from a client a log line shows: a longer one is cut
// (shortened()), so that a 20,000-character username cannot make a 20 KB
// audit line. Usernames and email addresses fit whole (254 bytes at most).
inline constexpr std::size_t kMaxLoggedValueBytes = 256;

// `text` when it fits in kMaxLoggedValueBytes; otherwise its first bytes up
// to that limit (cut between two UTF-8 characters) followed by
// "...(N bytes)", N being the whole length.
std::string shortened(std::string_view text);

// shortened(text) in double quotes, with quotes, backslashes, control
// characters and invalid UTF-8 escaped (fmt's "{:?}"), so a value from a
// client can never forge a second key=value or a second line in a log. Every
// value from a client in an audit or log line goes through here.
std::string quoted(std::string_view text);

}  // namespace dirproxy::logging
