// The internal directory: dirproxy's own writable users and groups, stored in
// the state database (tables users, groups, memberships) with Argon2id
// password hashes. Its groups may list users of any directory, because
// memberships are stored by username.
//
// Every call borrows a pooled connection for as long as its SQL runs and no
// longer: Argon2id hashing and verification happen with no connection held
// and outside any transaction, so slow hashes never block other requests'
// reads or other writers. Called inside a transaction joined by the calling
// thread (StateDatabase::Lease::write_transaction_joined_by_this_thread), its
// reads and writes are part of that transaction.
#pragma once

#include <string>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "directories/directory.hpp"
#include "directories/password_hasher.hpp"
#include "storage/identity_store.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// Not final: Timed<InternalDirectory> (timed_directory.hpp) times its calls.
class InternalDirectory : public Directory {
 public:
  // `unique_email` (accounts.unique_email): refuse a second user with the
  // same email (compared case-insensitively) with conflict, field "email".
  // Permissions: read_only refuses every write; read_only_local_groups
  // refuses user writes but allows group and membership writes.
  // Users' and groups' created_at and updated_at come from `clock`.
  // Deleting a user or group retires its identity in `identities` (when
  // given), in the same transaction, so that a later account of the same
  // name gets a new UUID and number.
  InternalDirectory(const config::DirectoryConfig& config, StateDatabasePtr database, PasswordHasherPtr hasher,
                    bool unique_email, ClockPtr clock = system_clock(), IdentityStorePtr identities = nullptr);

  const std::string& name() const override { return name_; }
  DirectoryType type() const override { return DirectoryType::internal; }
  Permissions permissions() const override { return permissions_; }
  OnUnavailable on_unavailable() const override { return on_unavailable_; }
  bool stored_in_state_database() const override { return true; }

  Result<std::optional<User>> find_user_by_name(std::string_view username) override;
  Result<std::optional<User>> find_user_by_email(std::string_view email) override;
  Result<AuthOutcome> authenticate(const User& user, std::string_view password) override;
  Result<std::vector<User>> search_users(std::string_view query, std::size_t limit) override;
  // Keyset pages (WHERE name > after ORDER BY name LIMIT n on the NOCASE
  // index): each page costs the same, and none holds more than `limit` rows.
  Result<std::vector<User>> list_users(std::string_view after, std::size_t limit) override;
  Result<std::vector<Group>> list_groups(std::string_view after, std::size_t limit) override;

  Result<std::vector<std::string>> groups_of(std::string_view username) override;
  Result<std::optional<Group>> find_group(std::string_view name) override;

  Result<User> create_user(const NewUser& user) override;
  Result<User> update_user(std::string_view username, const UserChanges& changes) override;
  Result<void> delete_user(std::string_view username) override;
  Result<void> set_password(std::string_view username, std::string_view password) override;
  Result<Group> create_group(std::string_view name, const std::optional<std::string>& description) override;
  Result<void> delete_group(std::string_view name) override;
  Result<void> add_member(std::string_view group, std::string_view username) override;
  Result<void> remove_member(std::string_view group, std::string_view username) override;

  DirectoryStatus status() override;

 private:
  // Now, as stored in created_at and updated_at (RFC 3339, UTC).
  std::string now_rfc3339() const;
  // read_only unless this directory's permissions allow the write.
  Result<void> check_user_writes() const;
  Result<void> check_group_writes() const;
  // Runs `sql` (?1 = group id, ?2 = username) on an existing group in one
  // write transaction; not_found when the group is missing.
  Result<void> change_membership(std::string_view group, std::string_view username, std::string_view sql);
  // The identity of a deleted user or group retired in its transaction
  // (nothing without an identity store), and forgotten after the commit.
  Result<void> retire_identity(const StateDatabase::Lease& lease, IdentityKind kind, std::string_view name);
  void forget_identity(IdentityKind kind, std::string_view name);
  // Stores a fresh hash after a successful login with outdated limits;
  // failures are ignored (the old hash still works).
  void rehash(std::string_view username, const std::string& old_hash, std::string_view password);

  const std::string name_;
  const Permissions permissions_;
  const OnUnavailable on_unavailable_;
  const StateDatabasePtr database_;
  const PasswordHasherPtr hasher_;
  const bool unique_email_;
  const ClockPtr clock_;
  const IdentityStorePtr identities_;  // may be null
};

}  // namespace dirproxy
