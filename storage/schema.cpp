#include "storage/schema.hpp"

#include <algorithm>
#include <iterator>
#include <regex>
#include <vector>

namespace dirproxy {

namespace {

// One forward migration per version, applied in order. A migration is never
// edited once released: a change is a new migration.

// Note on COLLATE NOCASE: it folds ASCII letters only, so "Ä" and "ä" are
// different names. Usernames are limited by accounts.username_pattern (ASCII
// by default); emails are lower-cased by the daemon before they get here.
//
// memberships.username is not a foreign key to users: an internal group may
// list users of any directory (LDAP users too), which is what
// read_only_local_groups relies on.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email         TEXT COLLATE NOCASE,
  display_name  TEXT,
  first_name    TEXT,
  last_name     TEXT,
  active        INTEGER NOT NULL DEFAULT 1,
  password_hash TEXT,              -- NULL: the account cannot log in yet
  created_at    TEXT NOT NULL,     -- RFC 3339, UTC
  updated_at    TEXT NOT NULL
);
CREATE INDEX users_email ON users (email);

CREATE TABLE groups (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  description TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE memberships (
  group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  username TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY (group_id, username)
) WITHOUT ROWID;
CREATE INDEX memberships_username ON memberships (username);
)sql"},
    // The account life cycle (daemon/): tokens, invitations, pending signups,
    // access requests, lockout counters and the mail outbox. Tokens are
    // stored only as their hash (token_hash, hex of crypto_generichash); times
    // the daemon compares are Unix seconds (INTEGER), times it shows are
    // RFC 3339 text.
    {2, R"sql(
-- Small named values: the shared invitation link's HMAC key and generation.
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Single-use tokens bound to an existing account: password reset and the
-- set-password link of an admin-added user.
CREATE TABLE reset_tokens (
  id          INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  username    TEXT NOT NULL COLLATE NOCASE,
  purpose     TEXT NOT NULL,           -- password_reset | new_user
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER                  -- NULL while usable
);
CREATE INDEX reset_tokens_username ON reset_tokens (username);

-- Signups waiting for their email confirmation (signup.mode restricted).
-- The password is kept only as its Argon2id hash.
CREATE TABLE pending_signups (
  id            INTEGER PRIMARY KEY,
  token_hash    TEXT NOT NULL UNIQUE,
  username      TEXT NOT NULL COLLATE NOCASE,
  email         TEXT NOT NULL COLLATE NOCASE,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  groups        TEXT NOT NULL DEFAULT '[]',   -- JSON array of group names
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
);
CREATE INDEX pending_signups_username ON pending_signups (username);
CREATE INDEX pending_signups_expires ON pending_signups (expires_at);

-- Single-use invitations (create_invitation, per-recipient send_invitations,
-- approved access requests). email NULL: anyone holding the link.
CREATE TABLE invitations (
  id                INTEGER PRIMARY KEY,
  token_hash        TEXT NOT NULL UNIQUE,
  email             TEXT COLLATE NOCASE,
  groups            TEXT NOT NULL DEFAULT '[]',   -- JSON array of group names
  message           TEXT,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  used_at           INTEGER,
  used_by           TEXT,
  revoked_at        INTEGER,
  access_request_id INTEGER REFERENCES access_requests (id)
);

CREATE TABLE access_requests (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL COLLATE NOCASE,
  display_name  TEXT NOT NULL,
  message       TEXT,
  created_at    INTEGER NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending',   -- pending | approved | denied
  decided_at    INTEGER
);

-- Failed authentications per username (security.lockout).
CREATE TABLE login_failures (
  username      TEXT PRIMARY KEY COLLATE NOCASE,
  failures      INTEGER NOT NULL,
  window_start  INTEGER NOT NULL,
  locked_until  INTEGER
) WITHOUT ROWID;

-- The mail outbox. A message is inserted in the transaction of the change
-- that causes it, fully composed (RFC 5322). state: held (its change is not
-- complete yet: released or discarded by the code that holds it, or at
-- recovery by whether hold_username exists), pending, sent, failed. The text
-- of a sent message is erased: it may hold a token.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  template        TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  message         TEXT NOT NULL,
  state           TEXT NOT NULL,
  hold_username   TEXT COLLATE NOCASE,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
)sql"},
    // Account creations that write to directories outside this database (an
    // LDAP directory holds the user or a group), recorded before the first
    // directory is written together with what they claimed, and deleted
    // once complete or undone; one creation of a username at a time. A row
    // that a crash left is settled at the next start. Pending signups are
    // now claimed by a mark (given back by clearing it) rather than deleted.
    // Held mail from before this version has no record: it gets one with no
    // groups and no claim, so the next start sends it when its account
    // exists and drops it when not, as that version did.
    {3, R"sql(
CREATE TABLE account_creations (
  id                INTEGER PRIMARY KEY,
  username          TEXT NOT NULL UNIQUE COLLATE NOCASE,
  groups            TEXT NOT NULL DEFAULT '[]',  -- JSON array: the groups the account joins
  reset_token_hash  TEXT,       -- add_user's set-password token: deleted on undo
  invitation_id     INTEGER,    -- a single-use invitation it used: given back on undo
  pending_signup_id INTEGER,    -- the pending signup it confirms: given back on undo
  process           TEXT NOT NULL,   -- the dirproxyd run that started it
  started_at        INTEGER NOT NULL
);

ALTER TABLE pending_signups ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;

INSERT INTO account_creations (username, process, started_at)
  SELECT hold_username, '', MIN(created_at) FROM outbox
  WHERE state = 'held' AND hold_username IS NOT NULL GROUP BY hold_username;
)sql"},
    // Stable identities (storage/identity_store.hpp): the entryUUID and
    // uidNumber/gidNumber the LDAP front end shows for a user or group,
    // keyed by kind, directory and folded name. At most one active row per
    // key; a retired row (its account was deleted) keeps its uuid and number
    // out of use forever. Numbers come from identity_counters, which only
    // grows. uuid and number are not UNIQUE: a directory's own values
    // (source 'directory') are taken as it gives them, and two directories
    // configured over one server give the same entryUUID.
    {4, R"sql(
CREATE TABLE identities (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,                -- user | group
  directory   TEXT NOT NULL,
  name        TEXT NOT NULL,                -- folded (ASCII lower case)
  uuid        TEXT NOT NULL,                -- RFC 4122 text, lower case
  number      INTEGER NOT NULL,             -- uidNumber or gidNumber
  source      TEXT NOT NULL,                -- allocated | directory
  retired     INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX identities_active ON identities (kind, directory, name) WHERE retired = 0;
CREATE INDEX identities_number ON identities (kind, number);
CREATE INDEX identities_uuid ON identities (uuid);

-- The next number to allocate per kind; never decreases.
CREATE TABLE identity_counters (
  kind        TEXT PRIMARY KEY,
  next_number INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    // Admin console sessions (docs/web.md, "Admin console"): kept here, not
    // in the process, so that a restart keeps them and several nodes over
    // one database could share them. Only the hash of the session id (the
    // cookie's value) is stored. groups: the admin's directory groups as
    // last looked up (JSON array), at groups_checked_at; notice: what the
    // next page shows once (the outcome of the last action).
    {5, R"sql(
CREATE TABLE admin_sessions (
  id                INTEGER PRIMARY KEY,
  session_hash      TEXT NOT NULL UNIQUE,
  username          TEXT NOT NULL COLLATE NOCASE,
  csrf_token        TEXT NOT NULL,
  groups            TEXT NOT NULL DEFAULT '[]',
  groups_checked_at INTEGER NOT NULL,
  notice            TEXT,
  notice_is_error   INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  last_seen_at      INTEGER NOT NULL
);
CREATE INDEX admin_sessions_last_seen ON admin_sessions (last_seen_at);
)sql"},
    // Several dirproxyd nodes over one database (docs/scaling.md). An outbox
    // row is claimed for delivery by one node at a time: lease_owner is the
    // claiming run's process name, lease_until (Unix seconds) when its claim
    // ends, both NULL while nobody holds it (mail/outbox.hpp). nodes: one row
    // per running dirproxyd, refreshed by its heartbeat and deleted at a clean
    // shutdown (storage/node_registry.hpp); recovery settles only what a node
    // whose row is missing or stale left behind.
    // Not compatible with older code, although it only adds a table and
    // nullable columns: an older node beside a newer one would neither
    // honour the leases nor keep a nodes row, so a message could go out
    // twice and a creation in progress on the old node could be settled by
    // the new one's recovery.
    {6, R"sql(
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;

CREATE TABLE nodes (
  process      TEXT PRIMARY KEY,     -- the run's random name, as in account_creations.process
  host         TEXT NOT NULL,        -- gethostname()
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
)sql"},
};

constexpr bool versions_are_consecutive() {
  int expected = 1;
  for (const Migration& migration : kMigrations) {
    if (migration.version != expected++) {
      return false;
    }
  }
  return true;
}
static_assert(versions_are_consecutive(), "migrations must be numbered 1, 2, 3, ... in order");

}  // namespace

std::span<const Migration> schema_migrations() { return kMigrations; }

int newest_schema_version() { return std::end(kMigrations)[-1].version; }

int oldest_compatible_code_version(int version) {
  int oldest = version;
  for (const Migration& migration : kMigrations) {
    if (migration.version > version) break;
    oldest = migration.compatible_with_older_code ? oldest : migration.version;
  }
  // `oldest` is the last incompatible migration up to `version`: code that
  // knows it knows every later one it needs.
  return oldest;
}

namespace {

// SQLite lets a table refer to one created later in the same migration
// (invitations -> access_requests in version 2); PostgreSQL does not. The
// statements, each with the comment before it, in an order where a CREATE
// TABLE comes after the tables of this migration that it REFERENCES, and
// otherwise as written.
std::string referenced_tables_first(const std::string& sql) {
  struct Statement {
    std::string text;
    std::string creates;
    std::vector<std::string> references;
  };
  static const std::regex creates(R"(CREATE TABLE (\w+))");
  static const std::regex references(R"(REFERENCES (\w+))");
  std::vector<Statement> statements;
  std::size_t start = 0;
  while (start < sql.size()) {
    std::size_t end = sql.find(";\n", start);
    end = end == std::string::npos ? sql.size() : end + 2;
    Statement statement{sql.substr(start, end - start), "", {}};
    std::smatch match;
    if (std::regex_search(statement.text, match, creates)) statement.creates = match[1];
    for (auto it = std::sregex_iterator(statement.text.begin(), statement.text.end(), references);
         it != std::sregex_iterator(); ++it) {
      statement.references.push_back((*it)[1]);
    }
    statements.push_back(std::move(statement));
    start = end;
  }
  std::vector<std::string> pending;  // tables this migration creates, not yet emitted
  for (const auto& statement : statements) {
    if (!statement.creates.empty()) pending.push_back(statement.creates);
  }
  const auto is_pending = [&](const std::string& table) {
    return std::find(pending.begin(), pending.end(), table) != pending.end();
  };
  std::string ordered;
  std::vector<bool> emitted(statements.size(), false);
  for (std::size_t done = 0; done < statements.size();) {
    std::size_t next = 0;
    while (next < statements.size() &&
           (emitted[next] || std::any_of(statements[next].references.begin(), statements[next].references.end(),
                                         [&](const std::string& table) {
                                           return table != statements[next].creates && is_pending(table);
                                         }))) {
      ++next;
    }
    if (next == statements.size()) {  // a cycle: leave the rest as written
      for (std::size_t i = 0; i < statements.size(); ++i) {
        if (!emitted[i]) ordered += statements[i].text;
      }
      break;
    }
    ordered += statements[next].text;
    emitted[next] = true;
    std::erase(pending, statements[next].creates);
    ++done;
  }
  return ordered;
}

}  // namespace

std::string postgresql_schema_sql(std::string_view sqlite_sql) {
  std::string sql(sqlite_sql);
  // A column declared COLLATE NOCASE compares and sorts ignoring ASCII case:
  // citext does the same in a C-locale database.
  static const std::regex nocase_column(R"(\bTEXT\b([^,\n]*?)\s+COLLATE NOCASE)");
  sql = std::regex_replace(sql, nocase_column, "CITEXT$1");
  static const std::regex rowid_key(R"(\bINTEGER PRIMARY KEY\b)");
  sql = std::regex_replace(sql, rowid_key, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  static const std::regex integer(R"(\bINTEGER\b)");
  sql = std::regex_replace(sql, integer, "BIGINT");
  static const std::regex without_rowid(R"(\)\s*WITHOUT ROWID)");
  sql = std::regex_replace(sql, without_rowid, ")");
  return referenced_tables_first(sql);
}

std::vector<std::string> schema_tables() {
  // The PostgreSQL translation already puts a migration's referenced tables
  // first, and a table only ever refers to one of its own migration or of
  // an earlier one.
  static const std::regex creates(R"(CREATE TABLE (\w+))");
  std::vector<std::string> tables;
  for (const Migration& migration : kMigrations) {
    const std::string sql = postgresql_schema_sql(migration.sql);
    for (auto it = std::sregex_iterator(sql.begin(), sql.end(), creates); it != std::sregex_iterator(); ++it) {
      tables.push_back((*it)[1]);
    }
  }
  return tables;
}

}  // namespace dirproxy
