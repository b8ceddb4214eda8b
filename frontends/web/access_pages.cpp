// The request-access page (WEB.md "Pages"): /access, where someone without
// an account asks the admins for one (access_requests.enabled; the signup
// page links here when signup is closed). The answer is the same whether or
// not the address asked before.
#include <string>
#include <vector>

#include "frontends/web/public_page_support.hpp"
#include "service/access_request_requests.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

std::vector<FormField> access_fields() {
  return {
      FormField{.name = "display_name", .label = "Your name", .autocomplete = "name"},
      FormField{.name = "email",
                .label = "Email address",
                .type = "email",
                .autocomplete = "email",
                .hint = "Where your invitation goes if the request is approved."},
      FormField{.name = "message", .label = "Why you need an account", .type = "textarea", .required = false},
  };
}

// The page of a site that takes no access requests: a 404, as if the page
// did not exist, but one that says where to turn.
Response not_taken(const PageContext& page) {
  return notice_page(page,
                     Notice{.title = "Access requests are not taken here",
                            .message = "This site does not take requests for an account.",
                            .next = "Ask your administrator for an invitation."},
                     404);
}

// Whether the site takes access requests (signup_options says), or the
// page that says it does not.
awaitable<std::optional<Response>> refusal(const PageContext& page, const Request& request) {
  const Caller caller = page.caller(request);
  const SignupOptionsRequest options_request{};
  auto options = co_await page.service().call(caller, options_request);
  if (!options) co_return page_for_error(page, options.error());
  if (options->user_management == config::UserManagement::external) {
    co_return page_for_error(page, make_error(ErrorCode::user_management_external, ""));
  }
  if (!options->access_requests) co_return not_taken(page);
  co_return std::nullopt;
}

Response access_form(const PageContext& page, const Request& request, const std::vector<FormField>& fields,
                     unsigned status) {
  return render_public_page(page, "access",
                            mstch::map{{"title", std::string("Request access")}, {"fields", fields_view(fields)}},
                            status, &request);
}

awaitable<Response> show_access(const PageContext& page, const Request& request) {
  if (auto refused = co_await refusal(page, request)) co_return std::move(*refused);
  co_return access_form(page, request, access_fields(), 200);
}

awaitable<Response> submit_access(const PageContext& page, const Request& request) {
  std::vector<FormField> fields = access_fields();
  for (FormField& field : fields) field.value = request.form.value(field.name);
  const Caller caller = page.caller(request);
  const std::string message = request.form.value("message");
  const RequestAccessRequest ask{.email = field(fields, "email").value,
                                 .display_name = field(fields, "display_name").value,
                                 .message = message.empty() ? std::nullopt : std::optional<std::string>(message)};
  auto asked = co_await page.service().call(caller, ask);
  if (asked) co_return redirect_to("/access/sent");
  const Error& error = asked.error();
  if (error.code == ErrorCode::signup_disabled) co_return not_taken(page);
  if (!place_error(fields, error)) co_return error_page(page, error);
  co_return access_form(page, request, fields, 400);
}

}  // namespace

void add_access_pages(Routes& routes) {
  routes.add("/access", form_route(show_access, submit_access));
  routes.add("/access/sent",
             notice_route(Notice{.title = "Your request has been sent",
                                 .message = "The administrators have been told of your request.",
                                 .next = "If they approve it, you get an invitation by email with a link to create "
                                         "your account.",
                                 .kind = "success"}));
}

}  // namespace dirproxy::web
