// The metrics known only at the moment of a scrape, read from the runtime in
// force: each directory's state and connection pool
// (dirproxy_directory_up, dirproxy_ldap_pool_*), and from the state database
// the mail outbox (dirproxy_outbox_*, what mail_queue reports) and the
// usernames locked now (dirproxy_locked_usernames). Directories a reload
// removed leave no series behind.
//
// The scrape reads the state database, so the registry's render() that runs
// this hook must not run on an io thread.
#pragma once

#include <functional>

#include "core/metrics_registry.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

// Registers the hook; it reads `runtime()` at each scrape.
[[nodiscard]] metrics::Registry::Hook watch_runtime(metrics::Registry& registry, std::function<RuntimePtr()> runtime);

}  // namespace dirproxy
