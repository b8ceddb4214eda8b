#include "frontends/web/web_response.hpp"

#include <algorithm>

namespace dirproxy::web {
namespace {

namespace http = boost::beast::http;

bool is_token_character(char c) {
  // RFC 9110 tchar.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_character);
}

bool is_cookie_octet(char c) {
  // RFC 6265: visible ASCII except '"', ',', ';' and '\'.
  return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

// A header value that cannot end the header or start another.
bool is_safe_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

struct ErrorWording {
  unsigned status;
  const char* title;
  const char* message;
  const char* next;
};

constexpr ErrorWording kErrorWordings[] = {
    {400, "This request could not be read", "The address or the form that was sent is malformed.",
     "Check the link you followed, or go back and send the form again."},
    {404, "Page not found", "There is no page at this address.",
     "Check the link you followed; if you typed the address, check its spelling."},
    {405, "Not allowed here", "This page does not take that kind of request.",
     "Open the page from a link or a form of this site."},
    {413, "Too much was sent", "The form that was sent is larger than this site accepts.",
     "Go back, shorten what you typed and send the form again."},
    {415, "This form cannot be read", "This page takes only forms sent by a web browser.",
     "Go back and send the form again from this site's page."},
    {431, "Too much was sent", "The request carried more cookies or headers than this site accepts.",
     "Remove this site's cookies in your browser and try again."},
    {503, "Too busy right now", "This site is serving too many people at once.", "Try again in a minute."},
    {500, "Something went wrong", "This page could not be shown because of an error on the site; it has been logged.",
     "Try again in a moment; if it happens again, tell the site's administrator."},
};

const ErrorWording& wording_of(unsigned status) {
  for (const ErrorWording& wording : kErrorWordings) {
    if (wording.status == status) return wording;
  }
  return kErrorWordings[std::size(kErrorWordings) - 1];
}

}  // namespace

std::optional<std::string> set_cookie_value(const SetCookie& cookie) {
  if (!is_token(cookie.name) || !std::all_of(cookie.value.begin(), cookie.value.end(), is_cookie_octet)) {
    return std::nullopt;
  }
  std::string value = cookie.name + "=" + cookie.value + "; Path=/; Secure; HttpOnly; SameSite=Strict";
  if (cookie.max_age_s) value += "; Max-Age=" + std::to_string(std::max<std::int64_t>(0, *cookie.max_age_s));
  return value;
}

Response error_page(const PageTemplates& templates, unsigned status) {
  const ErrorWording& wording = wording_of(status);
  Response response;
  response.status = status;
  mstch::map context{{"title", std::string(wording.title)},
                     {"message", std::string(wording.message)},
                     {"next", std::string(wording.next)}};
  response.body = templates.render_page("error", std::move(context));
  return response;
}

Result<HttpResponse> to_http(Response response, unsigned version, bool keep_alive, bool head) {
  const http::status status = http::int_to_status(response.status);
  if (status == http::status::unknown || response.status < 200) {
    return fail(ErrorCode::internal_error, "a page answered status " + std::to_string(response.status));
  }
  if (!is_safe_header_value(response.content_type)) {
    return fail(ErrorCode::internal_error, "a page set a Content-Type that cannot be written");
  }
  HttpResponse answer{status, version};
  answer.set(http::field::content_type, response.content_type);
  answer.set("Content-Security-Policy", std::string(kContentSecurityPolicy));
  answer.set(http::field::x_frame_options, "DENY");
  answer.set("Referrer-Policy", "no-referrer");
  answer.set("X-Content-Type-Options", "nosniff");
  answer.set(http::field::cache_control, response.no_store ? "no-store" : "no-cache");
  if (response.redirect) {
    if (!is_local_path(*response.redirect)) {
      return fail(ErrorCode::internal_error, "a page redirected to something that is not a path of this site");
    }
    answer.set(http::field::location, *response.redirect);
  }
  for (const SetCookie& cookie : response.cookies) {
    auto value = set_cookie_value(cookie);
    if (!value) return fail(ErrorCode::internal_error, "a page set a cookie that cannot be written: " + cookie.name);
    answer.insert(http::field::set_cookie, *value);
  }
  for (const auto& [name, value] : response.headers) {
    if (!is_token(name) || !is_safe_header_value(value)) {
      return fail(ErrorCode::internal_error, "a page set a header that cannot be written");
    }
    answer.set(name, value);
  }
  answer.body() = std::move(response.body);
  answer.keep_alive(keep_alive);
  answer.prepare_payload();
  if (head) answer.body().clear();
  return answer;
}

}  // namespace dirproxy::web
