// The tabs that show the daemon's state (docs/web.md, "Admin console"):
// Access requests (list_access_requests, approve with groups, deny),
// Signup options (signup_options and the rest of the signup settings,
// read-only: they live in the configuration file), Mail queue (mail_queue)
// and Directories (list_directories).
#include "config/duration.hpp"
#include "core/timestamp.hpp"
#include "frontends/web/admin_pages.hpp"
#include "frontends/web/admin_session.hpp"
#include "service/access_request_requests.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

constexpr std::string_view kAccessRequestsPath = "/admin/access-requests";

std::string words_of(config::SignupMode mode) {
  switch (mode) {
    case config::SignupMode::open: return "open: anyone can sign up";
    case config::SignupMode::restricted:
      return "restricted: people with an address in the domains below can sign up, after confirming it";
    case config::SignupMode::disabled: return "disabled: only invited people can sign up";
  }
  return "disabled";
}

awaitable<Response> access_requests_page(const PageContext& page, const Request&, const SignedInAdmin& admin) {
  const ListAccessRequestsRequest list;
  auto requests = co_await page.service().call(admin.caller, list);
  const ListGroupsRequest list_groups{"", ListGroupsRequest::max_limit};
  auto groups = co_await page.service().call(admin.caller, list_groups);
  mstch::map context{{"enabled", page.config()->access_requests.enabled}};
  if (!requests) {
    context["list_error"] = admin_error_words(requests.error());
    co_return admin_view(page, admin, AdminTab::access_requests, "admin_access_requests", "Access requests",
                         std::move(context));
  }
  mstch::array pending;
  mstch::array decided;
  for (const AccessRequest& request : *requests) {
    mstch::array group_options;
    if (groups) {
      for (const Group& group : *groups) {
        group_options.push_back(
            mstch::map{{"name", group.name}, {"field_id", "group-" + std::to_string(request.id) + "-" + group.name}});
      }
    }
    mstch::map row{{"id", std::to_string(request.id)},
                   {"email", request.email},
                   {"display_name", request.display_name},
                   {"message", request.message.value_or("")},
                   {"created", rfc3339(request.created_at)},
                   {"status", request.status},
                   {"decided", request.decided_at ? rfc3339(*request.decided_at) : std::string()},
                   {"groups", std::move(group_options)}};
    (request.status == "pending" ? pending : decided).push_back(std::move(row));
  }
  context["no_pending"] = pending.empty();
  context["pending"] = std::move(pending);
  context["has_decided"] = !decided.empty();
  context["decided"] = std::move(decided);
  co_return admin_view(page, admin, AdminTab::access_requests, "admin_access_requests", "Access requests",
                       std::move(context));
}

awaitable<Response> approve_access_request(const PageContext& page, const Request& request,
                                           const SignedInAdmin& admin) {
  const std::string path(kAccessRequestsPath);
  const std::string what = "access request";
  const IdAction act = [&page, &request, &admin](std::int64_t id) -> awaitable<AdminNotice> {
    const ApproveAccessRequestRequest approve{id, request.form.all("groups")};
    auto approved = co_await page.service().call(admin.caller, approve);
    if (!approved) co_return AdminNotice{"Not approved: " + admin_error_words(approved.error()), true};
    co_return AdminNotice{
        "Approved: an invitation was mailed to " + approved->invitation.email.value_or("the requester") + ".", false};
  };
  co_return co_await act_on_id(page, request, admin, path, what, act);
}

awaitable<Response> deny_access_request(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const std::string path(kAccessRequestsPath);
  const std::string what = "access request";
  const IdAction act = [&page, &admin](std::int64_t id) -> awaitable<AdminNotice> {
    const DenyAccessRequestRequest deny{id};
    auto denied = co_await page.service().call(admin.caller, deny);
    if (!denied) co_return AdminNotice{"Not denied: " + admin_error_words(denied.error()), true};
    co_return AdminNotice{"Denied: nothing was mailed.", false};
  };
  co_return co_await act_on_id(page, request, admin, path, what, act);
}

awaitable<Response> signup_options_page(const PageContext& page, const Request&, const SignedInAdmin& admin) {
  const SignupOptionsRequest get;
  auto options = co_await page.service().call(admin.caller, get);
  const auto config = page.config();
  mstch::map context{{"config_file", config->source.string()}};
  if (!options) {
    context["error"] = admin_error_words(options.error());
  } else {
    mstch::array domains;
    for (const std::string& domain : options->domains) domains.push_back(domain);
    context["mode"] = words_of(options->mode);
    context["domains"] = std::move(domains);
    context["has_domains"] = !options->domains.empty();
    context["external"] = options->user_management == config::UserManagement::external;
  }
  context["notify_admins"] = config->signup.notify_admins;
  context["confirmation_ttl"] = config::format_duration(config->signup.confirmation_ttl);
  context["per_recipient"] = config->invitations.per_recipient;
  context["invitation_ttl"] = config::format_duration(config->invitations.ttl);
  context["access_requests"] = config->access_requests.enabled;
  co_return admin_view(page, admin, AdminTab::signup_options, "admin_signup_options", "Signup options",
                       std::move(context));
}

awaitable<Response> mail_queue_page(const PageContext& page, const Request&, const SignedInAdmin& admin) {
  const MailQueueRequest get;
  auto queue = co_await page.service().call(admin.caller, get);
  mstch::map context;
  if (!queue) {
    context["error"] = admin_error_words(queue.error());
  } else {
    context["configured"] = queue->mail_configured;
    context["pending"] = std::to_string(queue->pending);
    context["failed"] = std::to_string(queue->failed);
    context["held"] = std::to_string(queue->held);
    context["oldest"] = queue->oldest_pending_age_s
                            ? config::format_duration(std::chrono::seconds(*queue->oldest_pending_age_s))
                            : std::string("none waiting");
  }
  co_return admin_view(page, admin, AdminTab::mail_queue, "admin_mail_queue", "Mail queue", std::move(context));
}

std::string words_of(Permissions permissions) {
  switch (permissions) {
    case Permissions::read_only: return "read only";
    case Permissions::read_only_local_groups: return "read only, local groups";
    case Permissions::read_write: return "read and write";
  }
  return "read only";
}

awaitable<Response> directories_page(const PageContext& page, const Request&, const SignedInAdmin& admin) {
  const ListDirectoriesRequest list;
  auto directories = co_await page.service().call(admin.caller, list);
  mstch::map context;
  if (!directories) {
    context["error"] = admin_error_words(directories.error());
  } else {
    mstch::array rows;
    for (const DirectoryReport& report : directories->directories) {
      rows.push_back(mstch::map{{"name", report.name},
                                {"type", std::string(report.type == DirectoryType::internal ? "internal" : "LDAP")},
                                {"permissions", words_of(report.permissions)},
                                {"up", report.up},
                                {"detail", report.detail},
                                {"users", report.users ? std::to_string(*report.users) : std::string("–")}});
    }
    context["directories"] = std::move(rows);
    context["state_location"] = directories->state.location;
  }
  co_return admin_view(page, admin, AdminTab::directories, "admin_directories", "Directories", std::move(context));
}

}  // namespace

void add_admin_status_pages(Routes& routes) {
  routes.add(std::string(kAccessRequestsPath), admin_page(access_requests_page));
  routes.add("/admin/access-requests/approve", admin_page(nullptr, approve_access_request));
  routes.add("/admin/access-requests/deny", admin_page(nullptr, deny_access_request));
  routes.add("/admin/signup-options", admin_page(signup_options_page));
  routes.add("/admin/mail-queue", admin_page(mail_queue_page));
  routes.add("/admin/directories", admin_page(directories_page));
}

}  // namespace dirproxy::web
