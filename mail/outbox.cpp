#include "mail/outbox.hpp"

#include <algorithm>
#include <chrono>

#include "core/timestamp.hpp"

namespace dirproxy {

Result<void> enqueue_mail(const StateDatabase::Lease& lease, const OutgoingMail& mail, std::int64_t now,
                          const std::optional<std::string>& hold_for_username) {
  const std::string state = hold_for_username ? "held" : "pending";
  auto insert = lease.prepare(
      "INSERT INTO outbox (template, recipient, message, state, hold_username, next_attempt_at, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
      mail.template_name, mail.recipient, mail.message, state, hold_for_username, now);
  RETURN_IF_ERROR(insert);
  return insert->run();
}

Result<void> release_held_mail(const StateDatabase::Lease& lease, std::string_view username, std::int64_t now) {
  auto update = lease.prepare(
      "UPDATE outbox SET state = 'pending', hold_username = NULL, next_attempt_at = ?2"
      " WHERE state = 'held' AND hold_username = ?1",
      username, now);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<void> discard_held_mail(const StateDatabase::Lease& lease, std::string_view username) {
  auto remove = lease.prepare("DELETE FROM outbox WHERE state = 'held' AND hold_username = ?1", username);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

namespace {

// Runs `update` (an UPDATE ... RETURNING id) and tells whether it changed a
// row. RETURNING rather than a count of changes: both SQLite and
// PostgreSQL answer it the same way.
Result<bool> changed_a_row(Result<SqlStatement> update) {
  RETURN_IF_ERROR(update);
  auto changed = update->step();
  RETURN_IF_ERROR(changed);
  RETURN_IF_ERROR(update->run());
  return *changed;
}

}  // namespace

Result<std::optional<DueMail>> claim_due_mail(const StateDatabase::Lease& lease, std::string_view owner,
                                              std::int64_t now, std::int64_t lease_seconds) {
  // One statement in a write transaction: on SQLite the write lock, on
  // PostgreSQL the advisory lock of write transactions, serializes claims,
  // so two senders never both see a row free.
  return lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<std::optional<DueMail>> {
    auto claim = lease.prepare(
        "UPDATE outbox SET lease_owner = ?1, lease_until = ?3 WHERE id ="
        " (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?2"
        " AND (lease_until IS NULL OR lease_until <= ?2) ORDER BY next_attempt_at, id LIMIT 1)"
        " RETURNING id, template, recipient, message, attempts",
        owner, now, now + lease_seconds);
    RETURN_IF_ERROR(claim);
    auto row = claim->step();
    RETURN_IF_ERROR(row);
    if (!*row) return std::optional<DueMail>();
    DueMail due{claim->column_int64(0), claim->column_text(1), claim->column_text(2), claim->column_text(3),
                claim->column_int64(4)};
    RETURN_IF_ERROR(claim->run());
    return std::optional<DueMail>(std::move(due));
  });
}

Result<bool> mark_mail_sent(const StateDatabase::Lease& lease, std::int64_t id, std::string_view owner,
                            std::int64_t now) {
  return changed_a_row(lease.prepare(
      "UPDATE outbox SET state = 'sent', message = '', sent_at = ?3, last_error = NULL, lease_owner = NULL,"
      " lease_until = NULL WHERE id = ?1 AND lease_owner = ?2 RETURNING id",
      id, owner, now));
}

Result<bool> record_failed_attempt(const StateDatabase::Lease& lease, std::int64_t id, std::string_view owner,
                                   std::int64_t attempts, std::optional<std::int64_t> next_attempt_at,
                                   const std::string& error) {
  if (next_attempt_at) {
    return changed_a_row(lease.prepare(
        "UPDATE outbox SET attempts = ?3, next_attempt_at = ?4, last_error = ?5, lease_owner = NULL,"
        " lease_until = NULL WHERE id = ?1 AND lease_owner = ?2 RETURNING id",
        id, owner, attempts, *next_attempt_at, error));
  }
  // A failed message is never sent: its text (which may hold a live token)
  // is erased as a sent one's is.
  return changed_a_row(lease.prepare(
      "UPDATE outbox SET attempts = ?3, state = 'failed', last_error = ?4, message = '', lease_owner = NULL,"
      " lease_until = NULL WHERE id = ?1 AND lease_owner = ?2 RETURNING id",
      id, owner, attempts, error));
}

Result<bool> release_mail_lease(const StateDatabase::Lease& lease, std::int64_t id, std::string_view owner) {
  return changed_a_row(lease.prepare(
      "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE id = ?1 AND lease_owner = ?2 RETURNING id",
      id, owner));
}

std::int64_t retry_delay_seconds(std::chrono::milliseconds retry_backoff, std::int64_t attempt) {
  // 2^20 times even a 30 s backoff is about a year: beyond that, doubling
  // only risks overflow.
  const std::int64_t doublings = std::clamp<std::int64_t>(attempt - 1, 0, 20);
  const std::int64_t delay_ms = retry_backoff.count() << doublings;
  return std::max<std::int64_t>(1, (delay_ms + 999) / 1000);
}

Result<void> purge_sent_mail(const StateDatabase::Lease& lease, std::int64_t sent_before) {
  auto remove = lease.prepare("DELETE FROM outbox WHERE state = 'sent' AND sent_at <= ?1", sent_before);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

Result<OutboxCounts> count_outbox(const StateDatabase::Lease& lease) {
  auto select = lease.prepare(
      "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending'),"
      " (SELECT count(*) FROM outbox WHERE state = 'failed'),"
      " (SELECT count(*) FROM outbox WHERE state = 'held'),"
      " (SELECT min(created_at) FROM outbox WHERE state = 'pending')");
  RETURN_IF_ERROR(select);
  auto row = select->step();
  RETURN_IF_ERROR(row);
  OutboxCounts counts;
  counts.pending = select->column_int64(0);
  counts.failed = select->column_int64(1);
  counts.held = select->column_int64(2);
  if (!select->column_is_null(3)) counts.oldest_pending_created_at = select->column_int64(3);
  return counts;
}

}  // namespace dirproxy
