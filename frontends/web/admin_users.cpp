// The Users tab (docs/web.md, "Admin console"): search (find_users), a
// user with their groups (get_user_entry), add a user (add_user, with the
// set-password mail or a password chosen now), deactivate and reactivate
// (update_user), and mail a password reset link (send_password_reset).
#include <set>

#include "frontends/web/admin_pages.hpp"
#include "frontends/web/admin_session.hpp"
#include "service/entry_requests.hpp"
#include "service/password_reset_requests.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

std::string user_path(const std::string& username) { return "/admin/user?username=" + query_escape(username); }

mstch::map user_row(const User& user) {
  return mstch::map{{"username", user.username},
                    {"href", user_path(user.username)},
                    {"display_name", user.display_name.value_or("")},
                    {"email", user.email.value_or("")},
                    {"directory", user.directory},
                    {"active", user.active}};
}

awaitable<Response> users_page(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const std::string query = request.query.value("q");
  const FindUsersRequest find{query, FindUsersRequest::default_limit};
  auto users = co_await page.service().call(admin.caller, find);
  mstch::map context{{"q", query}, {"searched", !query.empty()}};
  if (!users) {
    context["error"] = admin_error_words(users.error());
  } else {
    mstch::array rows;
    for (const User& user : *users) rows.push_back(user_row(user));
    context["count"] = std::to_string(users->size());
    context["none"] = users->empty();
    context["more"] = users->size() == static_cast<std::size_t>(FindUsersRequest::default_limit);
    context["users"] = std::move(rows);
  }
  co_return admin_view(page, admin, AdminTab::users, "admin_users", "Users", std::move(context));
}

// The add form, with what was typed (never the password) and each error
// beside its field.
awaitable<Response> add_user_form(const PageContext& page, const Request& request, const SignedInAdmin& admin,
                                  const Error* error) {
  const ListGroupsRequest list{"", ListGroupsRequest::max_limit};
  auto groups = co_await page.service().call(admin.caller, list);
  const std::vector<std::string> chosen = request.form.all("groups");
  const std::set<std::string> chosen_set(chosen.begin(), chosen.end());
  mstch::array group_options;
  if (groups) {
    for (const Group& group : *groups) {
      group_options.push_back(mstch::map{{"name", group.name}, {"checked", chosen_set.count(group.name) != 0}});
    }
  }
  const bool set_password = request.form.value("how") == "password";
  mstch::map context{{"username", request.form.value("username")},
                     {"email", request.form.value("email")},
                     {"display_name", request.form.value("display_name")},
                     {"first_name", request.form.value("first_name")},
                     {"last_name", request.form.value("last_name")},
                     {"how_mail", !set_password},
                     {"how_password", set_password},
                     {"groups", std::move(group_options)},
                     {"has_groups", groups && !groups->empty()}};
  if (error) {
    const std::string words = admin_error_words(*error);
    static const std::set<std::string> kFields = {"username",  "email",    "display_name", "first_name",
                                                  "last_name", "password", "groups"};
    if (kFields.count(error->field) != 0) {
      context[error->field + "_error"] = words;
    } else {
      context["error"] = words;
    }
  }
  co_return admin_view(page, admin, AdminTab::users, "admin_user_new", "Add a user", std::move(context),
                       error ? 400 : 200);
}

awaitable<Response> new_user_page(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  co_return co_await add_user_form(page, request, admin, nullptr);
}

std::optional<std::string> optional_field(const Fields& form, std::string_view name) {
  std::string value = form.value(name);
  if (value.empty()) return std::nullopt;
  return value;
}

awaitable<Response> add_user(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const Fields& form = request.form;
  const bool set_password = form.value("how") == "password";
  AddUserRequest add;
  add.username = form.value("username");
  add.email = form.value("email");
  add.display_name = form.value("display_name");
  add.first_name = optional_field(form, "first_name");
  add.last_name = optional_field(form, "last_name");
  add.groups = form.all("groups");
  if (set_password) {
    // An empty password is the service's to refuse (weak_password), not a
    // silent switch to the mail.
    add.password = form.value("password");
    add.notify = false;
  } else {
    add.notify = true;
  }
  auto added = co_await page.service().call(admin.caller, add);
  if (!added) co_return co_await add_user_form(page, request, admin, &added.error());
  const std::string& username = added->user.username;
  std::string notice = set_password ? "Added " + username + " with the password you chose."
                                    : "Added " + username + ". A mail with a link to set a password went to " +
                                          added->user.email.value_or(add.email) + ".";
  const std::string path = user_path(username);
  const AdminNotice done{std::move(notice), false};
  co_return co_await finish_action(page, admin, path, done);
}

awaitable<Response> user_page(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const std::string username = request.query.value("username");
  GetUserEntryRequest get;
  get.username = username;
  auto entry = co_await page.service().call(admin.caller, get);
  if (entry && !entry->has_value()) {
    mstch::map context{{"message", "There is no user named " + username + "."}};
    co_return admin_view(page, admin, AdminTab::users, "admin_message", "No such user", std::move(context), 404);
  }
  if (!entry) {
    mstch::map context{{"message", admin_error_words(entry.error())}};
    co_return admin_view(page, admin, AdminTab::users, "admin_message", "User", std::move(context),
                         entry.error().code == ErrorCode::bad_request ? 400 : 503);
  }
  const UserEntry& found = **entry;
  mstch::array groups;
  for (const std::string& group : found.groups) {
    groups.push_back(mstch::map{{"name", group}, {"href", "/admin/group?name=" + query_escape(group)}});
  }
  mstch::map context = user_row(found.user);
  context["first_name"] = found.user.first_name.value_or("");
  context["last_name"] = found.user.last_name.value_or("");
  context["groups"] = std::move(groups);
  context["has_groups"] = !found.groups.empty();
  co_return admin_view(page, admin, AdminTab::users, "admin_user", found.user.username, std::move(context));
}

awaitable<Response> set_active(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  UpdateUserRequest update;
  update.username = request.form.value("username");
  const bool active = request.form.value("active") == "true";
  update.changes.active = active;
  auto updated = co_await page.service().call(admin.caller, update);
  AdminNotice notice{active ? update.username + " is active again: they can sign in."
                            : update.username + " is deactivated: they can no longer sign in.",
                     false};
  if (!updated) notice = AdminNotice{"Nothing changed: " + admin_error_words(updated.error()), true};
  const std::string path = user_path(update.username);
  co_return co_await finish_action(page, admin, path, notice);
}

awaitable<Response> send_reset(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const SendPasswordResetRequest send{request.form.value("username")};
  auto sent = co_await page.service().call(admin.caller, send);
  AdminNotice notice{"A password reset link was mailed to " + send.username + "'s address.", false};
  if (!sent) notice = AdminNotice{"No link was sent: " + admin_error_words(sent.error()), true};
  const std::string path = user_path(send.username);
  co_return co_await finish_action(page, admin, path, notice);
}

}  // namespace

void add_admin_users(Routes& routes) {
  routes.add("/admin/users", admin_page(users_page));
  routes.add("/admin/users/new", admin_page(new_user_page, add_user));
  routes.add("/admin/user", admin_page(user_page));
  routes.add("/admin/user/active", admin_page(nullptr, set_active));
  routes.add("/admin/user/reset", admin_page(nullptr, send_reset));
}

}  // namespace dirproxy::web
