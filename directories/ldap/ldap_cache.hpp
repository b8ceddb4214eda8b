// The per-directory cache of an LDAP directory (cache.ttl, cache.negative_ttl,
// cache.max_entries): lookups answered from memory for `ttl`, and "no such
// user" answered for `negative_ttl`, so that a burst of requests for one name
// costs one search. The directory erases the keys a write through dirproxy
// touches; changes made on the server directly show up when entries expire.
//
// The cache stores whatever it is given and cannot tell a password from a
// display name. Never caching passwords, password hashes or the outcome of a
// bind is the caller's rule: only directory data (users, groups, member
// lists) goes in, and authentication always asks the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "config/config.hpp"
#include "core/metrics.hpp"

namespace dirproxy {

// Where a cache counts its lookups (dirproxy_cache_hits_total and
// dirproxy_cache_misses_total); a null counter counts nothing.
struct CacheCounters {
  metrics::Counter* hits = nullptr;
  metrics::Counter* misses = nullptr;
};

// What the cache knows about a key: `value` when it holds one, nullopt for a
// negative entry ("looked up recently and not there"). The shape matches a
// lookup's own answer, so a hit can be returned as it is.
template <typename Value>
struct CacheHit {
  std::optional<Value> value;

  bool known_missing() const { return !value.has_value(); }
};

// A thread-safe LRU map from string keys to Values with expiry. get and put
// are O(1). Keys are used as given: callers fold names (fold_name) and prefix
// the kind of lookup ("user:", "email:", "group:") themselves.
template <typename Value>
class TtlCache final {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // ttl 0 (or max_entries 0) disables the cache: get always misses (and
  // counts nothing) and the puts do nothing. negative_ttl 0 disables
  // negative entries only. `clock` is for tests; it is called under the
  // cache's lock. Each get() counts a hit or a miss in `counters`.
  explicit TtlCache(const config::Cache& settings, Clock clock = &std::chrono::steady_clock::now,
                    CacheCounters counters = {})
      : ttl_(settings.ttl),
        negative_ttl_(settings.negative_ttl),
        max_entries_(settings.max_entries),
        clock_(std::move(clock)),
        counters_(counters) {}

  TtlCache(const TtlCache&) = delete;
  TtlCache& operator=(const TtlCache&) = delete;

  // A copy of what is cached for `key`, or nullopt when nothing unexpired is.
  // A hit makes the key the most recently used.
  std::optional<CacheHit<Value>> get(std::string_view key) {
    if (!enabled()) return std::nullopt;
    std::lock_guard lock(mutex_);
    const auto found = index_.find(key);
    if (found == index_.end()) return missed();
    const auto entry = found->second;
    if (entry->expires <= clock_()) {
      index_.erase(found);
      entries_.erase(entry);
      return missed();
    }
    entries_.splice(entries_.begin(), entries_, entry);
    if (counters_.hits != nullptr) counters_.hits->increment();
    return CacheHit<Value>{entry->value};
  }

  // Caches `value` for `key` for ttl, replacing what was there.
  void put(std::string_view key, Value value) {
    if (!enabled()) return;
    std::lock_guard lock(mutex_);
    store(key, std::optional<Value>(std::move(value)), ttl_);
  }

  // Records that `key` does not exist, for negative_ttl. With negative
  // entries disabled this only drops what was cached for `key`, which the
  // lookup has just shown to be stale.
  void put_missing(std::string_view key) {
    if (!enabled()) return;
    std::lock_guard lock(mutex_);
    if (negative_ttl_ <= Duration::zero()) {
      erase_locked(key);
      return;
    }
    store(key, std::nullopt, negative_ttl_);
  }

  // Forgets `key` (after a write through dirproxy changed it).
  void erase(std::string_view key) {
    std::lock_guard lock(mutex_);
    erase_locked(key);
  }

  // Forgets everything.
  void clear() {
    std::lock_guard lock(mutex_);
    index_.clear();
    entries_.clear();
  }

  // Entries held, expired ones included until they are read or evicted.
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  using Duration = config::Duration;

  struct Entry {
    std::string key;
    std::optional<Value> value;  // nullopt: negative entry
    std::chrono::steady_clock::time_point expires;
  };
  // Most recently used first. The index's keys view the entries' own key
  // strings, which std::list never moves.
  using Entries = std::list<Entry>;

  bool enabled() const { return ttl_ > Duration::zero() && max_entries_ > 0; }

  std::nullopt_t missed() const {
    if (counters_.misses != nullptr) counters_.misses->increment();
    return std::nullopt;
  }

  void store(std::string_view key, std::optional<Value> value, Duration lifetime) {
    const auto expires = clock_() + lifetime;
    const auto found = index_.find(key);
    if (found != index_.end()) {
      const auto entry = found->second;
      entry->value = std::move(value);
      entry->expires = expires;
      entries_.splice(entries_.begin(), entries_, entry);
      return;
    }
    entries_.push_front(Entry{std::string(key), std::move(value), expires});
    index_.emplace(std::string_view(entries_.front().key), entries_.begin());
    while (entries_.size() > max_entries_) {
      index_.erase(std::string_view(entries_.back().key));
      entries_.pop_back();
    }
  }

  void erase_locked(std::string_view key) {
    const auto found = index_.find(key);
    if (found == index_.end()) return;
    const auto entry = found->second;
    index_.erase(found);
    entries_.erase(entry);
  }

  const Duration ttl_;
  const Duration negative_ttl_;
  const std::size_t max_entries_;
  const Clock clock_;
  const CacheCounters counters_;

  mutable std::mutex mutex_;
  Entries entries_;
  std::unordered_map<std::string_view, typename Entries::iterator> index_;
};

}  // namespace dirproxy
