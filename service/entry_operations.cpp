// Users and groups as entries (entry_requests.hpp): the chain's user or
// group, its stable identity from the identity store (the directory's own
// uuid and number where it has them, recorded with source directory), and
// a user's groups after the membership rule (DirectoryChain::user_groups).
// A lookup by number or uuid goes from the identity to (directory, name)
// and back through the chain, and answers only when that name still
// belongs to that directory and still has that identity.
//
// For a caller acting for an application that admits only some users
// (access_groups, application_requests.hpp), the entries of the users it
// does not admit do not exist, and groups list only admitted members.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/names.hpp"
#include "core/uuid.hpp"
#include "service/application_requests.hpp"
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

// Which users the caller may see: all, or those the application it acts
// for admits (when that application has access_groups). One per call: it
// remembers the members it has looked up.
class Admission final {
 public:
  explicit Admission(const OperationContext& op) : op_(op) {
    const config::Application* application = acting_application(op);
    if (application != nullptr && !application->access_groups.empty()) application_ = application;
  }

  bool restricts() const { return application_ != nullptr; }

  // A user with these groups (as the chain computes them).
  bool admits_user(const std::vector<std::string>& groups) const {
    return application_ == nullptr || admits(*application_, groups);
  }

  // Drops the members of `group` the application does not admit; a member
  // no directory has as a user is not admitted.
  Result<void> limit_members(Group& group) {
    if (application_ == nullptr) return {};
    std::vector<std::string> kept;
    for (auto& member : group.members) {
      auto admitted = admits_member(member);
      RETURN_IF_ERROR(admitted);
      if (*admitted) kept.push_back(std::move(member));
    }
    group.members = std::move(kept);
    return {};
  }

 private:
  Result<bool> admits_member(const std::string& username) {
    const std::string key = fold_name(username);
    if (const auto known = members_.find(key); known != members_.end()) return known->second;
    auto groups = op_.runtime.chain->user_groups(username);
    if (!groups && groups.error().code != ErrorCode::not_found) return std::move(groups).error();
    const bool admitted = groups && admits(*application_, *groups);
    members_.emplace(key, admitted);
    return admitted;
  }

  const OperationContext& op_;
  const config::Application* application_ = nullptr;
  std::map<std::string, bool> members_;  // folded username -> admitted
};

// The entry as the caller may see it: nullopt for a user its application
// does not admit; without groups unless they were asked for.
std::optional<UserEntry> visible(const Admission& admission, std::optional<UserEntry> entry, bool with_groups) {
  if (!entry) return entry;
  if (!admission.admits_user(entry->groups)) return std::nullopt;
  if (!with_groups) entry->groups.clear();
  return entry;
}

OwnIdentity own_identity(const User& user) { return OwnIdentity{.uuid = user.uuid, .number = user.uid_number}; }
OwnIdentity own_identity(const Group& group) { return OwnIdentity{.uuid = group.uuid, .number = group.gid_number}; }

IdentityWanted wanted_identity(const User& user) {
  return IdentityWanted{.directory = user.directory, .name = user.username, .own = own_identity(user)};
}
IdentityWanted wanted_identity(const Group& group) {
  return IdentityWanted{.directory = group.directory, .name = group.name, .own = own_identity(group)};
}

UserEntry make_user_entry(User user, const StoredIdentity& identity, std::vector<std::string> groups) {
  UserEntry entry;
  entry.identity = StableIdentity{.uuid = identity.uuid, .number = identity.number};
  // Without a gidNumber of its own, a user's primary group is its own
  // (a user private group with the number of the user).
  entry.gid_number = user.gid_number.value_or(identity.number);
  entry.groups = std::move(groups);
  entry.created_at = user.created_at;
  entry.modified_at = user.modified_at;
  entry.user = std::move(user);
  return entry;
}

// The entry of `user` with its `identity`, and its groups unless `with_groups`
// is false (GetUserEntryRequest::groups).
Result<UserEntry> user_entry(const OperationContext& op, User user, const StoredIdentity& identity, bool with_groups) {
  std::vector<std::string> groups;
  if (with_groups) {
    auto found = op.runtime.chain->user_groups(user);
    RETURN_IF_ERROR(found);
    groups = std::move(*found);
  }
  return make_user_entry(std::move(user), identity, std::move(groups));
}

Result<UserEntry> user_entry(const OperationContext& op, IdentityStore& identities, User user, bool with_groups = true) {
  auto identity = identities.identity_of(IdentityKind::user, user.directory, user.username, own_identity(user));
  RETURN_IF_ERROR(identity);
  return user_entry(op, std::move(user), *identity, with_groups);
}

GroupEntry group_entry(Group group, const StoredIdentity& identity) {
  return GroupEntry{std::move(group), StableIdentity{.uuid = identity.uuid, .number = identity.number}};
}

Result<GroupEntry> group_entry(IdentityStore& identities, Group group) {
  auto identity = identities.identity_of(IdentityKind::group, group.directory, group.name, own_identity(group));
  RETURN_IF_ERROR(identity);
  return group_entry(std::move(group), *identity);
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

// The entry of what a lookup found; nullopt when it found nothing, when a
// lookup by `identity` found the name in another directory (shadowed since,
// or deleted and created elsewhere: someone else), or when the entry no
// longer has the number or uuid asked for (its directory gave it its own).
template <typename Entry, typename Thing, typename MakeEntry>
Result<std::optional<Entry>> entry_of(Result<std::optional<Thing>> found, const std::optional<StoredIdentity>& identity,
                                      const std::optional<std::uint32_t>& number,
                                      const std::optional<std::string>& uuid, MakeEntry make_entry) {
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return std::optional<Entry>();
  if (identity && (**found).directory != identity->directory) return std::optional<Entry>();
  auto entry = make_entry(std::move(**found));
  RETURN_IF_ERROR(entry);
  if (identity && !answers(entry->identity, number, uuid)) return std::optional<Entry>();
  return std::optional<Entry>(std::move(*entry));
}

// The entries of a page: the identities of all its users or groups first,
// at once (the first sights among them in one write transaction, not one
// each: an enumeration of 100,000 new users was 100,000 commits), then each
// entry made by `make_entry(thing, identity)`; the first error stops it.
template <typename Entry, typename Thing, typename MakeEntry>
Result<std::vector<Entry>> entries_of(IdentityStore& identities, IdentityKind kind, Result<std::vector<Thing>> page,
                                      MakeEntry make_entry) {
  RETURN_IF_ERROR(page);
  std::vector<IdentityWanted> wanted;
  wanted.reserve(page->size());
  for (const auto& thing : *page) wanted.push_back(wanted_identity(thing));
  auto stored = identities.identities_of(kind, wanted);
  RETURN_IF_ERROR(stored);
  std::vector<Entry> entries;
  entries.reserve(page->size());
  for (std::size_t i = 0; i < page->size(); ++i) {
    Result<Entry> entry = make_entry(std::move((*page)[i]), (*stored)[i]);
    RETURN_IF_ERROR(entry);
    entries.push_back(std::move(*entry));
  }
  return entries;
}

}  // namespace

Result<std::optional<UserEntry>> run(const OperationContext& op, const GetUserEntryRequest& request) {
  RETURN_IF_ERROR(check_one_key({request.username.has_value(), request.email.has_value(),
                                 request.uid_number.has_value(), request.uuid.has_value()},
                                "'username', 'email', 'uid_number' and 'uuid'"));
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  DirectoryChain& chain = *op.runtime.chain;
  std::optional<StoredIdentity> identity;  // when looked up by number or uuid
  Result<std::optional<User>> user = std::optional<User>();
  if (request.username) {
    user = chain.find_user(*request.username);
  } else if (request.email) {
    user = chain.find_user_by_email(*request.email);
  } else {
    auto found = identity_by_key(**identities, IdentityKind::user, request.uid_number, request.uuid);
    RETURN_IF_ERROR(found);
    if (!found->has_value()) return std::optional<UserEntry>();
    identity = std::move(**found);
    user = chain.find_user(identity->name);
  }
  const Admission admission(op);
  auto entry = entry_of<UserEntry>(std::move(user), identity, request.uid_number, request.uuid, [&](User&& found) {
    return user_entry(op, **identities, std::move(found), request.groups || admission.restricts());
  });
  RETURN_IF_ERROR(entry);
  return visible(admission, std::move(*entry), request.groups);
}

std::optional<UserEntry> user_entry_from_memory(const OperationContext& op, const GetUserEntryRequest& request,
                                                User& user) {
  if (request.groups || !op.runtime.identities || Admission(op).restricts()) return std::nullopt;
  auto identity =
      op.runtime.identities->cached_identity_of(IdentityKind::user, user.directory, user.username, own_identity(user));
  if (!identity) return std::nullopt;
  return make_user_entry(std::move(user), *identity, {});
}

Result<std::optional<UserEntry>> user_entry(const OperationContext& op, const GetUserEntryRequest& request,
                                            User user) {
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  const Admission admission(op);
  auto entry = user_entry(op, **identities, std::move(user), request.groups || admission.restricts());
  RETURN_IF_ERROR(entry);
  return visible(admission, std::move(*entry), request.groups);
}

Result<std::vector<UserEntry>> run(const OperationContext& op, const ListUserEntriesRequest& request) {
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  const Admission admission(op);
  std::vector<UserEntry> entries;
  if (request.limit == 0) return entries;
  // The users the caller's application does not admit are skipped; the
  // chain's pages are read until `limit` are found or none are left, so
  // that a page shorter than `limit` still means the end.
  std::string after = request.after;
  for (;;) {
    auto page = entries_of<UserEntry>(
        **identities, IdentityKind::user, op.runtime.chain->list_users(after, request.limit),
        [&](User&& user, const StoredIdentity& identity) { return user_entry(op, std::move(user), identity, true); });
    RETURN_IF_ERROR(page);
    const bool last = page->size() < request.limit;
    if (!page->empty()) after = page->back().user.username;
    for (auto& entry : *page) {
      if (!admission.admits_user(entry.groups)) continue;
      entries.push_back(std::move(entry));
      if (entries.size() == request.limit) return entries;
    }
    if (last) return entries;
  }
}

Result<std::optional<GroupEntry>> run(const OperationContext& op, const GetGroupEntryRequest& request) {
  RETURN_IF_ERROR(check_one_key({request.name.has_value(), request.gid_number.has_value(), request.uuid.has_value()},
                                "'name', 'gid_number' and 'uuid'"));
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  std::optional<StoredIdentity> identity;  // when looked up by number or uuid
  if (!request.name) {
    auto found = identity_by_key(**identities, IdentityKind::group, request.gid_number, request.uuid);
    RETURN_IF_ERROR(found);
    if (!found->has_value()) return std::optional<GroupEntry>();
    identity = std::move(**found);
  }
  Admission admission(op);
  return entry_of<GroupEntry>(op.runtime.chain->find_group(request.name ? *request.name : identity->name), identity,
                              request.gid_number, request.uuid, [&](Group&& group) -> Result<GroupEntry> {
                                RETURN_IF_ERROR(admission.limit_members(group));
                                return group_entry(**identities, std::move(group));
                              });
}

Result<std::vector<GroupEntry>> run(const OperationContext& op, const ListGroupEntriesRequest& request) {
  auto identities = identity_store(op);
  RETURN_IF_ERROR(identities);
  Admission admission(op);
  return entries_of<GroupEntry>(**identities, IdentityKind::group,
                                op.runtime.chain->list_groups(request.after, request.limit),
                                [&](Group&& group, const StoredIdentity& identity) -> Result<GroupEntry> {
                                  RETURN_IF_ERROR(admission.limit_members(group));
                                  return group_entry(std::move(group), identity);
                                });
}

}  // namespace dirproxy
