// The Groups tab (docs/web.md, "Admin console"): the groups (list_groups,
// a page at a time), create one (add_group), a group's members (get_group),
// add and remove a member (add_member, remove_member).
#include "frontends/web/admin_pages.hpp"
#include "frontends/web/admin_session.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

constexpr std::int64_t kGroupsPerPage = 100;

std::string group_path(const std::string& name) { return "/admin/group?name=" + query_escape(name); }

// The list of groups from `after`, with the create form (what was typed,
// and the error of a refused create beside its field).
awaitable<Response> groups_view(const PageContext& page, const Request& request, const SignedInAdmin& admin,
                                const Error* error) {
  const std::string after = request.query.value("after");
  const ListGroupsRequest list{after, kGroupsPerPage};
  auto groups = co_await page.service().call(admin.caller, list);
  mstch::map context{{"name", request.form.value("name")}, {"description", request.form.value("description")}};
  if (!groups) {
    context["list_error"] = admin_error_words(groups.error());
  } else {
    mstch::array rows;
    for (const Group& group : *groups) {
      rows.push_back(mstch::map{{"name", group.name},
                                {"href", group_path(group.name)},
                                {"description", group.description.value_or("")},
                                {"directory", group.directory},
                                {"members", std::to_string(group.members.size())}});
    }
    context["none"] = groups->empty();
    context["groups"] = std::move(rows);
    if (static_cast<std::int64_t>(groups->size()) == kGroupsPerPage) {
      context["next"] = "/admin/groups?after=" + query_escape(groups->back().name);
    }
    if (!after.empty()) context["first"] = std::string("/admin/groups");
  }
  if (error) {
    const std::string words = admin_error_words(*error);
    context[error->field == "description" ? "description_error" : "name_error"] = words;
  }
  co_return admin_view(page, admin, AdminTab::groups, "admin_groups", "Groups", std::move(context), error ? 400 : 200);
}

awaitable<Response> groups_page(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  co_return co_await groups_view(page, request, admin, nullptr);
}

awaitable<Response> create_group(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  AddGroupRequest add;
  add.name = request.form.value("name");
  if (std::string description = request.form.value("description"); !description.empty()) {
    add.description = std::move(description);
  }
  auto added = co_await page.service().call(admin.caller, add);
  if (!added) co_return co_await groups_view(page, request, admin, &added.error());
  const std::string path = group_path(added->name);
  const AdminNotice notice{"Created the group " + added->name + ".", false};
  co_return co_await finish_action(page, admin, path, notice);
}

// One group and its members, with the add-member form (the username typed
// and a refused add's error beside it).
awaitable<Response> group_view(const PageContext& page, const Request& request, const SignedInAdmin& admin,
                               const std::string& name, const Error* error) {
  const GetGroupRequest get{name};
  auto group = co_await page.service().call(admin.caller, get);
  if (!group) {
    const bool missing = group.error().code == ErrorCode::not_found;
    mstch::map context{
        {"message", missing ? "There is no group named " + name + "." : admin_error_words(group.error())}};
    co_return admin_view(page, admin, AdminTab::groups, "admin_message", missing ? "No such group" : "Group",
                         std::move(context), missing ? 404 : 503);
  }
  mstch::array members;
  for (const std::string& member : group->members) {
    members.push_back(mstch::map{{"username", member}, {"href", "/admin/user?username=" + query_escape(member)}});
  }
  mstch::map context{{"name", group->name},
                     {"description", group->description.value_or("")},
                     {"directory", group->directory},
                     {"members", std::move(members)},
                     {"has_members", !group->members.empty()},
                     {"username", request.form.value("username")}};
  if (error) context["username_error"] = admin_error_words(*error);
  co_return admin_view(page, admin, AdminTab::groups, "admin_group", group->name, std::move(context),
                       error ? 400 : 200);
}

awaitable<Response> group_page(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const std::string name = request.query.value("name");
  co_return co_await group_view(page, request, admin, name, nullptr);
}

awaitable<Response> add_member(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const AddMemberRequest add{request.form.value("name"), request.form.value("username")};
  auto added = co_await page.service().call(admin.caller, add);
  if (!added) co_return co_await group_view(page, request, admin, add.group, &added.error());
  const std::string path = group_path(add.group);
  const AdminNotice notice{"Added " + add.username + " to " + add.group + ".", false};
  co_return co_await finish_action(page, admin, path, notice);
}

awaitable<Response> remove_member(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const RemoveMemberRequest remove{request.form.value("name"), request.form.value("username")};
  auto removed = co_await page.service().call(admin.caller, remove);
  AdminNotice notice{"Removed " + remove.username + " from " + remove.group + ".", false};
  if (!removed) notice = AdminNotice{"Nothing changed: " + admin_error_words(removed.error()), true};
  const std::string path = group_path(remove.group);
  co_return co_await finish_action(page, admin, path, notice);
}

}  // namespace

void add_admin_groups(Routes& routes) {
  routes.add("/admin/groups", admin_page(groups_page, create_group));
  routes.add("/admin/group", admin_page(group_page));
  routes.add("/admin/group/members", admin_page(nullptr, add_member));
  routes.add("/admin/group/members/remove", admin_page(nullptr, remove_member));
}

}  // namespace dirproxy::web
