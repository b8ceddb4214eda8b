// Add, Modify and Delete (RFC 4511 §4.6–4.8), for applications with
// ldap.may_write only: users under ou=people and groups under ou=groups,
// translated to the service's admin operations (add_user, update_user,
// set_password, delete_user, add_group, delete_group, add_member,
// remove_member), which route them by the chain's write rules. Each request
// is checked whole before the first service call, so that a bad value
// leaves nothing half-written.
#include <algorithm>

#include "core/names.hpp"
#include "frontends/ldap/ldap_connection.hpp"
#include "frontends/ldap/ldap_results.hpp"

namespace dirproxy::ldap {
namespace {

using Kind = DnTarget::Kind;

const std::vector<std::string>& user_classes() {
  static const std::vector<std::string> classes{"top", "person", "organizationalPerson", "inetOrgPerson",
                                                "posixAccount"};
  return classes;
}
const std::vector<std::string>& group_classes() {
  static const std::vector<std::string> classes{"top", "groupOfNames", "posixGroup"};
  return classes;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& known) { return same_name(known, name); });
}

LdapResult refused(ResultCode code, std::string message) { return {code, "", std::move(message)}; }

LdapResult under_application_base() {
  return refused(ResultCode::unwilling_to_perform,
                 "an application's tree (ldap.base_dn) is read-only: write the entry under ldap_server.base_dn");
}

// What dirproxy keeps of a user, from the attributes of an Add or Modify.
struct UserFields {
  std::optional<std::string> email;
  std::optional<std::string> display_name;  // displayName, else cn
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> password;
};

// Reads one user attribute into `fields`; an error for one dirproxy does not
// keep or allocates itself. `values` empty: the attribute is cleared.
std::optional<LdapResult> read_user_attribute(const std::string& type, const std::vector<std::string>& values,
                                              std::string_view username, UserFields& fields) {
  if (values.size() > 1) return refused(ResultCode::constraint_violation, type + " takes one value");
  const std::string value = values.empty() ? "" : values.front();
  if (same_name(type, "objectClass")) {
    for (const auto& object_class : values) {
      if (!listed(user_classes(), object_class)) {
        return refused(ResultCode::object_class_violation,
                       "a user's object classes are inetOrgPerson and posixAccount");
      }
    }
    return std::nullopt;
  }
  if (same_name(type, "uid")) {
    if (!same_name(value, username)) return refused(ResultCode::naming_violation, "uid must be the entry's RDN");
    return std::nullopt;
  }
  if (same_name(type, "mail")) {
    fields.email = value;
  } else if (same_name(type, "displayName")) {
    fields.display_name = value;
  } else if (same_name(type, "cn")) {
    if (!fields.display_name) fields.display_name = value;
  } else if (same_name(type, "givenName")) {
    fields.first_name = value;
  } else if (same_name(type, "sn")) {
    fields.last_name = value;
  } else if (same_name(type, "userPassword")) {
    if (value.empty()) return refused(ResultCode::unwilling_to_perform, "a password cannot be removed, only replaced");
    if (value.front() == '{') {
      return refused(ResultCode::unwilling_to_perform, "userPassword must be the clear-text password, not a hash");
    }
    fields.password = value;
  } else if (same_name(type, "uidNumber") || same_name(type, "gidNumber") || same_name(type, "entryUUID") ||
             same_name(type, "homeDirectory") || same_name(type, "loginShell") || same_name(type, "gecos") ||
             same_name(type, "memberOf")) {
    return refused(ResultCode::unwilling_to_perform, type + " is set by dirproxy, not by clients");
  } else {
    return refused(ResultCode::undefined_attribute_type, "users have no attribute " + type);
  }
  return std::nullopt;
}

// The usernames that `member` (DNs) or `memberUid` (names) values name.
std::optional<LdapResult> read_members(const TreeSettings& tree, const std::string& type,
                                       const std::vector<std::string>& values, std::vector<std::string>& usernames) {
  for (const auto& value : values) {
    if (same_name(type, "memberUid")) {
      usernames.push_back(value);
      continue;
    }
    const DnTarget member = classify_dn(tree, value);
    if (member.kind != Kind::user) {
      return refused(ResultCode::constraint_violation, "a member must be a user's DN under ou=people");
    }
    usernames.push_back(member.name);
  }
  return std::nullopt;
}

// constraintViolation naming the first of `usernames` that is no user (or
// the service's failure), nullopt when every one is: checked before a
// group changes, so that a bad member leaves it as it was.
awaitable<std::optional<LdapResult>> find_missing_member(Service& service, const Caller& reader,
                                                         const std::vector<std::string>& usernames) {
  for (const auto& name : usernames) {
    GetUserRequest lookup;
    lookup.username = name;
    auto user = co_await service.call(reader, lookup);
    if (!user) {
      co_return user.error().code == ErrorCode::not_found
          ? refused(ResultCode::constraint_violation, "no user " + name + " to be a member")
          : result_of(user.error());
    }
  }
  co_return std::nullopt;
}

}  // namespace

Caller Connection::writer() const {
  Caller writing = caller();
  // The admin operations the LDAP writes map to, and no others: the
  // connection offers none besides these.
  writing.admin = bound_.kind == BoundIdentity::Kind::application && bound_.may_write;
  return writing;
}

awaitable<std::optional<LdapResult>> Connection::refuse_hidden_user(const std::string& username) const {
  const Caller reader = caller();
  if (!reader.application) co_return std::nullopt;
  GetUserEntryRequest lookup;
  lookup.username = username;
  auto entry = co_await shared_->service.call(reader, lookup);
  if (!entry) co_return result_of(entry.error());
  if (!entry->has_value()) co_return refused(ResultCode::no_such_object, "no such entry");
  co_return std::nullopt;
}

std::optional<LdapResult> Connection::refuse_write(const FrontEndState& state, bool carries_password) const {
  if (bound_.kind != BoundIdentity::Kind::application || !bound_.may_write) {
    return refused(ResultCode::insufficient_access_rights, "only applications with ldap.may_write may change entries");
  }
  if (carries_password && !plaintext_bind_allowed(state)) {
    return refused(ResultCode::confidentiality_required, "a password needs TLS here: use StartTLS or ldaps://");
  }
  return std::nullopt;
}

awaitable<LdapResult> Connection::add(const AddRequest& request) {
  // Named: a temporary in a co_await expression is a g++ 12 hazard.
  const Caller reader = caller();
  const Caller writing = writer();
  const FrontEndStatePtr current = state();
  const TreeSettings& tree = current->tree;
  const bool carries_password = std::any_of(request.attributes.begin(), request.attributes.end(),
                                            [](const Attribute& a) { return same_name(a.type, "userPassword"); });
  if (auto refusal = refuse_write(*current, carries_password)) co_return *refusal;
  Service& service = shared_->service;
  const DnTarget target = classify_dn(tree, request.entry);
  if (target.kind == Kind::invalid) co_return refused(ResultCode::invalid_dn_syntax, "not a DN");
  // An application's tree is a view of the main one; writes name entries
  // of the main tree.
  if (!target.application.empty()) co_return under_application_base();

  if (target.kind == Kind::user) {
    UserFields fields;
    for (const auto& attribute : request.attributes) {
      if (auto error = read_user_attribute(attribute.type, attribute.values, target.name, fields)) co_return *error;
    }
    AddUserRequest add_user;
    add_user.username = target.name;
    add_user.email = fields.email.value_or("");
    add_user.display_name = fields.display_name.value_or(target.name);
    add_user.first_name = fields.first_name;
    add_user.last_name = fields.last_name;
    add_user.password = fields.password;
    add_user.notify = false;
    auto added = co_await service.call(writing, add_user);
    if (!added) co_return result_of(added.error());
    co_return LdapResult{};
  }

  if (target.kind == Kind::group) {
    std::optional<std::string> description;
    std::vector<std::string> members;
    for (const auto& attribute : request.attributes) {
      if (same_name(attribute.type, "objectClass")) {
        for (const auto& object_class : attribute.values) {
          if (!listed(group_classes(), object_class)) {
            co_return refused(ResultCode::object_class_violation,
                              "a group's object classes are groupOfNames and posixGroup");
          }
        }
      } else if (same_name(attribute.type, "cn")) {
        if (attribute.values.size() != 1 || !same_name(attribute.values.front(), target.name)) {
          co_return refused(ResultCode::naming_violation, "cn must be the entry's RDN");
        }
      } else if (same_name(attribute.type, "description")) {
        if (attribute.values.size() > 1)
          co_return refused(ResultCode::constraint_violation, "description takes one value");
        if (!attribute.values.empty()) description = attribute.values.front();
      } else if (same_name(attribute.type, "member") || same_name(attribute.type, "memberUid")) {
        if (auto error = read_members(tree, attribute.type, attribute.values, members)) co_return *error;
      } else if (same_name(attribute.type, "gidNumber") || same_name(attribute.type, "entryUUID")) {
        co_return refused(ResultCode::unwilling_to_perform, attribute.type + " is set by dirproxy, not by clients");
      } else {
        co_return refused(ResultCode::undefined_attribute_type, "groups have no attribute " + attribute.type);
      }
    }
    // Members must exist before the group is made: a group is not left
    // behind half-filled.
    if (auto missing = co_await find_missing_member(service, reader, members)) co_return *missing;
    AddGroupRequest add_group{target.name, description};
    auto added = co_await service.call(writing, add_group);
    if (!added) co_return result_of(added.error());
    for (const auto& member : members) {
      AddMemberRequest add_member{added->name, member};
      auto joined = co_await service.call(writing, add_member);
      if (!joined) {
        DeleteGroupRequest undo{added->name};
        (void)co_await service.call(writing, undo);
        co_return result_of(joined.error());
      }
    }
    co_return LdapResult{};
  }

  if (target.kind == Kind::outside || target.kind == Kind::below_leaf) {
    co_return refused(ResultCode::no_such_object, "no parent entry for " + request.entry);
  }
  co_return refused(ResultCode::unwilling_to_perform,
                    "only users under ou=people and groups under ou=groups can be added");
}

awaitable<LdapResult> Connection::modify(const ModifyRequest& request) {
  // Named: a temporary in a co_await expression is a g++ 12 hazard.
  const Caller reader = caller();
  const Caller writing = writer();
  const FrontEndStatePtr current = state();
  const TreeSettings& tree = current->tree;
  const bool carries_password =
      std::any_of(request.changes.begin(), request.changes.end(),
                  [](const ModifyRequest::Change& c) { return same_name(c.modification.type, "userPassword"); });
  if (auto refusal = refuse_write(*current, carries_password)) co_return *refusal;
  Service& service = shared_->service;
  const DnTarget target = classify_dn(tree, request.object);
  if (target.kind == Kind::invalid) co_return refused(ResultCode::invalid_dn_syntax, "not a DN");
  // An application's tree is a view of the main one; writes name entries
  // of the main tree.
  if (!target.application.empty()) co_return under_application_base();
  using Operation = ModifyRequest::Change::Operation;

  if (target.kind == Kind::user) {
    if (auto hidden = co_await refuse_hidden_user(target.name)) co_return *hidden;
    if (carries_password && request.changes.size() > 1) {
      // A password and other attributes are two service operations; one of
      // them failing after the other succeeded would leave half a change.
      co_return refused(ResultCode::unwilling_to_perform, "change userPassword in a Modify of its own");
    }
    UserFields fields;
    for (const auto& change : request.changes) {
      const auto& attribute = change.modification;
      std::vector<std::string> values = attribute.values;
      if (change.operation == Operation::delete_) {
        if (!values.empty()) co_return refused(ResultCode::unwilling_to_perform, "delete the whole " + attribute.type);
        if (same_name(attribute.type, "mail") || same_name(attribute.type, "displayName") ||
            same_name(attribute.type, "cn") || same_name(attribute.type, "userPassword")) {
          co_return refused(ResultCode::object_class_violation, attribute.type + " cannot be removed, only replaced");
        }
      } else if (values.empty()) {
        co_return refused(ResultCode::constraint_violation, attribute.type + " needs a value");
      }
      if (auto error = read_user_attribute(attribute.type, values, target.name, fields)) co_return *error;
    }
    if (fields.password) {
      SetPasswordRequest set{target.name, *fields.password};
      auto done = co_await service.call(writing, set);
      co_return done ? LdapResult{} : result_of(done.error());
    }
    UpdateUserRequest update;
    update.username = target.name;
    update.changes.email = fields.email;
    update.changes.display_name = fields.display_name;
    update.changes.first_name = fields.first_name;
    update.changes.last_name = fields.last_name;
    if (update.changes.empty()) co_return LdapResult{};
    auto updated = co_await service.call(writing, update);
    co_return updated ? LdapResult{} : result_of(updated.error());
  }

  if (target.kind == Kind::group) {
    GetGroupRequest lookup{target.name};
    auto group = co_await service.call(reader, lookup);
    if (!group) co_return result_of(group.error());
    // The members the group ends with, computed from every change first.
    std::vector<std::string> members = group->members;
    for (const auto& change : request.changes) {
      const auto& attribute = change.modification;
      if (!same_name(attribute.type, "member") && !same_name(attribute.type, "memberUid")) {
        co_return refused(ResultCode::unwilling_to_perform, "only a group's member and memberUid can change");
      }
      std::vector<std::string> named;
      if (auto error = read_members(tree, attribute.type, attribute.values, named)) co_return *error;
      auto is_named = [&](const std::string& name) { return listed(named, name); };
      switch (change.operation) {
        case Operation::add:
          for (const auto& name : named) {
            if (!listed(members, name)) members.push_back(name);
          }
          break;
        case Operation::delete_:
          if (named.empty()) {
            members.clear();
          } else {
            members.erase(std::remove_if(members.begin(), members.end(), is_named), members.end());
          }
          break;
        case Operation::replace: members = named; break;
      }
    }
    std::vector<std::string> to_add;
    std::vector<std::string> to_remove;
    for (const auto& name : members) {
      if (!listed(group->members, name)) to_add.push_back(name);
    }
    for (const auto& name : group->members) {
      if (!listed(members, name)) to_remove.push_back(name);
    }
    if (auto missing = co_await find_missing_member(service, reader, to_add)) co_return *missing;
    for (const auto& name : to_add) {
      AddMemberRequest add_member{group->name, name};
      auto done = co_await service.call(writing, add_member);
      if (!done) co_return result_of(done.error());
    }
    for (const auto& name : to_remove) {
      RemoveMemberRequest remove_member{group->name, name};
      auto done = co_await service.call(writing, remove_member);
      if (!done) co_return result_of(done.error());
    }
    co_return LdapResult{};
  }
  if (target.kind == Kind::outside || target.kind == Kind::below_leaf) {
    co_return refused(ResultCode::no_such_object, "no such entry");
  }
  co_return refused(ResultCode::unwilling_to_perform, "only users and groups can be modified");
}

awaitable<LdapResult> Connection::remove(const DeleteRequest& request) {
  // Named: a temporary in a co_await expression is a g++ 12 hazard.
  const Caller writing = writer();
  const FrontEndStatePtr current = state();
  const TreeSettings& tree = current->tree;
  if (auto refusal = refuse_write(*current, false)) co_return *refusal;
  Service& service = shared_->service;
  const DnTarget target = classify_dn(tree, request.entry);
  if (target.kind != Kind::invalid && !target.application.empty()) co_return under_application_base();
  switch (target.kind) {
    case Kind::invalid: co_return refused(ResultCode::invalid_dn_syntax, "not a DN");
    case Kind::user: {
      if (auto hidden = co_await refuse_hidden_user(target.name)) co_return *hidden;
      DeleteUserRequest delete_user{target.name};
      auto done = co_await service.call(writing, delete_user);
      co_return done ? LdapResult{} : result_of(done.error());
    }
    case Kind::group: {
      DeleteGroupRequest delete_group{target.name};
      auto done = co_await service.call(writing, delete_group);
      co_return done ? LdapResult{} : result_of(done.error());
    }
    case Kind::base:
    case Kind::people:
    case Kind::groups:
    case Kind::services: co_return refused(ResultCode::not_allowed_on_non_leaf, "the containers cannot be deleted");
    case Kind::outside:
    case Kind::below_leaf: co_return refused(ResultCode::no_such_object, "no such entry");
    default: co_return refused(ResultCode::unwilling_to_perform, "this entry cannot be deleted");
  }
}

}  // namespace dirproxy::ldap
