// The invitation operations (service/invitation_requests.hpp, admin only but
// check_invitation): the shared link (get_invitation_link,
// reset_invitation_link), mailing invitations (send_invitations), and
// single-use invitations (create, list, revoke, resend). A mail goes into the outbox in the same transaction as the
// invitation it carries, so no mail names a token that was not stored.
#include <algorithm>
#include <string_view>

#include "accounts/account_token.hpp"
#include "accounts/shared_invitation.hpp"
#include "config/email_address.hpp"
#include "core/readable_text.hpp"
#include "core/timestamp.hpp"
#include "service/account_operation_support.hpp"
#include "service/invitation_requests.hpp"

namespace dirproxy {
namespace {

Error no_invitation(std::int64_t id) {
  return make_error(ErrorCode::not_found, "no invitation " + std::to_string(id), "invitation_id");
}

Result<InvitationLink> shared_link(const Runtime& runtime, Result<std::string> token) {
  RETURN_IF_ERROR(token);
  return InvitationLink{signup_link(runtime, *token), std::move(*token)};
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(' ');
  return std::string(text.substr(first, last - first + 1));
}

// The addresses of `emails`, each trimmed of spaces; empty items are dropped.
std::vector<std::string> recipients_of(const std::vector<std::string>& emails) {
  std::vector<std::string> items;
  for (const auto& item : emails) items.push_back(trimmed(item));
  items.erase(std::remove(items.begin(), items.end(), std::string()), items.end());
  return items;
}

}  // namespace

Result<InvitationLink> run(const OperationContext& op, const GetInvitationLinkRequest&) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  return shared_link(op.runtime, current_shared_invitation_token(op.runtime.database->acquire()));
}

Result<InvitationLink> run(const OperationContext& op, const ResetInvitationLinkRequest&) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  return shared_link(op.runtime, reset_shared_invitation_token(op.runtime.database->acquire()));
}

Result<SentInvitations> run(const OperationContext& op, const SendInvitationsRequest& request) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(require_mail(runtime, "send_invitations"));
  const auto& message = request.message;
  if (message) {
    RETURN_IF_ERROR(check_readable_text(*message, TextKind::message, "message"));
  }
  const auto items = recipients_of(request.emails);
  if (items.empty()) return fail(ErrorCode::bad_request, "no email address given", "emails");

  SentInvitations result;
  std::vector<std::string> recipients;
  for (const auto& item : items) {
    auto parsed = config::parse_email_address(item);
    if (!parsed) {
      result.rejected.push_back(RejectedAddress{item, ErrorCode::invalid_email, parsed.reason});
      continue;
    }
    const auto& address = parsed.address->address;
    // One invitation per address, however often it was listed.
    if (std::find(recipients.begin(), recipients.end(), address) == recipients.end()) recipients.push_back(address);
  }

  const std::int64_t ttl = whole_seconds(runtime.config->invitations.ttl);
  const std::int64_t now = op.now();
  auto lease = runtime.database->acquire();
  std::optional<std::string> shared_token;
  if (!runtime.config->invitations.per_recipient && !recipients.empty()) {
    auto token = current_shared_invitation_token(lease);
    RETURN_IF_ERROR(token);
    shared_token = std::move(*token);
  }
  RETURN_IF_ERROR(lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    for (const auto& recipient : recipients) {
      std::string token;
      std::optional<std::int64_t> expires_at;
      if (shared_token) {
        // The shared link does not expire by itself; it lives until a reset.
        token = *shared_token;
      } else {
        auto issued = issue_token();
        NewInvitation invitation{issued.hash, recipient, {}, message, ttl, std::nullopt};
        auto stored = insert_invitation(lease, invitation, now);
        RETURN_IF_ERROR(stored);
        token = std::move(issued.token);
        expires_at = stored->expires_at;
      }
      auto mail = invitation_mail(runtime, recipient, token, message, expires_at);
      RETURN_IF_ERROR(mail);
      RETURN_IF_ERROR(enqueue_mail(lease, *mail, now));
    }
    return {};
  }));
  result.sent = std::move(recipients);
  return result;
}

Result<CreatedInvitation> run(const OperationContext& op, const CreateInvitationRequest& request) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  NewInvitation invitation;
  if (request.email) {
    auto checked = runtime.policy.check_email(*request.email);
    RETURN_IF_ERROR(checked);
    invitation.email = std::move(*checked);
  }
  invitation.groups = request.groups;
  RETURN_IF_ERROR(check_group_names(invitation.groups, "groups"));
  invitation.ttl_s = whole_seconds(runtime.config->invitations.ttl);
  if (request.ttl_s) {
    if (*request.ttl_s < 1 || *request.ttl_s > CreateInvitationRequest::max_ttl_s) {
      return fail(ErrorCode::bad_request, "'ttl_s' must be between 1 and 31622400 seconds (366 days)", "ttl_s");
    }
    invitation.ttl_s = *request.ttl_s;
  }
  auto issued = issue_token();
  invitation.token_hash = issued.hash;
  const std::int64_t now = op.now();
  auto stored = runtime.database->acquire().write_transaction(
      [&](const StateDatabase::Lease& lease) { return insert_invitation(lease, invitation, now); });
  RETURN_IF_ERROR(stored);
  return CreatedInvitation{invitation_view(std::move(*stored), now), signup_link(runtime, issued.token),
                           std::move(issued.token)};
}

Result<std::vector<InvitationView>> run(const OperationContext& op, const ListInvitationsRequest& request) {
  const std::int64_t now = op.now();
  auto invitations = list_invitations(op.runtime.database->acquire(), request.include_used, now);
  RETURN_IF_ERROR(invitations);
  std::vector<InvitationView> views;
  views.reserve(invitations->size());
  for (auto& invitation : *invitations) views.push_back(invitation_view(std::move(invitation), now));
  return views;
}

Result<void> run(const OperationContext& op, const RevokeInvitationRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  const std::int64_t id = request.invitation_id;
  return op.runtime.database->acquire().write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    auto found = find_invitation(lease, id);
    RETURN_IF_ERROR(found);
    if (!found->has_value()) return no_invitation(id);
    if ((*found)->used_at) {
      return fail(ErrorCode::bad_request, "invitation " + std::to_string(id) + " has been used already",
                  "invitation_id");
    }
    // Revoking twice is the same as revoking once.
    if (!(*found)->revoked_at) {
      RETURN_IF_ERROR(revoke_invitation(lease, id, op.now()));
    }
    return {};
  });
}

Result<InvitationView> run(const OperationContext& op, const ResendInvitationRequest& request) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(require_mail(runtime, "resend_invitation"));
  const std::int64_t id = request.invitation_id;
  auto lease = runtime.database->acquire();
  return lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<InvitationView> {
    auto found = find_invitation(lease, id);
    RETURN_IF_ERROR(found);
    if (!found->has_value()) return no_invitation(id);
    const Invitation& old = **found;
    const std::string which = "invitation " + std::to_string(id);
    if (!old.email) return fail(ErrorCode::bad_request, which + " is not bound to an email address", "invitation_id");
    if (old.used_at) return fail(ErrorCode::bad_request, which + " has been used already", "invitation_id");
    if (old.revoked_at) return fail(ErrorCode::bad_request, which + " has been revoked", "invitation_id");
    // The new token is valid as long as the original was meant to be.
    const std::int64_t now = op.now();
    const std::int64_t expires_at = now + std::max<std::int64_t>(1, old.expires_at - old.created_at);
    auto issued = issue_token();
    RETURN_IF_ERROR(replace_invitation_token(lease, id, issued.hash, now, expires_at));
    auto mail = invitation_mail(runtime, *old.email, issued.token, old.message, expires_at);
    RETURN_IF_ERROR(mail);
    RETURN_IF_ERROR(enqueue_mail(lease, *mail, now));
    auto updated = find_invitation(lease, id);
    RETURN_IF_ERROR(updated);
    return invitation_view(std::move(**updated), now);
  });
}

std::string_view to_string(InvitationKind kind) { return kind == InvitationKind::shared ? "shared" : "single_use"; }

Result<InvitationCheck> run(const OperationContext& op, const CheckInvitationRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  RETURN_IF_ERROR(admit_client(op));
  auto presented = find_presented_invitation(op, request.token);
  RETURN_IF_ERROR(presented);
  if (!presented->single_use) return InvitationCheck{InvitationKind::shared, std::nullopt};
  return InvitationCheck{InvitationKind::single_use, std::move(presented->single_use->email)};
}

// Every operation of this file is typed (invitation_requests.hpp); the
// legacy table stays, empty, until the dispatcher stops listing it.

}  // namespace dirproxy
