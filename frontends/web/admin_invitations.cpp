// The Invite users tab (docs/web.md, "Admin console"): the shared
// invitation link (get_invitation_link) with a copy button
// (assets/copy_link.js; the link is selectable without it) and Reset
// (reset_invitation_link); invitations mailed to a list of addresses with a
// message (send_invitations); the single-use invitations with their status
// (list_invitations), resend and revoke.
#include "core/timestamp.hpp"
#include "frontends/web/admin_pages.hpp"
#include "frontends/web/admin_session.hpp"
#include "service/invitation_requests.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

constexpr std::string_view kInvitationsPath = "/admin/invitations";

// The addresses of the form's list: one a line, or separated by commas.
std::vector<std::string> addresses_of(const std::string& text) {
  std::vector<std::string> addresses;
  std::string current;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == ',' || c == ';') {
      addresses.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  addresses.push_back(std::move(current));
  return addresses;
}

mstch::map invitation_row(const InvitationView& view) {
  const Invitation& invitation = view.invitation;
  std::string groups;
  for (const std::string& group : invitation.groups) groups += (groups.empty() ? "" : ", ") + group;
  const bool pending = view.status == "pending";
  return mstch::map{{"id", std::to_string(invitation.id)},
                    {"email", invitation.email.value_or("anyone with the link")},
                    {"status", view.status},
                    {"groups", groups},
                    {"created", rfc3339(invitation.created_at)},
                    {"expires", rfc3339(invitation.expires_at)},
                    {"used_by", invitation.used_by.value_or("")},
                    {"can_resend", pending && invitation.email.has_value()},
                    {"can_revoke", pending}};
}

// The tab: the shared link, the send form (what was typed, and the error of
// a refused send beside its field), the single-use invitations.
awaitable<Response> invitations_view(const PageContext& page, const Request& request, const SignedInAdmin& admin,
                                     const Error* error) {
  mstch::map context{{"emails", request.form.value("emails")}, {"message", request.form.value("message")}};
  const GetInvitationLinkRequest get_link;
  auto link = co_await page.service().call(admin.caller, get_link);
  if (link) {
    context["link"] = link->link;
  } else {
    context["link_error"] = admin_error_words(link.error());
  }
  const ListInvitationsRequest list{.include_used = true};
  auto invitations = co_await page.service().call(admin.caller, list);
  if (invitations) {
    mstch::array rows;
    for (const InvitationView& view : *invitations) rows.push_back(invitation_row(view));
    context["none"] = invitations->empty();
    context["invitations"] = std::move(rows);
  } else {
    context["list_error"] = admin_error_words(invitations.error());
  }
  if (error) {
    context[error->field == "message" ? "message_error" : "emails_error"] = admin_error_words(*error);
  }
  Response response = admin_view(page, admin, AdminTab::invitations, "admin_invitations", "Invite users",
                                 std::move(context), error ? 400 : 200);
  co_return response;
}

awaitable<Response> invitations_page(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  co_return co_await invitations_view(page, request, admin, nullptr);
}

awaitable<Response> reset_link(const PageContext& page, const Request&, const SignedInAdmin& admin) {
  const ResetInvitationLinkRequest reset;
  auto done = co_await page.service().call(admin.caller, reset);
  AdminNotice notice{"The shared link was reset: the old link no longer works. Hand out the new one below.", false};
  if (!done) notice = AdminNotice{"The link was not reset: " + admin_error_words(done.error()), true};
  const std::string path(kInvitationsPath);
  co_return co_await finish_action(page, admin, path, notice);
}

awaitable<Response> send_invitations(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  SendInvitationsRequest send;
  send.emails = addresses_of(request.form.value("emails"));
  if (std::string message = request.form.value("message"); !message.empty()) send.message = std::move(message);
  auto sent = co_await page.service().call(admin.caller, send);
  if (!sent) co_return co_await invitations_view(page, request, admin, &sent.error());
  std::string text =
      "Invitations went to " + std::to_string(sent->sent.size()) + " address" + (sent->sent.size() == 1 ? "" : "es");
  for (std::size_t i = 0; i < sent->sent.size(); ++i) text += (i == 0 ? ": " : ", ") + sent->sent[i];
  text += ".";
  for (const RejectedAddress& rejected : sent->rejected) {
    text += " Not sent to " + rejected.email + ": " + rejected.reason + ".";
  }
  const AdminNotice notice{std::move(text), !sent->rejected.empty()};
  const std::string path(kInvitationsPath);
  co_return co_await finish_action(page, admin, path, notice);
}

awaitable<Response> resend_invitation(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const std::string path(kInvitationsPath);
  const std::string what = "invitation";
  const IdAction act = [&page, &admin](std::int64_t id) -> awaitable<AdminNotice> {
    const ResendInvitationRequest resend{id};
    auto resent = co_await page.service().call(admin.caller, resend);
    if (!resent) co_return AdminNotice{"Not resent: " + admin_error_words(resent.error()), true};
    co_return AdminNotice{"Invitation " + std::to_string(id) + " was mailed again to " +
                              resent->invitation.email.value_or("") + "; its earlier link no longer works.",
                          false};
  };
  co_return co_await act_on_id(page, request, admin, path, what, act);
}

awaitable<Response> revoke_invitation(const PageContext& page, const Request& request, const SignedInAdmin& admin) {
  const std::string path(kInvitationsPath);
  const std::string what = "invitation";
  const IdAction act = [&page, &admin](std::int64_t id) -> awaitable<AdminNotice> {
    const RevokeInvitationRequest revoke{id};
    auto revoked = co_await page.service().call(admin.caller, revoke);
    if (!revoked) co_return AdminNotice{"Not revoked: " + admin_error_words(revoked.error()), true};
    co_return AdminNotice{"Invitation " + std::to_string(id) + " is revoked: its link no longer works.", false};
  };
  co_return co_await act_on_id(page, request, admin, path, what, act);
}

}  // namespace

void add_admin_invitations(Routes& routes) {
  routes.add(std::string(kInvitationsPath), admin_page(invitations_page));
  routes.add("/admin/invitations/reset-link", admin_page(nullptr, reset_link));
  routes.add("/admin/invitations/send", admin_page(nullptr, send_invitations));
  routes.add("/admin/invitations/resend", admin_page(nullptr, resend_invitation));
  routes.add("/admin/invitations/revoke", admin_page(nullptr, revoke_invitation));
}

}  // namespace dirproxy::web
