#include "service/runtime.hpp"

#include <algorithm>
#include <thread>

#include "accounts/login_lockout.hpp"
#include "directories/directory_factory.hpp"

namespace dirproxy {

IdentitySettings identity_settings(const config::Config& config) {
  IdentitySettings settings;
  if (config.ldap_server) {
    settings.uid_number_min = config.ldap_server->posix.uid_number_min;
    settings.gid_number_min = config.ldap_server->posix.gid_number_min;
  }
  // As many identities in memory as the LDAP directories' caches may hold
  // users (cache.max_entries, whether or not ttl turns the cache on: an
  // identity does not go stale): a user the chain answers has its identity
  // there too, and a search by uid needs neither the pool nor SQLite. With
  // fewer (8,192 to 16,384), 20,000 cached users were searched at 0.73 x
  // slapd instead of 1.14 x at 4,000.
  std::size_t cached_users = 0;
  for (const auto& directory : config.directories) {
    if (directory.type == config::DirectoryType::ldap) cached_users += directory.ldap.cache.max_entries;
  }
  settings.cached_identities = std::max(settings.cached_identities, cached_users);
  return settings;
}

Result<RuntimePtr> build_runtime(std::shared_ptr<const config::Config> config, std::shared_ptr<StateDatabase> database,
                                 RateLimiterPtr rate_limiter, ClockPtr clock,
                                 std::shared_ptr<metrics::Registry> metrics) {
  const auto& cost = config->accounts.password_hash;
  // Each Argon2id verify holds memlimit bytes; at most one per core at once.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  auto hasher = std::make_shared<const PasswordHasher>(cost.opslimit, cost.memlimit, cores);

  if (!clock) clock = system_clock();
  auto identities = std::make_shared<IdentityStore>(database, identity_settings(*config), clock);
  auto directories = build_directories(*config, database, hasher, clock, metrics.get(), identities);
  RETURN_IF_ERROR(directories);
  ChainOptions options{config->membership, config->accounts.unique_email};
  auto chain = std::make_shared<DirectoryChain>(std::move(*directories), options, hasher);
  if (!rate_limiter) rate_limiter = std::make_shared<RateLimiter>(metrics.get());
  // Counted as locks begin; made now so that it reads 0 until then.
  if (metrics) LoginLockout::locks_begun(*metrics);
  MailComposerPtr mail;
  if (config->mail) mail = std::make_shared<const MailComposer>(config->site, *config->mail);
  return std::make_shared<const Runtime>(Runtime{config, hasher, std::move(chain), AccountPolicy(config->accounts),
                                                 std::move(database), std::move(mail), std::move(rate_limiter),
                                                 std::move(clock), std::move(metrics), std::move(identities)});
}

}  // namespace dirproxy
