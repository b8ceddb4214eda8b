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

std::int64_t mail_lease_seconds(const config::Mail& mail) {
  const auto timeout = std::chrono::ceil<std::chrono::seconds>(mail.timeout);
  return 2 * timeout.count() + 60;
}

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
  const std::int64_t lease_seconds = mail_lease_seconds(mail);
  while (!abort) {
    std::optional<DueMail> due;
    {
      // The lease goes back to the pool before the SMTP exchange, so the
      // request workers never wait for a connection held by a slow server.
      StateDatabase::Lease lease = runtime.database->acquire();
      auto claimed = claim_due_mail(lease, process_, runtime.clock->unix_seconds(), lease_seconds);
      if (!claimed) {
        log()->error("cannot read the outbox: {}", claimed.error().message);
        return;
      }
      due = std::move(*claimed);
    }
    if (!due) return;

    const DeliveryResult result = client.deliver(due->recipient, due->message);

    StateDatabase::Lease lease = runtime.database->acquire();
    const std::int64_t now = runtime.clock->unix_seconds();
    if (result.outcome != DeliveryOutcome::sent && abort) {
      // Stopping: the attempt does not count, and the row is free for the
      // next start or another node at once rather than when the lease ends.
      if (auto released = release_mail_lease(lease, due->id, process_); !released) {
        log()->error("cannot give back {} mail #{}: {}", due->template_name, due->id, released.error().message);
      }
      return;
    }
    if (result.outcome == DeliveryOutcome::sent) {
      // Also when stopping: the server has the message, and a row left
      // pending would be sent again.
      const Result<bool> recorded = mark_mail_sent(lease, due->id, process_, now);
      log()->info("sent {} mail #{} to {}", due->template_name, due->id, due->recipient);
      if (!recorded) {
        log()->error("cannot update the outbox: {}", recorded.error().message);
        return;
      }
      if (!*recorded) report_lost_lease(*due, /*sent=*/true);
      if (abort) return;
      continue;
    }
    const std::int64_t attempts = due->attempts + 1;
    const bool give_up = result.outcome == DeliveryOutcome::permanent_failure || attempts >= mail.max_attempts;
    std::optional<std::int64_t> next_attempt;
    if (!give_up) next_attempt = now + retry_delay_seconds(mail.retry_backoff, attempts);
    const Result<bool> recorded = record_failed_attempt(lease, due->id, process_, attempts, next_attempt, result.error);
    if (recorded && !*recorded) {
      report_lost_lease(*due, /*sent=*/false);
    } else if (give_up) {
      log()->warn("giving up on {} mail #{} to {} after {} attempt(s): {}", due->template_name, due->id,
                  due->recipient, attempts, result.error);
    } else {
      log()->info("{} mail #{} to {} not sent (attempt {} of {}), next try in {} s: {}", due->template_name, due->id,
                  due->recipient, attempts, mail.max_attempts, *next_attempt - now, result.error);
    }
    if (!recorded) {
      log()->error("cannot update the outbox: {}", recorded.error().message);
      return;
    }
    // A temporary failure: the server is down or refuses this
    // configuration, and the other due rows would fail the same way; they
    // wait for the next tick.
    if (result.outcome == DeliveryOutcome::temporary_failure) return;
  }
}

void OutboxDelivery::report_lost_lease(const DueMail& mail, bool sent) const {
  log()->warn("{} mail #{} to {}: this node's claim on it ran out and another node claimed it meanwhile; {}",
              mail.template_name, mail.id, mail.recipient,
              sent ? "this node sent it, and the other may send it again" : "the other node delivers it");
}

void OutboxDelivery::purge_old_records(const Runtime& runtime) {
  StateDatabase::Lease lease = runtime.database->acquire();
  if (auto purged = purge_sent_mail(lease, runtime.clock->unix_seconds() - kSentRecordSeconds); !purged) {
    log()->error("cannot purge old sent mail: {}", purged.error().message);
  }
}

}  // namespace dirproxy
