#include "frontends/socket/protocol.hpp"

#include <cstdint>
#include <limits>

namespace dirproxy::protocol {
namespace {

bool is_scalar(const Json& v) { return v.is_string() || v.is_number() || v.is_boolean() || v.is_null(); }

// An id the answer can carry back as it came. Integers from -2^63 to 2^64-1
// are held exactly (std::int64_t, std::uint64_t); a number outside that
// range is held as a double, so an integer id there would come back as a
// float, and another id could come back the same. Such a number cannot be
// told from a float written with an exponent, so the range holds for every
// number; a fraction inside it comes back as the same double.
bool is_echoable_id(const Json& id) {
  if (!is_scalar(id)) return false;
  if (!id.is_number_float()) return true;
  const double value = id.get<double>();
  // -2^63 is refused as a double too: -9223372036854775809 rounds to it.
  return value > -0x1p63 && value < 0x1p64;
}

// A JSON integer that fits in std::int64_t (nlohmann holds non-negative
// integers as std::uint64_t, which goes 2^63 further).
bool fits_int64(const Json& v) {
  if (v.is_number_unsigned()) {
    return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  return v.is_number_integer();
}

// The request line parsed, with arrays and objects deeper than
// kMaxNestingDepth left out (the parser's callback discards them before they
// are built; `too_deep` says so). A discarded value when it is not JSON.
Json parse_bounded(std::string_view line, bool& too_deep) {
  too_deep = false;
  auto within_depth = [&too_deep](int depth, Json::parse_event_t event, Json&) {
    const bool opens = event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    // `depth` counts the containers around the one that opens.
    if (opens && depth >= kMaxNestingDepth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  return Json::parse(line, within_depth, /*allow_exceptions=*/false);
}

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
  // nlohmann's lexer takes a NUL for the end of the input, so the rest of the
  // line would go unread; a raw NUL is never valid JSON, in a string or not.
  if (line.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::bad_request, "the request is not valid JSON: it contains a NUL byte");
  }
  bool too_deep = false;
  Json doc = parse_bounded(line, too_deep);
  if (too_deep) {
    return fail(ErrorCode::bad_request,
                "the request nests arrays and objects deeper than " + std::to_string(kMaxNestingDepth) + " levels");
  }
  if (doc.is_discarded()) {
    return fail(ErrorCode::bad_request, "the request is not valid JSON");
  }
  if (!doc.is_object()) {
    return fail(ErrorCode::bad_request, "the request must be a JSON object");
  }
  Request request;
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!is_echoable_id(*it)) {
      return fail(ErrorCode::bad_request,
                  "'id' must be a string, a boolean, null, or a number from -2^63 to 2^64-1 (a larger id fits in a "
                  "string)",
                  "id");
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
    if (spec->type == ParamType::integer && !value.is_null() && !fits_int64(value)) {
      return fail(ErrorCode::bad_request,
                  "parameter '" + key + "' is out of range: at most " +
                      std::to_string(std::numeric_limits<std::int64_t>::max()),
                  key);
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
