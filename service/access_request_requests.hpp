// Access requests as typed requests and results (docs/protocol.md, "Access
// requests"; access_requests.enabled): someone without an account asks for
// one (request_access), and an admin lists the requests and decides each
// once, approving it (a single-use invitation mailed to the requester's
// stored address) or denying it. Each request declares its OperationPolicy;
// `run` carries it out (service/access_request_operations.cpp), called
// through Service::call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accounts/access_request_store.hpp"
#include "service/account_operation_support.hpp"
#include "service/directory_requests.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

// Stores a pending request and mails an access_request notice to every
// member of accounts.admin_group with an address, in one transaction. The
// same answer whether or not the address asked before. signup_disabled
// unless access_requests.enabled; counts against the caller's rate limit.
struct RequestAccessRequest {
  static constexpr OperationPolicy policy{.name = "request_access", .writes = true};
  using Response = void;
  std::string email;
  std::string display_name;
  std::optional<std::string> message;  // empty: none
};
Result<void> run(const OperationContext& op, const RequestAccessRequest& request);

struct ListAccessRequestsRequest {
  static constexpr OperationPolicy policy = admin_read("list_access_requests");
  using Response = std::vector<AccessRequest>;  // oldest first
};
Result<std::vector<AccessRequest>> run(const OperationContext& op, const ListAccessRequestsRequest& request);

// Marks the request approved and mails the requester an invitation (to the
// stored address, with `groups`, valid for invitations.ttl), all in one
// transaction. not_found for an unknown request, bad_request (field
// request_id) for one decided before.
struct ApproveAccessRequestRequest {
  static constexpr OperationPolicy policy = admin_write("approve_access_request");
  using Response = InvitationView;  // never the token
  std::int64_t request_id = 0;
  std::vector<std::string> groups;
};
Result<InvitationView> run(const OperationContext& op, const ApproveAccessRequestRequest& request);

// Marks the request denied; nothing is mailed. The same errors as approving.
struct DenyAccessRequestRequest {
  static constexpr OperationPolicy policy = admin_write("deny_access_request");
  using Response = void;
  std::int64_t request_id = 0;
};
Result<void> run(const OperationContext& op, const DenyAccessRequestRequest& request);

}  // namespace dirproxy
