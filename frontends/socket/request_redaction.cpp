#include "frontends/socket/request_redaction.hpp"

#include <algorithm>
#include <array>

#include "core/names.hpp"

namespace dirproxy {
namespace {

constexpr std::size_t kMaxLoggedString = 200;

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
  if (value.is_string() && value.get_ref<const std::string&>().size() > kMaxLoggedString) {
    return value.get_ref<const std::string&>().substr(0, kMaxLoggedString) + "...";
  }
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
