// The single-use tokens bound to an existing account (table reset_tokens):
// the password-reset link (purpose password_reset) and the set-password link
// of an admin-added user (purpose new_user). Only a token's hash is stored;
// the token itself goes into a link once and nowhere else.
//
// Every function works on the caller's lease, inside the caller's
// transaction where it says so, so that a token commits together with the
// mail that carries it (enqueue_mail) and is consumed atomically: of two
// concurrent redemptions exactly one changes the row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "accounts/account_token.hpp"
#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

enum class ResetPurpose {
  password_reset,  // request_password_reset, send_password_reset
  new_user,        // add_user's set-password link
};

// The stored spelling of a purpose ("password_reset" / "new_user").
std::string_view to_string(ResetPurpose purpose);

// A token that can still be used: what the set-password page may know of it
// before it is consumed.
struct UsableResetToken {
  std::int64_t id = 0;
  std::string username;  // as stored when the token was issued
  ResetPurpose purpose = ResetPurpose::password_reset;
};

// The token `token` when it is known, unused and unexpired at `now`;
// nullopt for any other (unknown, used, expired or malformed). Reads only.
Result<std::optional<UsableResetToken>> find_usable_reset_token(const StateDatabase::Lease& lease,
                                                                std::string_view token, std::int64_t now);

// A token that was just consumed: enough to act on it and, when that action
// fails, to give it back.
struct ConsumedResetToken {
  std::int64_t id = 0;
  std::string username;  // as stored when the token was issued
  ResetPurpose purpose = ResetPurpose::password_reset;
  std::int64_t used_at = 0;
};

// Stores `token` (its hash) for `username`, issued at `now` and valid until
// `expires_at` (Unix seconds). Call it inside the write transaction that
// also enqueues the mail carrying the token, if any.
Result<void> store_reset_token(const StateDatabase::Lease& lease, const IssuedToken& token, std::string_view username,
                               ResetPurpose purpose, std::int64_t now, std::int64_t expires_at);

// Marks `token` used at `now` when it is known, unused and unexpired; call
// inside a write transaction. nullopt for any other token (unknown, used,
// expired or malformed: the caller answers invalid_token for all of them).
Result<std::optional<ConsumedResetToken>> consume_reset_token(const StateDatabase::Lease& lease, std::string_view token,
                                                              std::int64_t now);

// Makes a token consumed by consume_reset_token() usable again, when the
// change it was consumed for could not be made. A token that was used up
// otherwise since (invalidated) stays used.
Result<void> restore_reset_token(const StateDatabase::Lease& lease, const ConsumedResetToken& consumed);

// Ends every token of `username` at `now` (unused ones are marked used, and
// no token, used or not, expires later than `now`, so none can be restored):
// after its password changed, or the account went, no older link may set it
// again.
Result<void> invalidate_reset_tokens(const StateDatabase::Lease& lease, std::string_view username, std::int64_t now);

// Deletes the token stored with this hash: it was issued for a change that
// then failed, so no link carrying it ever went out.
Result<void> delete_reset_token(const StateDatabase::Lease& lease, std::string_view token_hash);

// Deletes tokens that expired before `cutoff`: they can never be used, and a
// stream of requests must not grow the table without bound.
Result<void> prune_reset_tokens(const StateDatabase::Lease& lease, std::int64_t cutoff);

}  // namespace dirproxy
