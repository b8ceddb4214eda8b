#include "frontends/web/admin_session.hpp"

#include <array>
#include <charconv>
#include <utility>

#include "core/names.hpp"
#include "frontends/web/form_token.hpp"
#include "frontends/web/page_templates.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

struct TabInfo {
  AdminTab tab;
  std::string_view label;
  std::string_view path;
};

constexpr std::array<TabInfo, 7> kTabs = {{
    {AdminTab::users, "Users", "/admin/users"},
    {AdminTab::groups, "Groups", "/admin/groups"},
    {AdminTab::invitations, "Invite users", "/admin/invitations"},
    {AdminTab::access_requests, "Access requests", "/admin/access-requests"},
    {AdminTab::signup_options, "Signup options", "/admin/signup-options"},
    {AdminTab::mail_queue, "Mail queue", "/admin/mail-queue"},
    {AdminTab::directories, "Directories", "/admin/directories"},
}};

Response method_not_allowed(const PageContext& page, bool takes_get, bool takes_post) {
  std::string allow;
  if (takes_get) allow = "GET, HEAD";
  if (takes_post) allow += allow.empty() ? "POST" : ", POST";
  Response response = error_view(page, 405, "Not allowed", "This page cannot be used that way.",
                                 "Go back to the previous page and use its links and buttons.");
  response.headers.emplace_back("Allow", allow);
  return response;
}

Caller admin_caller(const PageContext& page, const Request& request, const std::string& username) {
  Caller caller = page.caller(request);
  caller.admin = true;
  caller.actor = username;
  return caller;
}

awaitable<Response> serve_admin_page(AdminHandler get, AdminHandler post, const PageContext& page,
                                     const Request& request) {
  const auto config = page.config();
  if (!admin_console_enabled(*config)) {
    co_return error_view(page, 404, "Page not found", "There is no page at this address.");
  }
  const bool is_post = request.method == Method::post;
  const bool is_get = request.method == Method::get || request.method == Method::head;
  const AdminHandler& handler = is_post ? post : get;
  if ((!is_post && !is_get) || !handler) co_return method_not_allowed(page, get != nullptr, post != nullptr);

  const auto cookie = request.cookies.find(std::string(kSessionCookie));
  std::optional<AdminSession> session;
  if (cookie != request.cookies.end() && !cookie->second.empty()) {
    const Caller caller = page.caller(request);
    // Only a GET shows the notice (a HEAD has no body to show it in).
    const ResumeAdminSessionRequest resume{cookie->second, request.method == Method::get};
    auto resumed = co_await page.service().call(caller, resume);
    if (!resumed) {
      co_return error_view(page, 503, "Temporarily unavailable", "The admin console cannot check your session now.",
                           "Try again in a minute.");
    }
    session = std::move(*resumed);
  }
  if (!session) {
    if (is_get) co_return redirect_to("/login");
    co_return error_view(page, 403, "Your session has ended",
                         "You were signed out (after a time without activity, or by signing out), so this was not "
                         "done.",
                         "Sign in again at /login and repeat what you were doing.");
  }
  if (is_post && !tokens_equal(request.form.value(kCsrfField), session->csrf_token)) {
    co_return error_view(page, 403, "Form expired",
                         "This form did not come from your current admin session, so nothing was done.",
                         "Go back, reload the page and try again.");
  }
  SignedInAdmin admin{cookie->second, session->username, session->csrf_token, std::move(session->notice),
                      admin_caller(page, request, session->username)};
  Response response = co_await handler(page, request, admin);
  // Every console page shows the CSRF token, and most of them names,
  // addresses or links: none is kept by a cache.
  response.no_store = true;
  co_return response;
}

}  // namespace

bool admin_console_enabled(const config::Config& config) { return config.web && !config.web->admin_groups.empty(); }

Handler admin_page(AdminHandler get, AdminHandler post) {
  return [get = std::move(get), post = std::move(post)](const PageContext& page, const Request& request) {
    return serve_admin_page(get, post, page, request);
  };
}

Response admin_view(const PageContext& page, const SignedInAdmin& admin, AdminTab current, std::string_view name,
                    std::string title, mstch::map context, unsigned status) {
  mstch::array tabs;
  for (const TabInfo& tab : kTabs) {
    tabs.push_back(mstch::map{
        {"label", std::string(tab.label)}, {"href", std::string(tab.path)}, {"current", tab.tab == current}});
  }
  context["tabs"] = std::move(tabs);
  context["title"] = std::move(title);
  context["admin_username"] = admin.username;
  context["csrf"] = admin.csrf_token;
  if (admin.notice) {
    context["notice"] = mstch::map{{"text", admin.notice->text}, {"is_error", admin.notice->is_error}};
  }
  Response response;
  response.status = status;
  response.no_store = true;
  response.body = page.templates()->render_page(name, std::move(context), "admin_layout");
  return response;
}

awaitable<Response> finish_action(const PageContext& page, const SignedInAdmin& admin, const std::string& path,
                                  const AdminNotice& notice) {
  const SetAdminNoticeRequest set{admin.session_id, notice};
  // The action is done whatever becomes of its notice: a failure here only
  // means the next page does not say how it went.
  (void)co_await page.service().call(admin.caller, set);
  co_return redirect_to(path);
}

awaitable<Response> act_on_id(const PageContext& page, const Request& request, const SignedInAdmin& admin,
                              const std::string& path, const std::string& what, const IdAction& act) {
  AdminNotice notice{"There is no such " + what + ".", true};
  if (const std::optional<std::int64_t> id = positive_id(request.form.value("id"))) notice = co_await act(*id);
  co_return co_await finish_action(page, admin, path, notice);
}

Response plain_view(const PageContext& page, std::string_view name, std::string title, mstch::map context,
                    unsigned status) {
  context["title"] = std::move(title);
  Response response;
  response.status = status;
  response.body = page.templates()->render_page(name, std::move(context));
  return response;
}

Response error_view(const PageContext& page, unsigned status, std::string title, std::string message,
                    std::string next) {
  mstch::map context{{"message", std::move(message)}};
  if (!next.empty()) context["next"] = std::move(next);
  return plain_view(page, "error", std::move(title), std::move(context), status);
}

std::string admin_error_words(const Error& error) {
  switch (error.code) {
    case ErrorCode::bad_request:
    case ErrorCode::not_found:
    case ErrorCode::conflict:
    case ErrorCode::invalid_username:
    case ErrorCode::invalid_email:
    case ErrorCode::weak_password:
    case ErrorCode::domain_not_allowed:
    case ErrorCode::read_only:
    case ErrorCode::forbidden: return error.message;
    case ErrorCode::invalid_credentials: return "The username or password is wrong.";
    case ErrorCode::account_disabled: return "This account is deactivated.";
    case ErrorCode::account_locked: return "Too many failed attempts: this account is locked for a while.";
    case ErrorCode::rate_limited: return "Too many requests from your address: wait a while and try again.";
    case ErrorCode::access_denied: return "This account may not do that.";
    case ErrorCode::signup_disabled: return "Signup is closed.";
    case ErrorCode::invalid_token: return "The link is used, expired or wrong.";
    case ErrorCode::mail_not_configured: return "No mail server is configured, so no mail can be sent.";
    case ErrorCode::user_management_external: return "Users are managed outside dirproxy.";
    case ErrorCode::directory_unavailable: return "A directory is unavailable: try again later.";
    case ErrorCode::request_too_large:
    case ErrorCode::unknown_op:
    case ErrorCode::internal_error: break;
  }
  return "Something went wrong on the server; it is in the log. Try again later.";
}

std::optional<std::int64_t> positive_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::string query_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string escaped;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      escaped += c;
    } else {
      escaped += '%';
      escaped += kHex[byte >> 4];
      escaped += kHex[byte & 0x0f];
    }
  }
  return escaped;
}

}  // namespace dirproxy::web
