// A directory served by an LDAP server (OpenLDAP, Active Directory, 389-ds)
// through libldap: users and groups are found by the configured bases,
// scopes, object classes, extra filter and attribute mapping; passwords are
// verified by a simple bind as the user's DN on a connection of its own;
// writes (permissions read_write) add, modify and delete entries and set
// passwords with the Password Modify extended operation, or on Active
// Directory (schema active_directory) as unicodePwd over TLS
// (active_directory.hpp). AD's ranged multi-valued attributes are read to the
// end, and with nested_groups a user's AD groups are one in-chain search.
//
// Every value placed in a filter is escaped (RFC 4515) and every DN is built
// by libldap (RFC 4514). Lookups are cached per directory (cache.*); writes
// made through dirproxy clear the cache; passwords and bind results are never
// cached. All methods block (network I/O) and are called from the daemon's
// worker pool only.
#pragma once

#include <ldap.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/metrics_registry.hpp"
#include "directories/directory.hpp"
#include "directories/directory_metrics.hpp"
#include "directories/ldap/ldap_cache.hpp"
#include "directories/ldap/ldap_connection_pool.hpp"

namespace dirproxy {

// One entry as read from the server: its DN and attribute values, attribute
// names lower-cased.
struct LdapEntry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> attributes;
  // Attributes (lower-cased) of which the server sent only a first range of
  // values ("member;range=0-1499", Active Directory): the index of the first
  // value still to ask for. Empty once the search has read them all.
  std::map<std::string, std::size_t> ranged;

  const std::vector<std::string>* values(std::string_view attribute) const;
  std::optional<std::string> first(std::string_view attribute) const;
};

class LdapDirectory final : public Directory {
 public:
  // Checks what the configuration loader cannot (the extra filter's syntax,
  // attribute names) and builds the directory; bad_request naming the
  // directory and the key otherwise. Connects lazily: a server that is down
  // now does not prevent start-up. Its requests to the server, cache and
  // pool are counted in `metrics` (none when null).
  static Result<std::shared_ptr<LdapDirectory>> create(const config::DirectoryConfig& config,
                                                       metrics::Registry* metrics = nullptr);

  explicit LdapDirectory(const config::DirectoryConfig& config, metrics::Registry* metrics = nullptr);
  ~LdapDirectory() override;

  const std::string& name() const override { return name_; }
  DirectoryType type() const override { return DirectoryType::ldap; }
  Permissions permissions() const override { return permissions_; }
  OnUnavailable on_unavailable() const override { return on_unavailable_; }

  Result<std::optional<User>> find_user_by_name(std::string_view username) override;
  // From the cache only (cache.ttl, cache.negative_ttl).
  std::optional<std::optional<User>> cached_user_by_name(std::string_view username) override;
  // The username search of find_user_by_name sent on an idle pooled
  // connection (libldap's asynchronous search); its answer is read by
  // PendingUserLookup::poll. nullptr when no connection is idle.
  PendingUserLookupPtr start_user_lookup(std::string_view username) override;
  Result<std::optional<User>> find_user_by_email(std::string_view email) override;
  Result<AuthOutcome> authenticate(const User& user, std::string_view password) override;
  Result<std::vector<User>> search_users(std::string_view query, std::size_t limit) override;
  // Sorted here, not by the server (see ldap_directory.cpp, "Enumeration").
  Result<std::vector<User>> list_users(std::string_view after, std::size_t limit) override;
  Result<std::vector<Group>> list_groups(std::string_view after, std::size_t limit) override;

  Result<std::vector<std::string>> groups_of(std::string_view username) override;
  Result<std::optional<Group>> find_group(std::string_view name) override;

  Result<User> create_user(const NewUser& user) override;
  Result<User> update_user(std::string_view username, const UserChanges& changes) override;
  Result<void> delete_user(std::string_view username) override;
  // On Active Directory: unicodePwd replaced (an administrator's reset).
  Result<void> set_password(std::string_view username, std::string_view password) override;
  // On Active Directory: one Modify deleting the old unicodePwd value and
  // adding the new one, so that AD checks the old password and its history
  // and minimum-age rules; elsewhere set_password.
  Result<void> change_password(std::string_view username, std::string_view old_password,
                               std::string_view new_password) override;
  Result<Group> create_group(std::string_view name, const std::optional<std::string>& description) override;
  Result<void> delete_group(std::string_view name) override;
  Result<void> add_member(std::string_view group, std::string_view username) override;
  Result<void> remove_member(std::string_view group, std::string_view username) override;

  DirectoryStatus status() override;
  // Up unless every server failed at its last attempt; the pool's use.
  DirectoryHealth health() const override;

 private:
  // A user together with the DN it was found at (binds and DN members need it).
  struct UserEntry {
    User user;
    std::string dn;
    std::vector<std::string> member_of;  // user_membership_attribute values
  };
  struct SearchRequest {
    std::string base;
    int scope = 0;
    std::string filter;
    std::vector<std::string> attributes;
    std::size_t size_limit = 0;  // 0 = no limit (paged when page_size > 0)
  };

  class UserLookup;  // start_user_lookup's PendingUserLookup

  // A search, timed as a lookup (DirectoryMetrics).
  Result<std::vector<LdapEntry>> search(const SearchRequest& request);
  Result<std::vector<LdapEntry>> untimed_search(const SearchRequest& request);
  // The entries of one search result message that ended with `rc`, or the
  // error that `rc` means (the lease discarded when the connection is gone).
  Result<std::vector<LdapEntry>> search_result(LdapConnectionPool::Lease& lease, int rc, LDAPMessage* result,
                                               const std::string& base) const;
  // Reads the rest of each ranged attribute of `entries` (LdapEntry::ranged)
  // on `lease`, range by range (MS-ADTS 3.1.1.3.1.3.3).
  Result<void> complete_ranged_values(LdapConnectionPool::Lease& lease, std::vector<LdapEntry>& entries) const;
  SearchRequest username_search(std::string_view username) const;
  // The user among a username search's entries, remembered in the cache;
  // an error when several entries have the name.
  Result<std::optional<UserEntry>> settle_username_search(std::string_view username,
                                                          const std::vector<LdapEntry>& entries);
  Result<std::optional<LdapEntry>> read_entry(const std::string& dn, const std::vector<std::string>& attributes);
  Result<std::optional<UserEntry>> find_user_entry(const std::string& attribute, std::string_view value);
  Result<std::optional<UserEntry>> user_entry_by_name(std::string_view username);
  Result<std::optional<LdapEntry>> group_entry(std::string_view name);
  struct Change {
    int operation;  // LDAP_MOD_ADD / LDAP_MOD_DELETE / LDAP_MOD_REPLACE
    std::string attribute;
    std::vector<std::string> values;
  };
  // Applies the changes to `dn` in one modify operation (atomic at the server).
  // `payload` says what the changes carry: a unicodePwd write is refused
  // unless the connection is encrypted, and its refusals are read as AD's
  // password-policy answers (active_directory::password_refusal), pointing
  // at request field `password_field`.
  enum class Payload { entry, ad_password };
  Result<void> modify(const std::string& dn, const std::vector<Change>& changes, Payload payload = Payload::entry,
                      std::string_view password_field = "password");
  Result<void> modify(const std::string& dn, int operation, const std::string& attribute,
                      const std::vector<std::string>& values);
  // A group of this directory and the member value (a DN or a username, per
  // member_format) that stands for `username` in it; nullopt when the
  // members are DNs and the user has none here. read_only / not_found errors.
  struct Membership {
    LdapEntry group;
    std::string member;
  };
  Result<std::optional<Membership>> membership(std::string_view group, std::string_view username);
  // Takes `member` (a DN or a username, per member_format) out of `group`,
  // keeping a groupOfNames valid when it was the last member.
  Result<void> remove_from_group(const LdapEntry& group, const std::string& member);
  Result<void> write_password(const std::string& dn, std::string_view password);
  // unicodePwd on Active Directory: replaced when `old_password` is
  // nullopt, else the old value deleted and the new one added.
  Result<void> write_ad_password(const std::string& dn, std::string_view password,
                                 std::optional<std::string_view> old_password);
  // After an AD account was added disabled: its password, then enabled when
  // `active`. The entry is deleted again when either step fails.
  Result<void> finish_ad_account(const std::string& dn, const NewUser& user);
  bool is_active_directory() const { return settings_.schema == config::LdapSchema::active_directory; }
  // The DNs of the groups under groups.base that match `condition`.
  Result<std::vector<std::string>> group_dns_matching(const std::string& condition);
  // The DNs of the user's groups found level by level: the direct ones
  // (user_membership_attribute, or a search by member), then with
  // nested_groups the groups holding those, up to nested_max_depth.
  Result<std::vector<std::string>> walk_groups_of(const UserEntry& user);
  Result<void> check_writable() const;
  // The DN of a user of this directory, which must be writable; read_only or
  // not_found otherwise.
  Result<std::string> writable_user_dn(std::string_view username);
  Error refused_access(LDAP* ld, int rc) const;
  std::optional<Error> connection_lost(LdapConnectionPool::Lease& lease, int rc) const;
  // Deletes the entry at `dn`; not_found naming `what` when it is gone.
  Result<void> delete_entry(const std::string& dn, const std::string& what);
  Result<std::string> group_name_of(const std::string& group_dn);
  Result<std::vector<std::string>> member_usernames(const LdapEntry& group, unsigned depth,
                                                    std::set<std::string>& visited);
  UserEntry to_user(const LdapEntry& entry) const;
  std::vector<std::string> user_attributes() const;
  std::string user_filter(const std::string& condition) const;
  std::string group_filter(const std::string& condition) const;
  std::string users_base() const;
  std::string groups_base() const;
  Error unavailable(std::string detail) const;
  void forget_everything();

  const std::string name_;
  const Permissions permissions_;
  const OnUnavailable on_unavailable_;
  const config::LdapSettings settings_;
  DirectoryMetrics metrics_;
  std::unique_ptr<LdapConnectionPool> pool_;
  TtlCache<UserEntry> users_by_name_;
  TtlCache<UserEntry> users_by_email_;
  TtlCache<std::vector<std::string>> groups_of_;
  TtlCache<Group> groups_;
};

}  // namespace dirproxy
