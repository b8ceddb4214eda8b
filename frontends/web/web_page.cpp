#include "frontends/web/web_page.hpp"

#include <algorithm>

#include "core/unicode_text.hpp"

namespace dirproxy::web {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_utf8_without_nul(std::string_view text) {
  while (!text.empty()) {
    const auto character = decode_utf8(text);
    if (!character || character->code_point == 0) return false;
    text.remove_prefix(character->bytes);
  }
  return true;
}

// One name or value of a urlencoded text, decoded; nullopt when malformed.
std::optional<std::string> decode_component(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      decoded += ' ';
    } else if (c == '%') {
      const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) return std::nullopt;
      decoded += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      decoded += c;
    }
  }
  if (!is_utf8_without_nul(decoded)) return std::nullopt;
  return decoded;
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string_view> Fields::get(std::string_view name) const {
  for (const auto& [field, value] : fields_) {
    if (field == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::vector<std::string> Fields::all(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [field, value] : fields_) {
    if (field == name) values.push_back(value);
  }
  return values;
}

Result<Fields> parse_urlencoded(std::string_view text, std::size_t max_fields) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    if (fields.size() == max_fields) {
      return make_error(ErrorCode::bad_request, "more than " + std::to_string(max_fields) + " fields");
    }
    const auto equals = pair.find('=');
    auto name = decode_component(pair.substr(0, equals));
    if (!name) return make_error(ErrorCode::bad_request, "a field name is not valid URL-encoded UTF-8");
    auto value = decode_component(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!value) {
      const bool printable_name = std::all_of(name->begin(), name->end(), [](char c) { return c > 0x20 && c < 0x7f; });
      return make_error(ErrorCode::bad_request, "the value is not valid URL-encoded UTF-8",
                        printable_name ? *name : std::string());
    }
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return Fields(std::move(fields));
}

std::map<std::string, std::string> parse_cookies(std::string_view header) {
  std::map<std::string, std::string> cookies;
  while (!header.empty()) {
    const auto semicolon = header.find(';');
    const std::string_view pair = trim_spaces(header.substr(0, semicolon));
    header = semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);
    const auto equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    std::string_view value = trim_spaces(pair.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    cookies.emplace(std::string(trim_spaces(pair.substr(0, equals))), std::string(value));
  }
  return cookies;
}

Response redirect_to(std::string path) {
  Response response;
  response.status = 303;
  response.redirect = std::move(path);
  return response;
}

Caller PageContext::caller(const Request& request) const {
  Caller caller;
  caller.front_end = FrontEnd::web;
  caller.connection = request.connection;
  caller.client_address = request.client_address;
  return caller;
}

void Routes::add(std::string path, Handler handler) { routes_.emplace_back(std::move(path), std::move(handler)); }

const Handler* Routes::find(std::string_view path) const {
  const Handler* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [route, handler] : routes_) {
    if (route == path) return &handler;
    if (route.ends_with('/') && path.starts_with(route) && route.size() > best_length) {
      best = &handler;
      best_length = route.size();
    }
  }
  return best;
}

}  // namespace dirproxy::web
