// The signup pages (WEB.md "Pages"): /signup in every mode, with an
// invitation (?token=, the link of every invitation mail) or without, and
// /signup/confirm (the link of a restricted signup's confirmation mail),
// whose GET only shows a button: mail scanners fetch links, and a fetch
// must not create an account.
#include <string>
#include <vector>

#include "frontends/web/public_page_support.hpp"
#include "service/invitation_requests.hpp"
#include "service/service.hpp"
#include "service/signup_requests.hpp"

namespace dirproxy::web {
namespace {

// How a signup.domains pattern reads on the page.
std::string domain_words(const std::string& pattern) {
  if (pattern.starts_with("*.")) return "any address at a subdomain of " + pattern.substr(2);
  return "addresses ending in @" + pattern;
}

Response signup_closed(const PageContext& page, const SignupOptions& options) {
  Notice notice{.title = "Signup is closed",
                .message = "New accounts on this site are made by invitation only.",
                .next = "If you were invited, open the link in your invitation mail."};
  if (options.access_requests && options.user_management == config::UserManagement::internal) {
    notice.next = "If you were invited, open the link in your invitation mail; otherwise you can ask for an account.";
    notice.link_href = "/access";
    notice.link_text = "Request access";
  }
  return notice_page(page, notice);
}

Response bad_invitation(const PageContext& page, unsigned status) {
  return notice_page(page,
                     Notice{.title = "This invitation link cannot be used",
                            .message = "The link has been used already, has expired or been withdrawn, or is not "
                                       "complete (a mail program may have cut it).",
                            .next = "Check that you opened the whole link from the mail. If you did, ask the "
                                    "administrator who invited you for a new invitation.",
                            .kind = "error"},
                     status);
}

// The signup form as one person fills it in.
struct SignupForm {
  std::vector<FormField> fields;
  std::string token;  // the invitation's, or ""
  std::string form_error;
};

SignupForm empty_signup_form() {
  SignupForm form;
  form.fields = {
      FormField{.name = "username", .label = "Username", .autocomplete = "username", .hint = "What you sign in with."},
      FormField{.name = "display_name", .label = "Your name", .autocomplete = "name", .hint = "As others will see it."},
      FormField{.name = "email", .label = "Email address", .type = "email", .autocomplete = "email"},
      FormField{.name = "password", .label = "Password", .type = "password", .autocomplete = "new-password"},
      FormField{
          .name = "password_confirm", .label = "Password again", .type = "password", .autocomplete = "new-password"},
  };
  return form;
}

// The form with what `request` sent in it, passwords left out.
SignupForm sent_signup_form(const Request& request) {
  SignupForm form = empty_signup_form();
  for (FormField& field : form.fields) {
    if (field.type != "password") field.value = request.form.value(field.name);
  }
  form.token = request.form.value("token");
  return form;
}

// The signup form in `options`' mode, for the invitation `invitation` when
// the form has a token.
Response signup_form_page(const PageContext& page, const Request& request, SignupForm form,
                          const SignupOptions& options, const std::optional<InvitationCheck>& invitation,
                          unsigned status) {
  mstch::map context{{"title", std::string(invitation ? "Accept your invitation" : "Create an account")},
                     {"token", form.token},
                     {"invitation", invitation.has_value()},
                     {"form_error", form.form_error}};
  if (invitation && invitation->email) {
    FormField& email = field(form.fields, "email");
    email.value = *invitation->email;
    email.readonly = true;
    email.hint = "The invitation was sent to this address.";
  }
  field(form.fields, "password").hint = password_hint(page);
  const bool restricted = !invitation && options.mode == config::SignupMode::restricted;
  context["restricted"] = restricted;
  if (restricted) {
    mstch::array domains;
    for (const auto& pattern : options.domains) domains.push_back(domain_words(pattern));
    context["domains"] = std::move(domains);
    context["next"] = std::string("After you send the form, we mail you a link to confirm your address.");
  } else {
    context["next"] = std::string("Your account is created as soon as you send the form.");
  }
  context["fields"] = fields_view(form.fields);
  return render_public_page(page, "signup", std::move(context), status, &request);
}

awaitable<Result<SignupOptions>> signup_options(const PageContext& page, const Request& request) {
  const Caller caller = page.caller(request);
  const SignupOptionsRequest options_request{};
  co_return co_await page.service().call(caller, options_request);
}

awaitable<Result<InvitationCheck>> check_invitation(const PageContext& page, const Request& request,
                                                    const std::string& token) {
  const Caller caller = page.caller(request);
  const CheckInvitationRequest check{.token = token};
  co_return co_await page.service().call(caller, check);
}

// The form of `token`'s invitation, or the page that says why there is none.
// (By reference: a temporary built in a co_await expression trips g++ 12.)
awaitable<Response> invitation_signup(const PageContext& page, const Request& request, const SignupForm& form,
                                      const SignupOptions& options, unsigned status) {
  auto invitation = co_await check_invitation(page, request, form.token);
  if (!invitation) {
    if (auto whole_page = page_for_error(page, invitation.error())) co_return std::move(*whole_page);
    co_return bad_invitation(page, status == 200 ? 404 : 400);
  }
  co_return signup_form_page(page, request, form, options, *invitation, status);
}

awaitable<Response> show_signup(const PageContext& page, const Request& request) {
  auto options = co_await signup_options(page, request);
  if (!options) co_return error_page(page, options.error());
  SignupForm form = empty_signup_form();
  form.token = request.query.value("token");
  if (!form.token.empty()) co_return co_await invitation_signup(page, request, form, *options, 200);
  if (options->user_management == config::UserManagement::external) {
    co_return error_page(page, make_error(ErrorCode::user_management_external, ""));
  }
  if (options->mode == config::SignupMode::disabled) co_return signup_closed(page, *options);
  co_return signup_form_page(page, request, std::move(form), *options, std::nullopt, 200);
}

awaitable<Response> submit_signup(const PageContext& page, const Request& request) {
  SignupForm form = sent_signup_form(request);
  auto options = co_await signup_options(page, request);
  if (!options) co_return error_page(page, options.error());

  // Checked here, before the service: the service takes one password.
  const std::string password = request.form.value("password");
  if (password != request.form.value("password_confirm")) {
    field(form.fields, "password_confirm").error = "The two passwords are not the same. Type the password twice.";
    if (!form.token.empty()) co_return co_await invitation_signup(page, request, form, *options, 400);
    co_return signup_form_page(page, request, std::move(form), *options, std::nullopt, 400);
  }

  const Caller caller = page.caller(request);
  SignupRequest signup{.username = field(form.fields, "username").value,
                       .email = field(form.fields, "email").value,
                       .display_name = field(form.fields, "display_name").value,
                       .password = password,
                       .token = form.token.empty() ? std::nullopt : std::optional<std::string>(form.token)};
  auto outcome = co_await page.service().call(caller, signup);
  if (outcome) {
    co_return redirect_to(outcome->status == SignupStatus::created ? "/signup/welcome" : "/signup/check-mail");
  }
  const Error& error = outcome.error();
  if (auto whole_page = page_for_error(page, error)) co_return std::move(*whole_page);
  if (error.code == ErrorCode::signup_disabled) co_return signup_closed(page, *options);
  if (error.code == ErrorCode::invalid_token && error.field == "token") co_return bad_invitation(page, 400);
  if (!place_error(form.fields, error)) form.form_error = error_words(error);
  if (!form.token.empty()) co_return co_await invitation_signup(page, request, form, *options, 400);
  co_return signup_form_page(page, request, std::move(form), *options, std::nullopt, 400);
}

Response bad_confirmation(const PageContext& page, unsigned status) {
  return notice_page(page,
                     Notice{.title = "This confirmation link cannot be used",
                            .message = "The link has been used already, has expired, or is not complete (a mail "
                                       "program may have cut it).",
                            .next = "If your account was created, sign in. Otherwise sign up again: you will get a "
                                    "new link.",
                            .link_href = "/signup",
                            .link_text = "Sign up again",
                            .kind = "error"},
                     status);
}

awaitable<Response> show_confirm(const PageContext& page, const Request& request) {
  const std::string token = request.query.value("token");
  if (token.empty()) co_return bad_confirmation(page, 404);
  co_return render_public_page(page, "signup_confirm",
                               mstch::map{{"title", std::string("Confirm your email address")}, {"token", token}}, 200,
                               &request);
}

awaitable<Response> submit_confirm(const PageContext& page, const Request& request) {
  const Caller caller = page.caller(request);
  const ConfirmSignupRequest confirm{.token = request.form.value("token")};
  auto created = co_await page.service().call(caller, confirm);
  if (created) co_return redirect_to("/signup/welcome");
  const Error& error = created.error();
  if (auto whole_page = page_for_error(page, error)) co_return std::move(*whole_page);
  if (error.code == ErrorCode::conflict) {
    const bool email = error.field == "email";
    co_return notice_page(page,
                          Notice{.title = "The account could not be created",
                                 .message = email ? "An account with this email address was created meanwhile."
                                                  : "Someone else took this username meanwhile.",
                                 .next = email ? "If it is yours, sign in, or ask for a new password."
                                               : "Sign up again with another username.",
                                 .link_href = email ? "/password/forgot" : "/signup",
                                 .link_text = email ? "Forgot your password?" : "Sign up again",
                                 .kind = "error"},
                          409);
  }
  co_return bad_confirmation(page, 400);
}

}  // namespace

void add_signup_pages(Routes& routes) {
  routes.add("/signup", form_route(show_signup, submit_signup));
  routes.add("/signup/confirm", form_route(show_confirm, submit_confirm));
  routes.add("/signup/welcome",
             notice_route(Notice{.title = "Your account has been created",
                                 .message = "Welcome! Your account exists now.",
                                 .next = "Sign in to the applications of this site with your username and the "
                                         "password you chose.",
                                 .kind = "success"}));
  routes.add("/signup/check-mail",
             notice_route(Notice{.title = "Check your mail",
                                 .message = "We have sent a link to the email address you gave.",
                                 .next = "Open the link to confirm your address; your account is created then. If "
                                         "no mail arrives within a few minutes, look in your spam folder.",
                                 .kind = "success"}));
}

}  // namespace dirproxy::web
