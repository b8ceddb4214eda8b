#include "storage/identity_store.hpp"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "core/names.hpp"
#include "core/uuid.hpp"

namespace dirproxy {
namespace {

using Lease = StateDatabase::Lease;

constexpr std::string_view kColumns = "kind, directory, name, uuid, number, source";

std::string_view kind_text(IdentityKind kind) { return kind == IdentityKind::user ? "user" : "group"; }

std::string cache_key(IdentityKind kind, std::string_view directory, std::string_view folded_name) {
  std::string key(kind_text(kind));
  key += '\0';
  key += directory;
  key += '\0';
  key += folded_name;
  return key;
}

// Random bytes come from libsodium, which must be initialised once
// (sodium_init() is thread-safe and idempotent).
std::string random_uuid() {
  static const int initialised = sodium_init();
  if (initialised < 0) throw std::runtime_error("libsodium cannot be initialised");
  UuidBytes bytes;
  randombytes_buf(bytes.data(), bytes.size());
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid_text(bytes);
}

StoredIdentity read_identity(const SqlStatement& row) {
  StoredIdentity identity;
  identity.kind = row.column_text(0) == "group" ? IdentityKind::group : IdentityKind::user;
  identity.directory = row.column_text(1);
  identity.name = row.column_text(2);
  identity.uuid = row.column_text(3);
  identity.number = static_cast<std::uint32_t>(row.column_int64(4));
  identity.source = row.column_text(5) == "directory" ? IdentitySource::directory : IdentitySource::allocated;
  return identity;
}

// The identity on the first row of the query, nullopt when there is none.
Result<std::optional<StoredIdentity>> first_identity(Result<SqlStatement> statement) {
  RETURN_IF_ERROR(statement);
  auto row = statement->step();
  RETURN_IF_ERROR(row);
  if (!*row) return std::optional<StoredIdentity>();
  return std::optional<StoredIdentity>(read_identity(*statement));
}

Result<std::optional<StoredIdentity>> select_active(const Lease& lease, IdentityKind kind, const std::string& directory,
                                                    const std::string& name) {
  return first_identity(
      lease.prepare("SELECT " + std::string(kColumns) +
                        " FROM identities WHERE kind = ?1 AND directory = ?2 AND name = ?3 AND retired = 0",
                    kind_text(kind), directory, name));
}

// Whether `stored` already has the directory's own values.
bool agrees(const StoredIdentity& stored, const OwnIdentity& own) {
  return (!own.uuid || *own.uuid == stored.uuid) && (!own.number || *own.number == stored.number);
}

// `own` with its UUID in the stored form, or dropped when it is not one.
OwnIdentity normalized(const OwnIdentity& own) {
  OwnIdentity result;
  if (own.uuid) result.uuid = normalized_uuid(*own.uuid);
  result.number = own.number;
  return result;
}

std::optional<std::int64_t> as_column(const std::optional<std::uint32_t>& number) {
  if (!number) return std::nullopt;
  return std::int64_t{*number};
}

}  // namespace

std::optional<StoredIdentity> IdentityStore::Cache::find(const std::string& key) {
  const std::lock_guard lock(mutex_);
  if (auto it = newer_.find(key); it != newer_.end()) return it->second;
  auto it = older_.find(key);
  if (it == older_.end()) return std::nullopt;
  StoredIdentity identity = it->second;
  older_.erase(it);
  if (newer_.size() >= capacity_) older_ = std::exchange(newer_, {});
  newer_.emplace(key, identity);
  return identity;
}

void IdentityStore::Cache::put(const std::string& key, const StoredIdentity& identity) {
  const std::lock_guard lock(mutex_);
  older_.erase(key);
  if (newer_.size() >= capacity_ && !newer_.contains(key)) older_ = std::exchange(newer_, {});
  newer_.insert_or_assign(key, identity);
}

void IdentityStore::Cache::erase(const std::string& key) {
  const std::lock_guard lock(mutex_);
  newer_.erase(key);
  older_.erase(key);
}

IdentityStore::IdentityStore(StateDatabasePtr database, IdentitySettings settings, ClockPtr clock)
    : database_(std::move(database)),
      settings_(settings),
      clock_(std::move(clock)),
      cache_(std::max<std::size_t>(settings.cached_identities, 1)) {}

std::optional<StoredIdentity> IdentityStore::cached_identity_of(IdentityKind kind, std::string_view directory,
                                                              std::string_view name, const OwnIdentity& given) {
  auto cached = cache_.find(cache_key(kind, directory, fold_name(name)));
  if (cached && agrees(*cached, normalized(given))) return cached;
  return std::nullopt;
}

Result<StoredIdentity> IdentityStore::identity_of(IdentityKind kind, std::string_view directory, std::string_view name,
                                                  const OwnIdentity& given) {
  if (auto cached = cached_identity_of(kind, directory, name, given)) return std::move(*cached);
  const IdentityWanted wanted{.directory = directory, .name = name, .own = given};
  auto identities = identities_of(kind, std::span(&wanted, 1));
  RETURN_IF_ERROR(identities);
  return std::move(identities->front());
}

Result<std::vector<StoredIdentity>> IdentityStore::identities_of(IdentityKind kind,
                                                                 std::span<const IdentityWanted> wanted) {
  std::vector<std::optional<StoredIdentity>> found(wanted.size());
  // What memory does not have as it is, in the stored form.
  struct Unknown {
    std::size_t index = 0;  // in `wanted`
    std::string directory;
    std::string name;  // folded
    OwnIdentity own;   // normalized
  };
  std::vector<Unknown> unknown;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const IdentityWanted& one = wanted[i];
    found[i] = cached_identity_of(kind, one.directory, one.name, one.own);
    if (!found[i]) unknown.push_back(Unknown{i, std::string(one.directory), fold_name(one.name), normalized(one.own)});
  }
  if (!unknown.empty()) {
    auto lease = database_->acquire();
    // Most were made earlier: reads, no write lock.
    std::vector<const Unknown*> unseen;
    for (const Unknown& one : unknown) {
      auto stored = select_active(lease, kind, one.directory, one.name);
      RETURN_IF_ERROR(stored);
      if (*stored && agrees(**stored, one.own)) {
        found[one.index] = std::move(**stored);
      } else {
        unseen.push_back(&one);
      }
    }
    // The first sights, all in one transaction: one commit for the batch.
    if (!unseen.empty()) {
      auto recorded = lease.write_transaction([&](const Lease& writing) -> Result<void> {
        for (const Unknown* one : unseen) {
          auto identity = record(writing, kind, one->directory, one->name, one->own);
          RETURN_IF_ERROR(identity);
          found[one->index] = std::move(*identity);
        }
        return {};
      });
      RETURN_IF_ERROR(recorded);
    }
    for (const Unknown& one : unknown) cache_.put(cache_key(kind, one.directory, one.name), *found[one.index]);
  }
  std::vector<StoredIdentity> identities;
  identities.reserve(found.size());
  for (auto& identity : found) identities.push_back(std::move(*identity));
  return identities;
}

Result<StoredIdentity> IdentityStore::record(const Lease& lease, IdentityKind kind, const std::string& directory,
                                             const std::string& name, const OwnIdentity& own) {
  // Looked at again under the write lock: another thread or process may
  // have recorded it since.
  auto existing = select_active(lease, kind, directory, name);
  RETURN_IF_ERROR(existing);
  if (*existing) {
    if (agrees(**existing, own)) return std::move(**existing);
    // The directory's own values win over what was allocated or seen before;
    // a number given up so is never allocated again (the counter has passed it).
    auto updated = lease.prepare(
        "UPDATE identities SET uuid = COALESCE(?1, uuid), number = COALESCE(?2, number), source = 'directory'"
        " WHERE kind = ?3 AND directory = ?4 AND name = ?5 AND retired = 0",
        own.uuid, as_column(own.number), kind_text(kind), directory, name);
    RETURN_IF_ERROR(updated);
    RETURN_IF_ERROR(updated->run());
  } else {
    std::uint32_t number = 0;
    if (own.number) {
      number = *own.number;
    } else {
      auto allocated = allocate_number(lease, kind);
      RETURN_IF_ERROR(allocated);
      number = *allocated;
    }
    const bool own_values = own.uuid || own.number;
    auto inserted = lease.prepare(
        "INSERT INTO identities (kind, directory, name, uuid, number, source, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        kind_text(kind), directory, name, own.uuid ? *own.uuid : random_uuid(), std::int64_t{number},
        std::string_view(own_values ? "directory" : "allocated"), clock_->unix_seconds());
    RETURN_IF_ERROR(inserted);
    RETURN_IF_ERROR(inserted->run());
  }
  auto stored = select_active(lease, kind, directory, name);
  RETURN_IF_ERROR(stored);
  if (!*stored) return fail(ErrorCode::internal_error, "the identity of '" + name + "' was not stored");
  return std::move(**stored);
}

Result<std::uint32_t> IdentityStore::allocate_number(const Lease& lease, IdentityKind kind) {
  const std::uint32_t minimum = kind == IdentityKind::user ? settings_.uid_number_min : settings_.gid_number_min;
  auto counter = lease.prepare("SELECT next_number FROM identity_counters WHERE kind = ?1", kind_text(kind));
  RETURN_IF_ERROR(counter);
  auto row = counter->step();
  RETURN_IF_ERROR(row);
  const std::int64_t next = *row ? counter->column_int64(0) : 0;
  std::int64_t number = std::max<std::int64_t>(next, minimum);
  // A number is a user's or a group's, never both, retired ones included:
  // a user's private group has its uidNumber as gidNumber, and NSS clients
  // (nslcd, SSSD) would otherwise show two groups under one number when the
  // two ranges overlap (the default: both start at 10000).
  for (;;) {
    auto taken = lease.prepare("SELECT 1 FROM identities WHERE kind IN ('user', 'group') AND number = ?1 LIMIT 1",
                               number);
    RETURN_IF_ERROR(taken);
    auto found = taken->step();
    RETURN_IF_ERROR(found);
    if (!*found) break;
    ++number;
  }
  if (number > std::numeric_limits<std::uint32_t>::max()) {
    return fail(ErrorCode::internal_error, "no " + std::string(kind_text(kind)) + " numbers are left to allocate");
  }
  auto advanced = lease.prepare(
      "INSERT INTO identity_counters (kind, next_number) VALUES (?1, ?2)"
      " ON CONFLICT (kind) DO UPDATE SET next_number = excluded.next_number",
      kind_text(kind), number + 1);
  RETURN_IF_ERROR(advanced);
  RETURN_IF_ERROR(advanced->run());
  return static_cast<std::uint32_t>(number);
}

Result<std::optional<StoredIdentity>> IdentityStore::find_by_number(IdentityKind kind, std::uint32_t number) {
  auto lease = database_->acquire();
  return first_identity(lease.prepare("SELECT " + std::string(kColumns) +
                                          " FROM identities WHERE kind = ?1 AND number = ?2 AND retired = 0"
                                          " ORDER BY id LIMIT 1",
                                      kind_text(kind), std::int64_t{number}));
}

Result<std::optional<StoredIdentity>> IdentityStore::find_by_uuid(IdentityKind kind, std::string_view uuid) {
  auto normal = normalized_uuid(uuid);
  if (!normal) return std::optional<StoredIdentity>();
  auto lease = database_->acquire();
  return first_identity(lease.prepare("SELECT " + std::string(kColumns) +
                                          " FROM identities WHERE kind = ?1 AND uuid = ?2 AND retired = 0"
                                          " ORDER BY id LIMIT 1",
                                      kind_text(kind), *normal));
}

Result<void> IdentityStore::retire(const Lease& lease, IdentityKind kind, std::string_view directory,
                                   std::string_view name) {
  forget(kind, directory, name);
  auto retired = lease.prepare(
      "UPDATE identities SET retired = 1 WHERE kind = ?1 AND directory = ?2 AND name = ?3 AND retired = 0",
      kind_text(kind), directory, fold_name(name));
  RETURN_IF_ERROR(retired);
  return retired->run();
}

void IdentityStore::forget(IdentityKind kind, std::string_view directory, std::string_view name) {
  cache_.erase(cache_key(kind, directory, fold_name(name)));
}

}  // namespace dirproxy
