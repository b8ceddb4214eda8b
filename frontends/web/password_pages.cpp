// The password pages (WEB.md "Pages"): /password/reset, where the link of a
// password-reset mail and the set-password link of an admin-added user
// lead (its GET shows the form, only the POST uses the link), and
// /password/forgot, whose answer is the same whether or not an account
// matches.
#include <string>
#include <vector>

#include "frontends/web/public_page_support.hpp"
#include "service/password_reset_requests.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

Response dead_link(const PageContext& page, unsigned status) {
  return notice_page(page,
                     Notice{.title = "This link cannot be used",
                            .message = "The link has been used already, has expired, or is not complete (a mail "
                                       "program may have cut it). A link sets a password once, and a newer link or a "
                                       "password change ends the older ones.",
                            .next = "Ask for a new link: it is mailed to the address of your account.",
                            .link_href = "/password/forgot",
                            .link_text = "Get a new link",
                            .kind = "error"},
                     status);
}

std::vector<FormField> new_password_fields() {
  return {
      FormField{.name = "password", .label = "New password", .type = "password", .autocomplete = "new-password"},
      FormField{.name = "password_confirm",
                .label = "New password again",
                .type = "password",
                .autocomplete = "new-password"},
  };
}

Response new_password_page(const PageContext& page, const Request& request, const std::string& token,
                           ResetPurpose purpose, std::vector<FormField> fields, const std::string& form_error,
                           unsigned status) {
  const bool new_user = purpose == ResetPurpose::new_user;
  field(fields, "password").hint = password_hint(page);
  mstch::map context{
      {"title", std::string(new_user ? "Set your password" : "Choose a new password")},
      {"intro", std::string(new_user ? "Your account is ready. Choose the password you will sign in with."
                                     : "Choose a new password for your account.")},
      {"button", std::string(new_user ? "Set my password" : "Change my password")},
      {"token", token},
      {"form_error", form_error},
      {"fields", fields_view(fields)}};
  return render_public_page(page, "password_reset", std::move(context), status, &request);
}

// The form for `token`'s link, or the page that says why the link is dead.
awaitable<Response> reset_form(const PageContext& page, const Request& request, const std::string& token,
                               const std::vector<FormField>& fields, const std::string& form_error, unsigned status) {
  const Caller caller = page.caller(request);
  const CheckPasswordResetRequest check{.token = token};
  auto link = co_await page.service().call(caller, check);
  if (!link) {
    if (auto whole_page = page_for_error(page, link.error())) co_return std::move(*whole_page);
    co_return dead_link(page, status == 200 ? 404 : 400);
  }
  co_return new_password_page(page, request, token, link->purpose, fields, form_error, status);
}

awaitable<Response> show_reset(const PageContext& page, const Request& request) {
  const std::string token = request.query.value("token");
  if (token.empty()) co_return dead_link(page, 404);
  const std::vector<FormField> fields = new_password_fields();
  const std::string no_error;
  co_return co_await reset_form(page, request, token, fields, no_error, 200);
}

awaitable<Response> submit_reset(const PageContext& page, const Request& request) {
  const std::string token = request.form.value("token");
  const std::string password = request.form.value("password");
  std::vector<FormField> fields = new_password_fields();
  std::string form_error;
  if (password != request.form.value("password_confirm")) {
    field(fields, "password_confirm").error = "The two passwords are not the same. Type the password twice.";
    co_return co_await reset_form(page, request, token, fields, form_error, 400);
  }
  const Caller caller = page.caller(request);
  const ResetPasswordRequest reset{.token = token, .password = password};
  auto done = co_await page.service().call(caller, reset);
  if (done) co_return redirect_to("/password/changed");
  const Error& error = done.error();
  if (error.code == ErrorCode::invalid_token) co_return dead_link(page, 400);
  if (auto whole_page = page_for_error(page, error)) co_return std::move(*whole_page);
  if (!place_error(fields, error)) form_error = error_words(error);
  co_return co_await reset_form(page, request, token, fields, form_error, 400);
}

std::vector<FormField> forgot_fields() {
  return {FormField{.name = "account", .label = "Username or email address", .autocomplete = "username"}};
}

awaitable<Response> show_forgot(const PageContext& page, const Request& request) {
  co_return render_public_page(
      page, "password_forgot",
      mstch::map{{"title", std::string("Forgot your password?")}, {"fields", fields_view(forgot_fields())}}, 200,
      &request);
}

awaitable<Response> submit_forgot(const PageContext& page, const Request& request) {
  std::vector<FormField> fields = forgot_fields();
  FormField& account = field(fields, "account");
  const std::string typed = request.form.value("account");
  account.value = typed;
  const auto first = typed.find_first_not_of(' ');
  const std::string trimmed =
      first == std::string::npos ? std::string() : typed.substr(first, typed.find_last_not_of(' ') + 1 - first);
  if (trimmed.empty()) {
    account.error = "Enter your username or the email address of your account.";
  } else {
    const Caller caller = page.caller(request);
    RequestPasswordResetRequest ask;
    // Usernames have no '@' (accounts.username_pattern); addresses do.
    if (trimmed.find('@') == std::string::npos) {
      ask.username = trimmed;
    } else {
      ask.email = trimmed;
    }
    auto asked = co_await page.service().call(caller, ask);
    if (asked) co_return redirect_to("/password/forgot/sent");
    const Error& error = asked.error();
    if (auto whole_page = page_for_error(page, error)) co_return std::move(*whole_page);
    account.error = error_words(error);
  }
  co_return render_public_page(
      page, "password_forgot",
      mstch::map{{"title", std::string("Forgot your password?")}, {"fields", fields_view(fields)}}, 400, &request);
}

}  // namespace

void add_password_pages(Routes& routes) {
  routes.add("/password/reset", form_route(show_reset, submit_reset));
  routes.add("/password/forgot", form_route(show_forgot, submit_forgot));
  routes.add("/password/changed", notice_route(Notice{.title = "Your password has been set",
                                                      .message = "Your new password works from now on.",
                                                      .next = "Sign in to the applications of this site with it.",
                                                      .kind = "success"}));
  routes.add("/password/forgot/sent",
             notice_route(Notice{.title = "Check your mail",
                                 .message = "If an account matches what you gave, a link is on its way to the email "
                                            "address of that account.",
                                 .next = "Open the link to choose a new password. If no mail arrives within a few "
                                         "minutes, look in your spam folder, or ask your administrator.",
                                 .kind = "success"}));
}

}  // namespace dirproxy::web
