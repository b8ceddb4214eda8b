// Search (RFC 4511 §4.5) with the paged results control (RFC 2696), and
// Compare (§4.10). A search walks the part of the tree its base and scope
// cover, in a fixed order: the fixed entries (root DSE, cn=Subschema, the
// containers), then users, then groups. Users and groups come through the
// service: by the keys a filter pins (ldap_tree.hpp's user_keys and
// group_keys) through the chain's lookups and caches, or else enumerated a
// page at a time, so a search over the whole directory holds one page in
// memory. Each candidate is then tested against the whole filter, and
// against what the bound identity may read.
#include <algorithm>
#include <set>

#include <sodium.h>

#include "core/logging.hpp"
#include "core/names.hpp"
#include "frontends/ldap/ldap_connection.hpp"
#include "frontends/ldap/ldap_results.hpp"
#include "frontends/ldap/ldap_schema.hpp"
#include "service/application_requests.hpp"

namespace dirproxy::ldap {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("ldap");
  return logger;
}

// Users or groups fetched from an enumeration at a time.
constexpr std::size_t kEnumerationPage = 200;
// Paged searches a connection may hold open at once; the oldest is dropped.
constexpr std::size_t kMaxPagedSearches = 8;

using Kind = DnTarget::Kind;

// A filter as text (RFC 4515-like), to recognise the same search when a
// paged search asks for its next page.
void describe(const Filter& filter, std::string& out) {
  out += '(';
  out += std::to_string(static_cast<int>(filter.kind));
  out += filter.attribute;
  out += '\x1f';
  out += filter.value;
  if (filter.initial) out += "\x1fi" + *filter.initial;
  for (const auto& any : filter.any)
    out +=
        "\x1f"
        "a" +
        any;
  if (filter.final)
    out +=
        "\x1f"
        "f" +
        *filter.final;
  out += filter.matching_rule;
  if (filter.dn_attributes)
    out +=
        "\x1f"
        "d";
  for (const auto& child : filter.children) describe(child, out);
  out += ')';
}

std::string fingerprint(const SearchRequest& search, const BoundIdentity& bound) {
  std::string text = bound.dn + '\x1e' + search.base + '\x1e' + std::to_string(static_cast<int>(search.scope)) +
                     (search.types_only ? "t" : "v") + '\x1e';
  describe(search.filter, text);
  for (const auto& attribute : search.attributes) text += '\x1e' + attribute;
  return text;
}

std::string new_cookie() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

template <typename T>
void append_unique(std::vector<T>& into, const std::vector<T>& values) {
  for (const auto& value : values) {
    if (std::find(into.begin(), into.end(), value) == into.end()) into.push_back(value);
  }
}

// The tree's entry of a user or a group.
Entry tree_entry(const TreeSettings& tree, const UserEntry& user) { return user_entry(tree, user); }
Entry tree_entry(const TreeSettings& tree, const GroupEntry& group) { return group_entry(tree, group); }

// What an enumeration is ordered by, and resumes after.
std::string enumeration_key(const UserEntry& user) { return fold_name(user.user.username); }
std::string enumeration_key(const GroupEntry& group) { return fold_name(group.group.name); }

// A search's walk through the users or the groups (ListRequest says which):
// those its filter or base pinned, fetched up front, or else the chain's
// enumeration, a page at a time. An entry whose name no DN can hold has the
// DN "" and is not served.
template <typename ListRequest>
struct EntryWalk {
  using Item = typename ListRequest::Response::value_type;

  bool in_scope = false;                    // false: the search's scope holds none
  std::optional<std::vector<Item>> pinned;  // unset: enumerate
  std::size_t pinned_next = 0;
  std::vector<Entry> page;  // enumerated entries fetched and not yet tested
  std::size_t page_next = 0;
  std::string after;  // the enumeration key of the last one fetched
  bool last_page = false;

  bool finished() const {
    if (!in_scope) return true;
    if (pinned) return pinned_next >= pinned->size();
    return last_page && page_next >= page.size();
  }

  // The next entry to test; nullopt when this call found none, which does
  // not mean the walk is finished.
  awaitable<Result<std::optional<Entry>>> next(Service& service, const Caller& reader, const TreeSettings& tree) {
    if (pinned) {
      while (pinned_next < pinned->size()) {
        Entry entry = tree_entry(tree, (*pinned)[pinned_next++]);
        if (!entry.dn.empty()) co_return std::optional<Entry>(std::move(entry));
      }
      co_return std::optional<Entry>();
    }
    if (page_next >= page.size() && !last_page) {
      ListRequest list{after, kEnumerationPage};
      auto items = co_await service.call(reader, list);
      if (!items) co_return std::move(items).error();
      page.clear();
      page_next = 0;
      for (const auto& item : *items) {
        if (Entry entry = tree_entry(tree, item); !entry.dn.empty()) page.push_back(std::move(entry));
      }
      last_page = items->size() < kEnumerationPage;
      if (!items->empty()) after = enumeration_key(items->back());
    }
    // A page that came back full can have nothing after it.
    if (page_next >= page.size()) co_return std::optional<Entry>();
    co_return std::optional<Entry>(std::move(page[page_next++]));
  }
};

}  // namespace

// Where a search is: the entries still to test, in order. Kept between the
// pages of a paged search.
struct Connection::PagedSearch {
  std::string fingerprint;
  std::vector<Entry> fixed;  // root DSE, cn=Subschema, containers, the application's own entry
  std::size_t fixed_next = 0;
  EntryWalk<ListUserEntriesRequest> users;
  EntryWalk<ListGroupEntriesRequest> groups;
  // Entries sent by the pages so far: the client's sizeLimit bounds them all.
  std::size_t returned = 0;
};

namespace {

// What the bound identity may read of users and groups: everything, or (a
// user with user_read: self) itself and its groups.
struct ReadScope {
  bool tree = false;              // may read the tree at all
  std::optional<UserEntry> self;  // set: only this user and its groups
  std::string application;        // its own entry under ou=services
};

// Whether a filter may test memberOf: by name, or through an extensible
// match without a type (it tests every attribute).
bool tests_member_of(const Filter& filter) {
  if (same_attribute_type(filter.attribute, "memberOf")) return true;
  if (filter.kind == Filter::Kind::extensible && filter.attribute.empty()) return true;
  return std::any_of(filter.children.begin(), filter.children.end(), tests_member_of);
}

// Whether a search needs its users' groups (memberOf): asked for by name or
// with every operational attribute ("+"), or tested by the filter. Without,
// the service need not ask every directory for them.
bool needs_groups(const SearchRequest& search) {
  const bool asked = std::any_of(search.attributes.begin(), search.attributes.end(), [](const std::string& name) {
    return name == "+" || same_attribute_type(name, "memberOf");
  });
  return asked || tests_member_of(search.filter);
}

// The settings of the tree `target` is in: the main tree's, or the view of
// the application's whose base holds it (made in `view`).
const TreeSettings& tree_of(const FrontEndState& state, const DnTarget& target, std::optional<TreeSettings>& view) {
  if (target.application.empty()) return state.tree;
  return view.emplace(application_view(state.tree, target.application));
}

bool may_read_group(const ReadScope& scope, std::string_view name) {
  if (!scope.self) return true;
  return std::any_of(scope.self->groups.begin(), scope.self->groups.end(),
                     [&](const std::string& group) { return same_name(group, name); });
}

}  // namespace

Result<Caller> Connection::reader_of(const DnTarget& target) const {
  Caller reader = caller();
  if (target.application.empty() || reader.application == target.application) return reader;
  if (reader.application) {
    const RuntimePtr runtime = shared_->runtime();
    const config::Application* bound = find_application(*runtime->config, *reader.application);
    if (bound != nullptr && !bound->access_groups.empty()) {
      return fail(ErrorCode::forbidden, "application '" + *reader.application +
                                            "' admits only some users and reads only its own tree and the main one");
    }
  }
  reader.application = target.application;
  return reader;
}

awaitable<void> Connection::search(const Request& request, const SearchRequest& search,
                                   std::shared_ptr<Running> running) {
  const int id = request.message_id;
  const FrontEndStatePtr current = state();
  const auto& settings = current->settings;
  Service& service = shared_->service;
  auto done_with = [&](LdapResult result, std::vector<Control> controls) -> awaitable<void> {
    std::string message = encode_result(id, ResponseType::search_done, result, controls);
    co_await send(*running, std::move(message));
  };
  auto done = [&](LdapResult result) -> awaitable<void> {
    return done_with(std::move(result), std::vector<Control>());
  };

  // The paged results control, when the client sent one.
  std::optional<PagedResults> paged;
  for (const auto& control : request.controls) {
    if (control.type != oid::paged_results) continue;
    paged = decode_paged_results(control.value.value_or(""));
    if (!paged) {
      co_await done(make_result(ResultCode::protocol_error, "malformed paged results control"));
      co_return;
    }
  }

  if (classified_state_ != current || classified_base_ != search.base) {
    classified_ = classify_dn(current->tree, search.base);
    classified_base_ = search.base;
    classified_state_ = current;
  }
  const DnTarget base = classified_;
  if (base.kind == Kind::invalid) {
    co_await done(make_result(ResultCode::invalid_dn_syntax, "the base is not a DN"));
    co_return;
  }
  // The tree the base is in: the main one, or an application's (its DNs
  // under its base, its users only).
  std::optional<TreeSettings> application_tree;
  const TreeSettings& tree = tree_of(*current, base, application_tree);
  auto made_reader = reader_of(base);
  if (!made_reader) {
    co_await done(result_of(made_reader.error()));
    co_return;
  }
  // Named: a temporary in a co_await expression is a g++ 12 hazard.
  const Caller reader = std::move(*made_reader);

  // Who may read what.
  ReadScope scope;
  const bool anonymous = bound_.kind == BoundIdentity::Kind::anonymous;
  scope.tree = !anonymous || settings.anonymous == config::AnonymousAccess::read;
  if (bound_.kind == BoundIdentity::Kind::application && (base.application.empty() || base.application == bound_.name)) {
    scope.application = bound_.name;
  }
  if (bound_.kind == BoundIdentity::Kind::user && settings.user_read == config::UserRead::self) {
    GetUserEntryRequest own;
    own.username = bound_.name;
    auto self = co_await service.call(reader, own);
    if (!self) {
      co_await done(result_of(self.error()));
      co_return;
    }
    if (!self->has_value()) {  // deleted since it bound: it sees nothing
      const LdapResult nothing = make_result(ResultCode::success, "");
      co_await done(nothing);
      co_return;
    }
    scope.self = std::move(**self);
  }
  if (!scope.tree && base.kind != Kind::root_dse && base.kind != Kind::subschema) {
    co_await done(make_result(ResultCode::insufficient_access_rights,
                              "bind first: anonymous clients may read only the root DSE and cn=Subschema"));
    co_return;
  }

  // The search's place: new, or the next page of one begun earlier.
  std::shared_ptr<PagedSearch> state;
  // Only a paged search is looked up again by it.
  const std::string print = paged ? fingerprint(search, bound_) : std::string();
  if (paged && !paged->cookie.empty()) {
    auto found = paged_.find(paged->cookie);
    if (found == paged_.end() || found->second->fingerprint != print) {
      co_await done(make_result(ResultCode::unwilling_to_perform, "paged results cookie is invalid"));
      co_return;
    }
    state = found->second;
    paged_.erase(found);
    if (paged->size == 0) {  // RFC 2696 §3: the client abandons the paged search
      // Named: a braced temporary in a co_await expression is freed twice
      // by g++ 12 (a crash found by ldap_client_checks.py's paging).
      std::vector<Control> last{Control{oid::paged_results, false, encode_paged_results({0, ""})}};
      const LdapResult ended = make_result(ResultCode::success, "");
      co_await done_with(ended, std::move(last));
      co_return;
    }
  } else {
    state = std::make_shared<PagedSearch>();
    state->fingerprint = print;
    const auto scope_kind = search.scope;
    const bool whole = scope_kind == SearchRequest::Scope::sub;
    const bool base_only = scope_kind == SearchRequest::Scope::base;
    const bool children = scope_kind == SearchRequest::Scope::one;
    auto own_service = [&] {
      if (!scope.application.empty()) state->fixed.push_back(service_entry(tree, scope.application));
    };
    switch (base.kind) {
      case Kind::root_dse:
        if (base_only) state->fixed.push_back(root_dse(tree));
        break;
      case Kind::subschema:
        if (base_only) state->fixed.push_back(subschema_entry());
        break;
      case Kind::base:
        if (!children) state->fixed.push_back(container_entry(tree, Kind::base));
        if (!base_only) {
          state->fixed.push_back(container_entry(tree, Kind::people));
          state->fixed.push_back(container_entry(tree, Kind::groups));
          state->fixed.push_back(container_entry(tree, Kind::services));
        }
        if (whole) {
          own_service();
          state->users.in_scope = state->groups.in_scope = true;
        }
        break;
      case Kind::people:
      case Kind::groups:
      case Kind::services:
        if (!children) state->fixed.push_back(container_entry(tree, base.kind));
        if (!base_only) {
          if (base.kind == Kind::people) state->users.in_scope = true;
          if (base.kind == Kind::groups) state->groups.in_scope = true;
          if (base.kind == Kind::services) own_service();
        }
        break;
      case Kind::user: {
        GetUserEntryRequest lookup;
        lookup.username = base.name;
        lookup.groups = needs_groups(search);
        auto user = co_await service.call(reader, lookup);
        if (!user) {
          co_await done(result_of(user.error()));
          co_return;
        }
        const bool visible = user->has_value() && (!scope.self || same_name(scope.self->user.username, base.name));
        if (!visible) {
          co_await done(make_result(ResultCode::no_such_object, "no such entry"));
          co_return;
        }
        state->users.in_scope = true;
        state->users.pinned.emplace();
        if (!children) state->users.pinned->push_back(std::move(**user));
        break;
      }
      case Kind::group: {
        GetGroupEntryRequest lookup;
        lookup.name = base.name;
        auto group = co_await service.call(reader, lookup);
        if (!group) {
          co_await done(result_of(group.error()));
          co_return;
        }
        if (!group->has_value() || !may_read_group(scope, base.name)) {
          co_await done(make_result(ResultCode::no_such_object, "no such entry"));
          co_return;
        }
        state->groups.in_scope = true;
        state->groups.pinned.emplace();
        if (!children) state->groups.pinned->push_back(std::move(**group));
        break;
      }
      case Kind::service:
        if (scope.application.empty() || !same_name(base.name, scope.application)) {
          co_await done(make_result(ResultCode::no_such_object, "no such entry"));
          co_return;
        }
        if (!children) own_service();
        break;
      case Kind::below_leaf:
      case Kind::outside:
      case Kind::invalid: co_await done(make_result(ResultCode::no_such_object, "no such entry")); co_return;
    }

    // Users and groups the filter pins, fetched by their keys; a user
    // reading only itself has just itself and its groups.
    if (state->users.in_scope && !state->users.pinned) {
      state->users.pinned.emplace();
      if (scope.self) {
        state->users.pinned->push_back(*scope.self);
      } else if (auto keys = user_keys(tree, search.filter)) {
        std::vector<GetUserEntryRequest> lookups;
        for (const auto& name : keys->usernames) lookups.emplace_back().username = name;
        for (const auto& email : keys->emails) lookups.emplace_back().email = email;
        for (const auto number : keys->uid_numbers) lookups.emplace_back().uid_number = number;
        for (const auto& uuid : keys->uuids) lookups.emplace_back().uuid = uuid;
        std::vector<std::string> members;
        for (const auto& group_name : keys->member_of) {
          GetGroupEntryRequest lookup;
          lookup.name = group_name;
          auto group = co_await service.call(reader, lookup);
          if (!group) {
            co_await done(result_of(group.error()));
            co_return;
          }
          if (group->has_value()) append_unique(members, (*group)->group.members);
        }
        for (const auto& member : members) lookups.emplace_back().username = member;
        const bool groups = needs_groups(search);
        for (auto& lookup : lookups) lookup.groups = groups;
        std::set<std::string> seen;
        for (const auto& lookup : lookups) {
          auto user = co_await service.call(reader, lookup);
          if (!user) {
            co_await done(result_of(user.error()));
            co_return;
          }
          if (user->has_value() && seen.insert(fold_name((*user)->user.username)).second) {
            state->users.pinned->push_back(std::move(**user));
          }
        }
      } else {
        state->users.pinned.reset();  // enumerate
      }
    }
    if (state->groups.in_scope && !state->groups.pinned) {
      state->groups.pinned.emplace();
      std::vector<GetGroupEntryRequest> lookups;
      if (scope.self) {
        for (const auto& name : scope.self->groups) lookups.emplace_back().name = name;
      } else if (auto keys = group_keys(tree, search.filter)) {
        for (const auto& name : keys->names) lookups.emplace_back().name = name;
        for (const auto number : keys->gid_numbers) lookups.emplace_back().gid_number = number;
        for (const auto& uuid : keys->uuids) lookups.emplace_back().uuid = uuid;
        for (const auto& member : keys->members) {
          GetUserGroupsRequest groups_of{member};
          auto names = co_await service.call(reader, groups_of);
          if (!names) {
            co_await done(result_of(names.error()));
            co_return;
          }
          for (const auto& name : *names) lookups.emplace_back().name = name;
        }
      } else {
        state->groups.pinned.reset();  // enumerate
      }
      if (state->groups.pinned) {
        std::set<std::string> seen;
        for (const auto& lookup : lookups) {
          auto group = co_await service.call(reader, lookup);
          if (!group) {
            co_await done(result_of(group.error()));
            co_return;
          }
          if (group->has_value() && seen.insert(fold_name((*group)->group.name)).second) {
            state->groups.pinned->push_back(std::move(**group));
          }
        }
      }
    }
  }

  // The limits: without paging, the smaller of the client's and the
  // server's size limit; with paging, pages of at most the server's, and
  // the client's sizeLimit over all the pages (RFC 2696 §3).
  std::size_t limit = settings.limits.size_limit;
  std::optional<std::size_t> client_left;
  if (paged) {
    limit = static_cast<std::size_t>(std::clamp<std::int64_t>(paged->size, 1, static_cast<std::int64_t>(limit)));
    if (search.size_limit > 0) {
      const auto client_limit = static_cast<std::size_t>(search.size_limit);
      client_left = client_limit > state->returned ? client_limit - state->returned : 0;
    }
  } else if (search.size_limit > 0) {
    limit = std::min(limit, static_cast<std::size_t>(search.size_limit));
  }
  auto time_limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(settings.limits.time_limit);
  if (search.time_limit > 0)
    time_limit = std::min(time_limit, std::chrono::steady_clock::duration(std::chrono::seconds(search.time_limit)));
  const auto deadline = std::chrono::steady_clock::now() + time_limit;

  // The next entry to test: the fixed ones, then users, then groups.
  // nullopt when this call found none.
  auto next = [&]() -> awaitable<Result<std::optional<Entry>>> {
    if (state->fixed_next < state->fixed.size()) co_return std::optional<Entry>(state->fixed[state->fixed_next++]);
    if (!state->users.finished()) co_return co_await state->users.next(service, reader, tree);
    if (!state->groups.finished()) co_return co_await state->groups.next(service, reader, tree);
    co_return std::optional<Entry>();
  };
  auto exhausted = [&] {
    return state->fixed_next >= state->fixed.size() && state->users.finished() && state->groups.finished();
  };

  std::size_t sent = 0;
  LdapResult result;
  while (!exhausted()) {
    if (running->abandoned || closed_) co_return;
    if (std::chrono::steady_clock::now() >= deadline) {
      result = {ResultCode::time_limit_exceeded, "", "time limit exceeded"};
      break;
    }
    auto entry = co_await next();
    if (!entry) {
      result = result_of(entry.error());
      break;
    }
    if (!entry->has_value()) continue;
    if (evaluate(search.filter, **entry) != FilterResult::true_) continue;
    if (client_left && sent == *client_left) {
      result = {ResultCode::size_limit_exceeded, "", "size limit exceeded"};
      break;
    }
    if (sent == limit) {
      if (paged) {
        // The page is full and there is one more: keep it for the next page.
        state->fixed.insert(state->fixed.begin() + static_cast<std::ptrdiff_t>(state->fixed_next), std::move(**entry));
        break;
      }
      result = {ResultCode::size_limit_exceeded, "", "size limit exceeded"};
      break;
    }
    // The entry is moved into select_attributes: its DN first.
    const std::string dn = (*entry)->dn;
    std::string message =
        encode_search_entry(id, dn, select_attributes(std::move(**entry), search.attributes), search.types_only);
    if (!co_await send(*running, std::move(message))) co_return;
    ++sent;
  }

  state->returned += sent;
  std::vector<Control> controls;
  if (paged) {
    std::string cookie;
    if (result.code == ResultCode::success && !exhausted()) {
      cookie = new_cookie();
      if (paged_.size() >= kMaxPagedSearches) paged_.erase(paged_.begin());
      paged_[cookie] = state;
    }
    controls.push_back(Control{oid::paged_results, false, encode_paged_results({0, cookie})});
  }
  if (log()->should_log(spdlog::level::debug)) {  // logging::quoted is not free
    log()->debug("conn={} search base={} scope={} returned {} entries: {}", id_, logging::quoted(search.base),
                 static_cast<int>(search.scope), sent, static_cast<int>(result.code));
  }
  co_await done_with(result, controls);
}

awaitable<void> Connection::compare(int message_id, const CompareRequest& request, std::shared_ptr<Running> running) {
  // A Compare reads one entry: it is a base search for it, with the same
  // rules on who may read it.
  const FrontEndStatePtr current = state();
  Service& service = shared_->service;
  auto answer = [&](LdapResult result) -> awaitable<void> {
    std::string message = encode_result(message_id, ResponseType::compare, result);
    co_await send(*running, std::move(message));
  };
  const DnTarget target = classify_dn(current->tree, request.entry);
  if (target.kind == Kind::invalid) {
    co_await answer(make_result(ResultCode::invalid_dn_syntax, "not a DN"));
    co_return;
  }
  std::optional<TreeSettings> application_tree;
  const TreeSettings& tree = tree_of(*current, target, application_tree);
  auto made_reader = reader_of(target);
  if (!made_reader) {
    co_await answer(result_of(made_reader.error()));
    co_return;
  }
  // Named: a temporary in a co_await expression is a g++ 12 hazard.
  const Caller reader = std::move(*made_reader);
  const bool anonymous = bound_.kind == BoundIdentity::Kind::anonymous;
  const auto& settings = current->settings;
  if (anonymous && settings.anonymous != config::AnonymousAccess::read && target.kind != Kind::root_dse &&
      target.kind != Kind::subschema) {
    co_await answer(make_result(ResultCode::insufficient_access_rights, "bind first"));
    co_return;
  }
  const bool self_only = bound_.kind == BoundIdentity::Kind::user && settings.user_read == config::UserRead::self;
  std::optional<Entry> entry;
  switch (target.kind) {
    case Kind::root_dse: entry = root_dse(tree); break;
    case Kind::subschema: entry = subschema_entry(); break;
    case Kind::base:
    case Kind::people:
    case Kind::groups:
    case Kind::services: entry = container_entry(tree, target.kind); break;
    case Kind::user: {
      if (self_only && !same_name(target.name, bound_.name)) break;
      GetUserEntryRequest lookup;
      lookup.username = target.name;
      auto user = co_await service.call(reader, lookup);
      if (!user) {
        co_await answer(result_of(user.error()));
        co_return;
      }
      if (user->has_value()) entry = user_entry(tree, **user);
      break;
    }
    case Kind::group: {
      GetGroupEntryRequest lookup;
      lookup.name = target.name;
      auto group = co_await service.call(reader, lookup);
      if (!group) {
        co_await answer(result_of(group.error()));
        co_return;
      }
      if (!group->has_value()) break;
      if (self_only) {
        // A user compares only within its own groups (Apache asks whether
        // the user binding is a member: that is one of them or not).
        const auto& members = (*group)->group.members;
        const bool member = std::any_of(members.begin(), members.end(),
                                        [&](const std::string& name) { return same_name(name, bound_.name); });
        if (!member) break;
      }
      entry = group_entry(tree, **group);
      break;
    }
    case Kind::service:
      if (bound_.kind == BoundIdentity::Kind::application && same_name(target.name, bound_.name) &&
          (target.application.empty() || target.application == bound_.name)) {
        entry = service_entry(tree, bound_.name);
      }
      break;
    default: break;
  }
  if (!entry) {
    co_await answer(make_result(ResultCode::no_such_object, "no such entry"));
    co_return;
  }
  const bool present = std::any_of(entry->attributes.begin(), entry->attributes.end(), [&](const Attribute& attribute) {
    return same_name(attribute.type, request.attribute);
  });
  if (!present) {
    co_await answer(make_result(ResultCode::no_such_attribute, "the entry has no " + request.attribute));
    co_return;
  }
  Filter assertion;
  assertion.kind = Filter::Kind::equality;
  assertion.attribute = request.attribute;
  assertion.value = request.value;
  switch (evaluate(assertion, *entry)) {
    case FilterResult::true_: co_await answer(make_result(ResultCode::compare_true, "")); break;
    case FilterResult::false_: co_await answer(make_result(ResultCode::compare_false, "")); break;
    case FilterResult::undefined:
      co_await answer(make_result(ResultCode::invalid_attribute_syntax, "the value cannot be compared"));
      break;
  }
}

}  // namespace dirproxy::ldap
