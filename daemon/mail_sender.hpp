// The background sender of the outbox (outbox.hpp). One thread of its own,
// apart from the request workers, so a slow or dead SMTP server never
// delays a user-facing operation: it wakes every second (or when notified)
// and runs one OutboxDelivery step (outbox_delivery.hpp: delivery with
// retries and back-off, purging old records), with the
// time from the Runtime's clock.
//
// It reads the Runtime in force at each step (use() swaps it on reload);
// without a mail section pending rows simply wait. Delivery is at least
// once: a crash between the server's 250 and the row's update sends that
// message again once its lease has run out, from the restarted daemon or
// from another node.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/outbox_delivery.hpp"
#include "service/runtime.hpp"

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
  RuntimePtr current_runtime();

  std::mutex mutex_;
  std::condition_variable wake_;
  RuntimePtr runtime_;     // guarded by mutex_
  bool notified_ = false;  // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::atomic<bool> abort_{false};
  std::thread thread_;
  bool told_no_mail_ = false;               // sender thread only
  std::optional<OutboxDelivery> delivery_;  // made by start(), then the sender thread's
};

}  // namespace dirproxy
