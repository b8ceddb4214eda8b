// Access requests (PROTOCOL.md; access_requests.enabled): request_access
// stores the request and mails the admins in one transaction;
// approve_access_request turns it into a single-use invitation bound to the
// requester's email and mails it, in one transaction with the decision.
#include "accounts/access_request_store.hpp"
#include "service/account_operation_support.hpp"
#include "accounts/account_token.hpp"
#include "core/timestamp.hpp"

namespace dirproxy {
namespace {

using protocol::Json;
using protocol::ParamType;

Error no_request(std::int64_t id) {
  return make_error(ErrorCode::not_found, "no access request " + std::to_string(id), "request_id");
}

Json request_json(const AccessRequest& request) {
  return {{"id", request.id},
          {"email", request.email},
          {"display_name", request.display_name},
          {"message", request.message ? Json(*request.message) : Json(nullptr)},
          {"created_at", rfc3339(request.created_at)},
          {"status", request.status},
          {"decided_at", request.decided_at ? Json(rfc3339(*request.decided_at)) : Json(nullptr)}};
}

Result<Json> request_access(const JsonOperationContext& op) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  if (!runtime.config->access_requests.enabled) {
    return fail(ErrorCode::signup_disabled, "access requests are not enabled (access_requests.enabled)");
  }
  RETURN_IF_ERROR(admit_client(op));
  RETURN_IF_ERROR(require_mail(runtime, "request_access"));
  auto email = runtime.policy.check_email(op.params.at("email").get<std::string>());
  RETURN_IF_ERROR(email);
  const auto display_name = op.params.at("display_name").get<std::string>();
  RETURN_IF_ERROR(AccountPolicy::check_name(display_name, "display_name"));
  auto message = optional_string_param(op.params, "message");
  if (message) {
    RETURN_IF_ERROR(check_message(*message, "message"));
    if (message->empty()) message.reset();
  }

  auto admins = admin_emails(runtime);
  RETURN_IF_ERROR(admins);
  std::vector<OutgoingMail> mails;
  MailValues values;
  values.email = *email;
  values.display_name = display_name;
  values.message = message.value_or("");
  for (const auto& admin : *admins) {
    auto mail = runtime.mail->compose("access_request", admin, values);
    RETURN_IF_ERROR(mail);
    mails.push_back(std::move(*mail));
  }

  auto lease = runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  RETURN_IF_ERROR(insert_access_request(lease, *email, display_name, message));
  for (const auto& mail : mails) {
    RETURN_IF_ERROR(enqueue_mail(lease, mail));
  }
  RETURN_IF_ERROR(transaction->commit());
  // The same answer whether or not someone already asked with this address.
  return Json::object();
}

Result<Json> list_access_requests_op(const JsonOperationContext& op) {
  auto lease = op.runtime.database->acquire();
  auto requests = list_access_requests(lease);
  RETURN_IF_ERROR(requests);
  Json list = Json::array();
  for (const auto& request : *requests) list.push_back(request_json(request));
  return Json{{"requests", std::move(list)}};
}

// Decides request `id` inside the caller's transaction: not_found, or
// bad_request when it was decided before.
Result<AccessRequest> decide(const StateDatabase::Lease& lease, std::int64_t id, std::string_view status) {
  auto found = find_access_request(lease, id);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return no_request(id);
  auto decided = decide_access_request(lease, id, status);
  RETURN_IF_ERROR(decided);
  if (!*decided) {
    return fail(ErrorCode::bad_request,
                "access request " + std::to_string(id) + " was " + (*found)->status + " already", "request_id");
  }
  return std::move(**found);
}

Result<Json> approve_access_request(const JsonOperationContext& op) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_internal_management(runtime));
  RETURN_IF_ERROR(require_mail(runtime, "approve_access_request"));
  const auto id = op.params.at("request_id").get<std::int64_t>();
  const auto groups = optional_list_param(op.params, "groups");
  RETURN_IF_ERROR(check_group_names(groups, "groups"));

  auto lease = runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  auto request = decide(lease, id, "approved");
  RETURN_IF_ERROR(request);
  auto issued = issue_token();
  NewInvitation invitation{
      issued.hash, request->email, groups, std::nullopt, whole_seconds(runtime.config->invitations.ttl), id};
  auto stored = insert_invitation(lease, invitation);
  RETURN_IF_ERROR(stored);
  // The invitation goes to the address stored with the request, nowhere else.
  auto mail = invitation_mail(runtime, request->email, issued.token, std::nullopt, stored->expires_at);
  RETURN_IF_ERROR(mail);
  RETURN_IF_ERROR(enqueue_mail(lease, *mail));
  RETURN_IF_ERROR(transaction->commit());
  return Json{{"invitation", invitation_json(*stored, unix_now())}};
}

Result<Json> deny_access_request(const JsonOperationContext& op) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  const auto id = op.params.at("request_id").get<std::int64_t>();
  auto lease = op.runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  RETURN_IF_ERROR(transaction);
  auto request = decide(lease, id, "denied");
  RETURN_IF_ERROR(request);
  RETURN_IF_ERROR(transaction->commit());
  return Json::object();
}

}  // namespace

const std::vector<Operation>& access_request_operations() {
  using enum ParamType;
  static const std::vector<Operation> operations = {
      {"request_access",
       false,
       {{"email", string, true}, {"display_name", string, true}, {"message", string}},
       request_access,
       /*writes=*/true},
      {"list_access_requests", true, {}, list_access_requests_op},
      {"approve_access_request",
       true,
       {{"request_id", integer, true}, {"groups", string_list}},
       approve_access_request,
       /*writes=*/true},
      {"deny_access_request", true, {{"request_id", integer, true}}, deny_access_request, /*writes=*/true},
  };
  return operations;
}

}  // namespace dirproxy
