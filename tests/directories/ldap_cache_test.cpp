// TtlCache: positive and negative entries with their own lifetimes, LRU
// eviction at max_entries, ttl 0 turning the cache off, and safe use from
// several threads. Time is a fake clock the tests move by hand.
#include "directories/ldap/ldap_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

class FakeClock {
 public:
  TtlCache<std::string>::Clock function() {
    return [now = now_] { return now->load(); };
  }
  void advance(std::chrono::steady_clock::duration by) { now_->store(now_->load() + by); }

 private:
  std::shared_ptr<std::atomic<std::chrono::steady_clock::time_point>> now_ =
      std::make_shared<std::atomic<std::chrono::steady_clock::time_point>>(std::chrono::steady_clock::time_point{});
};

config::Cache settings(config::Duration ttl, config::Duration negative_ttl, std::size_t max_entries = 100) {
  config::Cache cache;
  cache.ttl = ttl;
  cache.negative_ttl = negative_ttl;
  cache.max_entries = max_entries;
  return cache;
}

class LdapCacheTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  TtlCache<std::string> cache_{settings(60s, 10s), clock_.function()};
};

TEST_F(LdapCacheTest, PutValueIsAHitWithACopyOfTheValue) {
  cache_.put("user:frank", "Frank");
  const auto hit = cache_.get("user:frank");
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->known_missing());
  EXPECT_EQ(hit->value, "Frank");
}

TEST_F(LdapCacheTest, UnknownKeyIsAMiss) {
  cache_.put("user:frank", "Frank");
  EXPECT_EQ(cache_.get("user:anna"), std::nullopt);
}

TEST_F(LdapCacheTest, PutReplacesTheValue) {
  cache_.put("user:frank", "Frank");
  cache_.put("user:frank", "Frank Jr");
  EXPECT_EQ(cache_.get("user:frank")->value, "Frank Jr");
  EXPECT_EQ(cache_.size(), 1u);
}

TEST_F(LdapCacheTest, ValueExpiresAfterTtl) {
  cache_.put("user:frank", "Frank");
  clock_.advance(59s);
  EXPECT_TRUE(cache_.get("user:frank").has_value());
  clock_.advance(1s);
  EXPECT_EQ(cache_.get("user:frank"), std::nullopt);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(LdapCacheTest, MissingEntryIsAHitThatKnowsTheKeyIsMissing) {
  cache_.put_missing("user:ghost");
  const auto hit = cache_.get("user:ghost");
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->known_missing());
  EXPECT_EQ(hit->value, std::nullopt);
}

TEST_F(LdapCacheTest, MissingEntryExpiresAfterNegativeTtl) {
  cache_.put_missing("user:ghost");
  clock_.advance(9s);
  EXPECT_TRUE(cache_.get("user:ghost").has_value());
  clock_.advance(1s);
  EXPECT_EQ(cache_.get("user:ghost"), std::nullopt);
}

TEST_F(LdapCacheTest, PutMissingReplacesAValueAndPutReplacesAMissingEntry) {
  cache_.put("user:frank", "Frank");
  cache_.put_missing("user:frank");
  EXPECT_TRUE(cache_.get("user:frank")->known_missing());
  cache_.put("user:frank", "Frank");
  EXPECT_EQ(cache_.get("user:frank")->value, "Frank");
}

TEST_F(LdapCacheTest, EraseForgetsOneKey) {
  cache_.put("user:frank", "Frank");
  cache_.put("user:anna", "Anna");
  cache_.erase("user:frank");
  cache_.erase("user:nobody");
  EXPECT_EQ(cache_.get("user:frank"), std::nullopt);
  EXPECT_EQ(cache_.get("user:anna")->value, "Anna");
}

TEST_F(LdapCacheTest, ClearForgetsEverything) {
  cache_.put("user:frank", "Frank");
  cache_.put_missing("user:ghost");
  cache_.clear();
  EXPECT_EQ(cache_.get("user:frank"), std::nullopt);
  EXPECT_EQ(cache_.get("user:ghost"), std::nullopt);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST(LdapCache, EvictsTheLeastRecentlyUsedEntryAtMaxEntries) {
  FakeClock clock;
  TtlCache<std::string> cache(settings(60s, 10s, 3), clock.function());
  cache.put("a", "A");
  cache.put("b", "B");
  cache.put("c", "C");
  ASSERT_TRUE(cache.get("a").has_value());  // order now a, c, b
  cache.put("d", "D");                      // evicts b
  EXPECT_EQ(cache.get("b"), std::nullopt);
  cache.put_missing("e");  // evicts c
  EXPECT_EQ(cache.get("c"), std::nullopt);
  EXPECT_EQ(cache.get("a")->value, "A");
  EXPECT_EQ(cache.get("d")->value, "D");
  EXPECT_TRUE(cache.get("e")->known_missing());
  EXPECT_EQ(cache.size(), 3u);
}

TEST(LdapCache, ReplacingAValueMakesItTheMostRecentlyUsed) {
  FakeClock clock;
  TtlCache<std::string> cache(settings(60s, 10s, 2), clock.function());
  cache.put("a", "A");
  cache.put("b", "B");
  cache.put("a", "A2");  // order now a, b
  cache.put("c", "C");   // evicts b
  EXPECT_EQ(cache.get("b"), std::nullopt);
  EXPECT_EQ(cache.get("a")->value, "A2");
}

TEST(LdapCache, TtlZeroDisablesCaching) {
  FakeClock clock;
  TtlCache<std::string> cache(settings(0s, 10s), clock.function());
  cache.put("user:frank", "Frank");
  cache.put_missing("user:ghost");
  EXPECT_EQ(cache.get("user:frank"), std::nullopt);
  EXPECT_EQ(cache.get("user:ghost"), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(LdapCache, NegativeTtlZeroDisablesOnlyMissingEntries) {
  FakeClock clock;
  TtlCache<std::string> cache(settings(60s, 0s), clock.function());
  cache.put_missing("user:ghost");
  cache.put("user:frank", "Frank");
  EXPECT_EQ(cache.get("user:ghost"), std::nullopt);
  EXPECT_EQ(cache.get("user:frank")->value, "Frank");
}

TEST(LdapCache, PutMissingWithNegativeEntriesDisabledDropsAStaleValue) {
  FakeClock clock;
  TtlCache<std::string> cache(settings(60s, 0s), clock.function());
  cache.put("user:frank", "Frank");
  cache.put_missing("user:frank");
  EXPECT_EQ(cache.get("user:frank"), std::nullopt);
}

TEST(LdapCache, ConcurrentUseKeepsEveryValueWithItsKeyAndTheSizeBounded) {
  constexpr std::size_t kMaxEntries = 64;
  constexpr int kThreads = 8;
  constexpr int kRounds = 20000;
  TtlCache<std::string> cache(settings(60s, 10s, kMaxEntries));
  std::atomic<int> mismatches{0};
  std::atomic<int> oversize{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const std::string key = "user:" + std::to_string((i * 7 + t) % 200);
        switch (i % 5) {
          case 0: cache.put(key, "value of " + key); break;
          case 1: cache.put_missing(key); break;
          case 2: cache.erase(key); break;
          default: {
            const auto hit = cache.get(key);
            if (hit && hit->value && *hit->value != "value of " + key) ++mismatches;
          }
        }
        if (cache.size() > kMaxEntries) ++oversize;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(oversize.load(), 0);
  EXPECT_LE(cache.size(), kMaxEntries);
}

TEST(LdapCacheCounters, EachGetIsAHitOrAMiss) {
  FakeClock clock;
  metrics::Counter hits;
  metrics::Counter misses;
  TtlCache<std::string> cache(settings(60s, 10s), clock.function(), CacheCounters{&hits, &misses});
  cache.put("user:frank", "Frank");
  cache.put_missing("user:ghost");

  (void)cache.get("user:frank");
  (void)cache.get("user:ghost");  // a negative entry answers too
  (void)cache.get("user:anna");
  clock.advance(61s);
  (void)cache.get("user:frank");  // expired

  EXPECT_EQ(hits.value(), 2u);
  EXPECT_EQ(misses.value(), 2u);
}

TEST(LdapCacheCounters, ACacheThatIsOffCountsNothing) {
  FakeClock clock;
  metrics::Counter hits;
  metrics::Counter misses;
  TtlCache<std::string> cache(settings(0s, 10s), clock.function(), CacheCounters{&hits, &misses});

  (void)cache.get("user:frank");

  EXPECT_EQ(hits.value() + misses.value(), 0u);
}

}  // namespace
}  // namespace dirproxy
