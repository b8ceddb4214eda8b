// Signing in to the admin console and out of it (docs/web.md, "Admin
// console"): GET /login shows the form, POST /login starts a session
// through the service (start_admin_session: the password checked as
// authenticate checks it, the lockout and rate limits applied, and the
// account a member of one of web.admin_groups) and sets its cookie, POST
// /logout ends it.
#include "frontends/web/admin_pages.hpp"
#include "frontends/web/admin_session.hpp"
#include "frontends/web/form_token.hpp"
#include "frontends/web/page_templates.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

Response not_found(const PageContext& page) {
  return error_view(page, 404, "Page not found", "There is no page at this address.");
}

Response sign_in_form(const PageContext& page, const Request& request, const std::string& username,
                      const std::string& error, unsigned status) {
  Response response;
  const std::string token = form_token(request, response);
  mstch::map context{{"csrf", token}, {"username", username}};
  if (!error.empty()) context["error"] = error;
  Response view = plain_view(page, "login", "Sign in", std::move(context), status);
  view.cookies = std::move(response.cookies);
  view.no_store = true;  // it takes a password
  return view;
}

awaitable<Response> login_page(const PageContext& page, const Request& request) {
  const auto config = page.config();
  if (!admin_console_enabled(*config)) co_return not_found(page);
  if (request.method == Method::get || request.method == Method::head) {
    co_return sign_in_form(page, request, "", "", 200);
  }
  if (request.method != Method::post) {
    Response response = error_view(page, 405, "Not allowed", "This page cannot be used that way.");
    response.headers.emplace_back("Allow", "GET, HEAD, POST");
    co_return response;
  }
  const std::string username = request.form.value("username");
  if (!form_token_matches(request)) {
    co_return sign_in_form(page, request, username,
                           "The form had expired, so you were not signed in. Please sign in again.", 403);
  }
  const Caller caller = page.caller(request);
  const StartAdminSessionRequest start{username, request.form.value("password")};
  auto started = co_await page.service().call(caller, start);
  if (!started) {
    const Error& error = started.error();
    if (error.code == ErrorCode::forbidden) {
      co_return error_view(page, 403, "Not an admin account", "This account may not use the admin console.",
                           "Ask an administrator to add it to an admin group, or sign in with another account.");
    }
    if (error.code == ErrorCode::internal_error || error.code == ErrorCode::directory_unavailable) {
      co_return error_view(page, 503, "Temporarily unavailable", admin_error_words(error), "Try again in a minute.");
    }
    Response response = sign_in_form(page, request, username, admin_error_words(error),
                                     error.code == ErrorCode::rate_limited ? 429 : 400);
    if (error.retry_after) response.headers.emplace_back("Retry-After", std::to_string(*error.retry_after));
    co_return response;
  }
  Response response = redirect_to("/admin/users");
  response.cookies.push_back(SetCookie{std::string(kSessionCookie), started->session_id, std::nullopt});
  co_return response;
}

awaitable<Response> logout(const PageContext& page, const Request&, const SignedInAdmin& admin) {
  const EndAdminSessionRequest end{admin.session_id};
  auto ended = co_await page.service().call(admin.caller, end);
  if (!ended) {
    co_return error_view(page, 503, "Temporarily unavailable", "You could not be signed out just now.",
                         "Try again in a minute.");
  }
  Response response = redirect_to("/login");
  response.cookies.push_back(SetCookie{std::string(kSessionCookie), "", 0});
  co_return response;
}

}  // namespace

void add_admin_sign_in(Routes& routes) {
  routes.add("/login", login_page);
  routes.add("/logout", admin_page(nullptr, logout));
}

}  // namespace dirproxy::web
