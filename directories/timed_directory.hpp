// Timed<D>: the directory D with every call it answers timed and counted
// (DirectoryMetrics), for a directory whose every call is a request to its
// store: the internal directory, where each one is SQLite work. An LDAP
// directory answers many calls from its cache and times its server requests
// itself, so it is never Timed.
//
// A subclass rather than a wrapper around a DirectoryPtr: whatever D
// overrides beyond these calls, and whatever the Directory interface grows
// later, stays D's own instead of falling back to the interface's default.
#pragma once

#include <utility>

#include "core/metrics_registry.hpp"
#include "directories/directory.hpp"
#include "directories/directory_metrics.hpp"

namespace dirproxy {

template <typename D>
class Timed final : public D {
  using Call = DirectoryMetrics::Call;

 public:
  // D built from `args`, timed in `registry` under its name.
  template <typename... Args>
  explicit Timed(metrics::Registry& registry, Args&&... args)
      : D(std::forward<Args>(args)...), metrics_(&registry, D::name()) {}

  Result<std::optional<User>> find_user_by_name(std::string_view username) override {
    return metrics_.timed(Call::lookup, [&] { return D::find_user_by_name(username); });
  }
  Result<std::optional<User>> find_user_by_email(std::string_view email) override {
    return metrics_.timed(Call::lookup, [&] { return D::find_user_by_email(email); });
  }
  Result<AuthOutcome> authenticate(const User& user, std::string_view password) override {
    return metrics_.timed(Call::authenticate, [&] { return D::authenticate(user, password); });
  }
  Result<std::vector<User>> search_users(std::string_view query, std::size_t limit) override {
    return metrics_.timed(Call::lookup, [&] { return D::search_users(query, limit); });
  }
  Result<std::vector<User>> list_users(std::string_view after, std::size_t limit) override {
    return metrics_.timed(Call::lookup, [&] { return D::list_users(after, limit); });
  }
  Result<std::vector<Group>> list_groups(std::string_view after, std::size_t limit) override {
    return metrics_.timed(Call::lookup, [&] { return D::list_groups(after, limit); });
  }
  Result<std::vector<std::string>> groups_of(std::string_view username) override {
    return metrics_.timed(Call::lookup, [&] { return D::groups_of(username); });
  }
  Result<std::optional<Group>> find_group(std::string_view name) override {
    return metrics_.timed(Call::lookup, [&] { return D::find_group(name); });
  }

  Result<User> create_user(const NewUser& user) override {
    return metrics_.timed(Call::write, [&] { return D::create_user(user); });
  }
  Result<User> update_user(std::string_view username, const UserChanges& changes) override {
    return metrics_.timed(Call::write, [&] { return D::update_user(username, changes); });
  }
  Result<void> delete_user(std::string_view username) override {
    return metrics_.timed(Call::write, [&] { return D::delete_user(username); });
  }
  Result<void> set_password(std::string_view username, std::string_view password) override {
    return metrics_.timed(Call::write, [&] { return D::set_password(username, password); });
  }
  Result<Group> create_group(std::string_view name, const std::optional<std::string>& description) override {
    return metrics_.timed(Call::write, [&] { return D::create_group(name, description); });
  }
  Result<void> delete_group(std::string_view name) override {
    return metrics_.timed(Call::write, [&] { return D::delete_group(name); });
  }
  Result<void> add_member(std::string_view group, std::string_view username) override {
    return metrics_.timed(Call::write, [&] { return D::add_member(group, username); });
  }
  Result<void> remove_member(std::string_view group, std::string_view username) override {
    return metrics_.timed(Call::write, [&] { return D::remove_member(group, username); });
  }

 private:
  DirectoryMetrics metrics_;
};

}  // namespace dirproxy
