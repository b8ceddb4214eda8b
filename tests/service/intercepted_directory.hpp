// A Directory that forwards every call to another and lets a test step in
// before each one: to fail a write with an error, to "crash" there (throw,
// as if the process died at that point), or to block a lookup until the
// test lets it go on.
#pragma once

#include <functional>
#include <string_view>

#include "directories/directory.hpp"

namespace dirproxy::testing {

class InterceptedDirectory final : public Directory {
 public:
  // Called before each forwarded call with the method's name and its first
  // argument (the username, email, group or query); an error it returns is
  // answered instead of forwarding, and what it throws propagates.
  using Hook = std::function<Result<void>(std::string_view method, std::string_view argument)>;

  InterceptedDirectory(DirectoryPtr inner, Hook hook) : inner_(std::move(inner)), hook_(std::move(hook)) {}

  const std::string& name() const override { return inner_->name(); }
  DirectoryType type() const override { return inner_->type(); }
  Permissions permissions() const override { return inner_->permissions(); }
  OnUnavailable on_unavailable() const override { return inner_->on_unavailable(); }
  bool stored_in_state_database() const override { return inner_->stored_in_state_database(); }

  Result<std::optional<User>> find_user_by_name(std::string_view username) override {
    if (auto go_on = hook_("find_user_by_name", username); !go_on) return std::move(go_on).error();
    return inner_->find_user_by_name(username);
  }
  Result<std::optional<User>> find_user_by_email(std::string_view email) override {
    if (auto go_on = hook_("find_user_by_email", email); !go_on) return std::move(go_on).error();
    return inner_->find_user_by_email(email);
  }
  Result<AuthOutcome> authenticate(const User& user, std::string_view password) override {
    if (auto go_on = hook_("authenticate", user.username); !go_on) return std::move(go_on).error();
    return inner_->authenticate(user, password);
  }
  Result<std::vector<User>> search_users(std::string_view query, std::size_t limit) override {
    if (auto go_on = hook_("search_users", query); !go_on) return std::move(go_on).error();
    return inner_->search_users(query, limit);
  }
  Result<std::vector<User>> list_users(std::string_view after, std::size_t limit) override {
    if (auto go_on = hook_("list_users", after); !go_on) return std::move(go_on).error();
    return inner_->list_users(after, limit);
  }
  Result<std::vector<Group>> list_groups(std::string_view after, std::size_t limit) override {
    if (auto go_on = hook_("list_groups", after); !go_on) return std::move(go_on).error();
    return inner_->list_groups(after, limit);
  }
  Result<std::vector<std::string>> groups_of(std::string_view username) override {
    if (auto go_on = hook_("groups_of", username); !go_on) return std::move(go_on).error();
    return inner_->groups_of(username);
  }
  Result<std::optional<Group>> find_group(std::string_view name) override {
    if (auto go_on = hook_("find_group", name); !go_on) return std::move(go_on).error();
    return inner_->find_group(name);
  }
  Result<User> create_user(const NewUser& user) override {
    if (auto go_on = hook_("create_user", user.username); !go_on) return std::move(go_on).error();
    return inner_->create_user(user);
  }
  Result<User> update_user(std::string_view username, const UserChanges& changes) override {
    if (auto go_on = hook_("update_user", username); !go_on) return std::move(go_on).error();
    return inner_->update_user(username, changes);
  }
  Result<void> delete_user(std::string_view username) override {
    if (auto go_on = hook_("delete_user", username); !go_on) return go_on;
    return inner_->delete_user(username);
  }
  Result<void> set_password(std::string_view username, std::string_view password) override {
    if (auto go_on = hook_("set_password", username); !go_on) return go_on;
    return inner_->set_password(username, password);
  }
  Result<Group> create_group(std::string_view name, const std::optional<std::string>& description) override {
    if (auto go_on = hook_("create_group", name); !go_on) return std::move(go_on).error();
    return inner_->create_group(name, description);
  }
  Result<void> delete_group(std::string_view name) override {
    if (auto go_on = hook_("delete_group", name); !go_on) return go_on;
    return inner_->delete_group(name);
  }
  Result<void> add_member(std::string_view group, std::string_view username) override {
    if (auto go_on = hook_("add_member", group); !go_on) return go_on;
    return inner_->add_member(group, username);
  }
  Result<void> remove_member(std::string_view group, std::string_view username) override {
    if (auto go_on = hook_("remove_member", group); !go_on) return go_on;
    return inner_->remove_member(group, username);
  }
  DirectoryStatus status() override { return inner_->status(); }

 private:
  DirectoryPtr inner_;
  Hook hook_;
};

}  // namespace dirproxy::testing
