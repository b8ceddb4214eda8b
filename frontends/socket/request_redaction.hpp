// The credential-free "safe string" of a request, for logs. Every parameter
// whose name says it is a secret (password, old_password, new_password,
// token, anything containing "password", "secret" or "token") is replaced by
// "<redacted>", whatever its type; long strings are cut as every logged value
// is (logging::shortened).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace dirproxy {

bool is_secret_parameter(std::string_view name);

// One line of JSON, safe to log. Recurses once per level of `request`, so
// give it only requests that parse_request has read (their depth is bounded).
std::string redacted_request(const nlohmann::json& request);

}  // namespace dirproxy
