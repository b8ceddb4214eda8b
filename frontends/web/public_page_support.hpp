// What the public pages (signup_pages.cpp, password_pages.cpp,
// access_pages.cpp) share: the routes that take a form (GET shows it, POST
// checks the form token and sends it, any other method is 405), the form's
// fields as the form_field template shows them, the words a person reads
// for the service's errors, and the whole-page answers (the form expired,
// too many attempts, a closed or failed service, a dead link).
//
// Every page here sets no_store: its forms take passwords or carry a token,
// and the others say what a token did.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mstch/mstch.hpp>

#include "core/result.hpp"
#include "frontends/web/web_page.hpp"

namespace dirproxy::web {

// The routes of each group of public pages.
void add_signup_pages(Routes& routes);
void add_password_pages(Routes& routes);
void add_access_pages(Routes& routes);

// A handler of a form: GET and HEAD go to `show`, a POST whose form token
// matches its cookie to `submit` (otherwise the "form expired" page, 403),
// any other method is 405 with Allow.
Handler form_route(Handler show, Handler submit);

// One input of a public form.
struct FormField {
  std::string name{};          // the form field's name, also the input's id
  std::string label{};         // what the <label> says
  std::string type = "text";   // text, email, password or textarea
  std::string value{};         // what was typed; never a password
  std::string autocomplete{};  // the autocomplete attribute ("" for none)
  std::string hint{};          // a line under the label
  std::string error{};         // beside the field
  bool required = true;
  bool readonly = false;
};

// The fields as the form_field template shows each of them.
mstch::array fields_view(const std::vector<FormField>& fields);

// Puts the words for `error` beside the field it names (Error::field);
// false when no field of `fields` has that name.
bool place_error(std::vector<FormField>& fields, const Error& error);

// The field `name` of `fields` (it must be there).
FormField& field(std::vector<FormField>& fields, std::string_view name);

// The hint under a new password's field: the length the site asks for
// (accounts.password_min_length), so that nobody has to guess it.
std::string password_hint(const PageContext& page);

// What a person reads for `error` beside its field: the service's words for
// the input rules (they say the rule: "the password must have at least 12
// characters"), as a sentence, and words of our own for the rest.
std::string error_words(const Error& error);

// `template_name` rendered in the layout with `context` (which sets
// "title"), answered with `status` and no_store. For a form, `form_request`
// is the request whose form cookie the form's "csrf" field carries
// (form_token); the context gets that token as "csrf".
Response render_public_page(const PageContext& page, std::string_view template_name, mstch::map context,
                            unsigned status = 200, const Request* form_request = nullptr);

// A page of a title, a message, what to do next and, when `link_href` is
// set, a link (public_notice.html).
struct Notice {
  std::string title{};
  std::string message{};
  std::string next{};
  std::string link_href{};  // a path of this site
  std::string link_text{};
  std::string kind{};  // "", "success" or "error": the notice's colour
};
Response notice_page(const PageContext& page, const Notice& notice, unsigned status = 200);

// A page (GET and HEAD) that shows `notice`: where a successful POST sends
// the browser (303), so that a reload does not send the form again.
Handler notice_route(Notice notice);

// The whole-page answer to an error that is not about one field of a form
// (too many attempts: 429 with Retry-After; users managed elsewhere; the
// service or a directory failing), or nullopt for an error a form shows
// beside its field.
std::optional<Response> page_for_error(const PageContext& page, const Error& error);

// The whole-page answer to `error` whatever it is: page_for_error's, or
// "something went wrong" (503) for an error no form has a field for.
Response error_page(const PageContext& page, const Error& error);

// "/path?token=…" with the token percent-encoded: a link back to a page of a
// token taken from a form (a token is base64url, but one sent by anyone is
// anything).
std::string path_with_token(std::string_view path, std::string_view token);

}  // namespace dirproxy::web
