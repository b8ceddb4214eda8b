#include "storage/state_database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "storage/postgres_connection.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite_connection.hpp"

namespace dirproxy {

namespace {

std::string in_quotes(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

Error backup_error(const std::filesystem::path& target, std::string_view what, std::string_view detail) {
  return make_error(ErrorCode::internal_error,
                    "backup to " + in_quotes(target) + ": " + std::string(what) + ": " + std::string(detail));
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

// "postgresql://host:port/database" of `connection`: where the state is,
// without the user or anything secret.
std::string postgresql_location(const PostgresConnection& connection) {
  return "postgresql://" + connection.server() + "/" + connection.database();
}

}  // namespace

// --- SqlStatement -----------------------------------------------------------

Result<SqlStatement> SqlStatement::prepare(SqlConnection& connection, std::string_view sql) {
  auto cursor = connection.prepare(sql);
  RETURN_IF_ERROR(cursor);
  return SqlStatement(std::move(*cursor));
}

SqlStatement& SqlStatement::bind(int index, std::string_view text) {
  cursor_->bind_text(index, text);
  return *this;
}

SqlStatement& SqlStatement::bind(int index, std::int64_t number) {
  cursor_->bind_int64(index, number);
  return *this;
}

SqlStatement& SqlStatement::bind_null(int index) {
  cursor_->bind_null(index);
  return *this;
}

SqlStatement& SqlStatement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

SqlStatement& SqlStatement::bind(int index, const std::optional<std::int64_t>& number) {
  return number ? bind(index, *number) : bind_null(index);
}

Result<bool> SqlStatement::step() { return cursor_->step(); }

Result<void> SqlStatement::run() {
  for (;;) {
    auto row = step();
    RETURN_IF_ERROR(row);
    if (!*row) {
      return {};
    }
  }
}

Result<std::int64_t> SqlStatement::run_returning_id() {
  auto row = step();
  RETURN_IF_ERROR(row);
  if (!*row) return fail(ErrorCode::internal_error, "an INSERT ... RETURNING id returned no row");
  const std::int64_t id = column_int64(0);
  RETURN_IF_ERROR(run());
  return id;
}

std::string SqlStatement::column_text(int index) const { return cursor_->column_text(index); }

std::optional<std::string> SqlStatement::column_optional_text(int index) const {
  if (column_is_null(index)) {
    return std::nullopt;
  }
  return column_text(index);
}

std::int64_t SqlStatement::column_int64(int index) const { return cursor_->column_int64(index); }

std::optional<std::int64_t> SqlStatement::column_optional_int64(int index) const {
  if (column_is_null(index)) {
    return std::nullopt;
  }
  return column_int64(index);
}

bool SqlStatement::column_is_null(int index) const { return cursor_->column_is_null(index); }

// --- SqlTransaction ---------------------------------------------------------

Result<SqlTransaction> SqlTransaction::begin(SqlConnection& connection, TransactionMode mode) {
  RETURN_IF_ERROR(connection.begin(mode));
  return SqlTransaction(&connection, /*savepoint=*/false);
}

Result<SqlTransaction> SqlTransaction::savepoint(SqlConnection& connection) {
  RETURN_IF_ERROR(connection.savepoint());
  return SqlTransaction(&connection, /*savepoint=*/true);
}

SqlTransaction::SqlTransaction(SqlTransaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)), savepoint_(other.savepoint_) {}

SqlTransaction::~SqlTransaction() {
  if (connection_ == nullptr) return;
  // A savepoint is rolled back and released: the transaction around it goes
  // on without its work.
  if (savepoint_) {
    connection_->rollback_to_savepoint();
  } else {
    connection_->rollback();
  }
}

Result<void> SqlTransaction::commit() {
  if (connection_ == nullptr) {
    return fail(ErrorCode::internal_error, "commit of a finished transaction");
  }
  RETURN_IF_ERROR(savepoint_ ? connection_->release_savepoint() : connection_->commit());  // else the destructor rolls back
  connection_ = nullptr;
  return {};
}

// --- StateDatabase ----------------------------------------------------------

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
      slot_(other.slot_),
      connection_(std::exchange(other.connection_, nullptr)),
      joined_(other.joined_) {}

StateDatabase::Lease::~Lease() {
  // A joined lease's connection stays with the lease that lent it.
  if (owner_ == nullptr || joined_) {
    return;
  }
  // Never hand the next borrower a connection inside someone's transaction.
  connection_->rollback();
  owner_->give_back(slot_);
}

Result<SqlTransaction> StateDatabase::Lease::begin(TransactionMode mode) const {
  // Inside a joined transaction, which holds the write lock already.
  if (joined_) return SqlTransaction::savepoint(*connection_);
  return SqlTransaction::begin(*connection_, mode);
}

Result<void> StateDatabase::Lease::execute(std::string_view sql) const { return connection_->execute(sql); }

std::int64_t StateDatabase::Lease::changes() const { return connection_->changes(); }

Result<std::shared_ptr<StateDatabase>> StateDatabase::open(const std::filesystem::path& state_dir,
                                                           std::size_t connections) {
  RETURN_IF_ERROR(ensure_state_dir(state_dir));
  const std::filesystem::path path = state_dir / "dirproxy.db";
  RETURN_IF_ERROR(ensure_private_file(path));

  std::vector<SqlConnectionPtr> pool;
  pool.reserve(std::max<std::size_t>(connections, 1));
  // The first connection migrates before the others exist, so none of them
  // ever sees a half-migrated schema.
  auto first = SqliteConnection::open(path);
  RETURN_IF_ERROR(first);
  RETURN_IF_ERROR((*first)->migrate(path));
  pool.push_back(std::move(first).value());
  while (pool.size() < std::max<std::size_t>(connections, 1)) {
    auto next = SqliteConnection::open(path);
    RETURN_IF_ERROR(next);
    pool.push_back(std::move(next).value());
  }
  return std::shared_ptr<StateDatabase>(
      new StateDatabase(StateBackend::sqlite, path, path.string(), std::move(pool), std::nullopt));
}

Result<std::shared_ptr<StateDatabase>> StateDatabase::open_postgresql(const PostgresqlOptions& options,
                                                                      std::size_t connections) {
  std::vector<SqlConnectionPtr> pool;
  pool.reserve(std::max<std::size_t>(connections, 1));
  auto first = PostgresConnection::open(options);
  RETURN_IF_ERROR(first);
  RETURN_IF_ERROR((*first)->migrate());
  const std::string location = postgresql_location(**first);
  pool.push_back(std::move(first).value());
  while (pool.size() < std::max<std::size_t>(connections, 1)) {
    auto next = PostgresConnection::open(options);
    RETURN_IF_ERROR(next);
    pool.push_back(std::move(next).value());
  }
  return std::shared_ptr<StateDatabase>(
      new StateDatabase(StateBackend::postgresql, {}, location, std::move(pool), options));
}

Result<std::uint64_t> StateDatabase::backup_to(const std::filesystem::path& target) {
  if (backend_ == StateBackend::postgresql) {
    return fail(ErrorCode::bad_request,
                "the state is in PostgreSQL (" + location() +
                    "): back it up with pg_dump (docs/operations.md), not dirproxyctl backup");
  }
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
    const Lease source = acquire();
    // Only SQLite connections are in a pool whose backend_ is sqlite.
    auto& connection = static_cast<SqliteConnection&>(*source.connection_);
    RETURN_IF_ERROR(connection.copy_to(target));
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

int StateDatabase::schema_version() { return newest_schema_version(); }

StateDatabase::StateDatabase(StateBackend backend, std::filesystem::path path, std::string location,
                             std::vector<SqlConnectionPtr> connections, std::optional<PostgresqlOptions> postgresql)
    : backend_(backend),
      path_(std::move(path)),
      location_(std::move(location)),
      postgresql_(std::move(postgresql)),
      connections_(std::move(connections)) {
  opened_epoch_.assign(connections_.size(), 0);
  idle_.reserve(connections_.size());
  for (std::size_t slot = 0; slot < connections_.size(); ++slot) {
    idle_.push_back(slot);
  }
}

std::string StateDatabase::location() const {
  std::lock_guard lock(location_mutex_);
  return location_;
}

StateDatabase::Lease StateDatabase::acquire() {
  if (joined_lease != nullptr && joined_lease->owner_ == this) {
    return Lease(this, joined_lease->slot_, joined_lease->connection_, /*joined=*/true);
  }
  std::size_t slot = 0;
  {
    std::unique_lock lock(mutex_);
    connection_returned_.wait(lock, [this] { return !idle_.empty(); });
    slot = idle_.back();
    idle_.pop_back();
  }
  // The slot is this thread's until the lease gives it back.
  if (postgresql_) {
    const std::uint64_t losses = loss_epoch_.load();
    if (!connections_[slot]->healthy() || opened_epoch_[slot] < losses) {
      if (auto replacement = PostgresConnection::open(*postgresql_)) {
        std::string location = postgresql_location(**replacement);
        connections_[slot] = std::move(replacement).value();
        opened_epoch_[slot] = losses;
        std::lock_guard lock(location_mutex_);
        location_ = std::move(location);
      }
    }
  }
  return Lease(this, slot, connections_[slot].get(), /*joined=*/false);
}

void StateDatabase::give_back(std::size_t slot) {
  if (postgresql_ && !connections_[slot]->healthy() && opened_epoch_[slot] == loss_epoch_.load()) {
    ++loss_epoch_;
  }
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(slot);
  }
  connection_returned_.notify_one();
}

}  // namespace dirproxy
