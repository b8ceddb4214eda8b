// What the account life cycle's operations (signup, invitation and access
// request operations) share: the guards every one of them starts with
// (user_management, mail, rate limit), checks of free text and group names,
// the invitation as operations return it, and the mails they compose.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/invitation_store.hpp"
#include "mail/outbox.hpp"
#include "service/operation_context.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

// user_management_external when users are managed outside dirproxy; the
// message says what (`managed`) is managed there.
Result<void> require_internal_management(const Runtime& runtime, std::string_view managed = "accounts");

// invalid_token (field token) for an invitation or confirmation token that
// cannot be used: one answer whether it is unknown, used, revoked or expired.
Error unusable_token();

// mail_not_configured (naming `what` needs it) when no mail server is configured.
Result<void> require_mail(const Runtime& runtime, std::string_view what);

// Counts the request against its client_ip (security.rate_limit);
// rate_limited with retry_after when the client is over the limit.
// All callers without a client address share one count.
Result<void> admit_client(const OperationContext& op);

// The invitation a token presents: the shared link (`single_use` none) or a
// single-use invitation usable at the operation's time. signup redeems it;
// check_invitation only shows it.
struct PresentedInvitation {
  std::optional<Invitation> single_use;
};

// The invitation `token` presents, or unusable_token() when it is neither
// the current shared token nor a usable single-use one. Reads only.
Result<PresentedInvitation> find_presented_invitation(const OperationContext& op, std::string_view token);

// An invitation as operations return it: never its token; its status
// (Invitation::status) as of the operation's time.
struct InvitationView {
  Invitation invitation;
  std::string status;
};
InvitationView invitation_view(Invitation invitation, std::int64_t now);

// bad_request naming `field` unless every group name passes
// check_required_name (core/readable_text.hpp).
Result<void> check_group_names(const std::vector<std::string>& groups, std::string_view field);

// The signup link for `token` (site.links.signup).
std::string signup_link(const Runtime& runtime, std::string_view token);

// The invitation mail to `recipient` with the signup link for `token`;
// `expires_at` is none for the shared link, which lives until a reset.
Result<OutgoingMail> invitation_mail(const Runtime& runtime, const std::string& recipient, std::string_view token,
                                     const std::optional<std::string>& message, std::optional<std::int64_t> expires_at);

// The email addresses of the members of accounts.admin_group (empty when it
// is unset or names no group), for admin notices.
Result<std::vector<std::string>> admin_emails(const Runtime& runtime);

// Checks `password` of `username` under the lockout (security.lockout): a
// locked username is refused (account_locked) before anything is verified,
// a wrong password counts against it, a right one clears its count. The
// authentication of authenticate, change_password and the admin console's
// sign-in (directory_operations.cpp).
Result<User> authenticate_with_lockout(const OperationContext& op, const std::string& username,
                                       const std::string& password);

}  // namespace dirproxy
