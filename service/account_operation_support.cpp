#include "service/account_operation_support.hpp"

#include "accounts/account_token.hpp"
#include "accounts/shared_invitation.hpp"
#include "core/readable_text.hpp"
#include "core/timestamp.hpp"

namespace dirproxy {

Result<void> require_internal_management(const Runtime& runtime, std::string_view managed) {
  if (runtime.config->user_management == config::UserManagement::external) {
    return fail(ErrorCode::user_management_external,
                std::string(managed) + " are managed outside dirproxy (user_management: external)");
  }
  return {};
}

Error unusable_token() {
  return make_error(ErrorCode::invalid_token, "the token is unknown, used, revoked or expired", "token");
}

Result<void> require_mail(const Runtime& runtime, std::string_view what) {
  if (!runtime.mail) {
    return fail(ErrorCode::mail_not_configured, std::string(what) + " needs a mail server, and none is configured");
  }
  return {};
}

Result<void> admit_client(const OperationContext& op) {
  return op.runtime.rate_limiter->admit(op.caller.client_address.value_or(""), op.runtime.config->security.rate_limit,
                                        op.runtime.clock->steady());
}

Result<PresentedInvitation> find_presented_invitation(const OperationContext& op, std::string_view token) {
  auto lease = op.runtime.database->acquire();
  auto shared = is_shared_invitation_token(lease, token);
  RETURN_IF_ERROR(shared);
  if (*shared) return PresentedInvitation{};
  auto invitation = find_usable_invitation(lease, token, op.now());
  RETURN_IF_ERROR(invitation);
  if (!invitation->has_value()) return unusable_token();
  return PresentedInvitation{std::move(*invitation)};
}

InvitationView invitation_view(Invitation invitation, std::int64_t now) {
  std::string status = invitation.status(now);
  return InvitationView{std::move(invitation), std::move(status)};
}

Result<void> check_group_names(const std::vector<std::string>& groups, std::string_view field) {
  for (const auto& group : groups) {
    RETURN_IF_ERROR(check_required_name(group, field));
  }
  return {};
}

std::string signup_link(const Runtime& runtime, std::string_view token) {
  const auto& site = runtime.config->site;
  return site_link(site.links.signup, site.base_url, token);
}

Result<OutgoingMail> invitation_mail(const Runtime& runtime, const std::string& recipient, std::string_view token,
                                     const std::optional<std::string>& message,
                                     std::optional<std::int64_t> expires_at) {
  RETURN_IF_ERROR(require_mail(runtime, "an invitation"));
  MailValues values;
  values.link = signup_link(runtime, token);
  values.email = recipient;
  values.message = message.value_or("");
  if (expires_at) values.expires = rfc3339(*expires_at);
  return runtime.mail->compose("invitation", recipient, values, runtime.clock->unix_seconds());
}

Result<std::vector<std::string>> admin_emails(const Runtime& runtime) {
  std::vector<std::string> emails;
  const auto& admin_group = runtime.config->accounts.admin_group;
  if (admin_group.empty()) return emails;
  auto group = runtime.chain->find_group(admin_group);
  RETURN_IF_ERROR(group);
  if (!group->has_value()) return emails;
  for (const auto& member : (*group)->members) {
    auto admin = runtime.chain->find_user(member);
    RETURN_IF_ERROR(admin);
    if (admin->has_value() && (*admin)->email && !(*admin)->email->empty()) emails.push_back(*(*admin)->email);
  }
  return emails;
}

}  // namespace dirproxy
