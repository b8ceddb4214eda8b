// What the web front end's pages see of an HTTP request and answer with,
// apart from HTTP itself (web_server.cpp reads and writes HTTP with
// Boost.Beast, and adds the headers every answer carries: WEB.md "Rules").
//
// A page is a handler of one path:
//
//   awaitable<Response> signup_page(const PageContext& page, const Request& request);
//
// registered in a Routes table (public_pages.cpp, admin_console.cpp). The
// handler calls the service with page.caller(request), renders a template
// with page.templates(), and answers; web_server.cpp answers 404 for a path
// no handler has, and an error page for an exception.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mstch/mstch.hpp>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "core/result.hpp"
#include "service/caller.hpp"

namespace dirproxy {
class Service;
}

namespace dirproxy::web {

class PageTemplates;

// Fields of a query string or an application/x-www-form-urlencoded body,
// decoded, in the order sent; a name may repeat (a list of checkboxes).
class Fields {
 public:
  Fields() = default;
  explicit Fields(std::vector<std::pair<std::string, std::string>> fields) : fields_(std::move(fields)) {}

  // The first value of `name`, if sent.
  std::optional<std::string_view> get(std::string_view name) const;
  // The first value of `name`, or "".
  std::string value(std::string_view name) const { return std::string(get(name).value_or("")); }
  // Every value of `name`, in order.
  std::vector<std::string> all(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Decodes "a=1&b=x+y&c=%C3%A9" (query strings and form bodies): '+' is a
// space, %XX a byte; a pair without '=' has the value "", empty pairs are
// skipped. bad_request, naming the field, for a malformed escape, a name or
// value that is not UTF-8 or holds NUL, or more than `max_fields` fields.
// What a value may hold beyond that is the service's check.
Result<Fields> parse_urlencoded(std::string_view text, std::size_t max_fields = 256);

// The cookies of a Cookie header ("a=1; b=2"), by name; the first wins when
// a name repeats. Malformed pairs are skipped, as browsers do.
std::map<std::string, std::string> parse_cookies(std::string_view header);

enum class Method { get, head, post, other };

struct Request {
  Method method = Method::get;
  std::string path;  // decoded, without the query string; always starts with '/'
  Fields query;
  Fields form;  // the body of a POST of application/x-www-form-urlencoded
  std::map<std::string, std::string> cookies;
  // The browser's address: the peer's, or X-Forwarded-For's last untrusted
  // hop when the peer is a trusted proxy.
  std::string client_address;
  // https:// as the browser sees it: the listener's, or X-Forwarded-Proto
  // from a trusted proxy.
  bool secure = false;
  std::uint64_t connection = 0;  // the connection's number, for log lines
};

// A Set-Cookie the answer carries. Always Path=/, HttpOnly, SameSite=Strict,
// and Secure (which __Host- names need; browsers take it over http:// on
// localhost and 127.0.0.1).
struct SetCookie {
  std::string name;   // e.g. "__Host-dirproxy-session"
  std::string value;  // "" with max_age 0 removes it
  std::optional<std::int64_t> max_age_s;  // none: a session cookie
};

struct Response {
  unsigned status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  // Cache-Control: no-store, for every page that shows or takes a token or
  // a password; otherwise no-cache (pages are never shared by caches).
  bool no_store = false;
  // A 303 to this path of the same site (always a path starting with one
  // '/': never a URL a request chose, so there are no open redirects).
  std::optional<std::string> redirect;
  std::vector<SetCookie> cookies;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Allow for 405
};

// A 303 See Other to `path` (of this site).
Response redirect_to(std::string path);

// What a page handler has besides the request.
class PageContext {
 public:
  PageContext(Service& service, std::function<std::shared_ptr<const PageTemplates>()> templates,
              std::function<std::shared_ptr<const config::Config>()> config)
      : service_(service), templates_(std::move(templates)), config_(std::move(config)) {}

  Service& service() const { return service_; }
  // The templates and configuration in force (a reload swaps both).
  std::shared_ptr<const PageTemplates> templates() const { return templates_(); }
  std::shared_ptr<const config::Config> config() const { return config_(); }

  // The caller of a public page: the web front end, the browser's address
  // (for rate limits and the audit log), no admin rights, no application.
  Caller caller(const Request& request) const;

 private:
  Service& service_;
  std::function<std::shared_ptr<const PageTemplates>()> templates_;
  std::function<std::shared_ptr<const config::Config>()> config_;
};

using Handler = std::function<awaitable<Response>(const PageContext&, const Request&)>;

// The pages by path: exact paths ("/signup"), or prefixes ending in '/'
// ("/admin/") that take every path below them.
class Routes {
 public:
  void add(std::string path, Handler handler);
  // The handler of `path`: an exact path first, then the longest prefix.
  const Handler* find(std::string_view path) const;

 private:
  std::vector<std::pair<std::string, Handler>> routes_;
};

}  // namespace dirproxy::web
