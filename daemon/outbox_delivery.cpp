#include "daemon/outbox_delivery.hpp"

#include "core/logging.hpp"
#include "mail/outbox.hpp"
#include "mail/smtp_client.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;

constexpr auto kPurgeInterval = 30s;
// How long the record of a sent message stays (for an admin asking "was it
// sent?"); its text is erased at once.
constexpr std::int64_t kSentRecordSeconds = 30 * 24 * 3600;

std::shared_ptr<spdlog::logger> log() { return logging::logger("mail"); }

}  // namespace

void OutboxDelivery::step(const Runtime& runtime, const std::atomic<bool>& abort) {
  if (runtime.clock->steady() >= next_purge_) {
    purge_old_records(runtime);
    next_purge_ = runtime.clock->steady() + kPurgeInterval;
  }
  deliver_due(runtime, abort);
}

void OutboxDelivery::deliver_due(const Runtime& runtime, const std::atomic<bool>& abort) {
  const config::Mail& mail = *runtime.config->mail;
  const SmtpClient client(mail, &abort);
  while (!abort) {
    std::optional<DueMail> due;
    {
      // The lease goes back to the pool before the SMTP exchange, so the
      // request workers never wait for a connection held by a slow server.
      StateDatabase::Lease lease = runtime.database->acquire();
      auto next = next_due_mail(lease, runtime.clock->unix_seconds());
      if (!next) {
        log()->error("cannot read the outbox: {}", next.error().message);
        return;
      }
      due = std::move(*next);
    }
    if (!due) return;

    const DeliveryResult result = client.deliver(due->recipient, due->message);
    if (abort) return;  // stopping: the attempt does not count

    StateDatabase::Lease lease = runtime.database->acquire();
    const std::int64_t now = runtime.clock->unix_seconds();
    Result<void> recorded;
    if (result.outcome == DeliveryOutcome::sent) {
      recorded = mark_mail_sent(lease, due->id, now);
      log()->info("sent {} mail #{} to {}", due->template_name, due->id, due->recipient);
    } else {
      const std::int64_t attempts = due->attempts + 1;
      const bool give_up = result.outcome == DeliveryOutcome::permanent_failure || attempts >= mail.max_attempts;
      std::optional<std::int64_t> next_attempt;
      if (!give_up) next_attempt = now + retry_delay_seconds(mail.retry_backoff, attempts);
      recorded = record_failed_attempt(lease, due->id, attempts, next_attempt, result.error);
      if (give_up) {
        log()->warn("giving up on {} mail #{} to {} after {} attempt(s): {}", due->template_name, due->id,
                    due->recipient, attempts, result.error);
      } else {
        log()->info("{} mail #{} to {} not sent (attempt {} of {}), next try in {} s: {}", due->template_name, due->id,
                    due->recipient, attempts, mail.max_attempts, *next_attempt - now, result.error);
      }
      if (result.outcome == DeliveryOutcome::temporary_failure) {
        // The server is down or refuses this configuration: the other due
        // rows would fail the same way; they wait for the next tick.
        if (!recorded) log()->error("cannot update the outbox: {}", recorded.error().message);
        return;
      }
    }
    if (!recorded) {
      log()->error("cannot update the outbox: {}", recorded.error().message);
      return;
    }
  }
}

void OutboxDelivery::purge_old_records(const Runtime& runtime) {
  StateDatabase::Lease lease = runtime.database->acquire();
  if (auto purged = purge_sent_mail(lease, runtime.clock->unix_seconds() - kSentRecordSeconds); !purged) {
    log()->error("cannot purge old sent mail: {}", purged.error().message);
  }
}

}  // namespace dirproxy
