// From an HTTP request as it arrived to the Request a page sees
// (web_page.hpp): the method, the path decoded (and refused when it tries
// to be another path: an encoded '/' or '\', a '.' or '..' segment, an empty
// segment), the query string and a form body decoded, the cookies, and the
// browser's address and scheme, taken from X-Forwarded-For and
// X-Forwarded-Proto only when the peer is a trusted proxy.
//
// Plain functions of their input, with no HTTP library in them, so that the
// unit tests and the fuzz target (fuzz/web_request.cpp) call them directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "frontends/web/trusted_proxies.hpp"
#include "frontends/web/web_page.hpp"

namespace dirproxy::web {

// What build_request reads of a request, as sent (web_connection.cpp takes
// them from Beast's parser).
struct HttpRequestParts {
  std::string_view method;           // "GET"
  std::string_view target;           // "/signup?token=..."
  std::string_view content_type;     // of the body
  std::string_view cookie;           // every Cookie header, joined with "; "
  std::string_view forwarded_for;    // every X-Forwarded-For header, joined with ", "
  std::string_view forwarded_proto;  // X-Forwarded-Proto
  std::string_view body;
};

// Where a request came from.
struct RequestOrigin {
  asio::ip::address peer;
  bool tls = false;  // the listener is https://
  std::uint64_t connection = 0;
};

// The method a page sees; HEAD is answered as GET without the body, so
// pages never see it (web_connection.cpp).
Method method_of(std::string_view method);

// The path of a request target ("/a%20b" → "/a b"): bad_request when it
// does not start with '/', has a malformed escape, an encoded '/' or '\', a
// raw '\', a character that is not UTF-8 or acts on the text around it (a
// control or bidirectional character: paths are logged), or a segment
// that is empty, "." or ".." (a trailing '/' is fine).
Result<std::string> decode_path(std::string_view path);

// Whether `path` may be a redirect's Location: a path of this site, starting
// with exactly one '/' ("//host" and "/\host" are other sites to a
// browser), with no '\' and no control character (which would end the
// header). Every path decode_path gives is one.
bool is_local_path(std::string_view path);

// The browser's address: the peer's, unless the peer is a trusted proxy;
// then X-Forwarded-For read from the right, skipping trusted proxies, up
// to the first hop that is not one (the leftmost hop when all are). A hop
// that is not an address ("unknown", garbage) ends the walk: the address
// is then the trusted hop that passed it on. Hops may carry a port
// ("192.0.2.7:5000", "[2001:db8::1]:80"). IPv4-mapped addresses are given as IPv4.
std::string client_address(const asio::ip::address& peer, std::string_view forwarded_for,
                           const TrustedProxies& trusted);

// Whether the browser used https://: the listener is https://, or the peer
// is a trusted proxy whose X-Forwarded-Proto (its last value, when there
// are several) is "https".
bool secure_request(const RequestOrigin& origin, std::string_view forwarded_proto, const TrustedProxies& trusted);

// Whether a body of `content_type` is a form ("application/x-www-form-
// urlencoded", parameters such as "; charset=UTF-8" allowed).
bool is_form_content_type(std::string_view content_type);

// The Request of `parts`. bad_request for a target that is not a path
// (decode_path), or a query string or form that parse_urlencoded refuses.
// A POST's body is its form when is_form_content_type; the server refuses
// other POST bodies before (415).
Result<Request> build_request(const HttpRequestParts& parts, const RequestOrigin& origin,
                              const TrustedProxies& trusted);

}  // namespace dirproxy::web
