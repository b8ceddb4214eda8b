// What the background mail sender (mail_sender.hpp) does at each tick, on
// the caller's thread: delivers the outbox's due rows (outbox.hpp) one at a
// time with SmtpClient, marks each sent (erasing its text) or counts a
// failed attempt and schedules the next after mail.retry_backoff·2^(attempt-1),
// until mail.max_attempts makes the row failed; a permanent refusal (5xx
// for the message or recipient) fails the row at once. About every 30 s it
// also deletes the records of mail sent over 30 days ago (their text is gone
// already). Held mail is not its business: the account creation that holds
// it, or its recovery, releases or discards it (account_creation.hpp).
//
// Each row is claimed with a lease (outbox.hpp) for mail_lease_seconds()
// before the SMTP exchange, so that of several nodes sharing the outbox
// exactly one sends it; a node that dies mid-delivery leaves a lease that
// runs out, and another node sends the row then. A lease lost meanwhile (this
// node was so slow that its lease ran out and another node claimed the row)
// is logged, and the outcome is not recorded over the other node's.
//
// Every time it reads comes from the Runtime's clock, so tests drive the
// back-off and the purge on a ManualClock, one step at a time, without the
// sender's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "mail/outbox.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

// How long a claim on an outbox row lasts: longer than the whole worst-case
// delivery. SmtpClient bounds the whole SMTP exchange (connection, TLS,
// AUTH, the message) by mail.timeout (libcurl's CURLOPT_TIMEOUT), and a
// row's claim and its outcome are each one short write transaction, which
// waits at most a few seconds for the write lock (SQLite's busy timeout,
// PostgreSQL's statement_timeout). The lease is twice mail.timeout plus
// 60 s, whole seconds rounded up: the 60 s also cover clocks of nodes that
// differ by a few seconds, since one node's lease_until is compared with
// another's clock. With the default timeout of 10 s that is 80 s, also the
// longest a dead node's message waits before another node sends it.
std::int64_t mail_lease_seconds(const config::Mail& mail);

class OutboxDelivery final {
 public:
  // A sender that claims rows as `process` (this_process() in the daemon;
  // tests run several with names of their own over one database).
  explicit OutboxDelivery(std::string process) : process_(std::move(process)) {}

  // One tick with `runtime`, which has a database and a mail section: the
  // purge when 30 s have passed since the last (and at the first step), then the due rows until none is due, the server
  // fails temporarily (the other rows would fail the same way) or `abort`
  // becomes true (an attempt it cut short does not count, and its row is
  // given back at once). Errors are logged; the next step tries again.
  void step(const Runtime& runtime, const std::atomic<bool>& abort);

 private:
  void deliver_due(const Runtime& runtime, const std::atomic<bool>& abort);
  void purge_old_records(const Runtime& runtime);
  // Logs that the claim on `mail` was lost before its outcome was written.
  void report_lost_lease(const DueMail& mail, bool sent) const;

  const std::string process_;

  std::chrono::steady_clock::time_point next_purge_{};  // the first step purges
};

}  // namespace dirproxy
