#include "storage/state_database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

namespace dirproxy {

namespace {

// The schema, one forward migration per version, applied in order. A
// migration is never edited once released: a change is a new migration.
struct Migration {
  int version;  // the user_version the database has after this migration
  const char* sql;
};

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
    // Backwards-compatible: new nullable columns and a new table, which the
    // statements of version 5 never see. An older node beside a newer one in
    // a rolling upgrade neither honours the leases nor keeps a nodes row, so
    // until the upgrade ends a message may go out twice and a creation in
    // progress on an old node may be settled by a new one's recovery.
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

constexpr int kBusyTimeoutMs = 5000;

std::string in_quotes(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

Error database_error(const std::filesystem::path& path, std::string_view what, std::string_view detail) {
  return make_error(ErrorCode::internal_error,
                    "state database " + in_quotes(path) + ": " + std::string(what) + ": " + std::string(detail));
}

// Creates state_dir (and its parents) when missing; the directory itself gets
// mode 0700 because the database holds password hashes and tokens.
Result<void> ensure_state_dir(std::filesystem::path state_dir) {
  if (!state_dir.has_filename()) {
    state_dir = state_dir.parent_path();  // "/var/lib/dirproxy/" names the same directory
  }
  std::error_code ec;
  if (std::filesystem::is_directory(state_dir, ec)) {
    return {};
  }
  if (state_dir.has_parent_path()) {
    std::filesystem::create_directories(state_dir.parent_path(), ec);
    if (ec) {
      return fail(ErrorCode::internal_error,
                  "cannot create the parent of state_dir " + in_quotes(state_dir) + ": " + ec.message());
    }
  }
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(ErrorCode::internal_error,
                "cannot create state_dir " + in_quotes(state_dir) + ": " + std::strerror(errno));
  }
  if (!std::filesystem::is_directory(state_dir, ec)) {
    return fail(ErrorCode::internal_error, "state_dir " + in_quotes(state_dir) + " exists but is not a directory");
  }
  return {};
}

// Creates an empty database file readable by the owner only, so that the
// -wal and -shm files SQLite derives from it get the same mode: state_dir may
// be more open than 0700 (systemd's StateDirectory= defaults to 0755) and the
// file holds password hashes. An existing file keeps the mode it has.
Result<void> ensure_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(ErrorCode::internal_error,
                "state database " + in_quotes(path) + ": cannot open: " + std::strerror(errno));
  }
  ::close(fd);
  return {};
}

// Reads a one-row, one-column pragma or query as text.
Result<std::string> query_text(sqlite3* connection, std::string_view sql) {
  auto statement = SqlStatement::prepare(connection, sql);
  RETURN_IF_ERROR(statement);
  auto row = statement->step();
  RETURN_IF_ERROR(row);
  if (!*row) {
    return fail(ErrorCode::internal_error, "no result from " + std::string(sql));
  }
  return statement->column_text(0);
}

Result<int> read_user_version(sqlite3* connection) {
  auto statement = SqlStatement::prepare(connection, "PRAGMA user_version");
  RETURN_IF_ERROR(statement);
  auto row = statement->step();
  RETURN_IF_ERROR(row);
  return *row ? static_cast<int>(statement->column_int64(0)) : 0;
}

Result<void> execute(sqlite3* connection, std::string_view sql) {
  const std::string terminated(sql);
  const int rc = sqlite3_exec(connection, terminated.c_str(), /*callback=*/nullptr,
                              /*argument=*/nullptr, /*errmsg=*/nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(connection, rc, "executing SQL");
  }
  return {};
}

// Opens one connection configured as every connection of the pool must be.
Result<SqliteConnectionPtr> open_connection(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: a connection is used by one thread at a time (the lease), so
  // SQLite's per-connection mutex would only cost time.
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 /*zVfs=*/nullptr);
  SqliteConnectionPtr connection(raw);  // sqlite3_open_v2 may return a handle even on failure
  if (rc != SQLITE_OK) {
    const char* detail = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return database_error(path, "cannot open", detail);
  }
  sqlite3_extended_result_codes(connection.get(), 1);
  sqlite3_busy_timeout(connection.get(), kBusyTimeoutMs);

  // journal_mode answers with the mode in effect; a filesystem without
  // shared memory support leaves it at "delete", which we refuse rather than
  // run with other durability and concurrency than designed.
  auto journal_mode = query_text(connection.get(), "PRAGMA journal_mode=WAL");
  if (!journal_mode) {
    return database_error(path, "cannot set journal_mode=WAL", journal_mode.error().message);
  }
  if (*journal_mode != "wal") {
    return database_error(path, "cannot use WAL", "journal_mode stays '" + *journal_mode + "'");
  }
  if (auto set = execute(connection.get(), "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !set) {
    return database_error(path, "cannot configure the connection", set.error().message);
  }
  return connection;
}

// Brings the schema to the newest version, one transaction per migration so
// that a failure leaves the database at the last complete version. The
// version is re-read under the write lock in case another process (a second
// dirproxyd by mistake, or dirproxyctl) migrated meanwhile.
Result<void> migrate(sqlite3* connection, const std::filesystem::path& path) {
  const int newest = StateDatabase::schema_version();
  auto found = read_user_version(connection);
  if (!found) {
    return database_error(path, "cannot read the schema version", found.error().message);
  }
  if (*found > newest) {
    return database_error(path, "schema version " + std::to_string(*found) + " is newer",
                          "this dirproxy knows versions up to " + std::to_string(newest) +
                              "; run a newer dirproxy or restore a backup made by this version");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= *found) {
      continue;
    }
    auto transaction = SqlTransaction::begin(connection, TransactionMode::write);
    if (!transaction) {
      return database_error(path, "cannot begin a migration", transaction.error().message);
    }
    auto current = read_user_version(connection);
    if (!current) {
      return database_error(path, "cannot read the schema version", current.error().message);
    }
    if (*current >= migration.version) {
      found = current;
      continue;  // the destructor rolls back the empty transaction
    }
    const std::string bump = "PRAGMA user_version = " + std::to_string(migration.version);
    for (std::string_view sql : {std::string_view(migration.sql), std::string_view(bump)}) {
      if (auto applied = execute(connection, sql); !applied) {
        return database_error(path, "migration to version " + std::to_string(migration.version) + " failed",
                              applied.error().message);
      }
    }
    if (auto committed = transaction->commit(); !committed) {
      return database_error(path, "migration to version " + std::to_string(migration.version) + " failed",
                            committed.error().message);
    }
    found = migration.version;
  }
  return {};
}

// A backup file being written: created here (O_EXCL, so an existing file or
// a symlink planted at the path is never opened), and removed again on
// destruction unless keep() was called, so a failed backup leaves nothing
// half-written behind.
class BackupFile final {
 public:
  static Result<BackupFile> create(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      const int error = errno;
      if (error == EEXIST) {
        return fail(ErrorCode::bad_request,
                    "backup target " + in_quotes(path) + " already exists; a backup never overwrites a file");
      }
      return fail(ErrorCode::bad_request,
                  "cannot create backup target " + in_quotes(path) + ": " + std::strerror(error));
    }
    return BackupFile(path, fd);
  }

  BackupFile(BackupFile&& other) noexcept : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}
  BackupFile& operator=(BackupFile&&) = delete;
  BackupFile(const BackupFile&) = delete;
  BackupFile& operator=(const BackupFile&) = delete;
  ~BackupFile() {
    if (fd_ < 0) {
      return;
    }
    ::close(fd_);
    if (!kept_) {
      ::unlink(path_.c_str());
    }
  }

  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  BackupFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::filesystem::path path_;
  int fd_ = -1;  // -1 once moved from
  bool kept_ = false;
};

struct SqliteBackupFinisher {
  void operator()(sqlite3_backup* backup) const noexcept { sqlite3_backup_finish(backup); }
};
using SqliteBackupPtr = std::unique_ptr<sqlite3_backup, SqliteBackupFinisher>;

Error backup_error(const std::filesystem::path& target, std::string_view what, std::string_view detail) {
  return make_error(ErrorCode::internal_error,
                    "backup to " + in_quotes(target) + ": " + std::string(what) + ": " + std::string(detail));
}

// Makes the new file's directory entry durable, not just its content.
Result<void> sync_directory_of(const std::filesystem::path& file) {
  const int fd = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return backup_error(file, "cannot open its directory", std::strerror(errno));
  }
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) {
    return backup_error(file, "cannot sync its directory", std::strerror(error));
  }
  return {};
}

}  // namespace

Error sqlite_error(sqlite3* connection, int result_code, std::string_view what) {
  const char* detail = connection != nullptr ? sqlite3_errmsg(connection) : sqlite3_errstr(result_code);
  std::string message = "sqlite: " + std::string(what) + ": " + detail;
  if (result_code == SQLITE_CONSTRAINT_UNIQUE || result_code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return make_error(ErrorCode::conflict, std::move(message));
  }
  return make_error(ErrorCode::internal_error, std::move(message));
}

// --- SqlStatement -----------------------------------------------------------

Result<SqlStatement> SqlStatement::prepare(sqlite3* connection, std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail(ErrorCode::internal_error, "sqlite: statement too long");
  }
  sqlite3_stmt* statement = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(connection, sql.data(), static_cast<int>(sql.size()), &statement, &tail);
  SqlStatement prepared(connection, statement);  // finalizes on every path below
  if (rc != SQLITE_OK) {
    return sqlite_error(connection, rc, "preparing " + std::string(sql));
  }
  if (statement == nullptr) {
    return fail(ErrorCode::internal_error, "sqlite: no statement in '" + std::string(sql) + "'");
  }
  // A second statement would be silently ignored; several go through execute().
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    return fail(ErrorCode::internal_error, "sqlite: more than one statement in '" + std::string(sql) + "'");
  }
  return prepared;
}

SqlStatement::SqlStatement(sqlite3* connection, sqlite3_stmt* statement)
    : connection_(connection), statement_(statement) {}

SqlStatement::SqlStatement(SqlStatement&& other) noexcept
    : connection_(other.connection_),
      statement_(std::exchange(other.statement_, nullptr)),
      bind_error_(other.bind_error_) {}

SqlStatement& SqlStatement::operator=(SqlStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    connection_ = other.connection_;
    statement_ = std::exchange(other.statement_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

SqlStatement::~SqlStatement() { sqlite3_finalize(statement_); }  // a no-op on nullptr

SqlStatement& SqlStatement::bind(int index, std::string_view text) {
  // An empty string_view may have a null data(), which SQLite would bind as NULL.
  const char* bytes = text.empty() ? "" : text.data();
  const int rc = sqlite3_bind_text64(statement_, index, bytes, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

SqlStatement& SqlStatement::bind(int index, std::int64_t number) {
  const int rc = sqlite3_bind_int64(statement_, index, number);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

SqlStatement& SqlStatement::bind_null(int index) {
  const int rc = sqlite3_bind_null(statement_, index);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

SqlStatement& SqlStatement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

SqlStatement& SqlStatement::bind(int index, const std::optional<std::int64_t>& number) {
  return number ? bind(index, *number) : bind_null(index);
}

Result<bool> SqlStatement::step() {
  if (bind_error_ != SQLITE_OK) {
    return fail(ErrorCode::internal_error, std::string("sqlite: binding a parameter of '") + sqlite3_sql(statement_) +
                                               "': " + sqlite3_errstr(bind_error_));
  }
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return sqlite_error(connection_, rc, std::string("running '") + sqlite3_sql(statement_) + "'");
}

Result<void> SqlStatement::run() {
  for (;;) {
    auto row = step();
    RETURN_IF_ERROR(row);
    if (!*row) {
      return {};
    }
  }
}

std::string SqlStatement::column_text(int index) const {
  const auto* text = sqlite3_column_text(statement_, index);
  // sqlite3_column_bytes must come after sqlite3_column_text (conversion).
  const int size = sqlite3_column_bytes(statement_, index);
  if (text == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::optional<std::string> SqlStatement::column_optional_text(int index) const {
  if (column_is_null(index)) {
    return std::nullopt;
  }
  return column_text(index);
}

std::int64_t SqlStatement::column_int64(int index) const { return sqlite3_column_int64(statement_, index); }

std::optional<std::int64_t> SqlStatement::column_optional_int64(int index) const {
  if (column_is_null(index)) {
    return std::nullopt;
  }
  return column_int64(index);
}

bool SqlStatement::column_is_null(int index) const { return sqlite3_column_type(statement_, index) == SQLITE_NULL; }

// --- SqlTransaction ---------------------------------------------------------

Result<SqlTransaction> SqlTransaction::begin(sqlite3* connection, TransactionMode mode) {
  const char* sql = mode == TransactionMode::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  const int rc = sqlite3_exec(connection, sql, /*callback=*/nullptr, /*argument=*/nullptr,
                              /*errmsg=*/nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(connection, rc, sql);
  }
  return SqlTransaction(connection, /*savepoint=*/false);
}

Result<SqlTransaction> SqlTransaction::savepoint(sqlite3* connection) {
  const int rc = sqlite3_exec(connection, "SAVEPOINT nested", /*callback=*/nullptr, /*argument=*/nullptr,
                              /*errmsg=*/nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(connection, rc, "SAVEPOINT");
  }
  return SqlTransaction(connection, /*savepoint=*/true);
}

SqlTransaction::SqlTransaction(SqlTransaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)), savepoint_(other.savepoint_) {}

SqlTransaction::~SqlTransaction() {
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already roll back; only
  // roll back what is still open. A savepoint is rolled back and released:
  // the transaction around it goes on without its work.
  if (connection_ != nullptr && sqlite3_get_autocommit(connection_) == 0) {
    const char* sql = savepoint_ ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK";
    sqlite3_exec(connection_, sql, /*callback=*/nullptr, /*argument=*/nullptr, /*errmsg=*/nullptr);
  }
}

Result<void> SqlTransaction::commit() {
  if (connection_ == nullptr) {
    return fail(ErrorCode::internal_error, "sqlite: commit of a finished transaction");
  }
  const char* sql = savepoint_ ? "RELEASE nested" : "COMMIT";
  const int rc = sqlite3_exec(connection_, sql, /*callback=*/nullptr,
                              /*argument=*/nullptr, /*errmsg=*/nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(connection_, rc, sql);  // the destructor rolls back
  }
  connection_ = nullptr;
  return {};
}

// --- StateDatabase ----------------------------------------------------------

void SqliteConnectionCloser::operator()(sqlite3* connection) const noexcept {
  // close_v2 defers the close until any forgotten statement is finalized
  // instead of failing with SQLITE_BUSY and leaking the handle.
  sqlite3_close_v2(connection);
}

namespace {

// The lease whose connection acquire() lends out on this thread
// (write_transaction_joined_by_this_thread), or null.
thread_local const StateDatabase::Lease* joined_lease = nullptr;

}  // namespace

StateDatabase::Lease::JoinedByThisThread::JoinedByThisThread(const Lease& lease) : previous_(joined_lease) {
  joined_lease = &lease;
}

StateDatabase::Lease::JoinedByThisThread::~JoinedByThisThread() { joined_lease = previous_; }

StateDatabase::Lease::Lease(Lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      connection_(std::exchange(other.connection_, nullptr)),
      joined_(other.joined_) {}

StateDatabase::Lease::~Lease() {
  // A joined lease's connection stays with the lease that lent it.
  if (owner_ == nullptr || joined_) {
    return;
  }
  // Never hand the next borrower a connection inside someone's transaction.
  if (sqlite3_get_autocommit(connection_) == 0) {
    sqlite3_exec(connection_, "ROLLBACK", /*callback=*/nullptr, /*argument=*/nullptr,
                 /*errmsg=*/nullptr);
  }
  owner_->give_back(connection_);
}

Result<SqlTransaction> StateDatabase::Lease::begin(TransactionMode mode) const {
  // Inside a joined transaction, which holds the write lock already.
  if (joined_) return SqlTransaction::savepoint(connection_);
  return SqlTransaction::begin(connection_, mode);
}

Result<void> StateDatabase::Lease::execute(std::string_view sql) const { return dirproxy::execute(connection_, sql); }

std::int64_t StateDatabase::Lease::changes() const { return sqlite3_changes64(connection_); }

Result<std::shared_ptr<StateDatabase>> StateDatabase::open(const std::filesystem::path& state_dir,
                                                           std::size_t connections) {
  RETURN_IF_ERROR(ensure_state_dir(state_dir));
  const std::filesystem::path path = state_dir / "dirproxy.db";
  RETURN_IF_ERROR(ensure_private_file(path));

  std::vector<SqliteConnectionPtr> pool;
  pool.reserve(std::max<std::size_t>(connections, 1));
  // The first connection migrates before the others exist, so none of them
  // ever sees a half-migrated schema.
  auto first = open_connection(path);
  RETURN_IF_ERROR(first);
  RETURN_IF_ERROR(migrate(first->get(), path));
  pool.push_back(std::move(first).value());
  while (pool.size() < std::max<std::size_t>(connections, 1)) {
    auto next = open_connection(path);
    RETURN_IF_ERROR(next);
    pool.push_back(std::move(next).value());
  }
  return std::shared_ptr<StateDatabase>(new StateDatabase(path, std::move(pool)));
}

Result<std::uint64_t> StateDatabase::backup_to(const std::filesystem::path& target) {
  // The daemon resolves nothing against its own working directory: a
  // relative path would land somewhere the caller did not mean.
  if (!target.is_absolute()) {
    return fail(ErrorCode::bad_request, "backup target " + in_quotes(target) + " is not an absolute path");
  }
  auto file = BackupFile::create(target);
  RETURN_IF_ERROR(file);
  // The mode given to open() is narrowed by the umask; make it exactly 0600.
  if (::fchmod(file->fd(), 0600) != 0) {
    return backup_error(target, "cannot set mode 0600", std::strerror(errno));
  }

  {
    // NOFOLLOW: the path must still be the regular file created above.
    sqlite3* raw = nullptr;
    const int opened =
        sqlite3_open_v2(target.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        /*zVfs=*/nullptr);
    SqliteConnectionPtr destination(raw);  // closed before `file` removes a failed copy
    if (opened != SQLITE_OK) {
      return backup_error(target, "cannot open", raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(opened));
    }
    sqlite3_extended_result_codes(destination.get(), 1);

    const Lease source = acquire();
    SqliteBackupPtr backup(
        sqlite3_backup_init(destination.get(), /*zDestName=*/"main", source.raw(), /*zSourceName=*/"main"));
    if (!backup) {
      return backup_error(target, "cannot start the backup", sqlite3_errmsg(destination.get()));
    }
    // All pages in one step, that is in one read transaction on the source:
    // the copy is the database as of that transaction's start. In WAL mode a
    // reader never blocks writers, so copying in chunks would not let them
    // through any sooner; it would only end the read transaction between
    // chunks, and a commit by another connection in between restarts the
    // copy from the first page, which under steady writes may never finish.
    const int stepped = sqlite3_backup_step(backup.get(), /*nPage=*/-1);
    const int finished = sqlite3_backup_finish(backup.release());
    if (stepped != SQLITE_DONE || finished != SQLITE_OK) {
      return backup_error(target, "copying failed", sqlite3_errmsg(destination.get()));
    }
  }

  // SQLite synced the file when the copy committed; sync once more through
  // our own descriptor, then the directory entry.
  if (::fsync(file->fd()) != 0) {
    return backup_error(target, "cannot sync", std::strerror(errno));
  }
  RETURN_IF_ERROR(sync_directory_of(target));
  struct stat info {};
  if (::fstat(file->fd(), &info) != 0) {
    return backup_error(target, "cannot read its size", std::strerror(errno));
  }
  file->keep();
  return static_cast<std::uint64_t>(info.st_size);
}

int StateDatabase::schema_version() { return std::end(kMigrations)[-1].version; }

StateDatabase::StateDatabase(std::filesystem::path path, std::vector<SqliteConnectionPtr> connections)
    : path_(std::move(path)), connections_(std::move(connections)) {
  idle_.reserve(connections_.size());
  for (const auto& connection : connections_) {
    idle_.push_back(connection.get());
  }
}

StateDatabase::Lease StateDatabase::acquire() {
  if (joined_lease != nullptr && joined_lease->owner_ == this) {
    return Lease(this, joined_lease->connection_, /*joined=*/true);
  }
  std::unique_lock lock(mutex_);
  connection_returned_.wait(lock, [this] { return !idle_.empty(); });
  sqlite3* connection = idle_.back();
  idle_.pop_back();
  return Lease(this, connection, /*joined=*/false);
}

void StateDatabase::give_back(sqlite3* connection) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(connection);
  }
  connection_returned_.notify_one();
}

}  // namespace dirproxy
