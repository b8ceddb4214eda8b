#include "storage/string_list_column.hpp"

#include <nlohmann/json.hpp>

namespace dirproxy {

std::string encode_string_list(const std::vector<std::string>& values) { return nlohmann::json(values).dump(); }

std::vector<std::string> decode_string_list(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> values;
  if (!parsed.is_array()) return values;
  for (const auto& value : parsed) {
    if (value.is_string()) values.push_back(value.get<std::string>());
  }
  return values;
}

}  // namespace dirproxy
