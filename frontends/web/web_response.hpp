// From a page's Response (web_page.hpp) to the HTTP answer: the headers
// every answer carries (WEB.md "Rules"), Set-Cookie with the cookie rules,
// Location only for a path of this site (is_local_path), and the error
// pages the server itself answers (404, 405, 413, 431, 500 ...), rendered
// with the error template.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include "core/result.hpp"
#include "frontends/web/page_templates.hpp"
#include "frontends/web/web_page.hpp"
#include "frontends/web/web_request.hpp"

namespace dirproxy::web {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The headers on every answer, pages, static files and errors alike.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; form-action 'self'; frame-ancestors 'none'";

// The Set-Cookie value of `cookie` ("NAME=VALUE; Path=/; Secure; HttpOnly;
// SameSite=Strict[; Max-Age=N]"); nullopt when the name is not a token or
// the value holds a character a cookie may not (RFC 6265 cookie-octet).
std::optional<std::string> set_cookie_value(const SetCookie& cookie);

// The error page of `status` in the site's words: what happened and what
// to do next (404, 405, 400, 413, 415, 431, 500, 503; any other status gets
// the 500 wording with its own status).
Response error_page(const PageTemplates& templates, unsigned status);

// The HTTP answer to `response` (HTTP/1.`minor_version`, Connection as
// `keep_alive` says; for HEAD the same head, Content-Length included,
// without the body). internal_error, saying why, when the page broke a rule:
// a redirect that is not a local path, a cookie or header that cannot be
// written safely, a status that is not one; the server answers 500 then.
Result<HttpResponse> to_http(Response response, unsigned version, bool keep_alive, bool head);

}  // namespace dirproxy::web
