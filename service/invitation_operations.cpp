// The invitation operations (PROTOCOL.md, admin only): the shared link
// (get_invitation_link, reset_invitation_link), mailing invitations
// (send_invitations), and single-use invitations (create, list, revoke,
// resend). A mail goes into the outbox in the same transaction as the
// invitation it carries, so no mail names a token that was not stored.
#include <algorithm>

#include "config/email_address.hpp"
#include "service/account_operation_support.hpp"
#include "accounts/account_token.hpp"
#include "accounts/shared_invitation.hpp"
#include "core/timestamp.hpp"

namespace dirproxy {
namespace {

using protocol::Json;
using protocol::ParamType;

// ttl_s above this is refused: an invitation valid for more than a year is
// more likely a typo than a wish.
constexpr std::int64_t kMaxTtlSeconds = 366 * 24 * 3600;

Error no_invitation(std::int64_t id) {
  return make_error(ErrorCode::not_found, "no invitation " + std::to_string(id), "invitation_id");
}

Result<Json> shared_link_result(const Runtime& runtime, const Result<std::string>& token) {
  if (!token) return token.error();
  return Json{{"link", signup_link(runtime, *token)}, {"token", *token}};
}

Result<Json> get_invitation_link(const JsonOperationContext& op) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  auto lease = op.runtime.database->acquire();
  return shared_link_result(op.runtime, current_shared_invitation_token(lease));
}

Result<Json> reset_invitation_link(const JsonOperationContext& op) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  auto lease = op.runtime.database->acquire();
  return shared_link_result(op.runtime, reset_shared_invitation_token(lease));
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(' ');
  return std::string(text.substr(first, last - first + 1));
}

// The addresses of `emails` (a list, or one comma-separated string), each
// trimmed of spaces around commas; empty items are dropped.
std::vector<std::string> recipients_of(const Json& emails) {
  std::vector<std::string> items;
  if (emails.is_string()) {
    const std::string text = emails.get<std::string>();
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto comma = text.find(',', start);
      const auto end = comma == std::string::npos ? text.size() : comma;
      items.push_back(trimmed(std::string_view(text).substr(start, end - start)));
      start = end + 1;
    }
  } else {
    for (const auto& item : emails) items.push_back(trimmed(item.get<std::string>()));
  }
  items.erase(std::remove(items.begin(), items.end(), std::string()), items.end());
  return items;
}

Result<Json> send_invitations(const JsonOperationContext& op) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(require_mail(runtime, "send_invitations"));
  const auto message = optional_string_param(op.params, "message");
  if (message) {
    RETURN_IF_ERROR(check_message(*message, "message"));
  }
  const auto items = recipients_of(op.params.at("emails"));
  if (items.empty()) return fail(ErrorCode::bad_request, "no email address given", "emails");

  Json sent = Json::array();
  Json rejected = Json::array();
  std::vector<std::string> recipients;
  for (const auto& item : items) {
    auto parsed = config::parse_email_address(item);
    if (!parsed) {
      rejected.push_back({{"email", item}, {"code", "invalid_email"}, {"reason", parsed.reason}});
      continue;
    }
    const auto& address = parsed.address->address;
    // One invitation per address, however often it was listed.
    if (std::find(recipients.begin(), recipients.end(), address) == recipients.end()) recipients.push_back(address);
  }

  const std::int64_t ttl = whole_seconds(runtime.config->invitations.ttl);
  auto lease = runtime.database->acquire();
  std::optional<std::string> shared_token;
  if (!runtime.config->invitations.per_recipient && !recipients.empty()) {
    auto token = current_shared_invitation_token(lease);
    RETURN_IF_ERROR(token);
    shared_token = std::move(*token);
  }
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  for (const auto& recipient : recipients) {
    std::string token;
    std::optional<std::int64_t> expires_at;
    if (shared_token) {
      // The shared link does not expire by itself; it lives until a reset.
      token = *shared_token;
    } else {
      auto issued = issue_token();
      NewInvitation invitation{issued.hash, recipient, {}, message, ttl, std::nullopt};
      auto stored = insert_invitation(lease, invitation);
      RETURN_IF_ERROR(stored);
      token = std::move(issued.token);
      expires_at = stored->expires_at;
    }
    auto mail = invitation_mail(runtime, recipient, token, message, expires_at);
    RETURN_IF_ERROR(mail);
    RETURN_IF_ERROR(enqueue_mail(lease, *mail));
    sent.push_back(recipient);
  }
  RETURN_IF_ERROR(transaction->commit());
  return Json{{"sent", std::move(sent)}, {"rejected", std::move(rejected)}};
}

Result<Json> create_invitation(const JsonOperationContext& op) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  NewInvitation invitation;
  if (auto email = optional_string_param(op.params, "email")) {
    auto checked = runtime.policy.check_email(*email);
    RETURN_IF_ERROR(checked);
    invitation.email = std::move(*checked);
  }
  invitation.groups = optional_list_param(op.params, "groups");
  RETURN_IF_ERROR(check_group_names(invitation.groups, "groups"));
  invitation.ttl_s = whole_seconds(runtime.config->invitations.ttl);
  if (auto ttl = optional_integer_param(op.params, "ttl_s")) {
    if (*ttl < 1 || *ttl > kMaxTtlSeconds) {
      return fail(ErrorCode::bad_request, "'ttl_s' must be between 1 and 31622400 seconds (366 days)", "ttl_s");
    }
    invitation.ttl_s = *ttl;
  }
  auto issued = issue_token();
  invitation.token_hash = issued.hash;
  auto lease = runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  auto stored = insert_invitation(lease, invitation);
  RETURN_IF_ERROR(stored);
  RETURN_IF_ERROR(transaction->commit());
  return Json{{"invitation", invitation_json(*stored, unix_now())},
              {"link", signup_link(runtime, issued.token)},
              {"token", issued.token}};
}

Result<Json> list_invitations_op(const JsonOperationContext& op) {
  const bool include_used = op.params.value("include_used", false);
  const std::int64_t now = unix_now();
  auto lease = op.runtime.database->acquire();
  auto invitations = list_invitations(lease, include_used, now);
  RETURN_IF_ERROR(invitations);
  Json list = Json::array();
  for (const auto& invitation : *invitations) list.push_back(invitation_json(invitation, now));
  return Json{{"invitations", std::move(list)}};
}

Result<Json> revoke_invitation_op(const JsonOperationContext& op) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  const auto id = op.params.at("invitation_id").get<std::int64_t>();
  auto lease = op.runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  auto found = find_invitation(lease, id);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return no_invitation(id);
  if ((*found)->used_at) {
    return fail(ErrorCode::bad_request, "invitation " + std::to_string(id) + " has been used already", "invitation_id");
  }
  // Revoking twice is the same as revoking once.
  if (!(*found)->revoked_at) {
    auto revoked = revoke_invitation(lease, id, unix_now());
    RETURN_IF_ERROR(revoked);
  }
  RETURN_IF_ERROR(transaction->commit());
  return Json::object();
}

Result<Json> resend_invitation(const JsonOperationContext& op) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(require_mail(runtime, "resend_invitation"));
  const auto id = op.params.at("invitation_id").get<std::int64_t>();
  auto lease = runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  auto found = find_invitation(lease, id);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return no_invitation(id);
  const Invitation& old = **found;
  const std::string which = "invitation " + std::to_string(id);
  if (!old.email) return fail(ErrorCode::bad_request, which + " is not bound to an email address", "invitation_id");
  if (old.used_at) return fail(ErrorCode::bad_request, which + " has been used already", "invitation_id");
  if (old.revoked_at) return fail(ErrorCode::bad_request, which + " has been revoked", "invitation_id");
  // The new token is valid as long as the original was meant to be.
  const std::int64_t now = unix_now();
  const std::int64_t expires_at = now + std::max<std::int64_t>(1, old.expires_at - old.created_at);
  auto issued = issue_token();
  auto replaced = replace_invitation_token(lease, id, issued.hash, now, expires_at);
  RETURN_IF_ERROR(replaced);
  auto mail = invitation_mail(runtime, *old.email, issued.token, old.message, expires_at);
  RETURN_IF_ERROR(mail);
  RETURN_IF_ERROR(enqueue_mail(lease, *mail));
  auto updated = find_invitation(lease, id);
  RETURN_IF_ERROR(updated);
  RETURN_IF_ERROR(transaction->commit());
  return Json{{"invitation", invitation_json(**updated, now)}};
}

}  // namespace

const std::vector<Operation>& invitation_operations() {
  using enum ParamType;
  static const std::vector<Operation> operations = {
      {"get_invitation_link", true, {}, get_invitation_link, /*writes=*/true},
      {"reset_invitation_link", true, {}, reset_invitation_link, /*writes=*/true},
      {"send_invitations",
       true,
       {{"emails", string_or_list, true}, {"message", string}},
       send_invitations,
       /*writes=*/true},
      {"create_invitation",
       true,
       {{"email", string}, {"groups", string_list}, {"ttl_s", integer}},
       create_invitation,
       /*writes=*/true},
      {"list_invitations", true, {{"include_used", boolean}}, list_invitations_op},
      {"revoke_invitation", true, {{"invitation_id", integer, true}}, revoke_invitation_op, /*writes=*/true},
      {"resend_invitation", true, {{"invitation_id", integer, true}}, resend_invitation, /*writes=*/true},
  };
  return operations;
}

}  // namespace dirproxy
