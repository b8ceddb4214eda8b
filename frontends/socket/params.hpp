// Reading a request's parameters into typed values, after check_params has
// checked their presence and types (protocol.hpp): so these never meet a
// missing required parameter or a value of the wrong type. A JSON null counts
// as absent, as in check_params.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontends/socket/protocol.hpp"

namespace dirproxy::protocol {

std::string required_string(const Json& params, const char* name);
std::optional<std::string> optional_string(const Json& params, const char* name);
std::int64_t required_integer(const Json& params, const char* name);
std::optional<std::int64_t> optional_integer(const Json& params, const char* name);
std::optional<bool> optional_boolean(const Json& params, const char* name);
// A string_list parameter; absent: empty.
std::vector<std::string> optional_string_list(const Json& params, const char* name);

// JSON null for an absent value.
Json nullable(const std::optional<std::string>& value);

}  // namespace dirproxy::protocol
