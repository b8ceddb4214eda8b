// The operations on the daemon's state database as a whole, as opposed to the
// users and groups in it: for now the online backup. They block (SQLite,
// fsync) and run on the worker pool.
#include "service/directory_requests.hpp"

namespace dirproxy {

Result<BackupCopy> run(const OperationContext& op, const BackupRequest& request) {
  if (!op.runtime.database) return fail(ErrorCode::internal_error, "backup: no state database in this runtime");
  auto bytes = op.runtime.database->backup_to(request.path);
  if (!bytes) {
    Error error = std::move(bytes).error();
    // Relative, existing or uncreatable: the caller's path is at fault.
    if (error.code == ErrorCode::bad_request) error.field = "path";
    return error;
  }
  return BackupCopy{request.path, *bytes};
}

// backup is typed now; the dispatcher still lists the legacy table until the
// last group is converted.

}  // namespace dirproxy
