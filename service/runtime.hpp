// The configuration in force and everything built from it. A reload builds a
// new Runtime and swaps the pointer; requests already running keep the one
// they started with, so a reload never pulls a directory out from under them.
#pragma once

#include <memory>

#include "accounts/account_policy.hpp"
#include "accounts/rate_limiter.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/metrics_registry.hpp"
#include "directories/directory_chain.hpp"
#include "directories/password_hasher.hpp"
#include "mail/mail_composer.hpp"
#include "storage/identity_store.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

struct Runtime {
  std::shared_ptr<const config::Config> config;
  PasswordHasherPtr hasher;
  DirectoryChainPtr chain;
  AccountPolicy policy;
  // The daemon's one state database, for operations on the database as a
  // whole (backup); the same across reloads, since state_dir changes only
  // at a restart.
  std::shared_ptr<StateDatabase> database;
  // Composes the emails of this configuration; null when `mail` is absent
  // (operations that must send mail then answer mail_not_configured).
  MailComposerPtr mail;
  // Per-client_ip counts, kept across reloads like the database.
  RateLimiterPtr rate_limiter;
  // Where every operation reads the time (a ManualClock in tests).
  ClockPtr clock;
  // The daemon's metrics, kept across reloads like the database; null in
  // tests that count nothing.
  std::shared_ptr<metrics::Registry> metrics = nullptr;
  // The stable identities (uuid, uidNumber, gidNumber) of users and groups,
  // for the entry operations (entry_requests.hpp); null in tests that show
  // no entries (those operations then answer internal_error).
  IdentityStorePtr identities = nullptr;
};

using RuntimePtr = std::shared_ptr<const Runtime>;

// Where the identity store allocates from, read from `config`: the
// defaults of IdentitySettings while the configuration has no
// ldap_server.posix section.
IdentitySettings identity_settings(const config::Config& config);

// Builds the directories of `config` over the open state database. Fails when
// a directory cannot be built (for example a type this build does not have).
// `rate_limiter` is the daemon's (a new one when null); `clock` the time
// (the system's when null); `metrics` where the directories and operations
// count (nowhere when null).
Result<RuntimePtr> build_runtime(std::shared_ptr<const config::Config> config, std::shared_ptr<StateDatabase> database,
                                 RateLimiterPtr rate_limiter = nullptr, ClockPtr clock = nullptr,
                                 std::shared_ptr<metrics::Registry> metrics = nullptr);

}  // namespace dirproxy
