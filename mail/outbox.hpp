// The mail outbox (table outbox of the state database): every email dirproxy
// sends is first a row here, inserted in the same transaction as the account
// change that causes it, so that a crash or an SMTP outage loses no email and
// no email goes out for a change that did not commit. The background sender
// (mail_sender.hpp) delivers due rows with doubling backoff.
//
// Several nodes may deliver from one outbox (one database shared by several
// dirproxyd). A sender first claims a due row: the claim is a lease, the
// row's lease_owner (the claiming run's process name) and lease_until, taken
// in one write transaction, so no other sender gets the row while the lease
// lasts. The outcome is written only while the lease is still the claimer's;
// a claimer that dies leaves a lease that expires, and then another sender
// claims the row and sends it.
//
// A change that is not wholly in the state database (a new account that the
// chain creates in an LDAP directory) enqueues its mail *held* for the
// account's username before the change, then releases it once the account
// exists or discards it when the change failed; after a crash, the recovery
// of that change does (service/account_creation.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// A message ready to send: the composed RFC 5322 text (mail_composer.hpp).
struct OutgoingMail {
  std::string template_name;  // which template made it, for the log and mail_queue
  std::string recipient;      // the envelope recipient, a parsed address
  std::string message;        // the whole message, CRLF line ends
};

// Inserts `mail` queued at `now` (Unix seconds, from the caller's Clock):
// pending and due at once, or held for `hold_for_username`. Call it inside
// the caller's write transaction on `lease`, so that the mail commits or
// rolls back with the change.
Result<void> enqueue_mail(const StateDatabase::Lease& lease, const OutgoingMail& mail, std::int64_t now,
                          const std::optional<std::string>& hold_for_username = std::nullopt);

// Makes the mail held for `username` pending, due at `now`.
Result<void> release_held_mail(const StateDatabase::Lease& lease, std::string_view username, std::int64_t now);

// Deletes the mail held for `username`: its change did not happen.
Result<void> discard_held_mail(const StateDatabase::Lease& lease, std::string_view username);

// --- For the sender (mail_sender.hpp) and mail_queue -----------------------

// A pending row claimed for delivery.
struct DueMail {
  std::int64_t id = 0;
  std::string template_name;
  std::string recipient;
  std::string message;
  std::int64_t attempts = 0;  // failed attempts so far
};

// Claims for `owner` (a process name, storage/node_registry.hpp) the pending
// row that has waited longest among those due at `now` (Unix seconds) and
// not leased to anyone (no lease, or one that ended at or before `now`): in
// one write transaction of its own on `lease` (so not inside another), the
// row is leased to `owner` until now + lease_seconds and returned. nullopt
// when no row is due and free. A leased row stays pending.
Result<std::optional<DueMail>> claim_due_mail(const StateDatabase::Lease& lease, std::string_view owner,
                                              std::int64_t now, std::int64_t lease_seconds);

// The functions below change row `id` only while `owner` holds its lease
// (also one that has run out, as long as nobody claimed the row since), and
// clear the lease. They answer false, changing nothing, when the lease was
// lost: the row was claimed by another sender after this one's lease ran
// out.

// Marks row `id` sent at `now` and erases its text, which may hold a token.
Result<bool> mark_mail_sent(const StateDatabase::Lease& lease, std::int64_t id, std::string_view owner,
                            std::int64_t now);

// Records a failed attempt on row `id` (its attempts become `attempts`):
// pending again at `next_attempt_at`, or failed for good when that is
// nullopt. `error` is the delivery error (never the message text).
Result<bool> record_failed_attempt(const StateDatabase::Lease& lease, std::int64_t id, std::string_view owner,
                                   std::int64_t attempts, std::optional<std::int64_t> next_attempt_at,
                                   const std::string& error);

// Gives row `id` back unchanged, due as before, for anyone to claim: an
// attempt cut short (the sender is stopping) that does not count.
Result<bool> release_mail_lease(const StateDatabase::Lease& lease, std::int64_t id, std::string_view owner);

// How long to wait after failed attempt number `attempt` (from 1):
// retry_backoff·2^(attempt-1), in whole seconds (at least 1), capped so that
// it never overflows.
std::int64_t retry_delay_seconds(std::chrono::milliseconds retry_backoff, std::int64_t attempt);

// Deletes the rows sent at or before `sent_before` (Unix seconds): their
// text is gone already, only the record of the delivery is left.
Result<void> purge_sent_mail(const StateDatabase::Lease& lease, std::int64_t sent_before);

// What mail_queue reports.
struct OutboxCounts {
  std::int64_t pending = 0;  // including those a sender holds a lease on right now
  std::int64_t failed = 0;
  std::int64_t held = 0;
  std::optional<std::int64_t> oldest_pending_created_at;  // Unix seconds; nullopt when none is pending
};
Result<OutboxCounts> count_outbox(const StateDatabase::Lease& lease);

}  // namespace dirproxy
