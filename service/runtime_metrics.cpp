#include "service/runtime_metrics.hpp"

#include "accounts/login_lockout.hpp"
#include "core/logging.hpp"
#include "service/directory_requests.hpp"

namespace dirproxy {
namespace {

using metrics::Family;
using metrics::Gauge;

struct RuntimeGauges {
  Family<Gauge>& directory_up;
  Family<Gauge>& pool_connections;
  Family<Gauge>& pool_max_connections;
  Family<Gauge>& outbox_messages;
  Family<Gauge>& outbox_oldest_pending_age;
  Family<Gauge>& locked_usernames;

  explicit RuntimeGauges(metrics::Registry& registry)
      : directory_up(registry.gauge("dirproxy_directory_up",
                                    "1 while a directory answers, 0 while none of its servers answered its last "
                                    "attempt; as the daemon last saw it, without a probe.",
                                    {"directory"})),
        pool_connections(registry.gauge("dirproxy_ldap_pool_connections",
                                        "Service connections of an LDAP directory's pool, by state (in_use: lent "
                                        "out or being opened; idle).",
                                        {"directory", "state"})),
        pool_max_connections(registry.gauge("dirproxy_ldap_pool_max_connections",
                                            "The most service connections an LDAP directory's pool opens (pool_size).",
                                            {"directory"})),
        outbox_messages(registry.gauge("dirproxy_outbox_messages",
                                       "Mail in the outbox by state: pending (to be sent), failed (given up after "
                                       "mail.max_attempts), held (waiting for its account change).",
                                       {"state"})),
        outbox_oldest_pending_age(registry.gauge("dirproxy_outbox_oldest_pending_age_seconds",
                                                 "Age of the oldest pending mail; 0 when none is pending.")),
        locked_usernames(registry.gauge("dirproxy_locked_usernames", "Usernames locked by security.lockout now.")) {}

  void update(const Runtime& runtime) {
    directory_up.clear();
    pool_connections.clear();
    pool_max_connections.clear();
    for (const auto& directory : runtime.chain->directories()) {
      const DirectoryHealth health = directory->health();
      const std::string& name = directory->name();
      directory_up.with({name}).set(health.up ? 1 : 0);
      if (health.pool) {
        pool_connections.with({name, "in_use"}).set(static_cast<double>(health.pool->in_use));
        pool_connections.with({name, "idle"}).set(static_cast<double>(health.pool->idle));
        pool_max_connections.with({name}).set(static_cast<double>(health.pool->size));
      }
    }
    update_state_database(runtime);
  }

  // A failed query leaves its series out of this scrape rather than stale.
  void update_state_database(const Runtime& runtime) {
    static const auto log = logging::logger("metrics");
    outbox_messages.clear();
    outbox_oldest_pending_age.clear();
    locked_usernames.clear();
    if (!runtime.database) return;
    const Caller nobody;
    const OperationContext context{runtime, nobody};
    if (auto queue = run(context, MailQueueRequest{})) {
      outbox_messages.with({"pending"}).set(static_cast<double>(queue->pending));
      outbox_messages.with({"failed"}).set(static_cast<double>(queue->failed));
      outbox_messages.with({"held"}).set(static_cast<double>(queue->held));
      outbox_oldest_pending_age.with({}).set(static_cast<double>(queue->oldest_pending_age_s.value_or(0)));
    } else {
      log->warn("scrape: cannot read the outbox: {}", queue.error().message);
    }
    if (auto locked = LoginLockout::count_locked(*runtime.database, context.now())) {
      locked_usernames.with({}).set(static_cast<double>(*locked));
    } else {
      log->warn("scrape: cannot count the locked usernames: {}", locked.error().message);
    }
  }
};

}  // namespace

metrics::Registry::Hook watch_runtime(metrics::Registry& registry, std::function<RuntimePtr()> runtime) {
  auto gauges = std::make_shared<RuntimeGauges>(registry);
  return registry.on_scrape([gauges, runtime = std::move(runtime)] {
    if (RuntimePtr current = runtime()) gauges->update(*current);
  });
}

}  // namespace dirproxy
