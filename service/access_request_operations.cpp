// Access requests (docs/protocol.md; access_requests.enabled): request_access
// stores the request and mails the admins in one transaction;
// approve_access_request turns it into a single-use invitation bound to the
// requester's email and mails it, in one transaction with the decision.
#include "accounts/access_request_store.hpp"
#include "accounts/account_token.hpp"
#include "core/readable_text.hpp"
#include "core/timestamp.hpp"
#include "service/access_request_requests.hpp"
#include "service/account_operation_support.hpp"

namespace dirproxy {
namespace {

Error no_request(std::int64_t id) {
  return make_error(ErrorCode::not_found, "no access request " + std::to_string(id), "request_id");
}

// The access_request notice of a new request to each admin with an address.
Result<std::vector<OutgoingMail>> admin_notices(const Runtime& runtime, const std::string& email,
                                                const std::string& display_name,
                                                const std::optional<std::string>& message) {
  auto admins = admin_emails(runtime);
  RETURN_IF_ERROR(admins);
  MailValues values;
  values.email = email;
  values.display_name = display_name;
  values.message = message.value_or("");
  std::vector<OutgoingMail> mails;
  for (const auto& admin : *admins) {
    auto mail = runtime.mail->compose("access_request", admin, values, runtime.clock->unix_seconds());
    RETURN_IF_ERROR(mail);
    mails.push_back(std::move(*mail));
  }
  return mails;
}

// Decides request `id` at `now` inside the caller's transaction: not_found,
// or bad_request when it was decided before.
Result<AccessRequest> decide(const StateDatabase::Lease& lease, std::int64_t id, std::string_view status,
                             std::int64_t now) {
  auto found = find_access_request(lease, id);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return no_request(id);
  auto decided = decide_access_request(lease, id, status, now);
  RETURN_IF_ERROR(decided);
  if (!*decided) {
    return fail(ErrorCode::bad_request,
                "access request " + std::to_string(id) + " was " + (*found)->status + " already", "request_id");
  }
  return std::move(**found);
}

}  // namespace

Result<void> run(const OperationContext& op, const RequestAccessRequest& request) {
  const Runtime& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  if (!runtime.config->access_requests.enabled) {
    return fail(ErrorCode::signup_disabled, "access requests are not enabled (access_requests.enabled)");
  }
  RETURN_IF_ERROR(admit_client(op));
  RETURN_IF_ERROR(require_mail(runtime, "request_access"));
  auto email = runtime.policy.check_email(request.email);
  RETURN_IF_ERROR(email);
  RETURN_IF_ERROR(check_required_name(request.display_name, "display_name"));
  std::optional<std::string> message = request.message;
  if (message) {
    RETURN_IF_ERROR(check_readable_text(*message, TextKind::message, "message"));
    if (message->empty()) message.reset();
  }
  auto notices = admin_notices(runtime, *email, request.display_name, message);
  RETURN_IF_ERROR(notices);

  const std::int64_t now = op.now();
  auto lease = runtime.database->acquire();
  // The same answer whether or not someone already asked with this address.
  return lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    RETURN_IF_ERROR(insert_access_request(lease, *email, request.display_name, message, now));
    for (const auto& notice : *notices) {
      RETURN_IF_ERROR(enqueue_mail(lease, notice, now));
    }
    return {};
  });
}

Result<std::vector<AccessRequest>> run(const OperationContext& op, const ListAccessRequestsRequest&) {
  auto lease = op.runtime.database->acquire();
  return list_access_requests(lease);
}

Result<InvitationView> run(const OperationContext& op, const ApproveAccessRequestRequest& request) {
  const Runtime& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(require_mail(runtime, "approve_access_request"));
  RETURN_IF_ERROR(check_group_names(request.groups, "groups"));

  const std::int64_t now = op.now();
  auto lease = runtime.database->acquire();
  auto invitation = lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<Invitation> {
    auto approved = decide(lease, request.request_id, "approved", now);
    RETURN_IF_ERROR(approved);
    const IssuedToken issued = issue_token();
    const NewInvitation bound_to_requester{.token_hash = issued.hash,
                                           .email = approved->email,
                                           .groups = request.groups,
                                           .message = std::nullopt,
                                           .ttl_s = whole_seconds(runtime.config->invitations.ttl),
                                           .access_request_id = request.request_id};
    auto stored = insert_invitation(lease, bound_to_requester, now);
    RETURN_IF_ERROR(stored);
    // The invitation goes to the address stored with the request, nowhere else.
    auto mail = invitation_mail(runtime, approved->email, issued.token, std::nullopt, stored->expires_at);
    RETURN_IF_ERROR(mail);
    RETURN_IF_ERROR(enqueue_mail(lease, *mail, now));
    return stored;
  });
  RETURN_IF_ERROR(invitation);
  return invitation_view(std::move(*invitation), now);
}

Result<void> run(const OperationContext& op, const DenyAccessRequestRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  const std::int64_t now = op.now();
  auto lease = op.runtime.database->acquire();
  return lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    RETURN_IF_ERROR(decide(lease, request.request_id, "denied", now));
    return {};
  });
}

}  // namespace dirproxy
