// Users and groups as directory entries: with the stable identities the LDAP
// front end shows (entryUUID, uidNumber, gidNumber), their groups, and
// enumeration in pages. The identities are the directory's own when it has
// them (an LDAP directory's entryUUID/objectGUID, uidNumber, gidNumber);
// otherwise dirproxy allocates them on first sight, stores them in the state
// database, and never changes or reuses them (storage/identity_store.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "directories/directory.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"

namespace dirproxy {

struct StableIdentity {
  std::string uuid;          // RFC 4122 text form, lower case
  std::uint32_t number = 0;  // uidNumber of a user, gidNumber of a group
};

struct UserEntry {
  User user;
  StableIdentity identity;
  std::uint32_t gid_number = 0;     // the directory's own, else the user's uidNumber
  std::vector<std::string> groups;  // after the chain's membership rule, sorted
  std::optional<std::int64_t> created_at;   // Unix seconds, where known
  std::optional<std::int64_t> modified_at;  // Unix seconds, where known
};

struct GroupEntry {
  Group group;  // members after the chain's membership rule
  StableIdentity identity;
};

// Exactly one key (bad_request otherwise); nullopt when no user has it.
// username and email are looked up through the chain as get_user does;
// uid_number and uuid through the identity store.
//
// A caller acting for an application with access_groups (Caller::
// application) sees only the users it admits: the others' entries do not
// exist for it (nullopt, left out of lists), and groups list only the
// members it admits. All groups are seen.
struct GetUserEntryRequest {
  static constexpr OperationPolicy policy{.name = "get_user_entry"};
  using Response = std::optional<UserEntry>;
  std::optional<std::string> username = std::nullopt;
  std::optional<std::string> email = std::nullopt;
  std::optional<std::uint32_t> uid_number = std::nullopt;
  std::optional<std::string> uuid = std::nullopt;
  // false: the caller does not need the user's groups (UserEntry::groups
  // stays empty), which spares asking every directory for them.
  bool groups = true;
};
Result<std::optional<UserEntry>> run(const OperationContext& op, const GetUserEntryRequest& request);

// The two halves of the entry of `user`, as a lookup by username found it
// (Service::call finds the user on its event loop): from memory alone, when
// the identity store remembers the user's identity, no groups are wanted
// and the caller's application admits everyone (nullopt otherwise, `user`
// untouched); and what may block (nullopt: the caller's application does
// not admit the user).
std::optional<UserEntry> user_entry_from_memory(const OperationContext& op, const GetUserEntryRequest& request,
                                                User& user);
Result<std::optional<UserEntry>> user_entry(const OperationContext& op, const GetUserEntryRequest& request,
                                            User user);

// The chain's users (each once, from its owner) whose folded username sorts
// after `after` (empty: from the first), in that order, at most `limit`.
struct ListUserEntriesRequest {
  static constexpr OperationPolicy policy{.name = "list_user_entries"};
  using Response = std::vector<UserEntry>;
  std::string after = {};
  std::size_t limit = 100;
};
Result<std::vector<UserEntry>> run(const OperationContext& op, const ListUserEntriesRequest& request);

// Exactly one key (bad_request otherwise); nullopt when no group has it.
struct GetGroupEntryRequest {
  static constexpr OperationPolicy policy{.name = "get_group_entry"};
  using Response = std::optional<GroupEntry>;
  std::optional<std::string> name = std::nullopt;
  std::optional<std::uint32_t> gid_number = std::nullopt;
  std::optional<std::string> uuid = std::nullopt;
};
Result<std::optional<GroupEntry>> run(const OperationContext& op, const GetGroupEntryRequest& request);

// The chain's groups (merged by name as the membership rule says) whose
// folded name sorts after `after`, in that order, at most `limit`.
struct ListGroupEntriesRequest {
  static constexpr OperationPolicy policy{.name = "list_group_entries"};
  using Response = std::vector<GroupEntry>;
  std::string after = {};
  std::size_t limit = 100;
};
Result<std::vector<GroupEntry>> run(const OperationContext& op, const ListGroupEntriesRequest& request);

}  // namespace dirproxy
