// The background sender of the outbox (outbox.hpp). One thread of its own,
// apart from the request workers, so a slow or dead SMTP server never
// delays a user-facing operation: it wakes every second (or when notified),
// delivers the due pending rows one at a time with SmtpClient, marks each
// sent (erasing its text) or counts a failed attempt and schedules the next
// after mail.retry_backoff·2^(attempt-1), until mail.max_attempts makes the
// row failed. A permanent refusal (5xx for the message or recipient) fails
// the row at once. About every 30 s it also settles held mail older than a
// minute: released when its account exists, deleted when it does not, left
// alone while the directory cannot tell. Records of sent mail (text already
// erased) are deleted after 30 days.
//
// It reads the Runtime in force at each step (use() swaps it on reload);
// without a mail section pending rows simply wait. Delivery is at least
// once: a crash between the server's 250 and the row's update sends that
// message again after the restart.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "service/runtime.hpp"
#include "core/timestamp.hpp"

namespace dirproxy {

class MailSender final {
 public:
  MailSender() = default;
  ~MailSender();  // stop()
  MailSender(const MailSender&) = delete;
  MailSender& operator=(const MailSender&) = delete;

  // Starts the thread with `runtime`; delivers what earlier runs left.
  void start(RuntimePtr runtime);
  // The configuration to use from the next step on (after a reload).
  void use(RuntimePtr runtime);
  // Wakes the sender now (new mail was committed).
  void notify();
  // Ends the thread: a delivery in progress is aborted within about a
  // second (the row stays pending, its attempt not counted). Idempotent.
  void stop();

 private:
  void run();
  // Delivers due rows until none is due or stopping; one SMTP exchange at a time.
  void deliver_due(const Runtime& runtime);
  void settle_held_mail(const Runtime& runtime);
  // Deletes the records of mail sent over 30 days ago.
  void purge_old_records(const Runtime& runtime);
  RuntimePtr current_runtime();

  std::mutex mutex_;
  std::condition_variable wake_;
  RuntimePtr runtime_;    // guarded by mutex_
  bool notified_ = false; // guarded by mutex_
  bool stopping_ = false; // guarded by mutex_
  std::atomic<bool> abort_{false};
  std::thread thread_;
  bool told_no_mail_ = false;  // sender thread only
  // When this process began: held mail from before it can belong to no
  // change in progress.
  const std::int64_t started_at_ = unix_now();
  std::chrono::steady_clock::time_point next_held_check_{};  // sender thread only
};

}  // namespace dirproxy
