// The stable identities of users and groups: the UUID and the POSIX number
// (uidNumber of a user, gidNumber of a group) that the LDAP front end shows,
// kept in the state database's `identities` table by (kind, directory,
// folded name).
//
// Rules (docs/design.md, "State"):
//  - A name seen for the first time gets an identity: the directory's own
//    UUID and number where it has them (source `directory`), otherwise a
//    random version-4 UUID and the next number of its kind's counter
//    (source `allocated`), which starts at the configured minimum.
//  - The counter only grows, so a number is never handed out twice; when the
//    configured minimum rises above it, it jumps up to the minimum.
//  - An allocated number is no other identity's, of either kind: a number
//    some user or group has (or had) is skipped. A user's private group
//    shares its uidNumber, so groups must never be given one.
//  - Retiring an identity (its account was deleted) keeps its row, so its
//    UUID and number stay out of use; a later account of that name gets a
//    new identity.
//  - A first sight is recorded in a write transaction that looks again
//    under the write lock, then INSERT ... ON CONFLICT DO NOTHING and
//    SELECT, so that threads and processes racing on one name all get the
//    same identity. identities_of() records all the first sights of a batch
//    (an enumeration's page) in one such transaction: one commit (an fsync)
//    for the page instead of one per name.
//
// Forward lookups are answered from memory once seen (a bounded cache), so a
// search by uid does not go to SQLite each time; the reverse lookups (by
// number, by UUID) query the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

enum class IdentityKind { user, group };

enum class IdentitySource {
  allocated,  // dirproxy made both the UUID and the number
  directory,  // the directory gave its own UUID or number (or both)
};

// Where allocation starts and how much the store remembers. The runtime
// builds it from the configuration (ldap_server.posix).
struct IdentitySettings {
  std::uint32_t uid_number_min = 10000;
  std::uint32_t gid_number_min = 10000;
  // Identities kept in memory: between this and twice this many. The
  // runtime raises it to what the LDAP directories' caches hold.
  std::size_t cached_identities = 8192;
};

// What a directory says of its own entry, each value when it has one.
struct OwnIdentity {
  std::optional<std::string> uuid;  // any case; ignored unless a UUID's text form
  std::optional<std::uint32_t> number;
};

// One name of a batch for identities_of().
struct IdentityWanted {
  std::string_view directory;
  std::string_view name;  // any case
  OwnIdentity own;
};

struct StoredIdentity {
  IdentityKind kind = IdentityKind::user;
  std::string directory;
  std::string name;  // folded (core/names.hpp)
  std::string uuid;  // RFC 4122 text, lower case
  std::uint32_t number = 0;
  IdentitySource source = IdentitySource::allocated;
};

class IdentityStore final {
 public:
  IdentityStore(StateDatabasePtr database, IdentitySettings settings, ClockPtr clock = system_clock());

  // The active identity of `name` (any case) in `directory`, made on first
  // sight. `own` are the directory's values: where they differ from what is
  // stored, the stored identity takes them (source directory). Errors:
  // internal_error (SQLite, or the kind's numbers are used up).
  Result<StoredIdentity> identity_of(IdentityKind kind, std::string_view directory, std::string_view name,
                                     const OwnIdentity& own = {});
  // identity_of() for each of `wanted`, in order, with the first sights
  // among them recorded in one write transaction: all of them, or (on an
  // error) none. A name may appear more than once (in any case): it gets
  // one identity.
  Result<std::vector<StoredIdentity>> identities_of(IdentityKind kind, std::span<const IdentityWanted> wanted);
  // The same identity when memory alone has it as it is (seen before,
  // still remembered, `own` agreeing); nullopt: ask identity_of(). Never
  // blocks on the database.
  std::optional<StoredIdentity> cached_identity_of(IdentityKind kind, std::string_view directory,
                                                   std::string_view name, const OwnIdentity& own = {});
  // The active identity with this number (the first recorded, should a
  // directory's own number equal another's), nullopt when none.
  Result<std::optional<StoredIdentity>> find_by_number(IdentityKind kind, std::uint32_t number);
  // The active identity with this UUID (any case), nullopt when none.
  Result<std::optional<StoredIdentity>> find_by_uuid(IdentityKind kind, std::string_view uuid);

  // Retires the active identity of `name` in `directory`, if any, in the
  // transaction open on `lease` (the one deleting the account), and forgets
  // it. The caller calls forget() again after its transaction commits, so
  // that no lookup in between can have cached the identity anew.
  Result<void> retire(const StateDatabase::Lease& lease, IdentityKind kind, std::string_view directory,
                      std::string_view name);
  // Drops `name`'s identity from memory (the table keeps it).
  void forget(IdentityKind kind, std::string_view directory, std::string_view name);

  const IdentitySettings& settings() const { return settings_; }

  IdentityStore(const IdentityStore&) = delete;
  IdentityStore& operator=(const IdentityStore&) = delete;

 private:
  // Two generations: a hit in the older one moves to the newer; when the
  // newer is full the older is dropped. Bounded, and close to LRU.
  class Cache final {
   public:
    explicit Cache(std::size_t capacity) : capacity_(capacity) {}
    std::optional<StoredIdentity> find(const std::string& key);
    void put(const std::string& key, const StoredIdentity& identity);
    void erase(const std::string& key);

   private:
    const std::size_t capacity_;
    std::mutex mutex_;
    std::unordered_map<std::string, StoredIdentity> newer_;  // guarded by mutex_
    std::unordered_map<std::string, StoredIdentity> older_;  // guarded by mutex_
  };

  // The first sight (or a change of the directory's own values) under the
  // write lock.
  Result<StoredIdentity> record(const StateDatabase::Lease& lease, IdentityKind kind, const std::string& directory,
                                const std::string& name, const OwnIdentity& own);
  // The next number of `kind`, taken from its counter.
  Result<std::uint32_t> allocate_number(const StateDatabase::Lease& lease, IdentityKind kind);

  const StateDatabasePtr database_;
  const IdentitySettings settings_;
  const ClockPtr clock_;
  Cache cache_;
};

using IdentityStorePtr = std::shared_ptr<IdentityStore>;

}  // namespace dirproxy
