// Which lookups find every entry a filter can match. A filter item pins
// entries when it can be True only for entries with one of a finite set of
// keys; an item that can never be True for an entry of that kind (an
// attribute users do not have, an object class groups do not carry) pins to
// no keys at all, so that nslcd's `(&(objectClass=posixGroup)(memberUid=a))`
// over the whole tree does not enumerate the users. AND pins when any child
// does (the smallest set), OR when every child does (the union); NOT never
// pins, because a negation is True for everything its child is not. Keys may
// over-approximate (the caller evaluates the filter on each candidate) but
// never miss.
#include "frontends/ldap/ldap_tree.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>
#include <string>

#include "core/names.hpp"
#include "frontends/ldap/ldap_schema.hpp"

namespace dirproxy::ldap {
namespace {

// Whether `item` (a non-composite filter) can be True for no entry of `shape`.
bool never_true(const Filter& item, const EntryShape& shape) {
  if (item.kind == Filter::Kind::extensible) return false;  // dnAttributes and rule-only forms reach anything
  const bool carried = std::any_of(shape.attributes.begin(), shape.attributes.end(),
                                   [&](std::string_view type) { return same_attribute_type(type, item.attribute); });
  if (!carried) return true;
  if ((item.kind == Filter::Kind::equality || item.kind == Filter::Kind::approx) &&
      same_attribute_type(item.attribute, "objectClass")) {
    const std::string_view asserted = object_class_name(item.value);
    return std::none_of(shape.object_classes.begin(), shape.object_classes.end(),
                        [&](std::string_view object_class) { return same_name(object_class, asserted); });
  }
  return false;
}

// uidNumber/gidNumber as integerMatch reads it (leading zeros allowed); nullopt
// when no uint32 entry can have it (not an integer, negative, too big).
std::optional<std::uint32_t> id_number(std::string_view text) {
  std::uint32_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || text.empty() || text.front() == '-') {
    return std::nullopt;
  }
  return number;
}

// A caseIgnore assertion value as a lookup key: caseIgnoreMatch ignores
// leading and trailing spaces, so "(uid= alice )" finds alice. (It also
// treats inner runs of spaces as one; names with such runs are not worth a
// second lookup.)
std::string name_key(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return std::string(value);
}

template <typename T>
void append_new(std::vector<T>& to, const T& value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

template <typename T>
void append_all(std::vector<T>& to, const std::vector<T>& from) {
  for (const auto& value : from) append_new(to, value);
}

// The composite rules, shared by both kinds of keys. `item` answers a
// non-composite item: its keys, or nullopt when it does not pin.
template <typename Keys>
std::optional<Keys> combine(const Filter& filter, const std::function<std::optional<Keys>(const Filter&)>& item,
                            const std::function<std::size_t(const Keys&)>& size,
                            const std::function<void(Keys&, const Keys&)>& merge) {
  switch (filter.kind) {
    case Filter::Kind::and_: {
      std::optional<Keys> smallest;
      for (const auto& child : filter.children) {
        auto keys = combine(child, item, size, merge);
        if (keys && (!smallest || size(*keys) < size(*smallest))) smallest = std::move(keys);
      }
      return smallest;
    }
    case Filter::Kind::or_: {
      Keys all;
      for (const auto& child : filter.children) {
        const auto keys = combine(child, item, size, merge);
        if (!keys) return std::nullopt;
        merge(all, *keys);
      }
      return all;  // an empty OR is False: nothing to find
    }
    case Filter::Kind::not_: return std::nullopt;
    default: return item(filter);
  }
}

std::optional<UserKeys> user_item_keys(const TreeSettings& tree, const Filter& item) {
  if (never_true(item, kUserShape)) return UserKeys{};
  if (item.kind != Filter::Kind::equality && item.kind != Filter::Kind::approx) return std::nullopt;
  UserKeys keys;
  const auto& type = item.attribute;
  if (same_attribute_type(type, "uid")) {
    keys.usernames.push_back(name_key(item.value));
  } else if (same_attribute_type(type, "mail")) {
    keys.emails.push_back(name_key(item.value));
  } else if (same_attribute_type(type, "uidNumber")) {
    if (const auto number = id_number(item.value)) keys.uid_numbers.push_back(*number);
  } else if (same_attribute_type(type, "entryUUID")) {
    keys.uuids.push_back(ascii_lower(item.value));
  } else if (same_attribute_type(type, "memberOf")) {
    const DnTarget target = classify_dn(tree, item.value);
    if (target.kind == DnTarget::Kind::group) keys.member_of.push_back(target.name);
  } else {
    return std::nullopt;
  }
  return keys;
}

std::optional<GroupKeys> group_item_keys(const TreeSettings& tree, const Filter& item) {
  if (never_true(item, kGroupShape)) return GroupKeys{};
  if (item.kind != Filter::Kind::equality && item.kind != Filter::Kind::approx) return std::nullopt;
  GroupKeys keys;
  const auto& type = item.attribute;
  if (same_attribute_type(type, "cn")) {
    keys.names.push_back(name_key(item.value));
  } else if (same_attribute_type(type, "gidNumber")) {
    if (const auto number = id_number(item.value)) keys.gid_numbers.push_back(*number);
  } else if (same_attribute_type(type, "entryUUID")) {
    keys.uuids.push_back(ascii_lower(item.value));
  } else if (same_attribute_type(type, "member")) {
    const DnTarget target = classify_dn(tree, item.value);
    if (target.kind == DnTarget::Kind::user) keys.members.push_back(target.name);
  } else if (same_attribute_type(type, "memberUid")) {
    keys.members.push_back(name_key(item.value));
  } else {
    return std::nullopt;
  }
  return keys;
}

}  // namespace

std::optional<UserKeys> user_keys(const TreeSettings& tree, const Filter& filter) {
  return combine<UserKeys>(
      filter, [&](const Filter& item) { return user_item_keys(tree, item); },
      [](const UserKeys& keys) {
        return keys.usernames.size() + keys.emails.size() + keys.uid_numbers.size() + keys.uuids.size() +
               keys.member_of.size();
      },
      [](UserKeys& to, const UserKeys& from) {
        append_all(to.usernames, from.usernames);
        append_all(to.emails, from.emails);
        append_all(to.uid_numbers, from.uid_numbers);
        append_all(to.uuids, from.uuids);
        append_all(to.member_of, from.member_of);
      });
}

std::optional<GroupKeys> group_keys(const TreeSettings& tree, const Filter& filter) {
  return combine<GroupKeys>(
      filter, [&](const Filter& item) { return group_item_keys(tree, item); },
      [](const GroupKeys& keys) {
        return keys.names.size() + keys.gid_numbers.size() + keys.uuids.size() + keys.members.size();
      },
      [](GroupKeys& to, const GroupKeys& from) {
        append_all(to.names, from.names);
        append_all(to.gid_numbers, from.gid_numbers);
        append_all(to.uuids, from.uuids);
        append_all(to.members, from.members);
      });
}

}  // namespace dirproxy::ldap
