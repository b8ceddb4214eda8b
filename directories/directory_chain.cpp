#include "directories/directory_chain.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/names.hpp"

namespace dirproxy {
namespace {

// A directory's answer of "down" always names the directory, so the client
// learns which one (docs/protocol.md: `directory` is added).
Error name_directory(Error error, const Directory& directory) {
  if (error.code == ErrorCode::directory_unavailable && error.directory.empty()) {
    error.directory = directory.name();
  }
  return error;
}

bool is_down(const Error& error) { return error.code == ErrorCode::directory_unavailable; }

bool skips_when_down(const Directory& directory) { return directory.on_unavailable() == OnUnavailable::skip; }

bool can_write_users(const Directory& directory) { return directory.permissions() == Permissions::read_write; }

// Groups can be created in and changed by a read_write directory only; a
// read_only_local_groups directory keeps its local groups in the internal one.
bool can_write_groups(const Directory& directory) { return directory.permissions() == Permissions::read_write; }

Error read_only_error(const Directory& directory, std::string_view what) {
  return make_error(ErrorCode::read_only,
                    "directory '" + directory.name() + "' does not permit changing " + std::string(what));
}

// Members in folded-name order, as Group promises.
void sort_members(Group& group) {
  std::sort(group.members.begin(), group.members.end(),
            [](const std::string& a, const std::string& b) { return fold_name(a) < fold_name(b); });
}

Error invalid_credentials() { return make_error(ErrorCode::invalid_credentials, "wrong username or password"); }

}  // namespace

DirectoryChain::DirectoryChain(std::vector<DirectoryPtr> directories, ChainOptions options, PasswordHasherPtr hasher)
    : directories_(std::move(directories)), options_(options), hasher_(std::move(hasher)) {}

template <typename T, typename Lookup>
Result<std::optional<std::pair<T, Directory*>>> DirectoryChain::first_match(Lookup lookup, Walk walk,
                                                                            std::size_t first) {
  for (std::size_t index = first; index < directories_.size(); ++index) {
    const auto& directory = directories_[index];
    Result<std::optional<T>> found = lookup(*directory);
    if (!found) {
      if (is_down(found.error()) && walk == Walk::lookup && skips_when_down(*directory)) continue;
      return name_directory(std::move(found).error(), *directory);
    }
    if (found->has_value()) {
      return std::optional<std::pair<T, Directory*>>(std::in_place, std::move(**found), directory.get());
    }
  }
  return std::optional<std::pair<T, Directory*>>();
}

Result<std::optional<std::pair<User, Directory*>>> DirectoryChain::owner_of(std::string_view username, Walk walk) {
  return first_match<User>([&](Directory& d) { return d.find_user_by_name(username); }, walk);
}

Result<std::optional<std::pair<Group, Directory*>>> DirectoryChain::group_owner(std::string_view name, Walk walk) {
  return first_match<Group>([&](Directory& d) { return d.find_group(name); }, walk);
}

Result<std::pair<Group, Directory*>> DirectoryChain::writable_group_owner(std::string_view name,
                                                                          std::string_view what) {
  auto owner = group_owner(name, Walk::lookup);
  RETURN_IF_ERROR(owner);
  if (!owner->has_value()) return make_error(ErrorCode::not_found, "no group '" + std::string(name) + "'");
  if (!can_write_groups(*(*owner)->second)) return read_only_error(*(*owner)->second, what);
  return std::move(**owner);
}

Directory* DirectoryChain::internal_directory() const {
  for (const auto& directory : directories_) {
    if (directory->type() == DirectoryType::internal) return directory.get();
  }
  return nullptr;
}

Result<std::optional<User>> DirectoryChain::find_user(std::string_view username) {
  auto owner = owner_of(username, Walk::lookup);
  RETURN_IF_ERROR(owner);
  if (!owner->has_value()) return std::optional<User>();
  return std::optional<User>(std::move((*owner)->first));
}

std::optional<std::optional<User>> DirectoryChain::cached_find_user(std::string_view username) {
  // The same walk as owner_of (rule 1). A cached answer is what
  // find_user_by_name would give: it too answers from its cache first,
  // whether the server is up or down.
  for (const auto& directory : directories_) {
    auto known = directory->cached_user_by_name(username);
    if (!known) return std::nullopt;
    if (known->has_value()) return known;
  }
  return std::optional<User>();
}

DirectoryChain::UserWalk::UserWalk(DirectoryChain& chain, std::string username)
    : chain_(chain), username_(std::move(username)) {}

DirectoryChain::UserWalk::Step DirectoryChain::UserWalk::start() { return walk(); }

DirectoryChain::UserWalk::Step DirectoryChain::UserWalk::resume(Result<std::optional<User>> outcome) {
  // A failed lookup is not judged here: finish_blocking() asks the same
  // directory again and applies its on_unavailable, as find_user would.
  if (!outcome) return {};
  if (outcome->has_value()) return {std::move(outcome), nullptr};
  ++next_;
  return walk();
}

DirectoryChain::UserWalk::Step DirectoryChain::UserWalk::walk() {
  const auto& directories = chain_.directories_;
  for (; next_ < directories.size(); ++next_) {
    Directory& directory = *directories[next_];
    if (auto known = directory.cached_user_by_name(username_)) {
      if (known->has_value()) return {Result<std::optional<User>>(std::move(*known)), nullptr};
      continue;
    }
    if (auto lookup = directory.start_user_lookup(username_)) return {std::nullopt, std::move(lookup)};
    return {};
  }
  return {Result<std::optional<User>>(std::optional<User>()), nullptr};
}

Result<std::optional<User>> DirectoryChain::UserWalk::finish_blocking() {
  auto owner =
      chain_.first_match<User>([&](Directory& d) { return d.find_user_by_name(username_); }, Walk::lookup, next_);
  RETURN_IF_ERROR(owner);
  if (!owner->has_value()) return std::optional<User>();
  return std::optional<User>(std::move((*owner)->first));
}

Result<std::optional<User>> DirectoryChain::find_user_by_email(std::string_view email) {
  auto found = first_match<User>([&](Directory& d) { return d.find_user_by_email(email); }, Walk::lookup);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return std::optional<User>();
  return std::optional<User>(std::move((*found)->first));
}

Result<std::vector<User>> DirectoryChain::find_users(std::string_view query, std::size_t limit) {
  std::vector<User> users;
  std::set<std::string> seen;  // folded usernames already answered
  for (std::size_t index = 0; index < directories_.size(); ++index) {
    Directory& directory = *directories_[index];
    auto matches = directory.search_users(query, limit);
    if (!matches) {
      if (is_down(matches.error()) && skips_when_down(directory)) continue;
      return name_directory(std::move(matches).error(), directory);
    }
    for (auto& user : *matches) {
      std::string key = fold_name(user.username);
      if (seen.contains(key)) continue;
      // A name that an earlier directory owns belongs to that directory even
      // when its entry there does not match the query (rule 1).
      bool shadowed = false;
      for (std::size_t earlier = 0; earlier < index && !shadowed; ++earlier) {
        auto there = directories_[earlier]->find_user_by_name(user.username);
        if (!there) {
          if (is_down(there.error()) && skips_when_down(*directories_[earlier])) continue;
          return name_directory(std::move(there).error(), *directories_[earlier]);
        }
        shadowed = there->has_value();
      }
      seen.insert(std::move(key));
      if (!shadowed) users.push_back(std::move(user));
    }
  }
  std::sort(users.begin(), users.end(),
            [](const User& a, const User& b) { return fold_name(a.username) < fold_name(b.username); });
  if (users.size() > limit) users.resize(limit);
  return users;
}

Result<User> DirectoryChain::authenticate(std::string_view username, std::string_view password) {
  // An LDAP simple bind with an empty password is an anonymous bind that
  // "succeeds"; refuse it before any directory sees it.
  if (password.empty()) return invalid_credentials();

  auto owner = owner_of(username, Walk::lookup);
  RETURN_IF_ERROR(owner);
  if (!owner->has_value()) {
    hasher_->dummy_verify(password);
    return invalid_credentials();
  }
  auto& [user, directory] = **owner;
  // Only the owner is asked; whatever it answers is the answer (rule 3).
  auto outcome = directory->authenticate(user, password);
  if (!outcome) return name_directory(std::move(outcome).error(), *directory);
  switch (*outcome) {
    case AuthOutcome::success: return std::move(user);
    case AuthOutcome::disabled:
      return make_error(ErrorCode::account_disabled, "the account '" + user.username + "' is disabled");
    case AuthOutcome::wrong_password: break;
  }
  return invalid_credentials();
}

Result<std::vector<std::string>> DirectoryChain::user_groups(std::string_view username) {
  auto user = find_user(username);
  RETURN_IF_ERROR(user);
  if (!user->has_value()) {
    return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  }
  return user_groups(**user);
}

Result<std::vector<std::string>> DirectoryChain::user_groups(const User& user) {
  std::vector<Directory*> sources;
  if (options_.membership == config::Membership::aggregate) {
    for (const auto& directory : directories_) sources.push_back(directory.get());
  } else {
    for (const auto& directory : directories_) {
      if (directory->name() == user.directory) sources.push_back(directory.get());
    }
    Directory* internal = internal_directory();
    if (!sources.empty() && sources.front()->permissions() == Permissions::read_only_local_groups &&
        internal != nullptr && internal != sources.front()) {
      sources.push_back(internal);
    }
  }

  std::vector<std::string> names;
  std::set<std::string> seen;
  for (Directory* directory : sources) {
    auto groups = directory->groups_of(user.username);
    if (!groups) {
      if (is_down(groups.error()) && skips_when_down(*directory)) continue;
      return name_directory(std::move(groups).error(), *directory);
    }
    for (auto& name : *groups) {
      if (seen.insert(fold_name(name)).second) names.push_back(std::move(name));
    }
  }
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return fold_name(a) < fold_name(b); });
  return names;
}

Result<std::optional<Group>> DirectoryChain::find_group(std::string_view name) {
  std::optional<Group> result;
  for (const auto& directory : directories_) {
    if (result && options_.membership == config::Membership::first) break;
    auto group = directory->find_group(name);
    if (!group) {
      if (is_down(group.error()) && skips_when_down(*directory)) continue;
      return name_directory(std::move(group).error(), *directory);
    }
    if (!group->has_value()) continue;
    if (!result) {
      result = std::move(**group);
      sort_members(*result);
    } else {
      merge_members(*result, std::move(**group));
    }
  }
  return result;
}

void DirectoryChain::merge_members(Group& group, Group&& later) const {
  if (options_.membership == config::Membership::first) return;
  std::set<std::string> members;  // folded, to de-duplicate
  for (const auto& member : group.members) members.insert(fold_name(member));
  for (auto& member : later.members) {
    if (members.insert(fold_name(member)).second) group.members.push_back(std::move(member));
  }
  sort_members(group);
}

template <typename T, typename List, typename NameOf, typename Merge>
Result<std::vector<T>> DirectoryChain::merged_pages(std::string_view after, std::size_t limit, List list,
                                                    NameOf name_of, Merge merge) {
  if (limit == 0) return std::vector<T>();
  const std::string floor = fold_name(after);
  // A full page may stop short of names its directory has; names up to the
  // smallest last name of a full page are complete in every page, and there
  // are at least `limit` of them (that full page's own).
  std::optional<std::string> complete_up_to;
  std::vector<std::vector<T>> pages;
  for (const auto& directory : directories_) {
    auto page = list(*directory);
    if (!page) {
      if (is_down(page.error()) && skips_when_down(*directory)) continue;
      return name_directory(std::move(page).error(), *directory);
    }
    if (page->size() >= limit) {
      std::string last = fold_name(name_of(page->back()));
      if (!complete_up_to || last < *complete_up_to) complete_up_to = std::move(last);
    }
    pages.push_back(std::move(*page));
  }
  std::map<std::string, T> merged;  // by folded name; pages in chain order
  for (auto& page : pages) {
    for (auto& entry : page) {
      std::string key = fold_name(name_of(entry));
      if (key <= floor || (complete_up_to && key > *complete_up_to)) continue;
      auto [found, first] = merged.try_emplace(std::move(key), std::move(entry));
      if (!first) merge(found->second, std::move(entry));
    }
  }
  std::vector<T> result;
  for (auto& [key, entry] : merged) {
    if (result.size() == limit) break;
    result.push_back(std::move(entry));
  }
  return result;
}

Result<std::vector<User>> DirectoryChain::list_users(std::string_view after, std::size_t limit) {
  return merged_pages<User>(
      after, limit, [&](Directory& d) { return d.list_users(after, limit); },
      [](const User& user) -> const std::string& { return user.username; }, [](User&, User&&) {});  // shadowed (rule 1)
}

Result<std::vector<Group>> DirectoryChain::list_groups(std::string_view after, std::size_t limit) {
  return merged_pages<Group>(
      after, limit,
      [&](Directory& d) -> Result<std::vector<Group>> {
        auto page = d.list_groups(after, limit);
        if (page) {
          for (auto& group : *page) sort_members(group);
        }
        return page;
      },
      [](const Group& group) -> const std::string& { return group.name; },
      [&](Group& group, Group&& later) { merge_members(group, std::move(later)); });
}

Result<void> DirectoryChain::check_email_free(std::string_view email, std::string_view except_username) {
  if (!options_.unique_email) return {};
  for (const auto& directory : directories_) {
    auto found = directory->find_user_by_email(email);
    if (!found) return name_directory(std::move(found).error(), *directory);
    if (found->has_value() && !same_name((*found)->username, except_username)) {
      return make_error(ErrorCode::conflict, "the email address is already in use", "email");
    }
  }
  return {};
}

Result<Directory*> DirectoryChain::user_creation_target(const NewUser& user) {
  // Uniqueness is checked across the whole chain, and a directory that is
  // down cannot be checked: refuse rather than create a shadowed duplicate.
  auto existing = owner_of(user.username, Walk::strict);
  RETURN_IF_ERROR(existing);
  if (existing->has_value()) {
    return make_error(ErrorCode::conflict, "the username '" + user.username + "' is taken", "username");
  }
  RETURN_IF_ERROR(check_email_free(user.email, user.username));
  for (const auto& directory : directories_) {
    if (can_write_users(*directory)) return directory.get();
  }
  return make_error(ErrorCode::read_only, "no directory permits creating users");
}

Result<Directory*> DirectoryChain::group_creation_target() const {
  for (const auto& directory : directories_) {
    if (can_write_groups(*directory)) return directory.get();
  }
  return make_error(ErrorCode::read_only, "no directory permits creating groups");
}

Result<User> DirectoryChain::create_user(const NewUser& user) {
  auto directory = user_creation_target(user);
  RETURN_IF_ERROR(directory);
  auto created = (*directory)->create_user(user);
  if (!created) return name_directory(std::move(created).error(), **directory);
  return created;
}

bool AccountPlan::stored_in_state_database() const {
  if (!user_directory_->stored_in_state_database()) return false;
  return std::all_of(memberships_.begin(), memberships_.end(),
                     [](const Membership& membership) { return membership.directory->stored_in_state_database(); });
}

Result<AccountPlan> DirectoryChain::plan_account(const NewUser& user, const std::vector<std::string>& groups) {
  AccountPlan plan;
  auto user_directory = user_creation_target(user);
  RETURN_IF_ERROR(user_directory);
  plan.user_directory_ = *user_directory;
  for (const auto& name : groups) {
    auto owner = group_owner(name, Walk::lookup);
    RETURN_IF_ERROR(owner);
    // Only a group that no directory has is created, and a directory that
    // is down might have it (as create_group checks).
    if (!owner->has_value()) owner = group_owner(name, Walk::strict);
    RETURN_IF_ERROR(owner);
    if (owner->has_value()) {
      auto& [group, directory] = **owner;
      if (!can_write_groups(*directory)) {
        Error refused = read_only_error(*directory, "group memberships");
        refused.message = "cannot join group '" + group.name + "': " + refused.message;
        return refused;
      }
      plan.memberships_.push_back({group.name, directory, /*create_group=*/false});
      continue;
    }
    auto creator = group_creation_target();
    RETURN_IF_ERROR(creator);
    plan.memberships_.push_back({name, *creator, /*create_group=*/true});
  }
  return plan;
}

Result<User> DirectoryChain::create_planned_user(const AccountPlan& plan, const NewUser& user) {
  Directory& directory = *plan.user_directory_;
  auto created = directory.create_user(user);
  if (!created) return name_directory(std::move(created).error(), directory);
  return created;
}

Result<void> DirectoryChain::join_planned_groups(const AccountPlan& plan, std::string_view username) {
  for (const auto& membership : plan.memberships_) {
    Directory& directory = *membership.directory;
    auto joined = [&]() -> Result<void> {
      if (membership.create_group) {
        auto group = directory.create_group(membership.group, std::nullopt);
        // Another new account may have created it a moment ago: that is fine.
        if (!group && group.error().code != ErrorCode::conflict) return std::move(group).error();
      }
      return directory.add_member(membership.group, username);
    }();
    if (!joined) {
      Error error = name_directory(std::move(joined).error(), directory);
      error.message = "cannot join group '" + membership.group + "': " + error.message;
      return error;
    }
  }
  return {};
}

Result<User> DirectoryChain::update_user(std::string_view username, const UserChanges& changes) {
  auto owner = owner_of(username, Walk::lookup);
  RETURN_IF_ERROR(owner);
  if (!owner->has_value()) return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  auto& [user, directory] = **owner;
  if (!can_write_users(*directory)) return read_only_error(*directory, "users");
  if (changes.email) {
    RETURN_IF_ERROR(check_email_free(*changes.email, user.username));
  }
  auto updated = directory->update_user(user.username, changes);
  if (!updated) return name_directory(std::move(updated).error(), *directory);
  return updated;
}

Result<void> DirectoryChain::delete_user(std::string_view username) {
  auto owner = owner_of(username, Walk::lookup);
  RETURN_IF_ERROR(owner);
  if (!owner->has_value()) return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  auto& [user, directory] = **owner;
  if (!can_write_users(*directory)) return read_only_error(*directory, "users");
  if (auto deleted = directory->delete_user(user.username); !deleted) {
    return name_directory(std::move(deleted).error(), *directory);
  }
  // Internal groups list users of every directory by name; drop the deleted
  // user from them so that a later account of that name inherits nothing.
  Directory* internal = internal_directory();
  if (internal != nullptr && internal != directory && can_write_groups(*internal)) {
    auto groups = internal->groups_of(user.username);
    if (groups) {
      for (const auto& group : *groups) (void)internal->remove_member(group, user.username);
    }
  }
  return {};
}

Result<void> DirectoryChain::write_password_of(
    std::string_view username, const std::function<Result<void>(Directory&, const std::string&)>& write) {
  auto owner = owner_of(username, Walk::lookup);
  RETURN_IF_ERROR(owner);
  if (!owner->has_value()) return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  auto& [user, directory] = **owner;
  if (!can_write_users(*directory)) return read_only_error(*directory, "passwords");
  auto written = write(*directory, user.username);
  if (!written) return name_directory(std::move(written).error(), *directory);
  return {};
}

Result<void> DirectoryChain::set_password(std::string_view username, std::string_view password) {
  return write_password_of(username, [&](Directory& directory, const std::string& stored) {
    return directory.set_password(stored, password);
  });
}

Result<void> DirectoryChain::change_password(std::string_view username, std::string_view old_password,
                                             std::string_view new_password) {
  // The old password is checked first, so that a caller without it learns
  // nothing about the account, not even whether it is read-only.
  auto user = authenticate(username, old_password);
  RETURN_IF_ERROR(user);
  return change_verified_password(user->username, old_password, new_password);
}

Result<void> DirectoryChain::change_verified_password(std::string_view username, std::string_view old_password,
                                                      std::string_view new_password) {
  return write_password_of(username, [&](Directory& directory, const std::string& stored) {
    return directory.change_password(stored, old_password, new_password);
  });
}

Result<Group> DirectoryChain::create_group(std::string_view name, const std::optional<std::string>& description) {
  auto existing = group_owner(name, Walk::strict);
  RETURN_IF_ERROR(existing);
  if (existing->has_value()) {
    return make_error(ErrorCode::conflict, "the group '" + std::string(name) + "' exists", "name");
  }
  auto directory = group_creation_target();
  RETURN_IF_ERROR(directory);
  auto created = (*directory)->create_group(name, description);
  if (!created) return name_directory(std::move(created).error(), **directory);
  return created;
}

Result<void> DirectoryChain::delete_group(std::string_view name) {
  auto owner = writable_group_owner(name, "groups");
  RETURN_IF_ERROR(owner);
  auto& [group, directory] = *owner;
  auto deleted = directory->delete_group(group.name);
  if (!deleted) return name_directory(std::move(deleted).error(), *directory);
  return {};
}

Result<void> DirectoryChain::add_member(std::string_view group_name, std::string_view username) {
  auto user = owner_of(username, Walk::lookup);
  RETURN_IF_ERROR(user);
  if (!user->has_value()) return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  auto owner = writable_group_owner(group_name, "group memberships");
  RETURN_IF_ERROR(owner);
  auto& [group, directory] = *owner;
  auto added = directory->add_member(group.name, (*user)->first.username);
  if (!added) return name_directory(std::move(added).error(), *directory);
  return {};
}

Result<void> DirectoryChain::remove_member(std::string_view group_name, std::string_view username) {
  // The user need not exist any more: removing a stale member must work.
  auto owner = writable_group_owner(group_name, "group memberships");
  RETURN_IF_ERROR(owner);
  auto& [group, directory] = *owner;
  auto removed = directory->remove_member(group.name, username);
  if (!removed) return name_directory(std::move(removed).error(), *directory);
  return {};
}

}  // namespace dirproxy
