// The operations on the daemon's state database as a whole, as opposed to the
// users and groups in it: for now the online backup. They block (SQLite,
// fsync) and run on the worker pool.
#include "service/operation.hpp"

namespace dirproxy {
namespace {

using protocol::Json;
using protocol::ParamType;

Result<Json> backup(const JsonOperationContext& op) {
  const auto path = op.params.at("path").get<std::string>();
  if (!op.runtime.database) return fail(ErrorCode::internal_error, "backup: no state database in this runtime");
  auto bytes = op.runtime.database->backup_to(path);
  if (!bytes) {
    Error error = std::move(bytes).error();
    // Relative, existing or uncreatable: the caller's path is at fault.
    if (error.code == ErrorCode::bad_request) error.field = "path";
    return error;
  }
  return Json{{"path", path}, {"bytes", *bytes}};
}

}  // namespace

const std::vector<Operation>& state_operations() {
  using enum ParamType;
  static const std::vector<Operation> operations = {
      // Not a write: it changes nothing, and writes need not wait for it.
      {"backup", true, {{"path", string, true}}, backup},
  };
  return operations;
}

}  // namespace dirproxy
