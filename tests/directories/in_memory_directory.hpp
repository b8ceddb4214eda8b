// A Directory held in memory, for unit tests of the chain's logic. It can be
// switched "down", and counts the calls that tests assert on (for example that
// a wrong password never reaches a later directory).
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>

#include "core/names.hpp"
#include "directories/directory.hpp"

namespace dirproxy::testing {

// A lookup whose answer is known when it starts.
class AnsweredLookup final : public PendingUserLookup {
 public:
  explicit AnsweredLookup(Result<std::optional<User>> answer) : answer_(std::move(answer)) {}
  int descriptor() const override { return -1; }
  std::chrono::steady_clock::time_point deadline() const override { return std::chrono::steady_clock::now(); }
  std::optional<Result<std::optional<User>>> poll() override { return answer_; }

 private:
  Result<std::optional<User>> answer_;
};

class InMemoryDirectory final : public Directory {
 public:
  InMemoryDirectory(std::string name, DirectoryType type, Permissions permissions,
                    OnUnavailable on_unavailable = OnUnavailable::fail)
      : name_(std::move(name)), type_(type), permissions_(permissions), on_unavailable_(on_unavailable) {}

  // Test set-up.
  void put_user(User user, std::string password) {
    user.directory = name_;
    const std::string key = fold_name(user.username);
    users_[key] = {std::move(user), std::move(password)};
  }
  void put_group(std::string name, std::vector<std::string> members) {
    const std::string key = fold_name(name);
    groups_[key] = Group{std::move(name), std::nullopt, name_, std::move(members)};
  }
  void set_down(bool down) { down_ = down; }
  // What cached_user_by_name knows without a lookup: every name when on
  // (the users put, and "missing" for any other name), nothing when off.
  void set_answers_from_memory(bool on) { answers_from_memory_ = on; }
  // Whether start_user_lookup hands out a PendingUserLookup (which answers
  // at its first poll what find_user_by_name would) or nullptr.
  void set_looks_up_without_blocking(bool on) { looks_up_without_blocking_ = on; }
  // create_user stores the user, then answers directory_unavailable: a
  // server that applied an add and timed out before it answered.
  void set_create_times_out_after_adding(bool on) { create_times_out_ = on; }

  int lookups = 0;  // find_user_* calls, also those of started lookups
  int started_lookups = 0;
  int authentications = 0;
  int writes = 0;

  const std::string& name() const override { return name_; }
  DirectoryType type() const override { return type_; }
  Permissions permissions() const override { return permissions_; }
  OnUnavailable on_unavailable() const override { return on_unavailable_; }

  Result<std::optional<User>> find_user_by_name(std::string_view username) override {
    ++lookups;
    if (down_) return unavailable();
    auto it = users_.find(fold_name(username));
    if (it == users_.end()) return std::optional<User>();
    return std::optional<User>(it->second.user);
  }

  std::optional<std::optional<User>> cached_user_by_name(std::string_view username) override {
    if (!answers_from_memory_) return std::nullopt;
    auto it = users_.find(fold_name(username));
    if (it == users_.end()) return std::optional<User>();
    return std::optional<User>(it->second.user);
  }

  PendingUserLookupPtr start_user_lookup(std::string_view username) override {
    if (!looks_up_without_blocking_) return nullptr;
    ++started_lookups;
    return std::make_unique<AnsweredLookup>(find_user_by_name(username));
  }

  Result<std::optional<User>> find_user_by_email(std::string_view email) override {
    ++lookups;
    if (down_) return unavailable();
    for (const auto& [key, entry] : users_) {
      if (entry.user.email && same_name(*entry.user.email, email)) return std::optional<User>(entry.user);
    }
    return std::optional<User>();
  }

  Result<AuthOutcome> authenticate(const User& user, std::string_view password) override {
    ++authentications;
    if (down_) return unavailable();
    auto it = users_.find(fold_name(user.username));
    if (it == users_.end() || it->second.password != password) return AuthOutcome::wrong_password;
    return it->second.user.active ? AuthOutcome::success : AuthOutcome::disabled;
  }

  Result<std::vector<User>> search_users(std::string_view query, std::size_t limit) override {
    ++lookups;
    if (down_) return unavailable();
    std::vector<User> found;
    for (const auto& [key, entry] : users_) {
      if (found.size() < limit && key.find(fold_name(query)) != std::string::npos) {
        found.push_back(entry.user);
      }
    }
    return found;
  }

  Result<std::vector<User>> list_users(std::string_view after, std::size_t limit) override {
    ++lookups;
    if (down_) return unavailable();
    std::vector<User> page;
    for (auto it = users_.upper_bound(fold_name(after)); it != users_.end() && page.size() < limit; ++it) {
      page.push_back(it->second.user);
    }
    return page;
  }

  Result<std::vector<Group>> list_groups(std::string_view after, std::size_t limit) override {
    ++lookups;
    if (down_) return unavailable();
    std::vector<Group> page;
    for (auto it = groups_.upper_bound(fold_name(after)); it != groups_.end() && page.size() < limit; ++it) {
      page.push_back(it->second);
    }
    return page;
  }

  Result<std::vector<std::string>> groups_of(std::string_view username) override {
    ++lookups;
    if (down_) return unavailable();
    std::vector<std::string> names;
    for (const auto& [key, group] : groups_) {
      for (const auto& member : group.members) {
        if (same_name(member, username)) names.push_back(group.name);
      }
    }
    return names;
  }

  Result<std::optional<Group>> find_group(std::string_view name) override {
    ++lookups;
    if (down_) return unavailable();
    auto it = groups_.find(fold_name(name));
    if (it == groups_.end()) return std::optional<Group>();
    return std::optional<Group>(it->second);
  }

  Result<User> create_user(const NewUser& user) override {
    ++writes;
    if (down_) return unavailable();
    User created{user.username, user.email, user.display_name, user.first_name, user.last_name, user.active, name_};
    put_user(created, user.password.value_or(""));
    if (create_times_out_) return unavailable();
    return created;
  }

  Result<User> update_user(std::string_view username, const UserChanges& changes) override {
    ++writes;
    if (down_) return unavailable();
    auto it = users_.find(fold_name(username));
    if (it == users_.end()) return fail(ErrorCode::not_found, "no user");
    User& user = it->second.user;
    if (changes.email) user.email = changes.email;
    if (changes.display_name) user.display_name = changes.display_name;
    if (changes.active) user.active = *changes.active;
    return user;
  }

  Result<void> delete_user(std::string_view username) override {
    ++writes;
    if (down_) return unavailable();
    users_.erase(fold_name(username));
    return {};
  }

  Result<void> set_password(std::string_view username, std::string_view password) override {
    ++writes;
    if (down_) return unavailable();
    auto it = users_.find(fold_name(username));
    if (it == users_.end()) return fail(ErrorCode::not_found, "no user");
    it->second.password = std::string(password);
    return {};
  }

  Result<Group> create_group(std::string_view name, const std::optional<std::string>& description) override {
    ++writes;
    if (down_) return unavailable();
    Group group{std::string(name), description, name_, {}};
    groups_[fold_name(name)] = group;
    return group;
  }

  Result<void> delete_group(std::string_view name) override {
    ++writes;
    if (down_) return unavailable();
    groups_.erase(fold_name(name));
    return {};
  }

  Result<void> add_member(std::string_view group, std::string_view username) override {
    ++writes;
    if (down_) return unavailable();
    auto it = groups_.find(fold_name(group));
    if (it == groups_.end()) return fail(ErrorCode::not_found, "no group");
    auto& members = it->second.members;
    // Adding a member already present succeeds and changes nothing.
    if (std::none_of(members.begin(), members.end(), [&](const std::string& m) { return same_name(m, username); })) {
      members.emplace_back(username);
    }
    return {};
  }

  Result<void> remove_member(std::string_view group, std::string_view username) override {
    ++writes;
    if (down_) return unavailable();
    auto it = groups_.find(fold_name(group));
    if (it == groups_.end()) return fail(ErrorCode::not_found, "no group");
    std::erase_if(it->second.members, [&](const std::string& m) { return same_name(m, username); });
    return {};
  }

  DirectoryStatus status() override { return {!down_, down_ ? "down for the test" : "", users_.size()}; }

  std::optional<std::string> password_of(std::string_view username) const {
    auto it = users_.find(fold_name(username));
    if (it == users_.end()) return std::nullopt;
    return it->second.password;
  }

 private:
  struct Entry {
    User user;
    std::string password;
  };

  Error unavailable() const {
    Error error = make_error(ErrorCode::directory_unavailable, "directory '" + name_ + "' is down");
    error.directory = name_;
    return error;
  }

  std::string name_;
  DirectoryType type_;
  Permissions permissions_;
  OnUnavailable on_unavailable_;
  bool down_ = false;
  bool answers_from_memory_ = false;
  bool looks_up_without_blocking_ = false;
  bool create_times_out_ = false;
  std::map<std::string, Entry> users_;
  std::map<std::string, Group> groups_;
};

}  // namespace dirproxy::testing
