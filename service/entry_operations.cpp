// Users and groups as entries (entry_requests.hpp): the chain's user or
// group, its stable identity from the identity store (the directory's own
// uuid and number where it has them, recorded with source directory), and
// a user's groups after the membership rule (DirectoryChain::user_groups).
// A lookup by number or uuid goes from the identity to (directory, name)
// and back through the chain, and answers only when that name still
// belongs to that directory and still has that identity.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/uuid.hpp"
#include "service/entry_requests.hpp"

namespace dirproxy {
namespace {

Result<IdentityStore*> identity_store(const OperationContext& op) {
  if (!op.runtime.identities) return fail(ErrorCode::internal_error, "no identity store in this runtime");
  return op.runtime.identities.get();
}

// bad_request unless exactly one of `keys` is given.
Result<void> check_one_key(std::initializer_list<bool> given, std::string_view names) {
  int count = 0;
  for (bool key : given) count += key ? 1 : 0;
  if (count != 1) return fail(ErrorCode::bad_request, "give exactly one of " + std::string(names));
  return {};
}

Result<UserEntry> user_entry(const OperationContext& op, IdentityStore& identities, User user) {
  auto identity = identities.identity_of(IdentityKind::user, user.directory, user.username,
                                         OwnIdentity{.uuid = user.uuid, .number = user.uid_number});
  RETURN_IF_ERROR(identity);
  auto groups = op.runtime.chain->user_groups(user);
  RETURN_IF_ERROR(groups);
  UserEntry entry;
  entry.identity = StableIdentity{.uuid = identity->uuid, .number = identity->number};
  // Without a gidNumber of its own, a user's primary group is its own
  // (a user private group with the number of the user).
  entry.gid_number = user.gid_number.value_or(identity->number);
  entry.groups = std::move(*groups);
  entry.created_at = user.created_at;
  entry.modified_at = user.modified_at;
  entry.user = std::move(user);
  return entry;
}

Result<GroupEntry> group_entry(IdentityStore& identities, Group group) {
  auto identity = identities.identity_of(IdentityKind::group, group.directory, group.name,
                                         OwnIdentity{.uuid = group.uuid, .number = group.gid_number});
  RETURN_IF_ERROR(identity);
  return GroupEntry{std::move(group), StableIdentity{.uuid = identity->uuid, .number = identity->number}};
}

// The identity a lookup by number or uuid names, nullopt when none does.
Result<std::optional<StoredIdentity>> identity_by_key(IdentityStore& identities, IdentityKind kind,
                                                      const std::optional<std::uint32_t>& number,
                                                      const std::optional<std::string>& uuid) {
  if (number) return identities.find_by_number(kind, *number);
  return identities.find_by_uuid(kind, *uuid);
}

// Whether `identity` is still what a lookup by `number` or `uuid` asked for:
// a directory may have given its entry a number or uuid of its own since.
bool answers(const StableIdentity& identity, const std::optional<std::uint32_t>& number,
             const std::optional<std::string>& uuid) {
  if (number) return identity.number == *number;
  return uuid && normalized_uuid(*uuid) == identity.uuid;
}

}  // namespace

Result<std::optional<UserEntry>> run(const OperationContext& op, const GetUserEntryRequest& request) {
  RETURN_IF_ERROR(check_one_key({request.username.has_value(), request.email.has_value(),
                                 request.uid_number.has_value(), request.uuid.has_value()},
                                "'username', 'email', 'uid_number' and 'uuid'"));
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  DirectoryChain& chain = *op.runtime.chain;

  Result<std::optional<User>> user = std::optional<User>();
  if (request.username) {
    user = chain.find_user(*request.username);
  } else if (request.email) {
    user = chain.find_user_by_email(*request.email);
  } else {
    auto identity = identity_by_key(**identities, IdentityKind::user, request.uid_number, request.uuid);
    RETURN_IF_ERROR(identity);
    if (!identity->has_value()) return std::optional<UserEntry>();
    user = chain.find_user((*identity)->name);
    // The name may belong to another directory now (shadowed since, or
    // deleted and created elsewhere): that is someone else.
    if (user && user->has_value() && (**user).directory != (*identity)->directory) user = std::optional<User>();
  }
  RETURN_IF_ERROR(user);
  if (!user->has_value()) return std::optional<UserEntry>();

  auto entry = user_entry(op, **identities, std::move(**user));
  RETURN_IF_ERROR(entry);
  if ((request.uid_number || request.uuid) && !answers(entry->identity, request.uid_number, request.uuid)) {
    return std::optional<UserEntry>();
  }
  return std::optional<UserEntry>(std::move(*entry));
}

Result<std::vector<UserEntry>> run(const OperationContext& op, const ListUserEntriesRequest& request) {
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  auto users = op.runtime.chain->list_users(request.after, request.limit);
  RETURN_IF_ERROR(users);
  std::vector<UserEntry> entries;
  entries.reserve(users->size());
  for (auto& user : *users) {
    auto entry = user_entry(op, **identities, std::move(user));
    RETURN_IF_ERROR(entry);
    entries.push_back(std::move(*entry));
  }
  return entries;
}

Result<std::optional<GroupEntry>> run(const OperationContext& op, const GetGroupEntryRequest& request) {
  RETURN_IF_ERROR(check_one_key({request.name.has_value(), request.gid_number.has_value(), request.uuid.has_value()},
                                "'name', 'gid_number' and 'uuid'"));
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  DirectoryChain& chain = *op.runtime.chain;

  Result<std::optional<Group>> group = std::optional<Group>();
  if (request.name) {
    group = chain.find_group(*request.name);
  } else {
    auto identity = identity_by_key(**identities, IdentityKind::group, request.gid_number, request.uuid);
    RETURN_IF_ERROR(identity);
    if (!identity->has_value()) return std::optional<GroupEntry>();
    group = chain.find_group((*identity)->name);
    if (group && group->has_value() && (**group).directory != (*identity)->directory) group = std::optional<Group>();
  }
  RETURN_IF_ERROR(group);
  if (!group->has_value()) return std::optional<GroupEntry>();

  auto entry = group_entry(**identities, std::move(**group));
  RETURN_IF_ERROR(entry);
  if ((request.gid_number || request.uuid) && !answers(entry->identity, request.gid_number, request.uuid)) {
    return std::optional<GroupEntry>();
  }
  return std::optional<GroupEntry>(std::move(*entry));
}

Result<std::vector<GroupEntry>> run(const OperationContext& op, const ListGroupEntriesRequest& request) {
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  auto groups = op.runtime.chain->list_groups(request.after, request.limit);
  RETURN_IF_ERROR(groups);
  std::vector<GroupEntry> entries;
  entries.reserve(groups->size());
  for (auto& group : *groups) {
    auto entry = group_entry(**identities, std::move(group));
    RETURN_IF_ERROR(entry);
    entries.push_back(std::move(*entry));
  }
  return entries;
}

}  // namespace dirproxy
