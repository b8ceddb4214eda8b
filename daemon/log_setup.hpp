// How dirproxyd's logs look (log.level, log.format, log.audit): text or one
// JSON object per line on stderr, with syslog priority prefixes under
// systemd's journal. The loggers themselves are core/logging.hpp's.
#pragma once

#include "config/config.hpp"

namespace dirproxy::logging {

// Applies the log settings; safe to call again on reload to change the level
// and format.
void configure(const config::Log& settings);

}  // namespace dirproxy::logging
