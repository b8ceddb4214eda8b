#include "frontends/web/web_request.hpp"

#include <algorithm>
#include <cctype>

#include "core/unicode_text.hpp"

namespace dirproxy::web {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool only_digits(std::string_view text) {
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Every character of `text` is UTF-8 and shows itself.
bool harmless_text(std::string_view text) {
  while (!text.empty()) {
    const auto character = decode_utf8(text);
    if (!character || hazard_of(character->code_point) != TextHazard::none) return false;
    text.remove_prefix(character->bytes);
  }
  return true;
}

// One hop of X-Forwarded-For: "192.0.2.7", "192.0.2.7:5000", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:80"; nullopt for anything else.
std::optional<asio::ip::address> forwarded_hop(std::string_view hop) {
  hop = trim(hop);
  std::string_view address = hop;
  if (hop.starts_with('[')) {
    const auto close = hop.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = hop.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && only_digits(rest.substr(1)))) return std::nullopt;
    address = hop.substr(1, close - 1);
  } else if (std::count(hop.begin(), hop.end(), ':') == 1) {
    const auto colon = hop.find(':');
    if (!only_digits(hop.substr(colon + 1))) return std::nullopt;
    address = hop.substr(0, colon);
  }
  boost::system::error_code ec;
  const auto parsed = asio::ip::make_address(std::string(address), ec);
  if (ec) return std::nullopt;
  return unmapped(parsed);
}

std::string_view last_list_item(std::string_view list) {
  const auto comma = list.rfind(',');
  return trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Method method_of(std::string_view method) {
  if (method == "GET") return Method::get;
  if (method == "HEAD") return Method::head;
  if (method == "POST") return Method::post;
  return Method::other;
}

Result<std::string> decode_path(std::string_view path) {
  if (!path.starts_with('/')) return fail(ErrorCode::bad_request, "the request target is not a path");
  std::string decoded;
  decoded.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\') return fail(ErrorCode::bad_request, "the path holds a '\\'");
    if (c == '%') {
      const int high = i + 1 < path.size() ? hex_digit(path[i + 1]) : -1;
      const int low = i + 2 < path.size() ? hex_digit(path[i + 2]) : -1;
      if (high < 0 || low < 0) return fail(ErrorCode::bad_request, "the path holds a malformed %-escape");
      c = static_cast<char>(high * 16 + low);
      if (c == '/' || c == '\\') return fail(ErrorCode::bad_request, "the path holds an encoded '/' or '\\'");
      i += 2;
    }
    decoded += c;
  }
  if (!harmless_text(decoded)) {
    return fail(ErrorCode::bad_request, "the path is not UTF-8 or holds a control character");
  }
  // Every segment after the leading '/'; the last may be empty ("/admin/").
  std::string_view rest = std::string_view(decoded).substr(1);
  for (;;) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment == "." || segment == "..") return fail(ErrorCode::bad_request, "the path holds a '.' or '..' segment");
    if (slash == std::string_view::npos) break;
    if (segment.empty()) return fail(ErrorCode::bad_request, "the path holds an empty segment");
    rest.remove_prefix(slash + 1);
  }
  return decoded;
}

bool is_local_path(std::string_view path) {
  if (!path.starts_with('/') || path.starts_with("//")) return false;
  return std::none_of(path.begin(), path.end(),
                      [](char c) { return c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string client_address(const asio::ip::address& peer, std::string_view forwarded_for,
                           const TrustedProxies& trusted) {
  asio::ip::address client = unmapped(peer);
  if (!trusted.contains(client)) return client.to_string();
  std::string_view hops = forwarded_for;
  while (!trim(hops).empty()) {
    const auto comma = hops.rfind(',');
    const std::string_view hop = comma == std::string_view::npos ? hops : hops.substr(comma + 1);
    hops = comma == std::string_view::npos ? std::string_view() : hops.substr(0, comma);
    if (trim(hop).empty()) continue;  // "a, , b": an empty item of a list, as RFC 9110 allows
    const auto address = forwarded_hop(hop);
    if (!address) break;
    client = *address;
    if (!trusted.contains(client)) break;
  }
  return client.to_string();
}

bool secure_request(const RequestOrigin& origin, std::string_view forwarded_proto, const TrustedProxies& trusted) {
  if (origin.tls) return true;
  return trusted.contains(origin.peer) && equals_ignoring_case(last_list_item(forwarded_proto), "https");
}

bool is_form_content_type(std::string_view content_type) {
  return equals_ignoring_case(trim(content_type.substr(0, content_type.find(';'))),
                              "application/x-www-form-urlencoded");
}

Result<Request> build_request(const HttpRequestParts& parts, const RequestOrigin& origin,
                              const TrustedProxies& trusted) {
  Request request;
  request.method = method_of(parts.method);
  const auto question = parts.target.find('?');
  auto path = decode_path(parts.target.substr(0, question));
  RETURN_IF_ERROR(path);
  request.path = std::move(*path);
  if (question != std::string_view::npos) {
    auto query = parse_urlencoded(parts.target.substr(question + 1));
    RETURN_IF_ERROR(query);
    request.query = std::move(*query);
  }
  if (request.method == Method::post && is_form_content_type(parts.content_type)) {
    auto form = parse_urlencoded(parts.body);
    RETURN_IF_ERROR(form);
    request.form = std::move(*form);
  }
  request.cookies = parse_cookies(parts.cookie);
  request.client_address = client_address(origin.peer, parts.forwarded_for, trusted);
  request.secure = secure_request(origin, parts.forwarded_proto, trusted);
  request.connection = origin.connection;
  return request;
}

}  // namespace dirproxy::web
