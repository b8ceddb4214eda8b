// mail_queue: what the outbox holds, for admins and monitoring. Reading the
// counts is one indexed query on the state database (on the worker pool).
#include <algorithm>

#include "mail/outbox.hpp"
#include "service/directory_requests.hpp"

namespace dirproxy {

Result<MailQueueStatus> run(const OperationContext& op, const MailQueueRequest&) {
  if (!op.runtime.database) return fail(ErrorCode::internal_error, "mail_queue: no state database in this runtime");
  StateDatabase::Lease lease = op.runtime.database->acquire();
  auto counts = count_outbox(lease);
  RETURN_IF_ERROR(counts);
  MailQueueStatus status;
  status.pending = counts->pending;
  status.failed = counts->failed;
  status.held = counts->held;
  if (counts->oldest_pending_created_at) {
    status.oldest_pending_age_s = std::max<std::int64_t>(0, op.now() - *counts->oldest_pending_created_at);
  }
  status.mail_configured = op.runtime.config->mail.has_value();
  return status;
}

// mail_queue is typed now; the dispatcher still lists the legacy table until
// the last group is converted.

}  // namespace dirproxy
