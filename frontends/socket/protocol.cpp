#include "frontends/socket/protocol.hpp"

namespace dirproxy::protocol {
namespace {

bool is_scalar(const Json& v) { return v.is_string() || v.is_number() || v.is_boolean() || v.is_null(); }

bool has_type(const Json& v, ParamType type) {
  switch (type) {
    case ParamType::string: return v.is_string();
    case ParamType::boolean: return v.is_boolean();
    case ParamType::integer: return v.is_number_integer();
    case ParamType::scalar: return is_scalar(v) && !v.is_null();
    case ParamType::string_list:
    case ParamType::string_or_list:
      if (type == ParamType::string_or_list && v.is_string()) return true;
      if (!v.is_array()) return false;
      for (const auto& item : v) {
        if (!item.is_string()) return false;
      }
      return true;
  }
  return false;
}

std::string_view type_name(ParamType type) {
  switch (type) {
    case ParamType::string: return "a string";
    case ParamType::boolean: return "true or false";
    case ParamType::integer: return "an integer";
    case ParamType::string_list: return "a list of strings";
    case ParamType::string_or_list: return "a string or a list of strings";
    case ParamType::scalar: return "a string, number or boolean";
  }
  return "?";
}

}  // namespace

Result<Request> parse_request(std::string_view line, Json* id_out) {
  Json doc = Json::parse(line, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return fail(ErrorCode::bad_request, "the request is not valid JSON");
  }
  if (!doc.is_object()) {
    return fail(ErrorCode::bad_request, "the request must be a JSON object");
  }
  Request request;
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!is_scalar(*it)) {
      return fail(ErrorCode::bad_request, "'id' must be a string, number, boolean or null", "id");
    }
    request.id = *it;
    if (id_out != nullptr) *id_out = *it;
    doc.erase(it);
  }
  auto op = doc.find("op");
  if (op == doc.end()) {
    return fail(ErrorCode::bad_request, "missing parameter 'op'", "op");
  }
  if (!op->is_string()) {
    return fail(ErrorCode::bad_request, "'op' must be a string", "op");
  }
  request.op = op->get<std::string>();
  doc.erase(op);
  request.params = std::move(doc);
  return request;
}

Result<void> check_params(const Json& params, std::span<const ParamSpec> specs) {
  for (const auto& [key, value] : params.items()) {
    const ParamSpec* spec = nullptr;
    for (const auto& candidate : specs) {
      if (candidate.name == key) spec = &candidate;
    }
    if (spec == nullptr) {
      return fail(ErrorCode::bad_request, "unknown parameter '" + key + "'", key);
    }
    if (!value.is_null() && !has_type(value, spec->type)) {
      return fail(ErrorCode::bad_request, "parameter '" + key + "' must be " + std::string(type_name(spec->type)), key);
    }
  }
  for (const auto& spec : specs) {
    if (spec.presence != Presence::required) continue;
    auto it = params.find(spec.name);
    if (it == params.end() || it->is_null()) {
      std::string name(spec.name);
      return fail(ErrorCode::bad_request, "missing parameter '" + name + "'", name);
    }
  }
  return {};
}

std::string success_line(const Json& id, const Json& result) {
  Json response = Json::object();
  response["id"] = id;
  response["ok"] = true;
  if (result.is_object()) {
    for (const auto& [key, value] : result.items()) response[key] = value;
  }
  // Replace invalid UTF-8 rather than throw: stored data is not ours to trust.
  return response.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string error_line(const Json& id, const Error& error, const Json& extra) {
  Json body = {{"code", to_string(error.code)}, {"message", error.message}};
  if (!error.field.empty()) body["field"] = error.field;
  Json response = {{"id", id}, {"ok", false}, {"error", std::move(body)}};
  if (!error.directory.empty()) response["directory"] = error.directory;
  if (error.retry_after) response["retry_after"] = *error.retry_after;
  for (const auto& [key, value] : extra.items()) response[key] = value;
  return response.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace dirproxy::protocol
