// Time as the account life cycle stores and shows it: the state database
// compares Unix seconds (INTEGER columns), the protocol and the mails show
// RFC 3339 in UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dirproxy {

// `seconds` as RFC 3339 in UTC with second precision, e.g. 2026-05-01T12:34:56Z.
std::string rfc3339(std::int64_t seconds);

// `seconds` as an LDAP GeneralizedTime in UTC (RFC 4517 §3.3.13) with second
// precision, e.g. 20260501123456Z.
std::string generalized_time(std::int64_t seconds);

// Unix seconds of an RFC 3339 UTC time as rfc3339() writes it
// (2026-05-01T12:34:56Z); nullopt for any other text.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

// Unix seconds of an LDAP GeneralizedTime (RFC 4517 3.3.13) in UTC, as
// servers write createTimestamp and modifyTimestamp: YYYYMMDDHHMMSS, an
// optional fraction (dropped), then Z or a +HHMM/-HHMM offset. Minutes and
// seconds are required (servers always send them). nullopt otherwise.
std::optional<std::int64_t> parse_generalized_time(std::string_view text);

// A configured duration in whole seconds, at least 1 (a token that expires
// the moment it is issued would be useless).
std::int64_t whole_seconds(std::chrono::milliseconds duration);

}  // namespace dirproxy
