// Access requests (table access_requests; access_requests.enabled): someone
// without an account asks for one, an admin approves (which sends an
// invitation) or denies. A request is decided once: the status moves from
// pending to approved or denied in one guarded UPDATE.
//
// Every function runs on the caller's lease, inside the caller's transaction,
// and takes the time (Unix seconds) from the caller's Clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

struct AccessRequest {
  std::int64_t id = 0;
  std::string email;
  std::string display_name;
  std::optional<std::string> message;
  std::int64_t created_at = 0;  // Unix seconds
  std::string status;           // pending | approved | denied
  std::optional<std::int64_t> decided_at;
};

// Stores a new pending request made at `now`; its id.
Result<std::int64_t> insert_access_request(const StateDatabase::Lease& lease, std::string_view email,
                                           std::string_view display_name, const std::optional<std::string>& message,
                                           std::int64_t now);

// Every request, oldest first.
Result<std::vector<AccessRequest>> list_access_requests(const StateDatabase::Lease& lease);

// Request `id`, or nullopt.
Result<std::optional<AccessRequest>> find_access_request(const StateDatabase::Lease& lease, std::int64_t id);

// Moves request `id` from pending to `status` (approved or denied), decided
// at `now`; false when it is not pending (already decided). Call inside a
// write transaction.
Result<bool> decide_access_request(const StateDatabase::Lease& lease, std::int64_t id, std::string_view status,
                                   std::int64_t now);

}  // namespace dirproxy
