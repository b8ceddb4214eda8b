// The invitation operations as typed requests and results (docs/protocol.md,
// "Account life cycle"; admin only): the shared link (get_invitation_link,
// reset_invitation_link), mailing invitations (send_invitations), and
// single-use invitations (create, list, revoke, resend). `run` carries them
// out (service/invitation_operations.cpp), called through Service::call.
// Every one but list_invitations answers user_management_external when
// users are managed outside dirproxy. One is public: check_invitation, what
// the signup page of an invitation link shows before the signup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "service/account_operation_support.hpp"
#include "service/directory_requests.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

// A signup link and the token in it (the token is for an application that
// builds its own link).
struct InvitationLink {
  std::string link;
  std::string token;
};

// The shared link; made on first use.
struct GetInvitationLinkRequest {
  static constexpr OperationPolicy policy = admin_write("get_invitation_link");
  using Response = InvitationLink;
};
Result<InvitationLink> run(const OperationContext& op, const GetInvitationLinkRequest& request);

// A new shared link; the old token stops working at once.
struct ResetInvitationLinkRequest {
  static constexpr OperationPolicy policy = admin_write("reset_invitation_link");
  using Response = InvitationLink;
};
Result<InvitationLink> run(const OperationContext& op, const ResetInvitationLinkRequest& request);

// An address send_invitations did not mail to, and why.
struct RejectedAddress {
  std::string email;  // as given
  ErrorCode code = ErrorCode::invalid_email;
  std::string reason;
};

struct SentInvitations {
  std::vector<std::string> sent;  // normalised addresses, each once, in the order given
  std::vector<RejectedAddress> rejected;
};

// Mails an invitation to every address of `emails`: with
// invitations.per_recipient a single-use one bound to it (valid for
// invitations.ttl), otherwise the shared link. mail_not_configured without
// mail; bad_request (field message) for a message check_readable_text
// refuses, (field emails) when no address is left.
struct SendInvitationsRequest {
  static constexpr OperationPolicy policy = admin_write("send_invitations");
  using Response = SentInvitations;
  // Addresses; spaces around each are ignored and empty items dropped.
  std::vector<std::string> emails;
  std::optional<std::string> message;  // goes into the mail and is kept with the invitation
};
Result<SentInvitations> run(const OperationContext& op, const SendInvitationsRequest& request);

struct CreatedInvitation {
  InvitationView invitation;
  std::string link;
  std::string token;
};

// A single-use invitation, mailed to nobody: the admin hands the link over.
// invalid_email, bad_request (field groups, or ttl_s outside 1 s to 366
// days).
struct CreateInvitationRequest {
  static constexpr OperationPolicy policy = admin_write("create_invitation");
  using Response = CreatedInvitation;
  static constexpr std::int64_t max_ttl_s = 366 * 24 * 3600;
  std::optional<std::string> email;   // the only address that may redeem it
  std::vector<std::string> groups;    // joined at signup
  std::optional<std::int64_t> ttl_s;  // none: invitations.ttl
};
Result<CreatedInvitation> run(const OperationContext& op, const CreateInvitationRequest& request);

// Newest first; only pending ones unless include_used.
struct ListInvitationsRequest {
  static constexpr OperationPolicy policy = admin_read("list_invitations");
  using Response = std::vector<InvitationView>;
  bool include_used = false;
};
Result<std::vector<InvitationView>> run(const OperationContext& op, const ListInvitationsRequest& request);

// not_found for an unknown id, bad_request for a used invitation; revoking
// twice is revoking once.
struct RevokeInvitationRequest {
  static constexpr OperationPolicy policy = admin_write("revoke_invitation");
  using Response = void;
  std::int64_t invitation_id = 0;
};
Result<void> run(const OperationContext& op, const RevokeInvitationRequest& request);

// Mails a pending invitation bound to an email again with a new token, valid
// as long as the original was meant to be; the old token stops working.
// mail_not_configured, not_found, bad_request (not bound to an email, used,
// revoked).
struct ResendInvitationRequest {
  static constexpr OperationPolicy policy = admin_write("resend_invitation");
  using Response = InvitationView;
  std::int64_t invitation_id = 0;
};
Result<InvitationView> run(const OperationContext& op, const ResendInvitationRequest& request);

enum class InvitationKind {
  shared,      // the shared link: anyone holding it, any address
  single_use,  // used up by one signup
};

// The protocol's spelling: "shared" or "single_use".
std::string_view to_string(InvitationKind kind);

// What a signup page may show of an invitation before it is used: never its
// groups, message or id (the link is all its holder has).
struct InvitationCheck {
  InvitationKind kind = InvitationKind::shared;
  std::optional<std::string> email;  // the only address a bound single-use invitation takes
};

// Public: the invitation `token` presents, without using it up.
// user_management_external; rate_limited (it counts against the caller's
// rate limit, so tokens cannot be tried fast); invalid_token (field token)
// for a token that is unknown, used, revoked, reset or expired, one answer
// for all, as signup gives.
struct CheckInvitationRequest {
  static constexpr OperationPolicy policy{.name = "check_invitation"};
  using Response = InvitationCheck;
  std::string token;
};
Result<InvitationCheck> run(const OperationContext& op, const CheckInvitationRequest& request);

}  // namespace dirproxy
