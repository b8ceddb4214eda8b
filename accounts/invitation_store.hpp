// Single-use invitations in the state database (table invitations): made by
// create_invitation, per-recipient send_invitations and approved access
// requests. Only the token's hash is stored. An invitation is usable while it
// is neither used, revoked nor expired; redeeming it is a claim that succeeds
// for exactly one caller (an UPDATE guarded by used_at IS NULL, checked with
// changes()), and a claim whose account could not be created is given back.
//
// Every function runs on the caller's lease, inside the caller's transaction
// where the comment says so, and takes the time (Unix seconds) from the
// caller's Clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

struct Invitation {
  std::int64_t id = 0;
  std::optional<std::string> email;  // the only address that may redeem it; none: anyone with the link
  std::vector<std::string> groups;   // joined at signup
  std::optional<std::string> message;
  std::int64_t created_at = 0;  // Unix seconds
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> used_at;
  std::optional<std::string> used_by;  // the username it created
  std::optional<std::int64_t> revoked_at;
  std::optional<std::int64_t> access_request_id;

  // "pending", "used", "revoked" or "expired" at `now`.
  std::string status(std::int64_t now) const;
};

struct NewInvitation {
  std::string token_hash;
  std::optional<std::string> email;
  std::vector<std::string> groups;
  std::optional<std::string> message;
  std::int64_t ttl_s = 0;
  std::optional<std::int64_t> access_request_id;
};

// Inserts an invitation created at `now`, expiring ttl_s later; the stored row.
Result<Invitation> insert_invitation(const StateDatabase::Lease& lease, const NewInvitation& invitation,
                                     std::int64_t now);

// The invitation `id`, or nullopt.
Result<std::optional<Invitation>> find_invitation(const StateDatabase::Lease& lease, std::int64_t id);

// The invitation whose token is `token`, usable at `now`, or nullopt (unknown,
// used, revoked or expired: the caller answers invalid_token for all).
Result<std::optional<Invitation>> find_usable_invitation(const StateDatabase::Lease& lease, std::string_view token,
                                                         std::int64_t now);

// Marks invitation `id` used by `username` if it is still usable at `now`;
// false when another redemption (or a revoke or expiry) got there first. Call
// inside a write transaction.
Result<bool> claim_invitation(const StateDatabase::Lease& lease, std::int64_t id, std::string_view username,
                              std::int64_t now);

// Gives back a claim of `username` whose account was not created.
Result<void> unclaim_invitation(const StateDatabase::Lease& lease, std::int64_t id, std::string_view username);

// Every invitation, newest first; only the usable ones unless `include_used`
// (then also used, revoked and expired ones).
Result<std::vector<Invitation>> list_invitations(const StateDatabase::Lease& lease, bool include_used,
                                                 std::int64_t now);

// Revokes invitation `id` at `now` unless it is already used or revoked;
// false when it was not pending.
Result<bool> revoke_invitation(const StateDatabase::Lease& lease, std::int64_t id, std::int64_t now);

// Gives invitation `id` a new token (the old one stops matching at once) and
// a new expiry; false when it is used or revoked.
Result<bool> replace_invitation_token(const StateDatabase::Lease& lease, std::int64_t id, std::string_view token_hash,
                                      std::int64_t created_at, std::int64_t expires_at);

}  // namespace dirproxy
