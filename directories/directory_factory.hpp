// Builds the configured directories, in order, as Directory objects. The one
// place that knows every concrete directory type, so that the chain and the
// daemon only ever see the Directory interface.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics_registry.hpp"
#include "directories/directory.hpp"
#include "directories/password_hasher.hpp"
#include "storage/identity_store.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// Fails (bad_request, naming the directory) for a type this build cannot serve.
// Each directory counts its requests, cache and pool in `metrics` (nothing
// when null; docs/operations.md, "Monitoring"). The internal directory
// retires the identities of what it deletes in `identities` (when given).
Result<std::vector<DirectoryPtr>> build_directories(const config::Config& config, StateDatabasePtr database,
                                                    PasswordHasherPtr hasher, ClockPtr clock = system_clock(),
                                                    metrics::Registry* metrics = nullptr,
                                                    IdentityStorePtr identities = nullptr);

}  // namespace dirproxy
