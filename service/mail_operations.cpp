// mail_queue: what the outbox holds, for admins and monitoring. Reading the
// counts is one indexed query on the state database (on the worker pool).
#include <chrono>

#include "mail/outbox.hpp"
#include "service/operation.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

Result<Json> mail_queue(const JsonOperationContext& op) {
  if (!op.runtime.database) return fail(ErrorCode::internal_error, "mail_queue: no state database in this runtime");
  StateDatabase::Lease lease = op.runtime.database->acquire();
  auto counts = count_outbox(lease);
  if (!counts) return counts.error();
  Json oldest_age = nullptr;
  if (counts->oldest_pending_created_at) {
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    oldest_age = std::max<std::int64_t>(0, now - *counts->oldest_pending_created_at);
  }
  return Json{{"pending", counts->pending},
              {"failed", counts->failed},
              {"held", counts->held},
              {"oldest_pending_age_s", oldest_age},
              {"mail_configured", op.runtime.config->mail.has_value()}};
}

}  // namespace

const std::vector<Operation>& mail_operations() {
  static const std::vector<Operation> operations = {
      {"mail_queue", true, {}, mail_queue},
  };
  return operations;
}

}  // namespace dirproxy
