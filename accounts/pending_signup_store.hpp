// Signups waiting for their email confirmation (table pending_signups;
// signup.mode restricted). The password is kept only as its Argon2id hash
// and the confirmation token only as its hash. A pending signup reserves its
// username against other signups until it expires; expired ones reserve
// nothing and are purged whenever a signup is stored.
//
// Every function runs on the caller's lease, inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

struct PendingSignup {
  std::int64_t id = 0;
  std::string token_hash;
  std::string username;
  std::string email;
  std::string display_name;
  std::string password_hash;
  std::int64_t created_at = 0;  // Unix seconds
  std::int64_t expires_at = 0;
};

// Deletes the pending signups expired at `now`.
Result<void> purge_expired_signups(const StateDatabase::Lease& lease, std::int64_t now);

// Whether a pending signup not expired at `now` holds `username`.
Result<bool> username_pending(const StateDatabase::Lease& lease, std::string_view username, std::int64_t now);

// Inserts `signup` (id is ignored; the row's id is returned).
Result<std::int64_t> insert_pending_signup(const StateDatabase::Lease& lease, const PendingSignup& signup);

// The pending signup whose token is `token`, neither claimed nor expired at
// `now`, or nullopt.
Result<std::optional<PendingSignup>> find_pending_signup(const StateDatabase::Lease& lease, std::string_view token,
                                                         std::int64_t now);

// Marks pending signup `id` claimed by a confirmation: find_pending_signup
// no longer finds it, and it still reserves its username. false when another
// confirmation claimed it first or it is gone. Call inside a write transaction.
Result<bool> claim_pending_signup(const StateDatabase::Lease& lease, std::int64_t id);

// Gives a claimed pending signup back (same token and expiry), for a
// confirmation whose account was not created.
Result<void> unclaim_pending_signup(const StateDatabase::Lease& lease, std::int64_t id);

// Deletes pending signup `id`: its account exists.
Result<void> delete_pending_signup(const StateDatabase::Lease& lease, std::int64_t id);

}  // namespace dirproxy
