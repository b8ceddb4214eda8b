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
// Every time it reads comes from the Runtime's clock, so tests drive the
// back-off and the purge on a ManualClock, one step at a time, without the
// sender's thread.
#pragma once

#include <atomic>
#include <chrono>

#include "service/runtime.hpp"

namespace dirproxy {

class OutboxDelivery final {
 public:
  // One tick with `runtime`, which has a database and a mail section: the
  // purge when 30 s have passed since the last (and at the first step), then the due rows until none is due, the server
  // fails temporarily (the other rows would fail the same way) or `abort`
  // becomes true (an attempt it cut short does not count). Errors are
  // logged; the next step tries again.
  void step(const Runtime& runtime, const std::atomic<bool>& abort);

 private:
  void deliver_due(const Runtime& runtime, const std::atomic<bool>& abort);
  void purge_old_records(const Runtime& runtime);

  std::chrono::steady_clock::time_point next_purge_{};  // the first step purges
};

}  // namespace dirproxy
