// Fuzz target web_request: what a browser or a proxy sends the web
// listener, through the web front end's request building (frontends/web/
// web_request.hpp, web_page.hpp): the request target (decode_path and the
// query string through parse_urlencoded), a form body (parse_urlencoded), a
// Cookie header (parse_cookies), and X-Forwarded-For / X-Forwarded-Proto
// behind a trusted proxy (client_address, secure_request), all through
// build_request as the server calls it.
//
// Input: "TARGET\0BODY\0COOKIE\0FORWARDED_FOR\0FORWARDED_PROTO"
// (fuzz_input.hpp's fields). The target may start with anything: the
// server takes whatever Beast's parser accepts as a target.
//
// Properties checked besides "no crash": a decoded path is a path of this
// site that is_local_path takes as a redirect target (no "//", '\', "." or
// ".." segment, no control character); parsed fields are UTF-8 without NUL
// and, encoded again, parse to the same fields; cookies have non-empty
// names and no ';' in names or values; the client's address is an IP
// address, the peer's own when the peer is not trusted; build_request
// succeeds exactly when the path and query (and, for a form, the body)
// decode, and its path and client are theirs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/unicode_text.hpp"
#include "frontends/web/web_request.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

using dirproxy::fuzz::require;
namespace web = dirproxy::web;
namespace asio = dirproxy::asio;

bool is_utf8_without_nul(std::string_view text) {
  while (!text.empty()) {
    const auto character = dirproxy::decode_utf8(text);
    if (!character || character->code_point == 0) return false;
    text.remove_prefix(character->bytes);
  }
  return true;
}

std::string encode_component(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return encoded;
}

void check_fields(std::string_view text) {
  const auto fields = web::parse_urlencoded(text);
  if (!fields) return;
  std::string again;
  for (const auto& [name, value] : fields->items()) {
    require(is_utf8_without_nul(name) && is_utf8_without_nul(value), "parsed fields are UTF-8 without NUL", name);
    if (!again.empty()) again += '&';
    again += encode_component(name) + "=" + encode_component(value);
  }
  const auto reparsed = web::parse_urlencoded(again);
  require(reparsed.has_value() && reparsed->items() == fields->items(), "encoded fields parse to the same fields",
          again);
}

void check_path(std::string_view path) {
  const auto decoded = web::decode_path(path);
  if (!decoded) return;
  require(web::is_local_path(*decoded), "a decoded path is a local path", *decoded);
  require(decoded->find("//") == std::string::npos, "a decoded path has no empty segment", *decoded);
  require(decoded->find("/../") == std::string::npos && !decoded->ends_with("/..") &&
              decoded->find("/./") == std::string::npos && !decoded->ends_with("/."),
          "a decoded path has no dot segment", *decoded);
}

void check_cookies(std::string_view header) {
  for (const auto& [name, value] : web::parse_cookies(header)) {
    require(!name.empty(), "a cookie has a name", header);
    require(name.find(';') == std::string::npos && value.find(';') == std::string::npos,
            "a cookie holds no ';'", name + "=" + value);
  }
}

const web::TrustedProxies& trusted() {
  static const web::TrustedProxies proxies = *web::TrustedProxies::parse({"127.0.0.1", "10.0.0.0/8", "::1"});
  return proxies;
}

void check_client_address(std::string_view forwarded_for) {
  for (const char* peer : {"127.0.0.1", "::1", "192.0.2.1", "::ffff:10.1.2.3"}) {
    const auto address = asio::ip::make_address(peer);
    const std::string client = web::client_address(address, forwarded_for, trusted());
    boost::system::error_code ec;
    (void)asio::ip::make_address(client, ec);
    require(!ec, "the client's address is an IP address", client);
    if (!trusted().contains(address)) require(client == peer, "an untrusted peer is the client", client);
  }
}

void check_build(const web::HttpRequestParts& parts, const web::RequestOrigin& origin) {
  const auto request = web::build_request(parts, origin, trusted());
  const auto question = parts.target.find('?');
  const auto path = web::decode_path(parts.target.substr(0, question));
  const bool query_ok = question == std::string_view::npos || web::parse_urlencoded(parts.target.substr(question + 1));
  const bool form_ok = !web::is_form_content_type(parts.content_type) || parts.method != "POST" ||
                       web::parse_urlencoded(parts.body).has_value();
  require(request.has_value() == (path.has_value() && query_ok && form_ok),
          "build_request succeeds exactly when its parts decode", parts.target);
  if (!request) return;
  require(request->path == *path, "the request's path is the decoded path", request->path);
  require(request->client_address == web::client_address(origin.peer, parts.forwarded_for, trusted()),
          "the request's client is client_address", request->client_address);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = dirproxy::fuzz::fields(data, size, 5);
  const std::string_view target = input[0];
  check_path(target.substr(0, target.find('?')));
  if (const auto question = target.find('?'); question != std::string_view::npos) check_fields(target.substr(question + 1));
  check_fields(input[1]);
  check_cookies(input[2]);
  check_client_address(input[3]);
  web::HttpRequestParts parts;
  parts.method = "POST";
  parts.target = target;
  parts.content_type = "application/x-www-form-urlencoded";
  parts.body = input[1];
  parts.cookie = input[2];
  parts.forwarded_for = input[3];
  parts.forwarded_proto = input[4];
  check_build(parts, web::RequestOrigin{asio::ip::make_address("127.0.0.1"), false, 1});
  parts.method = "GET";
  check_build(parts, web::RequestOrigin{asio::ip::make_address("192.0.2.1"), true, 2});
  return 0;
}
