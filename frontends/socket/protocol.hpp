// The JSON Lines codec of the local socket protocol (docs/protocol.md): parsing a
// request line, checking its parameters against a declared list, and
// building response lines. Shared by dirproxyd, dirproxyctl and the tests;
// knows nothing about sockets.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace dirproxy::protocol {

using Json = nlohmann::json;

// How deep a request may nest arrays and objects, the request object itself
// being the first level (requests need two: an object holding a list). A
// deeper one is refused while it is parsed, before anything walks it, so
// that nothing that recurses (logging, copying, dumping) meets an
// attacker's depth.
inline constexpr int kMaxNestingDepth = 32;

struct Request {
  std::string op;
  Json id;      // null when the request had none; echoed unchanged
  Json params;  // an object: every member but "op" and "id"
};

// Parses one request line (without its '\n'). A line that is not a JSON
// object (a NUL byte anywhere makes it none), that nests deeper than
// kMaxNestingDepth, whose "op" is missing or not a string, or whose "id" is
// not one that can be echoed exactly (a string, a boolean, null, or a number
// from -2^63 to 2^64-1) is bad_request; `id_out` still receives the id when
// one could be read, so the error can echo it.
Result<Request> parse_request(std::string_view line, Json* id_out = nullptr);

enum class ParamType {
  string,          // a JSON string
  boolean,         // true / false
  integer,         // a JSON integer (not a float) that fits in std::int64_t
  string_list,     // an array of strings
  string_or_list,  // a string, or an array of strings
  scalar,          // any JSON scalar (string, number, boolean)
};

enum class Presence {
  optional,  // may be absent (or null)
  required,  // bad_request naming it when absent
};

struct ParamSpec {
  std::string_view name;
  ParamType type;
  Presence presence = Presence::optional;
};

// Checks `params` against `specs`: a missing required parameter, an unknown
// parameter, one of the wrong type, or an integer out of std::int64_t's range
// is bad_request naming it (Error::field is set to the parameter's name). A
// JSON null counts as absent.
Result<void> check_params(const Json& params, std::span<const ParamSpec> specs);

// {"id": id, "ok": true, ...result}; `result` must be an object (or null).
std::string success_line(const Json& id, const Json& result);

// {"id": id, "ok": false, "error": {"code", "message", "field"?}, ...extra}
// `directory` is added to the top level for directory_unavailable and
// `retry_after` for account_locked and rate_limited, as is every member of
// `extra`.
std::string error_line(const Json& id, const Error& error, const Json& extra = Json::object());

}  // namespace dirproxy::protocol
