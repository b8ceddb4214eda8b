// The Directory interface: one source of users and groups (the internal SQLite
// directory, an LDAP server, ...). DirectoryChain walks an ordered list of
// them; nothing else in the daemon talks to a Directory directly.
//
// Every method is synchronous and may block (SQLite, Argon2id, libldap); the
// daemon calls them from its worker pool, never from the io thread, with two
// exceptions that never block (cached_user_by_name, start_user_lookup). All
// methods are safe to call from several threads at once.
//
// Conventions: a missing user or group is a value (std::nullopt), not an
// error. An unreachable directory answers ErrorCode::directory_unavailable with
// Error::directory set to its name. Names are compared case-insensitively;
// the stored spelling is returned.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

namespace dirproxy {

using config::DirectoryType;
using config::OnUnavailable;
using config::Permissions;

struct User {
  std::string username;
  std::optional<std::string> email;
  std::optional<std::string> display_name;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  bool active = true;
  std::string directory;  // name of the owning directory
  // The directory's own identity and times, where it has them (an LDAP
  // directory's entryUUID or objectGUID, uidNumber, gidNumber,
  // createTimestamp, modifyTimestamp; the internal directory's times).
  // dirproxy allocates what is missing (storage/identity_store.hpp).
  std::optional<std::string> uuid = std::nullopt;  // RFC 4122 text, lower case
  std::optional<std::uint32_t> uid_number = std::nullopt;
  std::optional<std::uint32_t> gid_number = std::nullopt;
  std::optional<std::int64_t> created_at = std::nullopt;   // Unix seconds
  std::optional<std::int64_t> modified_at = std::nullopt;  // Unix seconds
};

struct Group {
  std::string name;
  std::optional<std::string> description;
  std::string directory;             // name of the directory holding it
  std::vector<std::string> members;  // usernames, sorted
  // The directory's own identity, where it has one (as for User).
  std::optional<std::string> uuid = std::nullopt;
  std::optional<std::uint32_t> gid_number = std::nullopt;
};

struct NewUser {
  std::string username;
  std::string email;
  std::string display_name;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> password;  // none: the account cannot log in yet
  // Instead of `password`: an Argon2id hash (PasswordHasher::hash) made
  // earlier, for a signup confirmed after its password was given. Only the
  // internal directory can store one; others answer read_only.
  std::optional<std::string> password_hash;
  bool active = true;
};

// Fields to change; an unset optional leaves the field as it is.
struct UserChanges {
  std::optional<std::string> email;
  std::optional<std::string> display_name;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<bool> active;

  bool empty() const { return !email && !display_name && !first_name && !last_name && !active; }
};

enum class AuthOutcome {
  success,         // the password is right and the account is active
  wrong_password,  // also: the account has no password yet
  disabled,        // the password is right but the account is inactive
};

struct DirectoryStatus {
  bool up = true;
  std::string detail;                // the last error when down
  std::optional<std::size_t> users;  // user count, when cheap to know
};

// The service connections of a directory that keeps a pool of them.
struct ConnectionPoolUse {
  std::size_t size = 0;    // the most it opens (pool_size)
  std::size_t in_use = 0;  // lent out, or being opened
  std::size_t idle = 0;
};

// What a directory knows of its own state without asking anyone, for the
// metrics scrape.
struct DirectoryHealth {
  bool up = true;  // false while none of its servers answered its last attempt
  std::optional<ConnectionPoolUse> pool;
};

// A find_user_by_name in progress that blocks no thread: the request is sent
// and the caller waits for the answer on its own event loop. Used from one
// thread at a time; destroying it before it finished abandons the lookup.
class PendingUserLookup {
 public:
  virtual ~PendingUserLookup() = default;
  // The socket that becomes readable when poll() may have progress to make.
  virtual int descriptor() const = 0;
  // When the lookup gives up: a poll() at or after it answers the error a
  // timed-out find_user_by_name would.
  virtual std::chrono::steady_clock::time_point deadline() const = 0;
  // Reads what has arrived, without blocking. nullopt: not finished; wait
  // until descriptor() is readable or the deadline passes, then poll again
  // (the socket has been read until it had nothing more, so an
  // edge-triggered wait misses nothing). Otherwise exactly what
  // find_user_by_name would have answered.
  virtual std::optional<Result<std::optional<User>>> poll() = 0;
};
using PendingUserLookupPtr = std::unique_ptr<PendingUserLookup>;

class Directory {
 public:
  virtual ~Directory() = default;

  // The configured name, type, permissions and down-behaviour.
  virtual const std::string& name() const = 0;
  virtual DirectoryType type() const = 0;
  virtual Permissions permissions() const = 0;
  virtual OnUnavailable on_unavailable() const = 0;
  // Whether this directory keeps its users and groups in the daemon's state
  // database, so that its writes join a write transaction that the calling
  // thread holds there (StateDatabase's joined transactions) and commit or
  // roll back with it. The internal directory does; a directory on a server
  // of its own keeps this default.
  virtual bool stored_in_state_database() const { return false; }

  // The user with this username, nullopt when this directory has none.
  virtual Result<std::optional<User>> find_user_by_name(std::string_view username) = 0;
  // What find_user_by_name would answer, when this directory knows it from
  // memory (a cache) and can tell without blocking: the user, or an inner
  // nullopt when it knows there is none. nullopt when only a lookup can
  // tell. Never blocks, never fails; the daemon may call it on its io
  // thread. A directory without a cache keeps this default.
  virtual std::optional<std::optional<User>> cached_user_by_name(std::string_view /*username*/) { return std::nullopt; }
  // find_user_by_name started without blocking, for a caller that waits for
  // the answer itself (the daemon's event loop); nullptr when this directory
  // cannot do that now (a local directory, or no idle network connection):
  // call find_user_by_name on a worker then. Never blocks.
  virtual PendingUserLookupPtr start_user_lookup(std::string_view /*username*/) { return nullptr; }
  // The user with this email (compared case-insensitively), nullopt when none.
  // When several match, the one with the smallest username.
  virtual Result<std::optional<User>> find_user_by_email(std::string_view email) = 0;
  // Verifies `password` for a user this directory owns (as returned by a
  // find_user_* call). Never called with an empty password.
  virtual Result<AuthOutcome> authenticate(const User& user, std::string_view password) = 0;
  // Users whose username, email or display name contains `query`
  // (case-insensitive; empty = all), sorted by username, at most `limit`.
  virtual Result<std::vector<User>> search_users(std::string_view query, std::size_t limit) = 0;

  // Enumeration in pages, for clients that list every entry (the LDAP front
  // end). The users (groups, with their members here) whose folded name
  // sorts strictly after fold_name(`after`) (empty: from the first), in
  // folded-name order, at most `limit`.
  virtual Result<std::vector<User>> list_users(std::string_view after, std::size_t limit) = 0;
  virtual Result<std::vector<Group>> list_groups(std::string_view after, std::size_t limit) = 0;

  // Names of the groups of this directory that list `username` as a member.
  virtual Result<std::vector<std::string>> groups_of(std::string_view username) = 0;
  // The group with this name and its members in this directory, or nullopt.
  virtual Result<std::optional<Group>> find_group(std::string_view name) = 0;

  // Writes. The chain checks permissions and uniqueness across directories
  // before calling these; a directory still refuses with read_only when it
  // cannot write, conflict on a duplicate and not_found on a missing target.
  virtual Result<User> create_user(const NewUser& user) = 0;
  virtual Result<User> update_user(std::string_view username, const UserChanges& changes) = 0;
  virtual Result<void> delete_user(std::string_view username) = 0;
  virtual Result<void> set_password(std::string_view username, std::string_view password) = 0;
  // A user's own change of their password, after the caller verified
  // `old_password`. A directory whose server checks the old password again
  // and applies rules only to changes (Active Directory: history, minimum
  // age) passes it on; invalid_credentials when the server refuses it. The
  // default is set_password.
  virtual Result<void> change_password(std::string_view username, std::string_view /*old_password*/,
                                       std::string_view new_password) {
    return set_password(username, new_password);
  }
  virtual Result<Group> create_group(std::string_view name, const std::optional<std::string>& description) = 0;
  virtual Result<void> delete_group(std::string_view name) = 0;
  // Adding a member already present, or removing one absent, succeeds.
  virtual Result<void> add_member(std::string_view group, std::string_view username) = 0;
  virtual Result<void> remove_member(std::string_view group, std::string_view username) = 0;

  // Whether the directory is reachable now, for list_directories.
  virtual DirectoryStatus status() = 0;
  // Its state as far as it knows from memory (the outcome of its last
  // attempts, its pool), for the metrics. Never blocks, unlike status(),
  // which may connect. A directory with no servers keeps this default.
  virtual DirectoryHealth health() const { return {}; }
};

using DirectoryPtr = std::shared_ptr<Directory>;

}  // namespace dirproxy
