// Waits for a directory lookup that blocks no thread (PendingUserLookup) on
// the calling coroutine's event loop: the lookup's socket is watched for
// readability, never owned or closed here, and a timer ends the wait at the
// lookup's deadline.
#pragma once

#include <optional>

#include "core/asio.hpp"
#include "directories/directory.hpp"

namespace dirproxy {

// The lookup's answer, from a lookup just started: polled each time its
// socket becomes readable, and at its deadline, when poll() answers the
// timeout.
awaitable<Result<std::optional<User>>> finish_lookup(PendingUserLookup& lookup);

}  // namespace dirproxy
