#include "directories/ldap/ldap_directory.hpp"

#include <ldap.h>
#include <poll.h>
#include <sodium.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <iterator>

#include "core/names.hpp"
#include "core/timestamp.hpp"
#include "core/uuid.hpp"
#include "directories/ldap/active_directory.hpp"
#include "directories/ldap/crypt_password.hpp"
#include "directories/ldap/ldap_dn.hpp"
#include "directories/ldap/ldap_filter.hpp"
#include "directories/ldap/ldap_handles.hpp"

namespace dirproxy {
namespace {

// 32 random bytes in base64, with one character of each class AD's
// complexity rule counts: accepted by any domain policy up to 48
// characters, and unguessable.
std::string random_initial_password() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  std::string text(sodium_base64_ENCODED_LEN(sizeof bytes, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes, sizeof bytes, sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(bytes, sizeof bytes);
  text.resize(std::strlen(text.c_str()));
  return text + "aZ7!";
}

constexpr std::size_t kMaxSearchEntries = 100000;  // a bound on any one answer
// A username lookup expects one entry; more than one is refused as
// ambiguous, and this many is plenty to tell (see user_entry_by_name).
constexpr std::size_t kUsernameLookupLimit = 8;

int ldap_scope(config::SearchScope scope) {
  return scope == config::SearchScope::one ? LDAP_SCOPE_ONELEVEL : LDAP_SCOPE_SUBTREE;
}

// libldap wants NULL-terminated char* arrays; this keeps them alive.
class CStringArray {
 public:
  explicit CStringArray(const std::vector<std::string>& strings) {
    for (const auto& s : strings) pointers_.push_back(const_cast<char*>(s.c_str()));
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<char*> pointers_;
};

// One modification for ldap_modify_ext_s / ldap_add_ext_s with binary-safe values.
class Modification {
 public:
  Modification(int operation, const std::string& attribute, const std::vector<std::string>& values)
      : attribute_(attribute), values_(values) {
    for (auto& value : values_) {
      bervals_.push_back(berval{static_cast<ber_len_t>(value.size()), value.data()});
    }
    for (auto& value : bervals_) pointers_.push_back(&value);
    pointers_.push_back(nullptr);
    mod_.mod_op = operation | LDAP_MOD_BVALUES;
    mod_.mod_type = attribute_.data();
    mod_.mod_bvalues = values_.empty() && operation == LDAP_MOD_DELETE ? nullptr : pointers_.data();
  }
  // The values may be a password (unicodePwd): not left in freed memory.
  ~Modification() {
    for (auto& value : values_) std::fill(value.begin(), value.end(), '\0');
  }
  Modification(const Modification&) = delete;
  Modification& operator=(const Modification&) = delete;
  LDAPMod* get() { return &mod_; }

 private:
  std::string attribute_;
  std::vector<std::string> values_;
  std::vector<berval> bervals_;
  std::vector<berval*> pointers_;
  LDAPMod mod_{};
};

// The server's diagnostic message for the last operation on `ld`; empty
// when it sent none.
std::string diagnostic_of(LDAP* ld) {
  char* diagnostic = nullptr;
  if (ld == nullptr || ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) != LDAP_OPT_SUCCESS ||
      diagnostic == nullptr) {
    return {};
  }
  LdapStringPtr owned(diagnostic);
  return diagnostic;
}

std::string error_text(LDAP* ld, int code) {
  std::string text = ldap_err2string(code);
  if (const std::string diagnostic = diagnostic_of(ld); !diagnostic.empty()) text += " (" + diagnostic + ")";
  return text;
}

// Reads one search result entry: its DN and every attribute's values,
// binary-safe, attribute names lower-cased and without options (";binary",
// ";range=..."); an attribute sent in part (AD's ";range=0-1499") is noted
// in `ranged` with the index its next range starts at.
LdapEntry parse_entry(LDAP* ld, LDAPMessage* entry) {
  LdapEntry parsed;
  if (LdapStringPtr dn(ldap_get_dn(ld, entry)); dn) parsed.dn = dn.get();
  BerElement* ber_raw = nullptr;
  for (char* attribute = ldap_first_attribute(ld, entry, &ber_raw); attribute != nullptr;
       attribute = ldap_next_attribute(ld, entry, ber_raw)) {
    LdapStringPtr attribute_owner(attribute);
    BerValuesPtr values(ldap_get_values_len(ld, entry, attribute));
    std::string key = ascii_lower(attribute);
    if (auto semicolon = key.find(';'); semicolon != std::string::npos) key.resize(semicolon);
    if (auto range = active_directory::parse_value_range(attribute); range && range->last) {
      parsed.ranged[key] = *range->last + 1;
    }
    auto& stored = parsed.attributes[key];
    if (values) {
      for (berval** value = values.get(); *value != nullptr; ++value) {
        stored.emplace_back((*value)->bv_val, (*value)->bv_len);
      }
    }
  }
  BerElementPtr ber(ber_raw);
  return parsed;
}

// The counters of one of the directory's caches (`cache`: user, email,
// user_groups, group); none without a registry.
CacheCounters cache_counters(metrics::Registry* registry, const std::string& directory, std::string_view cache) {
  if (registry == nullptr) return {};
  const std::vector<std::string> labels = {"directory", "cache"};
  return {&registry
               ->counter("dirproxy_cache_hits_total",
                         "Lookups an LDAP directory answered from its cache, by directory and cache.", labels)
               .with({directory, cache}),
          &registry
               ->counter("dirproxy_cache_misses_total",
                         "Lookups an LDAP directory's cache could not answer (absent or expired), by directory and "
                         "cache.",
                         labels)
               .with({directory, cache})};
}

PoolCounters pool_counters(metrics::Registry* registry, const std::string& directory) {
  if (registry == nullptr) return {};
  return {
      &registry
           ->counter("dirproxy_ldap_pool_waits_total",
                     "Times a request waited for a free service connection of an LDAP directory's pool.", {"directory"})
           .with({directory}),
      &registry
           ->counter("dirproxy_ldap_pool_wait_timeouts_total",
                     "Waits for a free service connection that ended without one (directory_unavailable).",
                     {"directory"})
           .with({directory})};
}

// A directory's own identity and times, read where the entry has them
// (docs/ldap.md: passed through to the LDAP front end).
constexpr const char* kIdentityAttributes[] = {"entryUUID", "objectGUID", "uidNumber", "gidNumber"};
constexpr const char* kTimeAttributes[] = {"createTimestamp", "modifyTimestamp"};

// entryUUID (RFC 4530: OpenLDAP, 389-ds) as text, else Active Directory's
// binary objectGUID.
std::optional<std::string> own_uuid(const LdapEntry& entry) {
  if (auto text = entry.first("entryUUID")) {
    if (auto uuid = normalized_uuid(*text)) return uuid;
  }
  if (auto guid = entry.first("objectGUID")) return uuid_from_guid_bytes(*guid);
  return std::nullopt;
}

std::optional<std::uint32_t> own_number(const LdapEntry& entry, std::string_view attribute) {
  auto text = entry.first(attribute);
  if (!text) return std::nullopt;
  std::uint32_t number = 0;
  const char* end = text->data() + text->size();
  auto [stop, error] = std::from_chars(text->data(), end, number);
  if (error != std::errc() || stop != end) return std::nullopt;
  return number;
}

std::optional<std::int64_t> own_time(const LdapEntry& entry, std::string_view attribute) {
  auto text = entry.first(attribute);
  return text ? parse_generalized_time(*text) : std::nullopt;
}

bool has_object_class(const LdapEntry& entry, std::string_view object_class) {
  if (const auto* classes = entry.values("objectclass")) {
    for (const auto& value : *classes) {
      if (same_name(value, object_class)) return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<std::string>* LdapEntry::values(std::string_view attribute) const {
  auto it = attributes.find(ascii_lower(attribute));
  return it == attributes.end() ? nullptr : &it->second;
}

std::optional<std::string> LdapEntry::first(std::string_view attribute) const {
  const auto* all = values(attribute);
  if (all == nullptr || all->empty()) return std::nullopt;
  return all->front();
}

LdapDirectory::LdapDirectory(const config::DirectoryConfig& config, metrics::Registry* metrics)
    : name_(config.name),
      permissions_(config.permissions),
      on_unavailable_(config.on_unavailable),
      settings_(config.ldap),
      metrics_(metrics, config.name),
      pool_(std::make_unique<LdapConnectionPool>(config.name, config.ldap, LdapServerList::Clock{},
                                                 pool_counters(metrics, config.name))),
      users_by_name_(config.ldap.cache, &std::chrono::steady_clock::now, cache_counters(metrics, config.name, "user")),
      users_by_email_(config.ldap.cache, &std::chrono::steady_clock::now,
                      cache_counters(metrics, config.name, "email")),
      groups_of_(config.ldap.cache, &std::chrono::steady_clock::now,
                 cache_counters(metrics, config.name, "user_groups")),
      groups_(config.ldap.cache, &std::chrono::steady_clock::now, cache_counters(metrics, config.name, "group")) {}

LdapDirectory::~LdapDirectory() = default;

Result<std::shared_ptr<LdapDirectory>> LdapDirectory::create(const config::DirectoryConfig& config,
                                                             metrics::Registry* metrics) {
  const auto& ldap = config.ldap;
  auto refuse = [&](const std::string& key, const std::string& why) {
    return fail(ErrorCode::bad_request, "directory '" + config.name + "': " + key + ": " + why);
  };
  if (!ldap.users.filter.empty() && !normalize_filter(ldap.users.filter)) {
    return refuse("users.filter", "not one well-formed LDAP filter: " + ldap.users.filter);
  }
  const std::pair<const char*, const std::string*> attributes[] = {
      {"users.object_class", &ldap.users.object_class},
      {"users.username_attribute", &ldap.users.username_attribute},
      {"users.email_attribute", &ldap.users.email_attribute},
      {"users.display_name_attribute", &ldap.users.display_name_attribute},
      {"users.first_name_attribute", &ldap.users.first_name_attribute},
      {"users.last_name_attribute", &ldap.users.last_name_attribute},
      {"users.rdn_attribute", &ldap.users.rdn_attribute},
      {"groups.object_class", &ldap.groups.object_class},
      {"groups.name_attribute", &ldap.groups.name_attribute},
      {"groups.description_attribute", &ldap.groups.description_attribute},
      {"groups.member_attribute", &ldap.groups.member_attribute},
  };
  for (const auto& [key, value] : attributes) {
    if (!is_valid_attribute_name(*value)) return refuse(key, "'" + *value + "' is not an attribute name");
  }
  for (const auto* optional : {&ldap.users.disabled_attribute, &ldap.groups.user_membership_attribute}) {
    if (!optional->empty() && !is_valid_attribute_name(*optional)) {
      return refuse("attribute", "'" + *optional + "' is not an attribute name");
    }
  }
  return std::make_shared<LdapDirectory>(config, metrics);
}

Error LdapDirectory::unavailable(std::string detail) const {
  Error error = make_error(ErrorCode::directory_unavailable, "directory '" + name_ + "' is unavailable: " + detail);
  error.directory = name_;
  return error;
}

std::string LdapDirectory::users_base() const { return join_dn(settings_.users.base, settings_.base_dn); }
std::string LdapDirectory::groups_base() const { return join_dn(settings_.groups.base, settings_.base_dn); }

std::string LdapDirectory::user_filter(const std::string& condition) const {
  return and_filters({equality_filter("objectClass", settings_.users.object_class), settings_.users.filter, condition});
}

std::string LdapDirectory::group_filter(const std::string& condition) const {
  return and_filters({equality_filter("objectClass", settings_.groups.object_class), condition});
}

std::vector<std::string> LdapDirectory::user_attributes() const {
  const auto& users = settings_.users;
  std::vector<std::string> attributes = {users.username_attribute, users.email_attribute, users.display_name_attribute,
                                         users.first_name_attribute, users.last_name_attribute};
  if (!users.disabled_attribute.empty()) attributes.push_back(users.disabled_attribute);
  if (!settings_.groups.user_membership_attribute.empty()) {
    attributes.push_back(settings_.groups.user_membership_attribute);
  }
  // A server ignores those it does not know (RFC 4511 4.5.1.8).
  attributes.insert(attributes.end(), std::begin(kIdentityAttributes), std::end(kIdentityAttributes));
  attributes.insert(attributes.end(), std::begin(kTimeAttributes), std::end(kTimeAttributes));
  return attributes;
}

LdapDirectory::UserEntry LdapDirectory::to_user(const LdapEntry& entry) const {
  const auto& users = settings_.users;
  UserEntry result;
  result.dn = entry.dn;
  result.user.username = entry.first(users.username_attribute).value_or("");
  result.user.email = entry.first(users.email_attribute);
  result.user.display_name = entry.first(users.display_name_attribute);
  result.user.first_name = entry.first(users.first_name_attribute);
  result.user.last_name = entry.first(users.last_name_attribute);
  result.user.directory = name_;
  result.user.uuid = own_uuid(entry);
  result.user.uid_number = own_number(entry, "uidNumber");
  result.user.gid_number = own_number(entry, "gidNumber");
  result.user.created_at = own_time(entry, "createTimestamp");
  result.user.modified_at = own_time(entry, "modifyTimestamp");
  if (!users.disabled_attribute.empty()) {
    auto flags = entry.first(users.disabled_attribute);
    if (flags) {
      // AD's userAccountControl: an integer whose ACCOUNTDISABLE bit (2)
      // marks the account inactive.
      std::uint64_t value = 0;
      try {
        value = std::stoull(*flags);
      } catch (const std::exception&) {
        value = 0;
      }
      result.user.active = (value & users.disabled_bitmask) == 0;
    }
  }
  if (!settings_.groups.user_membership_attribute.empty()) {
    if (const auto* groups = entry.values(settings_.groups.user_membership_attribute)) result.member_of = *groups;
  }
  return result;
}

// --- Searching ---------------------------------------------------------------

Result<std::vector<LdapEntry>> LdapDirectory::search(const SearchRequest& request) {
  return metrics_.timed(DirectoryMetrics::Call::lookup, [&] { return untimed_search(request); });
}

Result<std::vector<LdapEntry>> LdapDirectory::untimed_search(const SearchRequest& request) {
  auto lease = pool_->acquire();
  RETURN_IF_ERROR(lease);
  LDAP* ld = lease->get();

  std::vector<std::string> attribute_names = request.attributes;
  CStringArray attributes(attribute_names);
  timeval timeout = to_timeval(pool_->operation_timeout());
  const bool paged = settings_.page_size > 0 && request.size_limit == 0;
  const std::size_t limit = request.size_limit == 0 ? kMaxSearchEntries : request.size_limit;

  std::vector<LdapEntry> entries;
  BerValPtr cookie;  // the server's position between pages (RFC 2696)
  do {
    LdapControlPtr page_control;
    LDAPControl* controls[2] = {nullptr, nullptr};
    if (paged) {
      berval empty{0, nullptr};
      LDAPControl* created = nullptr;
      int rc = ldap_create_page_control(ld, static_cast<ber_int_t>(settings_.page_size), cookie ? cookie.get() : &empty,
                                        /*iscritical=*/0, &created);
      if (rc != LDAP_SUCCESS) return fail(ErrorCode::internal_error, "cannot create a paged-results control");
      page_control.reset(created);
      controls[0] = created;
    }
    LDAPMessage* raw = nullptr;
    int rc = ldap_search_ext_s(ld, request.base.c_str(), request.scope, request.filter.c_str(), attributes.get(),
                               /*attrsonly=*/0, paged ? controls : nullptr, /*clientctrls=*/nullptr, &timeout,
                               paged ? 0 : static_cast<int>(limit), &raw);
    LdapMessagePtr result(raw);
    auto page = search_result(*lease, rc, result.get(), request.base);
    RETURN_IF_ERROR(page);
    std::move(page->begin(), page->end(), std::back_inserter(entries));

    cookie.reset();
    if (paged) {
      LDAPControl** returned = nullptr;
      if (ldap_parse_result(ld, result.get(), nullptr, nullptr, nullptr, nullptr, &returned, /*freeit=*/0) ==
          LDAP_SUCCESS) {
        LdapControlsPtr returned_owner(returned);
        LDAPControl* response = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, nullptr);
        ber_int_t estimate = 0;
        berval next{0, nullptr};
        if (response != nullptr && ldap_parse_pageresponse_control(ld, response, &estimate, &next) == LDAP_SUCCESS) {
          if (next.bv_len > 0) cookie.reset(ber_bvdup(&next));
          ber_memfree(next.bv_val);
        }
      }
    }
  } while (cookie && entries.size() < limit);

  if (entries.size() > limit) entries.resize(limit);
  RETURN_IF_ERROR(complete_ranged_values(*lease, entries));
  return entries;
}

Result<void> LdapDirectory::complete_ranged_values(LdapConnectionPool::Lease& lease,
                                                   std::vector<LdapEntry>& entries) const {
  timeval timeout = to_timeval(pool_->operation_timeout());
  for (auto& entry : entries) {
    for (const auto& [attribute, start] : std::exchange(entry.ranged, {})) {
      auto& values = entry.attributes[attribute];
      // Each answer starts where the last one ended; one that does not move
      // on (or a server that never ends) stops the reading.
      for (std::size_t first = start; values.size() < kMaxSearchEntries;) {
        std::vector<std::string> names = {active_directory::range_request(attribute, first)};
        CStringArray requested(names);
        LDAPMessage* raw = nullptr;
        const int rc = ldap_search_ext_s(lease.get(), entry.dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                                         requested.get(), /*attrsonly=*/0, /*serverctrls=*/nullptr,
                                         /*clientctrls=*/nullptr, &timeout, /*sizelimit=*/1, &raw);
        LdapMessagePtr result(raw);
        auto more = search_result(lease, rc, result.get(), entry.dn);
        RETURN_IF_ERROR(more);
        if (more->empty()) break;  // the entry is gone
        if (const auto* next_values = more->front().values(attribute)) {
          values.insert(values.end(), next_values->begin(), next_values->end());
        }
        const auto next = more->front().ranged.find(attribute);
        if (next == more->front().ranged.end() || next->second <= first) break;  // the last range ("-*")
        first = next->second;
      }
    }
  }
  return {};
}

Result<std::vector<LdapEntry>> LdapDirectory::search_result(LdapConnectionPool::Lease& lease, int rc,
                                                            LDAPMessage* result, const std::string& base) const {
  LDAP* ld = lease.get();
  if (auto lost = connection_lost(lease, rc)) return std::move(*lost);
  if (rc == LDAP_NO_SUCH_OBJECT) {
    return fail(ErrorCode::internal_error, "directory '" + name_ + "': the search base " + base + " does not exist");
  }
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_REFERRAL && rc != LDAP_PARTIAL_RESULTS) {
    return fail(ErrorCode::internal_error,
                "directory '" + name_ + "': search of " + base + " failed: " + error_text(ld, rc));
  }
  std::vector<LdapEntry> entries;
  for (LDAPMessage* entry = ldap_first_entry(ld, result); entry != nullptr; entry = ldap_next_entry(ld, entry)) {
    entries.push_back(parse_entry(ld, entry));
  }
  return entries;
}

Result<std::optional<LdapEntry>> LdapDirectory::read_entry(const std::string& dn,
                                                           const std::vector<std::string>& attributes) {
  return metrics_.timed(DirectoryMetrics::Call::lookup, [&]() -> Result<std::optional<LdapEntry>> {
    auto entries = untimed_search({dn, LDAP_SCOPE_BASE, "(objectClass=*)", attributes, 1});
    if (!entries) {
      // A member DN that does not exist (a stale reference) is a miss, not an error.
      if (entries.error().code == ErrorCode::internal_error &&
          entries.error().message.find("does not exist") != std::string::npos) {
        return std::optional<LdapEntry>();
      }
      return std::move(entries).error();
    }
    if (entries->empty()) return std::optional<LdapEntry>();
    return std::optional<LdapEntry>(std::move(entries->front()));
  });
}

Result<std::optional<LdapDirectory::UserEntry>> LdapDirectory::find_user_entry(const std::string& attribute,
                                                                               std::string_view value) {
  auto entries = search({users_base(), ldap_scope(settings_.users.scope),
                         user_filter(equality_filter(attribute, value)), user_attributes(), 0});
  RETURN_IF_ERROR(entries);
  std::optional<UserEntry> best;
  for (const auto& entry : *entries) {
    UserEntry candidate = to_user(entry);
    if (candidate.user.username.empty()) continue;  // no username attribute: not a usable account
    if (!best || fold_name(candidate.user.username) < fold_name(best->user.username)) best = std::move(candidate);
  }
  return best;
}

// A size limit instead of paging: one entry is the answer, and a few are
// enough to see that a name is ambiguous. A paged search costs the server and
// us a control on every lookup (and authenticate) for nothing.
LdapDirectory::SearchRequest LdapDirectory::username_search(std::string_view username) const {
  return {users_base(), ldap_scope(settings_.users.scope),
          user_filter(equality_filter(settings_.users.username_attribute, username)), user_attributes(),
          kUsernameLookupLimit};
}

Result<std::optional<LdapDirectory::UserEntry>> LdapDirectory::user_entry_by_name(std::string_view username) {
  if (auto hit = users_by_name_.get(fold_name(username))) return hit->value;
  auto entries = search(username_search(username));
  RETURN_IF_ERROR(entries);
  return settle_username_search(username, *entries);
}

Result<std::optional<LdapDirectory::UserEntry>> LdapDirectory::settle_username_search(
    std::string_view username, const std::vector<LdapEntry>& entries) {
  const std::string key = fold_name(username);
  std::vector<UserEntry> found;
  for (const auto& entry : entries) {
    UserEntry candidate = to_user(entry);
    if (same_name(candidate.user.username, username)) found.push_back(std::move(candidate));
  }
  if (found.size() > 1) {
    // Two entries answer to one name: binding as either could log in the
    // wrong person. Refuse until the directory is fixed.
    return fail(ErrorCode::internal_error, "directory '" + name_ + "': " + std::to_string(found.size()) +
                                               " entries have the username '" + std::string(username) + "'");
  }
  if (found.empty()) {
    users_by_name_.put_missing(key);
    return std::optional<UserEntry>();
  }
  users_by_name_.put(key, found.front());
  return std::optional<UserEntry>(std::move(found.front()));
}

Result<std::optional<User>> LdapDirectory::find_user_by_name(std::string_view username) {
  auto entry = user_entry_by_name(username);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return std::optional<User>();
  return std::optional<User>((*entry)->user);
}

std::optional<std::optional<User>> LdapDirectory::cached_user_by_name(std::string_view username) {
  auto hit = users_by_name_.get(fold_name(username));
  if (!hit) return std::nullopt;
  if (hit->known_missing()) return std::optional<User>();
  return std::optional<User>(hit->value->user);
}

// --- Lookups without a blocked thread -------------------------------------------

// The search is libldap's asynchronous one. While it runs, the connection's
// socket is non-blocking, so that reading a message that has arrived only
// in part never blocks the caller's thread (libldap keeps the part and goes
// on with the rest later); it is blocking again before the connection goes
// back to the pool, where the synchronous calls expect it so.
//
// libldap reads at most about one message per zero-timeout ldap_result, so
// poll() calls it until the socket has nothing more to read: the caller's
// wait for readability (edge-triggered in asio's reactor) then cannot miss
// data that had already arrived.
class LdapDirectory::UserLookup final : public PendingUserLookup {
 public:
  UserLookup(LdapDirectory& directory, LdapConnectionPool::Lease lease, std::string username, int message_id,
             int descriptor, std::chrono::steady_clock::time_point deadline)
      : directory_(directory),
        lease_(std::move(lease)),
        username_(std::move(username)),
        message_id_(message_id),
        descriptor_(descriptor),
        started_(std::chrono::steady_clock::now()),
        deadline_(deadline) {
    set_blocking(false);
  }

  ~UserLookup() override {
    if (lease_.get() == nullptr) return;
    // Unfinished (the caller went away): the server may still answer, and
    // libldap drops an abandoned request's answer, so the connection can go
    // back to the pool.
    if (!finished_) ldap_abandon_ext(lease_.get(), message_id_, /*serverctrls=*/nullptr, /*clientctrls=*/nullptr);
    set_blocking(true);
  }

  int descriptor() const override { return descriptor_; }
  std::chrono::steady_clock::time_point deadline() const override { return deadline_; }

  std::optional<Result<std::optional<User>>> poll() override {
    if (finished_) return Result<std::optional<User>>(make_error(ErrorCode::internal_error, "the lookup has answered"));
    auto answer = read_answer();
    if (answer) {
      directory_.metrics_.record(DirectoryMetrics::Call::lookup, *answer ? nullptr : &answer->error(),
                                 std::chrono::steady_clock::now() - started_);
    }
    return answer;
  }

 private:
  // poll()'s answer, or nullopt while it has none.
  std::optional<Result<std::optional<User>>> read_answer() {
    LDAP* ld = lease_.get();
    LDAPMessage* raw = nullptr;
    int type = 0;
    for (;;) {
      timeval now_only{0, 0};
      type = ldap_result(ld, message_id_, LDAP_MSG_ALL, &now_only, &raw);
      if (type != 0 || !more_to_read()) break;
    }
    LdapMessagePtr result(raw);
    int rc = LDAP_SUCCESS;
    if (type == 0) {
      if (std::chrono::steady_clock::now() < deadline_) return std::nullopt;
      // What ldap_search_ext_s answers when its timeout passes.
      ldap_abandon_ext(ld, message_id_, /*serverctrls=*/nullptr, /*clientctrls=*/nullptr);
      rc = LDAP_TIMEOUT;
    } else if (type == -1) {
      ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc);
    } else {
      const int parsed = ldap_parse_result(ld, result.get(), &rc, /*matcheddnp=*/nullptr, /*errmsgp=*/nullptr,
                                           /*referralsp=*/nullptr, /*serverctrls=*/nullptr, /*freeit=*/0);
      if (parsed != LDAP_SUCCESS) rc = parsed;
    }
    finished_ = true;
    auto entries = directory_.search_result(lease_, rc, result.get(), directory_.users_base());
    if (!entries) return Result<std::optional<User>>(std::move(entries).error());
    if (lease_.get() != nullptr) {
      set_blocking(true);
      // A memberOf of very many groups comes in ranges (AD): read on
      // synchronously, as any search does.
      if (auto completed = directory_.complete_ranged_values(lease_, *entries); !completed) {
        return Result<std::optional<User>>(std::move(completed).error());
      }
      // The connection's part is over: back to the pool.
      LdapConnectionPool::Lease giving_back = std::move(lease_);
    }
    auto settled = directory_.settle_username_search(username_, *entries);
    if (!settled) return Result<std::optional<User>>(std::move(settled).error());
    if (!settled->has_value()) return Result<std::optional<User>>(std::optional<User>());
    return Result<std::optional<User>>(std::optional<User>((*settled)->user));
  }

  // FIONBIO sets or clears O_NONBLOCK in one call (fcntl needs F_GETFL first).
  void set_blocking(bool blocking) const {
    int non_blocking = blocking ? 0 : 1;
    ::ioctl(descriptor_, FIONBIO, &non_blocking);
  }

  // Whether libldap holds unread bytes or the socket has some now.
  bool more_to_read() const {
    Sockbuf* buffer = nullptr;
    if (ldap_get_option(lease_.get(), LDAP_OPT_SOCKBUF, &buffer) == LDAP_OPT_SUCCESS && buffer != nullptr &&
        ber_sockbuf_ctrl(buffer, LBER_SB_OPT_DATA_READY, nullptr) > 0) {
      return true;
    }
    pollfd socket{};
    socket.fd = descriptor_;
    socket.events = POLLIN;
    return ::poll(&socket, 1, /*timeout=*/0) > 0;
  }

  LdapDirectory& directory_;
  LdapConnectionPool::Lease lease_;
  const std::string username_;
  const int message_id_;
  const int descriptor_;
  const std::chrono::steady_clock::time_point started_;
  const std::chrono::steady_clock::time_point deadline_;
  bool finished_ = false;
};

PendingUserLookupPtr LdapDirectory::start_user_lookup(std::string_view username) {
  auto lease = pool_->try_acquire_idle();
  if (!lease) return nullptr;
  LDAP* ld = lease->get();
  int descriptor = -1;
  if (ldap_get_option(ld, LDAP_OPT_DESC, &descriptor) != LDAP_OPT_SUCCESS || descriptor < 0) return nullptr;

  const SearchRequest request = username_search(username);
  std::vector<std::string> attribute_names = request.attributes;
  CStringArray attributes(attribute_names);
  timeval time_limit = to_timeval(pool_->operation_timeout());
  int message_id = 0;
  const int rc = ldap_search_ext(ld, request.base.c_str(), request.scope, request.filter.c_str(), attributes.get(),
                                 /*attrsonly=*/0, /*serverctrls=*/nullptr, /*clientctrls=*/nullptr, &time_limit,
                                 static_cast<int>(request.size_limit), &message_id);
  if (rc != LDAP_SUCCESS) {
    // Not sent (the connection broke while idle, say): the blocking lookup
    // reconnects or fails over and answers for it.
    if (LdapConnectionPool::is_connection_error(rc)) lease->discard(error_text(ld, rc));
    return nullptr;
  }
  return std::make_unique<UserLookup>(*this, std::move(*lease), std::string(username), message_id, descriptor,
                                      std::chrono::steady_clock::now() + pool_->operation_timeout());
}

Result<std::optional<User>> LdapDirectory::find_user_by_email(std::string_view email) {
  const std::string key = ascii_lower(email);
  if (auto hit = users_by_email_.get(key)) {
    if (!hit->value) return std::optional<User>();
    return std::optional<User>(hit->value->user);
  }
  auto entry = find_user_entry(settings_.users.email_attribute, email);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) {
    users_by_email_.put_missing(key);
    return std::optional<User>();
  }
  users_by_email_.put(key, **entry);
  return std::optional<User>((*entry)->user);
}

Result<std::vector<User>> LdapDirectory::search_users(std::string_view query, std::size_t limit) {
  const auto& users = settings_.users;
  std::string condition;
  if (!query.empty()) {
    condition =
        or_filters({substring_filter(users.username_attribute, query), substring_filter(users.email_attribute, query),
                    substring_filter(users.display_name_attribute, query)});
  }
  auto entries = search({users_base(), ldap_scope(users.scope), user_filter(condition), user_attributes(), 0});
  RETURN_IF_ERROR(entries);
  std::vector<User> found;
  for (const auto& entry : *entries) {
    UserEntry candidate = to_user(entry);
    if (!candidate.user.username.empty()) found.push_back(std::move(candidate.user));
  }
  std::sort(found.begin(), found.end(),
            [](const User& a, const User& b) { return fold_name(a.username) < fold_name(b.username); });
  if (found.size() > limit) found.resize(limit);
  return found;
}

// --- Enumeration -----------------------------------------------------------------
//
// An LDAP server cannot return entries sorted by name without the
// server-side sort control (RFC 2891), which many servers lack or limit.
// So a page is made here: every entry is fetched with the paged results
// the directory already uses (page_size), sorted in memory, and cut to the
// names after `after`. Each page therefore costs one full search and memory
// for the whole directory while it is made; kMaxSearchEntries bounds both.

namespace {

// The entries' names (by `name_of`), folded, that sort after `after`, in
// order, at most `limit`, each with the index of its entry.
template <typename NameOf>
std::vector<std::pair<std::string, std::size_t>> page_of_names(const std::vector<LdapEntry>& entries,
                                                               std::string_view after, std::size_t limit,
                                                               NameOf name_of) {
  const std::string floor = fold_name(after);
  std::vector<std::pair<std::string, std::size_t>> names;
  for (std::size_t index = 0; index < entries.size(); ++index) {
    std::string name = fold_name(name_of(entries[index]));
    if (!name.empty() && name > floor) names.emplace_back(std::move(name), index);
  }
  std::sort(names.begin(), names.end());
  // A name held by two entries is listed once (lookups refuse it as ambiguous).
  names.erase(std::unique(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
              names.end());
  if (names.size() > limit) names.resize(limit);
  return names;
}

}  // namespace

Result<std::vector<User>> LdapDirectory::list_users(std::string_view after, std::size_t limit) {
  const auto& users = settings_.users;
  auto entries = search({users_base(), ldap_scope(users.scope), user_filter(""), user_attributes(), 0});
  RETURN_IF_ERROR(entries);
  const auto page = page_of_names(*entries, after, limit, [&](const LdapEntry& entry) {
    return entry.first(users.username_attribute).value_or("");
  });
  std::vector<User> found;
  found.reserve(page.size());
  for (const auto& [name, index] : page) found.push_back(to_user((*entries)[index]).user);
  return found;
}

Result<std::vector<Group>> LdapDirectory::list_groups(std::string_view after, std::size_t limit) {
  // Names only here; each group of the page is then read as find_group
  // reads it (members resolved, nested groups followed, cached).
  const auto& groups = settings_.groups;
  auto entries = search({groups_base(), ldap_scope(groups.scope), group_filter(""), {groups.name_attribute}, 0});
  RETURN_IF_ERROR(entries);
  const auto page = page_of_names(
      *entries, after, limit, [&](const LdapEntry& entry) { return entry.first(groups.name_attribute).value_or(""); });
  std::vector<Group> found;
  found.reserve(page.size());
  for (const auto& [name, index] : page) {
    auto group = find_group(*(*entries)[index].first(groups.name_attribute));
    RETURN_IF_ERROR(group);
    if (group->has_value()) found.push_back(std::move(**group));  // deleted meanwhile: left out
  }
  return found;
}

// --- Authentication --------------------------------------------------------------

Result<AuthOutcome> LdapDirectory::authenticate(const User& user, std::string_view password) {
  // The chain refuses empty passwords before any directory is asked; this
  // check stays because an empty simple bind is an anonymous bind that would
  // "succeed" (RFC 4513 5.1.2).
  if (password.empty()) return AuthOutcome::wrong_password;
  auto entry = user_entry_by_name(user.username);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return AuthOutcome::wrong_password;

  const std::string& dn = (*entry)->dn;
  const bool active = (*entry)->user.active;
  return metrics_.timed(DirectoryMetrics::Call::authenticate, [&]() -> Result<AuthOutcome> {
    // A connection for user binds only: binding as the user must never
    // change the identity of a service connection. It is kept for later
    // user binds.
    auto connection = pool_->acquire_for_user_bind();
    RETURN_IF_ERROR(connection);
    std::string secret(password);
    berval credentials{static_cast<ber_len_t>(secret.size()), secret.data()};
    int rc = ldap_sasl_bind_s(connection->get(), dn.c_str(), LDAP_SASL_SIMPLE, &credentials,
                              /*serverctrls=*/nullptr, /*clientctrls=*/nullptr, /*servercredp=*/nullptr);
    std::fill(secret.begin(), secret.end(), '\0');
    if (LdapConnectionPool::is_connection_error(rc)) {
      // The server went away mid-bind: mark it down like a pooled connection.
      std::string reason = error_text(connection->get(), rc);
      connection->discard(reason);
      return unavailable(reason);
    }
    if (rc != LDAP_SUCCESS) return AuthOutcome::wrong_password;
    return active ? AuthOutcome::success : AuthOutcome::disabled;
  });
}

// --- Groups --------------------------------------------------------------------

Result<std::optional<LdapEntry>> LdapDirectory::group_entry(std::string_view name) {
  const auto& groups = settings_.groups;
  auto entries = search({groups_base(),
                         ldap_scope(groups.scope),
                         group_filter(equality_filter(groups.name_attribute, name)),
                         {groups.name_attribute, groups.description_attribute, groups.member_attribute, "objectClass",
                          "entryUUID", "objectGUID", "gidNumber"},
                         0});
  RETURN_IF_ERROR(entries);
  for (auto& entry : *entries) {
    auto stored = entry.first(groups.name_attribute);
    if (stored && same_name(*stored, name)) return std::optional<LdapEntry>(std::move(entry));
  }
  return std::optional<LdapEntry>();
}

Result<std::string> LdapDirectory::group_name_of(const std::string& group_dn) {
  // The name is usually the RDN (cn=developers,...): no round trip then.
  if (auto rdn = first_rdn(group_dn); rdn && same_name(rdn->first, settings_.groups.name_attribute)) {
    return rdn->second;
  }
  auto entry = read_entry(group_dn, {settings_.groups.name_attribute});
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return std::string();
  return (*entry)->first(settings_.groups.name_attribute).value_or("");
}

Result<std::vector<std::string>> LdapDirectory::member_usernames(const LdapEntry& group, unsigned depth,
                                                                 std::set<std::string>& visited) {
  const auto& groups = settings_.groups;
  const auto& users = settings_.users;
  std::vector<std::string> usernames;
  const auto* members = group.values(groups.member_attribute);
  if (members == nullptr) return usernames;
  if (groups.member_format == config::MemberFormat::username) {
    for (const auto& member : *members) {
      if (!member.empty()) usernames.push_back(member);
    }
    return usernames;
  }
  for (const auto& member_dn : *members) {
    if (member_dn.empty()) continue;  // the placeholder of an "empty" groupOfNames
    auto normalized = normalize_dn(member_dn);
    if (!normalized || !visited.insert(*normalized).second) continue;  // cycles and repeats
    // A user DN usually names the username in its RDN (uid=alice,...).
    if (auto rdn = first_rdn(member_dn);
        rdn && same_name(rdn->first, users.username_attribute) && dn_is_under(member_dn, users_base())) {
      usernames.push_back(rdn->second);
      continue;
    }
    auto entry = read_entry(member_dn, {users.username_attribute, "objectClass", groups.member_attribute});
    RETURN_IF_ERROR(entry);
    if (!entry->has_value()) continue;
    if (has_object_class(**entry, groups.object_class)) {
      if (settings_.nested_groups && depth < settings_.nested_max_depth) {
        auto nested = member_usernames(**entry, depth + 1, visited);
        RETURN_IF_ERROR(nested);
        usernames.insert(usernames.end(), nested->begin(), nested->end());
      }
      continue;
    }
    if (auto username = (*entry)->first(users.username_attribute)) usernames.push_back(*username);
  }
  return usernames;
}

Result<std::optional<Group>> LdapDirectory::find_group(std::string_view name) {
  const std::string key = fold_name(name);
  if (auto hit = groups_.get(key)) return hit->value;
  auto entry = group_entry(name);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) {
    groups_.put_missing(key);
    return std::optional<Group>();
  }
  std::set<std::string> visited;
  if (auto self = normalize_dn((*entry)->dn)) visited.insert(*self);
  auto members = member_usernames(**entry, 0, visited);
  RETURN_IF_ERROR(members);
  std::sort(members->begin(), members->end(),
            [](const std::string& a, const std::string& b) { return fold_name(a) < fold_name(b); });
  members->erase(std::unique(members->begin(), members->end(),
                             [](const std::string& a, const std::string& b) { return same_name(a, b); }),
                 members->end());
  Group group{(*entry)->first(settings_.groups.name_attribute).value_or(std::string(name)),
              (*entry)->first(settings_.groups.description_attribute), name_, std::move(*members)};
  group.uuid = own_uuid(**entry);
  group.gid_number = own_number(**entry, "gidNumber");
  groups_.put(key, group);
  return std::optional<Group>(std::move(group));
}

Result<std::vector<std::string>> LdapDirectory::walk_groups_of(const UserEntry& user) {
  const auto& groups = settings_.groups;
  // Direct groups: from the user's memberOf-style attribute when configured,
  // else by searching groups whose member attribute names the user.
  std::vector<std::string> frontier;  // DNs of groups found at the current depth
  if (!groups.user_membership_attribute.empty()) {
    frontier = user.member_of;
  } else {
    const std::string member = groups.member_format == config::MemberFormat::dn ? user.dn : user.user.username;
    auto found = group_dns_matching(equality_filter(groups.member_attribute, member));
    RETURN_IF_ERROR(found);
    frontier = std::move(*found);
  }

  // Nested groups: a group that lists a found group as a member contains the
  // user too, up to nested_max_depth, each group visited once (cycles end).
  std::set<std::string> visited;
  std::vector<std::string> group_dns;
  for (unsigned depth = 0; !frontier.empty(); ++depth) {
    std::vector<std::string> next;
    for (const auto& dn : frontier) {
      auto normalized = normalize_dn(dn);
      if (!normalized || !visited.insert(*normalized).second) continue;
      group_dns.push_back(dn);
      next.push_back(dn);
    }
    if (!settings_.nested_groups || depth >= settings_.nested_max_depth ||
        groups.member_format != config::MemberFormat::dn || next.empty()) {
      break;
    }
    std::vector<std::string> conditions;
    for (const auto& dn : next) conditions.push_back(equality_filter(groups.member_attribute, dn));
    auto parents = group_dns_matching(or_filters(conditions));
    RETURN_IF_ERROR(parents);
    frontier = std::move(*parents);
  }

  return group_dns;
}

Result<std::vector<std::string>> LdapDirectory::group_dns_matching(const std::string& condition) {
  auto found = search({groups_base(), ldap_scope(settings_.groups.scope), group_filter(condition), {"1.1"}, 0});
  RETURN_IF_ERROR(found);
  std::vector<std::string> group_dns;
  group_dns.reserve(found->size());
  for (const auto& entry : *found) group_dns.push_back(entry.dn);
  return group_dns;
}

Result<std::vector<std::string>> LdapDirectory::groups_of(std::string_view username) {
  const std::string key = fold_name(username);
  if (auto hit = groups_of_.get(key)) return hit->value.value_or(std::vector<std::string>{});
  const auto& groups = settings_.groups;
  auto user = user_entry_by_name(username);
  RETURN_IF_ERROR(user);
  if (!user->has_value()) return std::vector<std::string>{};

  std::vector<std::string> group_dns;
  if (settings_.nested_groups && is_active_directory() && groups.member_format == config::MemberFormat::dn) {
    // AD follows the nesting itself: one search instead of a walk. It has no
    // depth limit, so nested_max_depth does not apply.
    auto in_chain = group_dns_matching(
        extensible_filter(groups.member_attribute, active_directory::kMatchingRuleInChain, (*user)->dn));
    RETURN_IF_ERROR(in_chain);
    group_dns = std::move(*in_chain);
  } else {
    auto walked = walk_groups_of(**user);
    RETURN_IF_ERROR(walked);
    group_dns = std::move(*walked);
  }

  std::vector<std::string> names;
  for (const auto& dn : group_dns) {
    if (!dn_is_under(dn, groups_base())) continue;  // memberOf may point anywhere
    auto group_name = group_name_of(dn);
    RETURN_IF_ERROR(group_name);
    if (!group_name->empty()) names.push_back(std::move(*group_name));
  }
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return fold_name(a) < fold_name(b); });
  groups_of_.put(key, names);
  return names;
}

// --- Writes ----------------------------------------------------------------------

// When `rc` says the connection is gone, the lease is discarded (which marks
// the server down for the pool) and the answer is directory_unavailable.
std::optional<Error> LdapDirectory::connection_lost(LdapConnectionPool::Lease& lease, int rc) const {
  if (!LdapConnectionPool::is_connection_error(rc)) return std::nullopt;
  std::string reason = error_text(lease.get(), rc);
  lease.discard(reason);
  return unavailable(std::move(reason));
}

// The server's access control refused the service account: for the caller
// this directory is read-only, whatever its configured permissions say.
Error LdapDirectory::refused_access(LDAP* ld, int rc) const {
  return make_error(ErrorCode::read_only, "directory '" + name_ + "' refused the change: " + error_text(ld, rc));
}

Result<void> LdapDirectory::check_writable() const {
  if (permissions_ != Permissions::read_write) {
    return fail(ErrorCode::read_only, "directory '" + name_ + "' is read-only");
  }
  return {};
}

void LdapDirectory::forget_everything() {
  users_by_name_.clear();
  users_by_email_.clear();
  groups_of_.clear();
  groups_.clear();
}

Result<void> LdapDirectory::modify(const std::string& dn, int operation, const std::string& attribute,
                                   const std::vector<std::string>& values) {
  return modify(dn, {Change{operation, attribute, values}});
}

Result<void> LdapDirectory::modify(const std::string& dn, const std::vector<Change>& changes, Payload payload,
                                   std::string_view password_field) {
  std::vector<std::unique_ptr<Modification>> owned;
  std::vector<LDAPMod*> mods;
  for (const auto& change : changes) {
    owned.push_back(std::make_unique<Modification>(change.operation, change.attribute, change.values));
    mods.push_back(owned.back()->get());
  }
  mods.push_back(nullptr);
  const bool only_adds =
      std::all_of(changes.begin(), changes.end(), [](const Change& c) { return c.operation == LDAP_MOD_ADD; });
  const bool deletes =
      std::any_of(changes.begin(), changes.end(), [](const Change& c) { return c.operation == LDAP_MOD_DELETE; });
  return metrics_.timed(DirectoryMetrics::Call::write, [&]() -> Result<void> {
    auto lease = pool_->acquire();
    RETURN_IF_ERROR(lease);
    const bool password = payload == Payload::ad_password;
    if (password && ldap_tls_inplace(lease->get()) == 0) {
      // The configuration requires TLS for this (config_loader); this is the
      // last line, should a connection ever come up without it.
      return fail(ErrorCode::internal_error, "directory '" + name_ + "': the connection to " + lease->uri() +
                                                 " is not encrypted, and Active Directory takes passwords only over "
                                                 "TLS (ldaps:// or start_tls: true); the password was not sent");
    }
    int rc = ldap_modify_ext_s(lease->get(), dn.c_str(), mods.data(), nullptr, nullptr);
    if (auto lost = connection_lost(*lease, rc)) return std::move(*lost);
    // Adding a value that is there, or removing one that is not, changes nothing.
    // (The operation is atomic: when it fails, nothing of it was applied.)
    // Not for a password: its delete is the old password, which must match.
    if (!password && ((rc == LDAP_TYPE_OR_VALUE_EXISTS && only_adds) || (rc == LDAP_NO_SUCH_ATTRIBUTE && deletes))) {
      return {};
    }
    if (rc == LDAP_NO_SUCH_OBJECT) {
      return fail(ErrorCode::not_found, "no entry " + dn + " in directory '" + name_ + "'");
    }
    if (rc == LDAP_INSUFFICIENT_ACCESS) return refused_access(lease->get(), rc);
    if (rc != LDAP_SUCCESS && password) {
      return active_directory::password_refusal(name_, rc, diagnostic_of(lease->get()), password_field);
    }
    if (rc != LDAP_SUCCESS) {
      return fail(ErrorCode::internal_error,
                  "directory '" + name_ + "': modify of " + dn + " failed: " + error_text(lease->get(), rc));
    }
    return {};
  });
}

Result<void> LdapDirectory::write_ad_password(const std::string& dn, std::string_view password,
                                              std::optional<std::string_view> old_password) {
  const std::string_view field = old_password ? "new_password" : "password";
  auto encoded = active_directory::unicode_password(password, field);
  RETURN_IF_ERROR(encoded);
  std::vector<Change> changes;
  if (old_password) {
    // MS-ADTS 3.1.1.3.1.5: a delete of the old value and an add of the new
    // one in one Modify is a change, which AD allows the user and checks
    // against the old password, the history and the minimum age.
    auto old_encoded = active_directory::unicode_password(*old_password, "old_password");
    RETURN_IF_ERROR(old_encoded);
    changes.push_back({LDAP_MOD_DELETE, "unicodePwd", {std::move(*old_encoded)}});
    changes.push_back({LDAP_MOD_ADD, "unicodePwd", {std::move(*encoded)}});
  } else {
    // A replace is a reset: an administrator's, without the old password.
    changes.push_back({LDAP_MOD_REPLACE, "unicodePwd", {std::move(*encoded)}});
  }
  auto written = modify(dn, changes, Payload::ad_password, field);
  for (auto& change : changes) {
    for (auto& value : change.values) std::fill(value.begin(), value.end(), '\0');
  }
  return written;
}

Result<void> LdapDirectory::finish_ad_account(const std::string& dn, const NewUser& user) {
  auto finished = [&]() -> Result<void> {
    if (user.password) {
      RETURN_IF_ERROR(write_ad_password(dn, *user.password, std::nullopt));
    } else {
      // Added without a password (the user sets one through a set-password
      // link): AD enables no account without a password its policy accepts,
      // and a link's set_password does not enable one. So the account gets a
      // random password that nobody knows, which the link replaces.
      std::string initial = random_initial_password();
      auto written = write_ad_password(dn, initial, std::nullopt);
      std::fill(initial.begin(), initial.end(), '\0');
      RETURN_IF_ERROR(written);
    }
    if (!user.active) return {};
    return modify(dn, LDAP_MOD_REPLACE, "userAccountControl", {std::to_string(active_directory::kNormalAccount)});
  }();
  if (!finished) {
    // No half-created users: the disabled entry is removed again.
    (void)delete_entry(dn, "user '" + user.username + "'");
  }
  return finished;
}

Result<void> LdapDirectory::write_password(const std::string& dn, std::string_view password) {
  // RFC 3062 Password Modify: the server hashes the password by its own
  // policy; the clear text is never stored in the entry by us.
  std::string secret(password);
  bool not_supported = false;
  auto written = metrics_.timed(DirectoryMetrics::Call::write, [&]() -> Result<void> {
    auto lease = pool_->acquire();
    RETURN_IF_ERROR(lease);
    std::string target = dn;
    berval user{static_cast<ber_len_t>(target.size()), target.data()};
    berval new_password{static_cast<ber_len_t>(secret.size()), secret.data()};
    berval generated{0, nullptr};
    int rc = ldap_passwd_s(lease->get(), &user, /*oldpw=*/nullptr, &new_password, &generated, nullptr, nullptr);
    if (generated.bv_val != nullptr) ber_memfree(generated.bv_val);
    if (rc == LDAP_PROTOCOL_ERROR || rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_NOT_SUPPORTED) {
      not_supported = true;
      return {};
    }
    if (auto lost = connection_lost(*lease, rc)) return std::move(*lost);
    if (rc == LDAP_INSUFFICIENT_ACCESS) return refused_access(lease->get(), rc);
    if (rc != LDAP_SUCCESS) {
      return fail(ErrorCode::internal_error,
                  "directory '" + name_ + "': password change failed: " + error_text(lease->get(), rc));
    }
    return {};
  });
  if (!not_supported) {
    std::fill(secret.begin(), secret.end(), '\0');
    return written;
  }
  // Fallback for servers without the extended operation: userPassword gets
  // a {CRYPT} hash made here, never the clear text (a plain modify is stored
  // as given by most servers).
  auto hashed = crypt_user_password(secret);
  std::fill(secret.begin(), secret.end(), '\0');
  RETURN_IF_ERROR(hashed);
  return modify(dn, LDAP_MOD_REPLACE, "userPassword", {*hashed});
}

Result<User> LdapDirectory::create_user(const NewUser& user) {
  RETURN_IF_ERROR(check_writable());
  if (user.password_hash) {
    // An LDAP server verifies its own password scheme; dirproxy's Argon2id
    // hash would lock the account out.
    return fail(ErrorCode::read_only, "directory '" + name_ +
                                          "' cannot store an account whose password was hashed by dirproxy (a "
                                          "confirmed signup); put a read_write internal directory first");
  }
  const auto& users = settings_.users;
  // The RDN is the username unless the schema names entries by display name
  // (AD's cn=Alice Liddell).
  std::string rdn_value = user.username;
  if (same_name(users.rdn_attribute, users.display_name_attribute) &&
      !same_name(users.rdn_attribute, users.username_attribute)) {
    rdn_value = user.display_name;
  }
  auto made = make_dn(users.rdn_attribute, rdn_value, users_base());
  RETURN_IF_ERROR(made);
  const std::string dn = std::move(*made);

  std::map<std::string, std::vector<std::string>> attributes;  // keyed by lower-cased name
  std::map<std::string, std::string> spelling;
  auto set = [&](const std::string& attribute, const std::optional<std::string>& value) {
    if (!value || value->empty()) return;
    attributes[ascii_lower(attribute)] = {*value};
    spelling[ascii_lower(attribute)] = attribute;
  };
  attributes["objectclass"] = users.create_object_classes;
  spelling["objectclass"] = "objectClass";
  set(users.rdn_attribute, rdn_value);
  set(users.username_attribute, user.username);
  set(users.email_attribute, user.email);
  set(users.display_name_attribute, user.display_name);
  set(users.first_name_attribute, user.first_name);
  set(users.last_name_attribute, user.last_name);
  if (is_active_directory()) {
    // Disabled until its password is set (finish_ad_account): AD refuses an
    // enabled account whose password does not meet the domain's policy.
    set("userAccountControl", std::to_string(active_directory::kDisabledNormalAccount));
    // The logon name user@domain that Windows offers next to DOMAIN\user.
    if (const std::string domain = active_directory::dns_domain_of(settings_.base_dn); !domain.empty()) {
      if (!attributes.contains("userprincipalname")) set("userPrincipalName", user.username + "@" + domain);
    }
  }
  // person requires cn and sn: fill them from the names we have.
  if (!attributes.contains("cn")) set("cn", user.display_name);
  if (!attributes.contains("sn"))
    set("sn", user.last_name ? user.last_name : std::optional<std::string>(user.display_name));

  std::vector<std::unique_ptr<Modification>> owned;
  std::vector<LDAPMod*> mods;
  for (const auto& [key, values] : attributes) {
    owned.push_back(std::make_unique<Modification>(LDAP_MOD_ADD, spelling[key], values));
    mods.push_back(owned.back()->get());
  }
  mods.push_back(nullptr);
  auto added = metrics_.timed(DirectoryMetrics::Call::write, [&]() -> Result<void> {
    auto lease = pool_->acquire();
    RETURN_IF_ERROR(lease);
    int rc = ldap_add_ext_s(lease->get(), dn.c_str(), mods.data(), nullptr, nullptr);
    if (auto lost = connection_lost(*lease, rc)) return std::move(*lost);
    if (rc == LDAP_ALREADY_EXISTS) {
      return fail(ErrorCode::conflict, "an entry " + dn + " exists in directory '" + name_ + "'", "username");
    }
    if (rc == LDAP_INSUFFICIENT_ACCESS) return refused_access(lease->get(), rc);
    if (rc != LDAP_SUCCESS) {
      return fail(ErrorCode::internal_error,
                  "directory '" + name_ + "': adding " + dn + " failed: " + error_text(lease->get(), rc));
    }
    return {};
  });
  RETURN_IF_ERROR(added);
  forget_everything();
  if (is_active_directory()) {
    RETURN_IF_ERROR(finish_ad_account(dn, user));
  } else if (user.password) {
    if (auto written = write_password(dn, *user.password); !written) {
      // No half-created users: an account whose password could not be set
      // is removed again.
      (void)delete_entry(dn, "user '" + user.username + "'");
      return std::move(written).error();
    }
  }
  auto created = user_entry_by_name(user.username);
  RETURN_IF_ERROR(created);
  if (!created->has_value()) {
    return fail(ErrorCode::internal_error,
                "directory '" + name_ + "': the new entry " + dn + " is not found by the configured user search");
  }
  return (*created)->user;
}

Result<User> LdapDirectory::update_user(std::string_view username, const UserChanges& changes) {
  RETURN_IF_ERROR(check_writable());
  auto entry = user_entry_by_name(username);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return fail(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  const auto& users = settings_.users;
  const std::string dn = (*entry)->dn;
  auto change = [&](const std::string& attribute, const std::optional<std::string>& value) -> Result<void> {
    if (!value) return {};
    if (value->empty()) return modify(dn, LDAP_MOD_DELETE, attribute, {});
    return modify(dn, LDAP_MOD_REPLACE, attribute, {*value});
  };
  for (auto [attribute, value] :
       {std::pair{users.email_attribute, changes.email}, std::pair{users.display_name_attribute, changes.display_name},
        std::pair{users.first_name_attribute, changes.first_name},
        std::pair{users.last_name_attribute, changes.last_name}}) {
    if (auto ok = change(attribute, value); !ok) {
      forget_everything();
      return std::move(ok).error();
    }
  }
  if (changes.active) {
    if (users.disabled_attribute.empty() || users.disabled_bitmask == 0) {
      forget_everything();
      return fail(ErrorCode::bad_request,
                  "directory '" + name_ + "' has no disabled_attribute: 'active' cannot be changed there", "active");
    }
    auto current = read_entry(dn, {users.disabled_attribute});
    RETURN_IF_ERROR(current);
    std::uint64_t flags = 0;
    if (current->has_value()) {
      if (auto text = (*current)->first(users.disabled_attribute)) flags = std::strtoull(text->c_str(), nullptr, 10);
    }
    flags = *changes.active ? (flags & ~users.disabled_bitmask) : (flags | users.disabled_bitmask);
    if (auto ok = modify(dn, LDAP_MOD_REPLACE, users.disabled_attribute, {std::to_string(flags)}); !ok) {
      forget_everything();
      return std::move(ok).error();
    }
  }
  forget_everything();
  auto updated = user_entry_by_name(username);
  RETURN_IF_ERROR(updated);
  if (!updated->has_value()) return fail(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  return (*updated)->user;
}

Result<void> LdapDirectory::delete_user(std::string_view username) {
  RETURN_IF_ERROR(check_writable());
  auto entry = user_entry_by_name(username);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return fail(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  if (auto deleted = delete_entry((*entry)->dn, "user '" + std::string(username) + "'"); !deleted) return deleted;
  // Without the server's referential integrity, the groups would keep
  // listing the deleted DN and hand its memberships to the next account of
  // that name: take it out of them here.
  const auto& groups = settings_.groups;
  const std::string member = groups.member_format == config::MemberFormat::dn ? (*entry)->dn : (*entry)->user.username;
  auto holding = search({groups_base(),
                         ldap_scope(groups.scope),
                         group_filter(equality_filter(groups.member_attribute, member)),
                         {groups.member_attribute, "objectClass"},
                         0});
  RETURN_IF_ERROR(holding);
  for (const auto& group : *holding) {
    if (auto removed = remove_from_group(group, member); !removed) return removed;
  }
  forget_everything();
  return {};
}

Result<std::string> LdapDirectory::writable_user_dn(std::string_view username) {
  RETURN_IF_ERROR(check_writable());
  auto entry = user_entry_by_name(username);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return fail(ErrorCode::not_found, "no user '" + std::string(username) + "'");
  return (*entry)->dn;
}

Result<void> LdapDirectory::set_password(std::string_view username, std::string_view password) {
  auto dn = writable_user_dn(username);
  RETURN_IF_ERROR(dn);
  if (is_active_directory()) return write_ad_password(*dn, password, std::nullopt);
  return write_password(*dn, password);
}

Result<void> LdapDirectory::change_password(std::string_view username, std::string_view old_password,
                                            std::string_view new_password) {
  if (!is_active_directory()) return set_password(username, new_password);
  auto dn = writable_user_dn(username);
  RETURN_IF_ERROR(dn);
  return write_ad_password(*dn, new_password, old_password);
}

Result<Group> LdapDirectory::create_group(std::string_view name, const std::optional<std::string>& description) {
  RETURN_IF_ERROR(check_writable());
  const auto& groups = settings_.groups;
  auto made = make_dn(groups.name_attribute, name, groups_base());
  RETURN_IF_ERROR(made);
  const std::string dn = std::move(*made);
  std::vector<std::unique_ptr<Modification>> owned;
  owned.push_back(
      std::make_unique<Modification>(LDAP_MOD_ADD, "objectClass", std::vector<std::string>{groups.object_class}));
  owned.push_back(
      std::make_unique<Modification>(LDAP_MOD_ADD, groups.name_attribute, std::vector<std::string>{std::string(name)}));
  if (description && !description->empty()) {
    owned.push_back(std::make_unique<Modification>(LDAP_MOD_ADD, groups.description_attribute,
                                                   std::vector<std::string>{*description}));
  }
  if (groups.member_format == config::MemberFormat::dn && same_name(groups.object_class, "groupOfNames")) {
    // groupOfNames must have a member; the empty DN is the customary
    // placeholder and is skipped when members are read.
    owned.push_back(
        std::make_unique<Modification>(LDAP_MOD_ADD, groups.member_attribute, std::vector<std::string>{""}));
  }
  std::vector<LDAPMod*> mods;
  for (auto& mod : owned) mods.push_back(mod->get());
  mods.push_back(nullptr);
  return metrics_.timed(DirectoryMetrics::Call::write, [&]() -> Result<Group> {
    auto lease = pool_->acquire();
    RETURN_IF_ERROR(lease);
    int rc = ldap_add_ext_s(lease->get(), dn.c_str(), mods.data(), nullptr, nullptr);
    forget_everything();
    if (auto lost = connection_lost(*lease, rc)) return std::move(*lost);
    if (rc == LDAP_ALREADY_EXISTS) {
      return fail(ErrorCode::conflict, "group '" + std::string(name) + "' exists", "name");
    }
    if (rc == LDAP_INSUFFICIENT_ACCESS) return refused_access(lease->get(), rc);
    if (rc != LDAP_SUCCESS) {
      return fail(ErrorCode::internal_error,
                  "directory '" + name_ + "': adding " + dn + " failed: " + error_text(lease->get(), rc));
    }
    return Group{std::string(name), description, name_, {}};
  });
}

Result<void> LdapDirectory::delete_group(std::string_view name) {
  RETURN_IF_ERROR(check_writable());
  auto entry = group_entry(name);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return fail(ErrorCode::not_found, "no group '" + std::string(name) + "'");
  return delete_entry((*entry)->dn, "group '" + std::string(name) + "'");
}

Result<void> LdapDirectory::delete_entry(const std::string& dn, const std::string& what) {
  return metrics_.timed(DirectoryMetrics::Call::write, [&]() -> Result<void> {
    auto lease = pool_->acquire();
    RETURN_IF_ERROR(lease);
    int rc = ldap_delete_ext_s(lease->get(), dn.c_str(), /*serverctrls=*/nullptr, /*clientctrls=*/nullptr);
    forget_everything();
    if (auto lost = connection_lost(*lease, rc)) return std::move(*lost);
    if (rc == LDAP_NO_SUCH_OBJECT) return fail(ErrorCode::not_found, "no " + what + " in directory '" + name_ + "'");
    if (rc == LDAP_INSUFFICIENT_ACCESS) return refused_access(lease->get(), rc);
    if (rc != LDAP_SUCCESS) {
      return fail(ErrorCode::internal_error,
                  "directory '" + name_ + "': deleting " + dn + " failed: " + error_text(lease->get(), rc));
    }
    return {};
  });
}

Result<std::optional<LdapDirectory::Membership>> LdapDirectory::membership(std::string_view group,
                                                                           std::string_view username) {
  RETURN_IF_ERROR(check_writable());
  auto entry = group_entry(group);
  RETURN_IF_ERROR(entry);
  if (!entry->has_value()) return fail(ErrorCode::not_found, "no group '" + std::string(group) + "'");
  std::string member(username);
  if (settings_.groups.member_format == config::MemberFormat::dn) {
    auto user = user_entry_by_name(username);
    RETURN_IF_ERROR(user);
    if (!user->has_value()) return std::optional<Membership>();  // no DN here to list
    member = (*user)->dn;
  }
  return std::optional<Membership>(Membership{std::move(**entry), std::move(member)});
}

Result<void> LdapDirectory::add_member(std::string_view group, std::string_view username) {
  auto found = membership(group, username);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) {
    return fail(
        ErrorCode::bad_request,
        "user '" + std::string(username) + "' is not in directory '" + name_ + "', so its groups cannot list it by DN",
        "username");
  }
  auto added = modify((*found)->group.dn, LDAP_MOD_ADD, settings_.groups.member_attribute, {(*found)->member});
  forget_everything();
  return added;
}

Result<void> LdapDirectory::remove_member(std::string_view group, std::string_view username) {
  auto found = membership(group, username);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return {};  // not a user here, so not a DN member either
  auto removed = remove_from_group((*found)->group, (*found)->member);
  forget_everything();
  return removed;
}

Result<void> LdapDirectory::remove_from_group(const LdapEntry& group, const std::string& member) {
  const auto& groups = settings_.groups;
  std::vector<Change> changes = {{LDAP_MOD_DELETE, groups.member_attribute, {member}}};
  if (groups.member_format == config::MemberFormat::dn && has_object_class(group, "groupOfNames")) {
    // groupOfNames must keep a member: when this is the last real one, the
    // empty-DN placeholder goes in by the same operation.
    std::size_t remaining = 0;
    if (const auto* members = group.values(groups.member_attribute)) {
      for (const auto& value : *members) {
        if (!value.empty() && normalize_dn(value) != normalize_dn(member)) ++remaining;
      }
      const bool has_placeholder = std::find(members->begin(), members->end(), "") != members->end();
      if (remaining == 0 && !has_placeholder)
        changes.insert(changes.begin(), {LDAP_MOD_ADD, groups.member_attribute, {""}});
    }
  }
  return modify(group.dn, changes);
}

DirectoryStatus LdapDirectory::status() {
  // A live answer: taking a connection connects (and binds) when none is
  // open yet, so a directory never contacted is not reported "up".
  { auto probe = pool_->acquire(); }
  return pool_->status();
}

DirectoryHealth LdapDirectory::health() const { return DirectoryHealth{pool_->status().up, pool_->use()}; }

}  // namespace dirproxy
