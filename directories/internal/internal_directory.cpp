#include "directories/internal/internal_directory.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <limits>
#include <utility>

#include "core/names.hpp"
#include "core/timestamp.hpp"

namespace dirproxy {

namespace {

using Lease = StateDatabase::Lease;

// The columns read_user() expects, in its order.
constexpr std::string_view kUserColumns =
    "username, email, display_name, first_name, last_name, active, created_at, updated_at";

std::string select_users(std::string_view rest) {
  return "SELECT " + std::string(kUserColumns) + " FROM users " + std::string(rest);
}

// Reads kUserColumns starting at column `first`.
User read_user(const SqlStatement& row, const std::string& directory, int first = 0) {
  User user;
  user.username = row.column_text(first);
  user.email = row.column_optional_text(first + 1);
  user.display_name = row.column_optional_text(first + 2);
  user.first_name = row.column_optional_text(first + 3);
  user.last_name = row.column_optional_text(first + 4);
  user.active = row.column_int64(first + 5) != 0;
  user.directory = directory;
  user.created_at = parse_rfc3339(row.column_text(first + 6));
  user.modified_at = parse_rfc3339(row.column_text(first + 7));
  return user;
}

// LIMIT's parameter: `limit` as SQLite's integer.
std::int64_t row_limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

// Optional fields are stored as NULL rather than "", so that callers see one
// spelling of "not set" (std::nullopt, JSON null).
std::optional<std::string> nullable(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<std::string> nullable(const std::string& text) { return nullable(std::string_view(text)); }

std::optional<std::string> nullable(const std::optional<std::string>& text) {
  return text ? nullable(std::string_view(*text)) : std::nullopt;
}

// A LIKE pattern matching `query` anywhere, with LIKE's wildcards and the
// escape character itself escaped (used with ESCAPE '\').
std::string contains_pattern(std::string_view query) {
  std::string pattern = "%";
  for (const char c : query) {
    if (c == '%' || c == '_' || c == '\\') {
      pattern += '\\';
    }
    pattern += c;
  }
  pattern += '%';
  return pattern;
}

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

Error no_user(std::string_view username) { return make_error(ErrorCode::not_found, "no user " + in_quotes(username)); }

Error no_group(std::string_view name) { return make_error(ErrorCode::not_found, "no group " + in_quotes(name)); }

// The id of the group called `name`, nullopt when there is none.
Result<std::optional<std::int64_t>> find_group_id(const StateDatabase::Lease& lease, std::string_view name) {
  auto statement = lease.prepare("SELECT id FROM groups WHERE name = ?1", name);
  RETURN_IF_ERROR(statement);
  auto row = statement->step();
  RETURN_IF_ERROR(row);
  if (!*row) {
    return std::optional<std::int64_t>();
  }
  return std::optional<std::int64_t>(statement->column_int64(0));
}

// Whether the query (prepared with its parameters) returns at least one row.
Result<bool> has_row(Result<SqlStatement> statement) {
  RETURN_IF_ERROR(statement);
  return statement->step();
}

// The user on the first row of the query, nullopt when there is none.
Result<std::optional<User>> first_user(Result<SqlStatement> statement, const std::string& directory) {
  RETURN_IF_ERROR(statement);
  auto row = statement->step();
  RETURN_IF_ERROR(row);
  if (!*row) {
    return std::optional<User>();
  }
  return std::optional<User>(read_user(*statement, directory));
}

// The users on every row of the query.
Result<std::vector<User>> all_users(Result<SqlStatement> statement, const std::string& directory) {
  RETURN_IF_ERROR(statement);
  std::vector<User> users;
  for (;;) {
    auto row = statement->step();
    RETURN_IF_ERROR(row);
    if (!*row) {
      return users;
    }
    users.push_back(read_user(*statement, directory));
  }
}

// Runs a statement that returns no rows.
Result<void> run(Result<SqlStatement> statement) {
  RETURN_IF_ERROR(statement);
  return statement->run();
}

}  // namespace

InternalDirectory::InternalDirectory(const config::DirectoryConfig& config, StateDatabasePtr database,
                                     PasswordHasherPtr hasher, bool unique_email, ClockPtr clock,
                                     IdentityStorePtr identities)
    : name_(config.name),
      permissions_(config.permissions),
      on_unavailable_(config.on_unavailable),
      database_(std::move(database)),
      hasher_(std::move(hasher)),
      unique_email_(unique_email),
      clock_(std::move(clock)),
      identities_(std::move(identities)) {}

std::string InternalDirectory::now_rfc3339() const { return rfc3339(clock_->unix_seconds()); }

Result<void> InternalDirectory::check_user_writes() const {
  if (permissions_ != Permissions::read_write) {
    return fail(ErrorCode::read_only, "directory " + in_quotes(name_) + " is read-only");
  }
  return {};
}

Result<void> InternalDirectory::check_group_writes() const {
  if (permissions_ == Permissions::read_only) {
    return fail(ErrorCode::read_only, "directory " + in_quotes(name_) + " is read-only");
  }
  return {};
}

// --- Lookups ----------------------------------------------------------------

Result<std::optional<User>> InternalDirectory::find_user_by_name(std::string_view username) {
  auto lease = database_->acquire();
  return first_user(lease.prepare(select_users("WHERE username = ?1"), username), name_);
}

Result<std::optional<User>> InternalDirectory::find_user_by_email(std::string_view email) {
  // ORDER BY uses the column's NOCASE collation, like every name comparison.
  auto lease = database_->acquire();
  return first_user(lease.prepare(select_users("WHERE email = ?1 ORDER BY username LIMIT 1"), email), name_);
}

Result<AuthOutcome> InternalDirectory::authenticate(const User& user, std::string_view password) {
  std::optional<std::string> stored_hash;
  bool active = false;
  {
    // Only the read holds the connection; the verify below takes ~50 ms.
    auto lease = database_->acquire();
    auto statement = lease.prepare("SELECT password_hash, active FROM users WHERE username = ?1", user.username);
    RETURN_IF_ERROR(statement);
    auto row = statement->step();
    RETURN_IF_ERROR(row);
    if (*row) {
      stored_hash = statement->column_optional_text(0);
      active = statement->column_int64(1) != 0;
    }
  }
  if (!stored_hash) {
    // Unknown user or no password yet: the same work as a wrong password.
    hasher_->dummy_verify(password);
    return AuthOutcome::wrong_password;
  }
  if (!hasher_->verify(*stored_hash, password)) {
    return AuthOutcome::wrong_password;
  }
  if (!active) {
    return AuthOutcome::disabled;
  }
  if (hasher_->needs_rehash(*stored_hash)) {
    rehash(user.username, *stored_hash, password);
  }
  return AuthOutcome::success;
}

void InternalDirectory::rehash(std::string_view username, const std::string& old_hash, std::string_view password) {
  auto fresh = hasher_->hash(password);
  if (!fresh) {
    return;
  }
  // Only replaces the hash just verified: a password set meanwhile wins.
  auto lease = database_->acquire();
  static_cast<void>(run(lease.prepare("UPDATE users SET password_hash = ?1 WHERE username = ?2 AND password_hash = ?3",
                                      *fresh, username, old_hash)));
}

Result<std::vector<User>> InternalDirectory::search_users(std::string_view query, std::size_t limit) {
  // Every comparison ignores ASCII case only, like COLLATE NOCASE: SQLite's
  // LIKE does, PostgreSQL's does on citext (username, email), and lower()
  // folds ASCII only on both (PostgreSQL's database has locale C). The
  // empty query gives "%%", which matches every username.
  const auto max_rows = row_limit(limit);
  auto lease = database_->acquire();
  auto statement = lease.prepare(select_users("WHERE username LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\'"
                                              " OR lower(display_name) LIKE lower(?1) ESCAPE '\\' ORDER BY username LIMIT ?2"),
                                 contains_pattern(query), max_rows);
  return all_users(std::move(statement), name_);
}

Result<std::vector<User>> InternalDirectory::list_users(std::string_view after, std::size_t limit) {
  // The comparison and the order use the column's NOCASE collation, which
  // folds as fold_name does.
  auto lease = database_->acquire();
  return all_users(
      lease.prepare(select_users("WHERE username > ?1 ORDER BY username LIMIT ?2"), after, row_limit(limit)), name_);
}

Result<std::vector<Group>> InternalDirectory::list_groups(std::string_view after, std::size_t limit) {
  // One query for the page and its members, in one snapshot: a group
  // without members comes as one row with a NULL username.
  auto lease = database_->acquire();
  auto statement = lease.prepare(
      "SELECT g.name, g.description, m.username FROM"
      " (SELECT id, name, description FROM groups WHERE name > ?1 ORDER BY name LIMIT ?2) g"
      " LEFT JOIN memberships m ON m.group_id = g.id ORDER BY g.name, m.username",
      after, row_limit(limit));
  RETURN_IF_ERROR(statement);
  std::vector<Group> groups;
  for (;;) {
    auto row = statement->step();
    RETURN_IF_ERROR(row);
    if (!*row) {
      return groups;
    }
    std::string group_name = statement->column_text(0);
    if (groups.empty() || groups.back().name != group_name) {
      Group group;
      group.name = std::move(group_name);
      group.description = statement->column_optional_text(1);
      group.directory = name_;
      groups.push_back(std::move(group));
    }
    if (auto member = statement->column_optional_text(2)) {
      groups.back().members.push_back(std::move(*member));
    }
  }
}

Result<std::vector<std::string>> InternalDirectory::groups_of(std::string_view username) {
  auto lease = database_->acquire();
  auto statement = lease.prepare(
      "SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id"
      " WHERE m.username = ?1 ORDER BY g.name",
      username);
  RETURN_IF_ERROR(statement);
  std::vector<std::string> names;
  for (;;) {
    auto row = statement->step();
    RETURN_IF_ERROR(row);
    if (!*row) {
      return names;
    }
    names.push_back(statement->column_text(0));
  }
}

Result<std::optional<Group>> InternalDirectory::find_group(std::string_view name) {
  // One snapshot for the group and its members.
  auto read_group = [&](const Lease& lease) -> Result<std::optional<Group>> {
    auto group_row = lease.prepare("SELECT id, name, description FROM groups WHERE name = ?1", name);
    RETURN_IF_ERROR(group_row);
    auto found = group_row->step();
    RETURN_IF_ERROR(found);
    if (!*found) {
      return std::optional<Group>();
    }
    Group group;
    const std::int64_t id = group_row->column_int64(0);
    group.name = group_row->column_text(1);
    group.description = group_row->column_optional_text(2);
    group.directory = name_;

    auto members = lease.prepare("SELECT username FROM memberships WHERE group_id = ?1 ORDER BY username", id);
    RETURN_IF_ERROR(members);
    for (;;) {
      auto row = members->step();
      RETURN_IF_ERROR(row);
      if (!*row) {
        break;
      }
      group.members.push_back(members->column_text(0));
    }
    return std::optional<Group>(std::move(group));
  };
  return database_->acquire().transaction(TransactionMode::read, read_group);
}

// --- Writes -----------------------------------------------------------------

Result<User> InternalDirectory::create_user(const NewUser& new_user) {
  RETURN_IF_ERROR(check_user_writes());
  // Hash before taking the write lock: Argon2id must not stall other writers.
  std::optional<std::string> password_hash = new_user.password_hash;
  if (new_user.password && !password_hash) {
    auto hashed = hasher_->hash(*new_user.password);
    RETURN_IF_ERROR(hashed);
    password_hash = std::move(hashed).value();
  }
  User user;
  user.username = new_user.username;
  user.email = nullable(new_user.email);
  user.display_name = nullable(new_user.display_name);
  user.first_name = nullable(new_user.first_name);
  user.last_name = nullable(new_user.last_name);
  user.active = new_user.active;
  user.directory = name_;
  const std::int64_t now_seconds = clock_->unix_seconds();
  user.created_at = now_seconds;
  user.modified_at = now_seconds;
  const std::string now = rfc3339(now_seconds);

  // IMMEDIATE: the uniqueness checks and the insert see no other writer.
  return database_->acquire().write_transaction([&](const Lease& lease) -> Result<User> {
    auto taken = has_row(lease.prepare("SELECT 1 FROM users WHERE username = ?1", user.username));
    RETURN_IF_ERROR(taken);
    if (*taken) {
      return fail(ErrorCode::conflict, "user " + in_quotes(user.username) + " already exists", "username");
    }
    if (unique_email_ && user.email) {
      auto email_taken = has_row(lease.prepare("SELECT 1 FROM users WHERE email = ?1 LIMIT 1", *user.email));
      RETURN_IF_ERROR(email_taken);
      if (*email_taken) {
        return fail(ErrorCode::conflict, "email " + in_quotes(*user.email) + " is already in use", "email");
      }
    }
    RETURN_IF_ERROR(
        run(lease.prepare("INSERT INTO users (username, email, display_name, first_name, last_name, active,"
                          " password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                          user.username, user.email, user.display_name, user.first_name, user.last_name,
                          std::int64_t{user.active ? 1 : 0}, password_hash, now)));
    return user;
  });
}

Result<User> InternalDirectory::update_user(std::string_view username, const UserChanges& changes) {
  RETURN_IF_ERROR(check_user_writes());
  return database_->acquire().write_transaction([&](const Lease& lease) -> Result<User> {
    std::int64_t id = 0;
    User user;
    {
      auto current =
          lease.prepare("SELECT id, " + std::string(kUserColumns) + " FROM users WHERE username = ?1", username);
      RETURN_IF_ERROR(current);
      auto row = current->step();
      RETURN_IF_ERROR(row);
      if (!*row) {
        return no_user(username);
      }
      id = current->column_int64(0);
      user = read_user(*current, name_, /*first=*/1);
    }
    if (changes.empty()) {
      return user;
    }

    const std::optional<std::string> old_email = user.email;
    if (changes.email) {
      user.email = nullable(*changes.email);
    }
    if (changes.display_name) {
      user.display_name = nullable(*changes.display_name);
    }
    if (changes.first_name) {
      user.first_name = nullable(*changes.first_name);
    }
    if (changes.last_name) {
      user.last_name = nullable(*changes.last_name);
    }
    if (changes.active) {
      user.active = *changes.active;
    }
    // Only a changed email is checked, so an update of other fields still
    // works for accounts that share an email from before unique_email was on.
    const bool email_changed = user.email && !(old_email && same_name(*old_email, *user.email));
    if (unique_email_ && email_changed) {
      auto email_taken =
          has_row(lease.prepare("SELECT 1 FROM users WHERE email = ?1 AND id <> ?2 LIMIT 1", *user.email, id));
      RETURN_IF_ERROR(email_taken);
      if (*email_taken) {
        return fail(ErrorCode::conflict, "email " + in_quotes(*user.email) + " is already in use", "email");
      }
    }
    const std::int64_t now = clock_->unix_seconds();
    user.modified_at = now;
    RETURN_IF_ERROR(
        run(lease.prepare("UPDATE users SET email = ?1, display_name = ?2, first_name = ?3, last_name = ?4,"
                          " active = ?5, updated_at = ?6 WHERE id = ?7",
                          user.email, user.display_name, user.first_name, user.last_name,
                          std::int64_t{user.active ? 1 : 0}, rfc3339(now), id)));
    return user;
  });
}

Result<void> InternalDirectory::delete_user(std::string_view username) {
  if (auto allowed = check_user_writes(); !allowed) {
    return allowed;
  }
  auto deleted = database_->acquire().write_transaction([&](const Lease& lease) -> Result<void> {
    RETURN_IF_ERROR(run(lease.prepare("DELETE FROM users WHERE username = ?1", username)));
    if (lease.changes() == 0) {
      return no_user(username);
    }
    // Memberships are keyed by username, not by users.id, so no cascade
    // removes them; a later account with this name must not inherit them.
    RETURN_IF_ERROR(run(lease.prepare("DELETE FROM memberships WHERE username = ?1", username)));
    // Nor its uuid and uidNumber.
    return retire_identity(lease, IdentityKind::user, username);
  });
  forget_identity(IdentityKind::user, username);
  return deleted;
}

Result<void> InternalDirectory::set_password(std::string_view username, std::string_view password) {
  if (auto allowed = check_user_writes(); !allowed) {
    return allowed;
  }
  auto hashed = hasher_->hash(password);  // before taking a connection
  RETURN_IF_ERROR(hashed);
  auto lease = database_->acquire();
  if (auto updated = run(lease.prepare("UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE username = ?3",
                                       *hashed, now_rfc3339(), username));
      !updated) {
    return updated;
  }
  if (lease.changes() == 0) {
    return no_user(username);
  }
  return {};
}

Result<Group> InternalDirectory::create_group(std::string_view name, const std::optional<std::string>& description) {
  RETURN_IF_ERROR(check_group_writes());
  Group group;
  group.name = std::string(name);
  group.description = nullable(description);
  group.directory = name_;

  return database_->acquire().write_transaction([&](const Lease& lease) -> Result<Group> {
    auto taken = has_row(lease.prepare("SELECT 1 FROM groups WHERE name = ?1", group.name));
    RETURN_IF_ERROR(taken);
    if (*taken) {
      return fail(ErrorCode::conflict, "group " + in_quotes(group.name) + " already exists", "name");
    }
    const std::string now = now_rfc3339();
    RETURN_IF_ERROR(
        run(lease.prepare("INSERT INTO groups (name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                          group.name, group.description, now)));
    return group;
  });
}

Result<void> InternalDirectory::delete_group(std::string_view name) {
  if (auto allowed = check_group_writes(); !allowed) {
    return allowed;
  }
  // Memberships go with it: ON DELETE CASCADE, foreign_keys=ON.
  auto deleted = database_->acquire().write_transaction([&](const Lease& lease) -> Result<void> {
    RETURN_IF_ERROR(run(lease.prepare("DELETE FROM groups WHERE name = ?1", name)));
    if (lease.changes() == 0) {
      return no_group(name);
    }
    return retire_identity(lease, IdentityKind::group, name);
  });
  forget_identity(IdentityKind::group, name);
  return deleted;
}

Result<void> InternalDirectory::retire_identity(const Lease& lease, IdentityKind kind, std::string_view name) {
  if (!identities_) {
    return {};
  }
  return identities_->retire(lease, kind, name_, name);
}

void InternalDirectory::forget_identity(IdentityKind kind, std::string_view name) {
  // Again after the commit: a lookup between retire() and the commit read
  // the identity as it still was and may have cached it.
  if (identities_) {
    identities_->forget(kind, name_, name);
  }
}

Result<void> InternalDirectory::add_member(std::string_view group, std::string_view username) {
  // A user of this directory is listed under its stored spelling; any other
  // name (a user of another directory) as given.
  return change_membership(group, username,
                           "INSERT INTO memberships (group_id, username)"
                           " VALUES (?1, COALESCE((SELECT username FROM users WHERE username = ?2), ?2))"
                           " ON CONFLICT DO NOTHING");
}

Result<void> InternalDirectory::remove_member(std::string_view group, std::string_view username) {
  return change_membership(group, username, "DELETE FROM memberships WHERE group_id = ?1 AND username = ?2");
}

Result<void> InternalDirectory::change_membership(std::string_view group, std::string_view username,
                                                  std::string_view sql) {
  if (auto allowed = check_group_writes(); !allowed) {
    return allowed;
  }
  return database_->acquire().write_transaction([&](const Lease& lease) -> Result<void> {
    auto group_id = find_group_id(lease, group);
    RETURN_IF_ERROR(group_id);
    if (!*group_id) {
      return no_group(group);
    }
    RETURN_IF_ERROR(run(lease.prepare(sql, **group_id, username)));
    // An unchanged member list leaves the group's updated_at alone.
    if (lease.changes() > 0) {
      RETURN_IF_ERROR(run(lease.prepare("UPDATE groups SET updated_at = ?1 WHERE id = ?2", now_rfc3339(), **group_id)));
    }
    return {};
  });
}

// --- Status -----------------------------------------------------------------

DirectoryStatus InternalDirectory::status() {
  DirectoryStatus status;
  auto lease = database_->acquire();
  auto statement = lease.prepare("SELECT COUNT(*) FROM users");
  Result<bool> row = statement ? statement->step() : Result<bool>(statement.error());
  if (!row || !*row) {
    status.up = false;
    status.detail = row ? "no result from COUNT(*)" : row.error().message;
    return status;
  }
  status.users = static_cast<std::size_t>(statement->column_int64(0));
  return status;
}

}  // namespace dirproxy
