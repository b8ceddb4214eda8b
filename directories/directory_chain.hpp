// DirectoryChain: the configured directories in order, and the only thing the
// daemon talks to. It implements the chain rules of docs/design.md:
//
//  1. Lookups walk the directories in order; the first that has the user owns
//     it ("shadowing"). Names compare case-insensitively.
//  2. A directory that is down stops the walk with directory_unavailable under
//     on_unavailable: fail, and is passed over under skip. Checks that guard a
//     write (is this username taken?) never pass over a down directory.
//  3. authenticate verifies the password only in the owning directory; a wrong
//     password never falls through. Unknown user and wrong password give the
//     same invalid_credentials after the same work (a dummy Argon2id verify).
//     An empty password is refused before any directory is asked.
//  4. Groups aggregate over every directory (membership: aggregate) or come
//     from the owning directory only (first). Internal groups may list users of
//     any directory; under `first` a read_only_local_groups directory's users
//     also get their groups from the internal directory, where that setting
//     keeps them.
//  5. New users and groups go to the first directory whose permissions allow
//     creating them; updates go to the owner, which may answer read_only. A
//     username (or, with unique_email, an email) taken anywhere is a conflict.
//  6. Users are never merged across directories by email.
//
// Every method but cached_find_user and UserWalk's start and resume blocks
// (it calls directories); run them on the worker pool.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "directories/directory.hpp"
#include "directories/password_hasher.hpp"

namespace dirproxy {

struct ChainOptions {
  config::Membership membership = config::Membership::aggregate;
  bool unique_email = true;
};

// Where a new account's writes go, worked out by DirectoryChain::plan_account
// with every lookup done, so that the writes that follow only write.
class AccountPlan final {
 public:
  // Whether every directory the plan writes keeps its data in the state
  // database (Directory::stored_in_state_database): then all of the
  // account can commit in one transaction there.
  bool stored_in_state_database() const;

 private:
  friend class DirectoryChain;
  struct Membership {
    std::string group;     // as stored, or as asked for a group to create
    Directory* directory;  // holds the group, or creates it
    bool create_group;     // no directory has the group yet
  };

  Directory* user_directory_ = nullptr;  // the first that permits creating users
  std::vector<Membership> memberships_;
};

class DirectoryChain final {
 public:
  DirectoryChain(std::vector<DirectoryPtr> directories, ChainOptions options, PasswordHasherPtr hasher);

  // Enumeration in pages (Directory::list_users): the users whose folded
  // name sorts after `after`, each name once from the first directory that
  // has it (rule 1), at most `limit`. A directory that is down is passed
  // over or stops the listing as its on_unavailable says (rule 2).
  Result<std::vector<User>> list_users(std::string_view after, std::size_t limit);
  // The same for groups, each name once with its members merged as
  // find_group merges them (rule 4).
  Result<std::vector<Group>> list_groups(std::string_view after, std::size_t limit);

  // The owner of `username` (rule 1), or nullopt when no directory has it.
  Result<std::optional<User>> find_user(std::string_view username);
  // find_user's answer when every directory it would ask knows its part from
  // memory (cached_user_by_name), found without blocking: the owner, or an
  // inner nullopt when no directory has the user. nullopt when some
  // directory on the way can only tell by a lookup; then call find_user.
  std::optional<std::optional<User>> cached_find_user(std::string_view username);
  // find_user for a caller that must not block (the daemon's event loop):
  // the same walk (rule 1), one directory at a time. Each step answers from
  // a directory's cache, or hands out the directory's PendingUserLookup for
  // the caller to finish and pass to resume(); where a directory can do
  // neither (the internal one, an LDAP directory with no idle connection),
  // or a lookup failed, the step says so and finish_blocking() walks the
  // rest from that directory on, with find_user's handling of errors and
  // of directories that are down. The chain must outlive the walk.
  class UserWalk final {
   public:
    struct Step {
      // The walk is over: what find_user would have answered.
      std::optional<Result<std::optional<User>>> answer;
      // Otherwise, a lookup to finish and pass to resume(); neither set:
      // call finish_blocking() (on a worker).
      PendingUserLookupPtr lookup;
    };

    UserWalk(DirectoryChain& chain, std::string username);
    Step start();
    Step resume(Result<std::optional<User>> outcome);
    Result<std::optional<User>> finish_blocking();

   private:
    Step walk();

    DirectoryChain& chain_;
    const std::string username_;
    std::size_t next_ = 0;  // the directory being asked
  };

  // The first directory's user with this email, or nullopt (rule 6).
  Result<std::optional<User>> find_user_by_email(std::string_view email);
  // Users matching `query` in any directory, sorted by username, each name
  // only from the directory that owns it, at most `limit`.
  Result<std::vector<User>> find_users(std::string_view query, std::size_t limit);

  // The owner's user when `password` is right (rule 3). Errors:
  // invalid_credentials (unknown user, wrong or empty password),
  // account_disabled (right password, inactive account), directory_unavailable.
  Result<User> authenticate(std::string_view username, std::string_view password);

  // Sorted group names of an existing user (rule 4); not_found when no
  // directory has the user.
  Result<std::vector<std::string>> user_groups(const User& user);
  Result<std::vector<std::string>> user_groups(std::string_view username);
  // The group with members aggregated per rule 4, or nullopt.
  Result<std::optional<Group>> find_group(std::string_view name);

  // Writes (rule 5). Errors: conflict, not_found, read_only,
  // directory_unavailable, and what the target directory answers.
  Result<User> create_user(const NewUser& user);
  Result<User> update_user(std::string_view username, const UserChanges& changes);
  Result<void> delete_user(std::string_view username);
  Result<void> set_password(std::string_view username, std::string_view password);
  // Checks `old_password` as authenticate() does, then changes it.
  Result<void> change_password(std::string_view username, std::string_view old_password, std::string_view new_password);
  // The change for a user whose `old_password` the caller has just verified
  // (authenticate(), or the service's lockout-counted check): the owning
  // directory's change_password, which may check it again (AD does).
  Result<void> change_verified_password(std::string_view username, std::string_view old_password,
                                        std::string_view new_password);
  Result<Group> create_group(std::string_view name, const std::optional<std::string>& description);
  Result<void> delete_group(std::string_view name);
  // A new user who joins `groups`, planned first and then written without
  // looking anything up again. plan_account does every lookup and check of
  // create_user and, per group, of add_member and (when no directory has
  // the group) create_group, and writes nothing. create_planned_user then
  // creates the user where the plan says; join_planned_groups creates each
  // missing group (one that appeared meanwhile is fine) and adds the
  // member, stopping at the first failure and leaving the earlier writes.
  // Errors as create_user's, create_group's and add_member's, with the
  // group named.
  Result<AccountPlan> plan_account(const NewUser& user, const std::vector<std::string>& groups);
  Result<User> create_planned_user(const AccountPlan& plan, const NewUser& user);
  Result<void> join_planned_groups(const AccountPlan& plan, std::string_view username);
  // The user must exist somewhere in the chain; the group's owner stores it.
  Result<void> add_member(std::string_view group, std::string_view username);
  Result<void> remove_member(std::string_view group, std::string_view username);

  // The directories in configured order, for list_directories.
  const std::vector<DirectoryPtr>& directories() const { return directories_; }
  const ChainOptions& options() const { return options_; }

 private:
  // How a walk treats a directory that is down (rule 2).
  enum class Walk {
    lookup,  // per the directory's on_unavailable
    strict,  // always stop: used to guard writes
  };

  // The first directory from `first` on that answers `lookup` (rule 1).
  template <typename T, typename Lookup>
  Result<std::optional<std::pair<T, Directory*>>> first_match(Lookup lookup, Walk walk, std::size_t first = 0);

  // One page of each directory (`list`), merged by folded name: an entry
  // from the first directory that has its name, then `merge(first, later)`
  // for the same name in later directories.
  template <typename T, typename List, typename NameOf, typename Merge>
  Result<std::vector<T>> merged_pages(std::string_view after, std::size_t limit, List list, NameOf name_of,
                                      Merge merge);
  // Adds `later`'s members to `group` as membership: aggregate says (rule 4);
  // under `first`, the first directory's group is the group.
  void merge_members(Group& group, Group&& later) const;

  Result<std::optional<std::pair<User, Directory*>>> owner_of(std::string_view username, Walk walk);
  // Runs `write` (a password write) on the directory owning `username` with
  // its stored spelling, after checking that the directory may write users.
  Result<void> write_password_of(std::string_view username,
                                 const std::function<Result<void>(Directory&, const std::string&)>& write);
  Result<std::optional<std::pair<Group, Directory*>>> group_owner(std::string_view name, Walk walk);
  // The owner of group `name`, when it permits changing `what`; not_found
  // or read_only otherwise.
  Result<std::pair<Group, Directory*>> writable_group_owner(std::string_view name, std::string_view what);
  Result<void> check_email_free(std::string_view email, std::string_view except_username);
  // The checks of create_user (rule 5), and the directory that creates the user.
  Result<Directory*> user_creation_target(const NewUser& user);
  // The first directory that permits creating groups; read_only when none does.
  Result<Directory*> group_creation_target() const;
  Directory* internal_directory() const;

  std::vector<DirectoryPtr> directories_;
  ChainOptions options_;
  PasswordHasherPtr hasher_;
};

using DirectoryChainPtr = std::shared_ptr<DirectoryChain>;

}  // namespace dirproxy
