// Time as the account life cycle stores and shows it: the state database
// compares Unix seconds (INTEGER columns), the protocol and the mails show
// RFC 3339 in UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dirproxy {

// `seconds` as RFC 3339 in UTC with second precision, e.g. 2026-05-01T12:34:56Z.
std::string rfc3339(std::int64_t seconds);

// `seconds` as an LDAP GeneralizedTime in UTC (RFC 4517 §3.3.13) with second
// precision, e.g. 20260501123456Z.
std::string generalized_time(std::int64_t seconds);

// A configured duration in whole seconds, at least 1 (a token that expires
// the moment it is issued would be useless).
std::int64_t whole_seconds(std::chrono::milliseconds duration);

}  // namespace dirproxy
