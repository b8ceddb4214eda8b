#include "daemon/mail_sender.hpp"

#include <chrono>

#include "core/logging.hpp"
#include "storage/node_registry.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

constexpr auto kPollInterval = 1s;

std::shared_ptr<spdlog::logger> log() { return logging::logger("mail"); }

}  // namespace

MailSender::~MailSender() { stop(); }

void MailSender::start(RuntimePtr runtime) {
  delivery_.emplace(this_process());
  {
    std::lock_guard lock(mutex_);
    runtime_ = std::move(runtime);
    stopping_ = false;
  }
  abort_ = false;
  thread_ = std::thread([this] { run(); });
}

void MailSender::use(RuntimePtr runtime) {
  {
    std::lock_guard lock(mutex_);
    runtime_ = std::move(runtime);
    notified_ = true;
  }
  wake_.notify_one();
}

void MailSender::notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

void MailSender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  abort_ = true;
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  runtime_.reset();
}

RuntimePtr MailSender::current_runtime() {
  std::lock_guard lock(mutex_);
  return runtime_;
}

void MailSender::run() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    const RuntimePtr runtime = current_runtime();
    if (runtime && runtime->database) {
      if (!runtime->config->mail) {
        if (!told_no_mail_) log()->info("no mail section configured: queued mail waits until one is");
        told_no_mail_ = true;
      } else {
        told_no_mail_ = false;
        // One bad step (a full disk, an exception from a directory) is
        // logged and retried at the next tick; it must not end the daemon.
        try {
          delivery_->step(*runtime, abort_);
        } catch (const std::exception& e) {
          log()->error("mail sender step failed: {}", e.what());
        }
      }
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, kPollInterval, [this] { return stopping_ || notified_; });
    notified_ = false;
  }
}

}  // namespace dirproxy
