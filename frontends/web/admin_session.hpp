// What every page of the admin console does before its own work (docs/
// web.md, "Admin console"): answer 404 when the console is off
// (web.admin_groups empty), 405 for a method the page does not take, find
// the admin's session from its cookie through the service (which ends it
// after web.session_ttl idle, or when the admin has left web.admin_groups),
// send a browser without one to /login, and refuse a POST whose "csrf"
// field is not the session's token (403). A page then runs with the
// SignedInAdmin: the Caller of its service calls (admin, actor = the admin's
// username, so audit lines name them) and the session's CSRF token for its
// forms.
//
// An action (POST) answers 303 to the page that shows its outcome; the
// outcome goes there as the session's notice (finish_action), never in the
// URL.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <mstch/mstch.hpp>

#include "core/asio.hpp"
#include "frontends/web/web_page.hpp"
#include "service/admin_session_requests.hpp"

namespace dirproxy::web {

inline constexpr std::string_view kSessionCookie = "__Host-dirproxy-session";

// Whether the configuration has an admin console (web.admin_groups set).
bool admin_console_enabled(const config::Config& config);

struct SignedInAdmin {
  std::string session_id;
  std::string username;
  std::string csrf_token;
  std::optional<AdminNotice> notice;  // on a GET: the outcome of the last action
  Caller caller;                      // admin, actor = username
};

using AdminHandler = std::function<awaitable<Response>(const PageContext&, const Request&, const SignedInAdmin&)>;

// A page of the console: `get` answers GET and HEAD, `post` answers POST
// (either may be null: 405 with Allow naming what the page takes), after
// the checks above.
Handler admin_page(AdminHandler get, AdminHandler post = nullptr);

// The tabs of the console, in order.
enum class AdminTab { users, groups, invitations, access_requests, signup_options, mail_queue, directories };

// Template `name` rendered in the console's layout (admin_layout.html) with
// `context`, the tab `current` marked, the admin's name, the logout form and
// the notice; `title` is the page's title.
Response admin_view(const PageContext& page, const SignedInAdmin& admin, AdminTab current, std::string_view name,
                    std::string title, mstch::map context, unsigned status = 200);

// Ends an action: the session's notice becomes `notice`, and the answer a
// 303 to `path` (which shows it). Pass named values: g++ 12 mishandles
// temporaries in a co_await expression.
awaitable<Response> finish_action(const PageContext& page, const SignedInAdmin& admin, const std::string& path,
                                  const AdminNotice& notice);

// An action on the record named by the form's "id" field (an invitation,
// an access request): `act` makes its one service call and says how it
// went; an "id" that is no record's gives the error notice "There is no
// such `what`." Either way the answer is finish_action's 303 to `path`.
// Pass named values (g++ 12 and temporaries in a co_await expression).
using IdAction = std::function<awaitable<AdminNotice>(std::int64_t id)>;
awaitable<Response> act_on_id(const PageContext& page, const Request& request, const SignedInAdmin& admin,
                              const std::string& path, const std::string& what, const IdAction& act);

// A page outside the console's layout (sign-in, errors): template `name` in
// the site's layout.
Response plain_view(const PageContext& page, std::string_view name, std::string title, mstch::map context,
                    unsigned status = 200);

// The error page: `title`, what happened and what to do next.
Response error_view(const PageContext& page, unsigned status, std::string title, std::string message,
                    std::string next = {});

// What a person reads for a service error: a sentence without anything
// internal.
std::string admin_error_words(const Error& error);

// The number a form's "id" field holds (an invitation's, an access
// request's): a positive decimal, else nullopt.
std::optional<std::int64_t> positive_id(std::string_view text);

// `text` escaped for a query string value (everything but unreserved
// characters as %XX).
std::string query_escape(std::string_view text);

}  // namespace dirproxy::web
