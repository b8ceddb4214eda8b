#include "frontends/socket/request_redaction.hpp"

#include <algorithm>
#include <array>

#include "core/logging.hpp"
#include "core/names.hpp"

namespace dirproxy {
namespace {

// Recursive: its input is a request that parse_request has bounded to
// protocol::kMaxNestingDepth levels.
nlohmann::json redact(const nlohmann::json& value) {
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) {
      out[key] = is_secret_parameter(key) ? nlohmann::json("<redacted>") : redact(item);
    }
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(redact(item));
    return out;
  }
  if (value.is_string()) return logging::shortened(value.get_ref<const std::string&>());
  return value;
}

}  // namespace

bool is_secret_parameter(std::string_view name) {
  static constexpr std::array<std::string_view, 4> kMarkers = {"password", "token", "secret", "link"};
  const std::string folded = ascii_lower(name);
  return std::any_of(kMarkers.begin(), kMarkers.end(),
                     [&](std::string_view marker) { return folded.find(marker) != std::string::npos; });
}

std::string redacted_request(const nlohmann::json& request) {
  return redact(request).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dirproxy
