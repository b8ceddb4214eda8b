#include "daemon/mail/outbox.hpp"

#include <chrono>

namespace dirproxy {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<void> enqueue_mail(const StateDatabase::Lease& lease, const OutgoingMail& mail,
                          const std::optional<std::string>& hold_for_username) {
  const std::int64_t now = unix_now();
  const std::string state = hold_for_username ? "held" : "pending";
  auto insert = lease.prepare(
      "INSERT INTO outbox (template, recipient, message, state, hold_username, next_attempt_at, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
      mail.template_name, mail.recipient, mail.message, state, hold_for_username, now);
  if (!insert) return insert.error();
  return insert->run();
}

Result<void> release_held_mail(const StateDatabase::Lease& lease, std::string_view username) {
  auto update = lease.prepare(
      "UPDATE outbox SET state = 'pending', hold_username = NULL, next_attempt_at = ?2"
      " WHERE state = 'held' AND hold_username = ?1",
      username, unix_now());
  if (!update) return update.error();
  return update->run();
}

Result<void> discard_held_mail(const StateDatabase::Lease& lease, std::string_view username) {
  auto remove = lease.prepare("DELETE FROM outbox WHERE state = 'held' AND hold_username = ?1", username);
  if (!remove) return remove.error();
  return remove->run();
}

}  // namespace dirproxy
