#include "frontends/socket/params.hpp"

namespace dirproxy::protocol {
namespace {

const Json* present(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::string required_string(const Json& params, const char* name) { return params.at(name).get<std::string>(); }

std::optional<std::string> optional_string(const Json& params, const char* name) {
  const Json* value = present(params, name);
  if (value == nullptr) return std::nullopt;
  return value->get<std::string>();
}

std::int64_t required_integer(const Json& params, const char* name) { return params.at(name).get<std::int64_t>(); }

std::optional<std::int64_t> optional_integer(const Json& params, const char* name) {
  const Json* value = present(params, name);
  if (value == nullptr) return std::nullopt;
  return value->get<std::int64_t>();
}

std::optional<bool> optional_boolean(const Json& params, const char* name) {
  const Json* value = present(params, name);
  if (value == nullptr) return std::nullopt;
  return value->get<bool>();
}

std::vector<std::string> optional_string_list(const Json& params, const char* name) {
  const Json* value = present(params, name);
  if (value == nullptr) return {};
  return value->get<std::vector<std::string>>();
}

Json nullable(const std::optional<std::string>& value) { return value ? Json(*value) : Json(nullptr); }

}  // namespace dirproxy::protocol
