#include "frontends/web/public_page_support.hpp"

#include <algorithm>
#include <cctype>

#include "frontends/web/form_token.hpp"
#include "frontends/web/page_templates.hpp"

namespace dirproxy::web {
namespace {

Response method_not_allowed(const PageContext& page, std::string allow) {
  Response response = notice_page(page,
                                  Notice{.title = "Not available this way",
                                         .message = "This page cannot be used with that request.",
                                         .next = "Open the page from its link instead.",
                                         .kind = "error"},
                                  405);
  response.headers.emplace_back("Allow", std::move(allow));
  return response;
}

// The 403 of a POST whose form token does not match its cookie: the form
// was left open too long, sent from another site, or cookies are off.
Response form_expired(const PageContext& page, const Request& request) {
  const std::string token = request.form.value("token");
  return notice_page(page,
                     Notice{.title = "This form has expired",
                            .message = "The form was open for too long, or your browser did not send the cookie "
                                       "that goes with it, so nothing was sent.",
                            .next = "Reload the page and fill in the form again. If this keeps happening, allow "
                                    "cookies for this site.",
                            .link_href = token.empty() ? request.path : path_with_token(request.path, token),
                            .link_text = "Reload the form",
                            .kind = "error"},
                     403);
}

// `text` as a sentence: its first letter upper case, a full stop at the end.
std::string as_sentence(std::string text) {
  if (text.empty()) return text;
  text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  if (text.back() != '.' && text.back() != '?' && text.back() != '!') text += '.';
  return text;
}

// The service's words for a rule about one field, which name the field as
// the protocol spells it ('display_name'): on a page the field is beside
// them.
std::string field_rule_words(const Error& error) {
  std::string message = error.message;
  const std::string quoted = "'" + error.field + "'";
  if (const auto at = message.find(quoted); !error.field.empty() && at != std::string::npos) {
    message.replace(at, quoted.size(), "this");
  }
  return as_sentence(std::move(message));
}

// A handler that takes GET and HEAD only (a page that shows something).
Handler show_only(Handler show) {
  return [show = std::move(show)](const PageContext& page, const Request& request) -> awaitable<Response> {
    if (request.method != Method::get && request.method != Method::head)
      co_return method_not_allowed(page, "GET, HEAD");
    co_return co_await show(page, request);
  };
}

}  // namespace

Handler form_route(Handler show, Handler submit) {
  return [show = std::move(show), submit = std::move(submit)](const PageContext& page,
                                                              const Request& request) -> awaitable<Response> {
    if (request.method == Method::get || request.method == Method::head) co_return co_await show(page, request);
    if (request.method != Method::post) co_return method_not_allowed(page, "GET, HEAD, POST");
    if (!form_token_matches(request)) co_return form_expired(page, request);
    co_return co_await submit(page, request);
  };
}

mstch::array fields_view(const std::vector<FormField>& fields) {
  mstch::array view;
  for (const FormField& field : fields) {
    view.push_back(mstch::map{{"name", field.name},
                              {"label", field.label},
                              {"type", field.type},
                              {"textarea", field.type == "textarea"},
                              {"value", field.value},
                              {"autocomplete", field.autocomplete},
                              {"hint", field.hint},
                              {"error", field.error},
                              {"required", field.required},
                              {"readonly", field.readonly}});
  }
  return view;
}

FormField& field(std::vector<FormField>& fields, std::string_view name) {
  return *std::find_if(fields.begin(), fields.end(), [name](const FormField& field) { return field.name == name; });
}

bool place_error(std::vector<FormField>& fields, const Error& error) {
  const auto found =
      std::find_if(fields.begin(), fields.end(), [&](const FormField& field) { return field.name == error.field; });
  if (error.field.empty() || found == fields.end()) return false;
  found->error = error_words(error);
  return true;
}

std::string password_hint(const PageContext& page) {
  return "At least " + std::to_string(page.config()->accounts.password_min_length) + " characters.";
}

std::string error_words(const Error& error) {
  switch (error.code) {
    case ErrorCode::invalid_email: return "Enter a whole email address, such as name@example.com.";
    case ErrorCode::conflict:
      if (error.field == "email") return "An account with this email address exists already.";
      return "This username is taken, or waiting for its owner to confirm it. Choose another.";
    case ErrorCode::invalid_username:
    case ErrorCode::weak_password:
    case ErrorCode::domain_not_allowed:
    case ErrorCode::invalid_token:
    case ErrorCode::bad_request: return field_rule_words(error);
    default: return "This could not be done. Try again later.";
  }
}

Response render_public_page(const PageContext& page, std::string_view template_name, mstch::map context,
                            unsigned status, const Request* form_request) {
  Response response;
  response.status = status;
  response.no_store = true;
  if (form_request != nullptr) context["csrf"] = form_token(*form_request, response);
  response.body = page.templates()->render_page(template_name, std::move(context));
  return response;
}

Response notice_page(const PageContext& page, const Notice& notice, unsigned status) {
  mstch::map context{
      {"title", notice.title}, {"message", notice.message}, {"next", notice.next}, {"kind", notice.kind}};
  if (!notice.link_href.empty()) {
    context["link"] = mstch::map{{"href", notice.link_href}, {"text", notice.link_text}};
  }
  return render_public_page(page, "public_notice", std::move(context), status);
}

Handler notice_route(Notice notice) {
  return show_only([notice = std::move(notice)](const PageContext& page, const Request&) -> awaitable<Response> {
    co_return notice_page(page, notice);
  });
}

std::optional<Response> page_for_error(const PageContext& page, const Error& error) {
  switch (error.code) {
    case ErrorCode::rate_limited: {
      const std::int64_t seconds = std::max<std::int64_t>(1, error.retry_after.value_or(60));
      const std::int64_t minutes = (seconds + 59) / 60;
      Response response = notice_page(
          page,
          Notice{.title = "Too many attempts",
                 .message = "There have been too many attempts from your network address for now.",
                 .next = "Try again in " +
                         (minutes == 1 ? std::string("a minute") : std::to_string(minutes) + " minutes") + ".",
                 .kind = "error"},
          429);
      response.headers.emplace_back("Retry-After", std::to_string(seconds));
      return response;
    }
    case ErrorCode::user_management_external:
      return notice_page(page, Notice{.title = "Accounts are managed elsewhere",
                                      .message = "Accounts and passwords of this site are not managed here.",
                                      .next = "Ask your administrator where to get an account or change a password."});
    case ErrorCode::mail_not_configured:
      return notice_page(page,
                         Notice{.title = "Not available",
                                .message = "This needs to send you an email, and this site cannot send email.",
                                .next = "Ask your administrator for help.",
                                .kind = "error"},
                         503);
    case ErrorCode::read_only:
      return notice_page(page,
                         Notice{.title = "Not possible here",
                                .message = "Your account is kept by another system, which does not let this site "
                                           "make this change.",
                                .next = "Ask your administrator how to make it.",
                                .kind = "error"},
                         403);
    case ErrorCode::directory_unavailable:
    case ErrorCode::internal_error:
      return notice_page(page,
                         Notice{.title = "Something went wrong",
                                .message = "This could not be done just now; nothing was changed.",
                                .next = "Try again in a few minutes. If it keeps failing, tell your administrator.",
                                .kind = "error"},
                         503);
    default: return std::nullopt;
  }
}

Response error_page(const PageContext& page, const Error& error) {
  if (auto whole_page = page_for_error(page, error)) return std::move(*whole_page);
  return *page_for_error(page, make_error(ErrorCode::internal_error, error.message));
}

std::string path_with_token(std::string_view path, std::string_view token) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string link(path);
  link += "?token=";
  for (const char c : token) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      link += c;
    } else {
      link += '%';
      link += kHex[byte >> 4];
      link += kHex[byte & 0x0f];
    }
  }
  return link;
}

}  // namespace dirproxy::web
