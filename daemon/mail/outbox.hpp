// The mail outbox (table outbox of the state database): every email dirproxy
// sends is first a row here, inserted in the same transaction as the account
// change that causes it, so that a crash or an SMTP outage loses no email and
// no email goes out for a change that did not commit. The background sender
// (mail_sender.hpp) delivers due rows with doubling backoff.
//
// A change that is not wholly in the state database (a new account, which
// the chain may create in an LDAP directory) enqueues its mail *held* for
// the account's username before the change, then releases it once the
// account exists or discards it when the change failed. Held mail that
// nobody resolved (the daemon died in between) is settled by recovery: sent
// when the account exists, dropped when it does not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "directories/internal/state_database.hpp"
#include "directories/result.hpp"

namespace dirproxy {

// A message ready to send: the composed RFC 5322 text (mail_composer.hpp).
struct OutgoingMail {
  std::string template_name;  // which template made it, for the log and mail_queue
  std::string recipient;      // the envelope recipient, a parsed address
  std::string message;        // the whole message, CRLF line ends
};

// Inserts `mail` as pending (due now), or held for `hold_for_username`.
// Call it inside the caller's write transaction on `lease`, so that the
// mail commits or rolls back with the change.
Result<void> enqueue_mail(const StateDatabase::Lease& lease, const OutgoingMail& mail,
                          const std::optional<std::string>& hold_for_username = std::nullopt);

// Makes the mail held for `username` pending (due now).
Result<void> release_held_mail(const StateDatabase::Lease& lease, std::string_view username);

// Deletes the mail held for `username`: its change did not happen.
Result<void> discard_held_mail(const StateDatabase::Lease& lease, std::string_view username);

}  // namespace dirproxy
