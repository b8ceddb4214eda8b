// The shared invitation link (docs/design.md): one token anyone holding it may
// sign up with, shown again on request, so it is derived rather than stored:
// shared_invitation_token(key, generation), with the HMAC key and the
// generation in the settings table. Reset increments the generation, which
// kills the old token at once. It is not single-use.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// The current shared token; creates the key (generation 1) on first use.
// Runs its own write transaction on `lease`.
Result<std::string> current_shared_invitation_token(const StateDatabase::Lease& lease);

// Increments the generation (creating the key when missing) and returns the
// new token. Runs its own write transaction on `lease`.
Result<std::string> reset_shared_invitation_token(const StateDatabase::Lease& lease);

// Whether `token` is the current shared token, compared in constant time.
// false while no shared link was ever made. Reads only.
Result<bool> is_shared_invitation_token(const StateDatabase::Lease& lease, std::string_view token);

}  // namespace dirproxy
