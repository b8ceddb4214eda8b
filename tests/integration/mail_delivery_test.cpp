// Mail from the durable outbox: the real dirproxyd delivers what is queued
// in its state database to a real SMTP server (aiosmtpd, SmtpServer), over
// plain SMTP, STARTTLS, smtps and AUTH, through outages, refusals, daemon
// restarts and crashes. Until the operations that send mail land, the tests
// queue composed messages themselves, exactly as those operations will:
// MailComposer, then enqueue_mail in a write transaction on the daemon's
// state database.
#include <sqlite3.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "mail/mail_composer.hpp"
#include "mail/outbox.hpp"
#include "protocol_test_support.hpp"
#include "storage/state_database.hpp"
#include "support/smtp_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::CapturedMail;
using dirproxy::testing::SmtpServer;
using dirproxy::testing::SmtpServerOptions;
using dirproxy::testing::SmtpTls;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

constexpr const char* kFrom = "Example Site <noreply@example.com>";
constexpr const char* kSiteName = "Example Site";

struct OutboxRow {
  std::string state;
  std::int64_t attempts = 0;
  std::string message;
  std::optional<std::string> last_error;
  bool has_sent_at = false;
};

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

class MailDelivery : public ::testing::Test {
 protected:
  // The default test configuration with a mail section for `smtp`: 1 s
  // backoff, a 3 s timeout, and `changes` merged into the mail section.
  Json config_for(const SmtpServer& smtp, const Json& changes = Json::object()) const {
    Json config = daemon_.default_config();
    config["site"] = {{"name", kSiteName}, {"base_url", "https://dir.example.com"}};
    config["mail"] = {{"smtp_url", smtp.url()}, {"from", kFrom},   {"starttls", "none"},
                      {"retry_backoff", "1s"},  {"timeout", "3s"}, {"max_attempts", 10}};
    if (!smtp.ca_file().empty()) config["mail"]["tls_ca_file"] = smtp.ca_file();
    config["mail"].update(changes);
    return config;
  }

  StateDatabase& database() {
    if (!database_) {
      auto opened = StateDatabase::open(daemon_.state_dir(), 1);
      if (!opened) throw std::runtime_error("cannot open the state database: " + opened.error().message);
      database_ = std::move(*opened);
    }
    return *database_;
  }

  // Composes `template_name` to `recipient` as the operations do and queues
  // it in the daemon's state database; returns the row's id.
  std::int64_t enqueue(const std::string& template_name, const std::string& recipient, const MailValues& values = {},
                       const std::optional<std::string>& hold_for = std::nullopt) {
    config::Site site;
    site.name = kSiteName;
    config::Mail mail;
    mail.from = kFrom;
    const MailComposer composer(site, mail);
    const std::int64_t now = system_clock()->unix_seconds();  // the daemon's clock
    auto composed = composer.compose(template_name, recipient, values, now);
    if (!composed) throw std::runtime_error(composed.error().message);
    StateDatabase::Lease lease = database().acquire();
    auto transaction = lease.begin(TransactionMode::write);
    if (!transaction) throw std::runtime_error(transaction.error().message);
    if (auto queued = enqueue_mail(lease, *composed, now, hold_for); !queued) {
      throw std::runtime_error(queued.error().message);
    }
    auto last = lease.prepare("SELECT max(id) FROM outbox");
    if (!last || !last->step()) throw std::runtime_error("cannot read the queued message's id");
    const std::int64_t id = last->column_int64(0);
    if (auto committed = transaction->commit(); !committed) throw std::runtime_error(committed.error().message);
    return id;
  }

  std::int64_t enqueue_invitation(const std::string& recipient = "bob@example.com") {
    MailValues values;
    values.link = "https://dir.example.com/signup?token=tok3n";
    values.expires = "2026-12-08T00:00:00Z";
    return enqueue("invitation", recipient, values);
  }

  void execute(const std::string& sql) {
    StateDatabase::Lease lease = database().acquire();
    if (auto done = lease.execute(sql); !done) throw std::runtime_error(done.error().message);
  }

  OutboxRow row(std::int64_t id) {
    StateDatabase::Lease lease = database().acquire();
    auto select = lease.prepare("SELECT state, attempts, message, last_error, sent_at FROM outbox WHERE id = ?1", id);
    if (!select) throw std::runtime_error(select.error().message);
    auto found = select->step();
    if (!found || !*found) throw std::runtime_error("no outbox row " + std::to_string(id));
    return {select->column_text(0), select->column_int64(1), select->column_text(2), select->column_optional_text(3),
            !select->column_is_null(4)};
  }

  std::int64_t row_count() {
    StateDatabase::Lease lease = database().acquire();
    auto select = lease.prepare("SELECT count(*) FROM outbox");
    if (!select || !select->step()) throw std::runtime_error("cannot count the outbox");
    return select->column_int64(0);
  }

  bool wait_for_attempts(std::int64_t id, std::int64_t attempts, std::chrono::milliseconds timeout = 15s) {
    return wait_until([&] { return row(id).attempts >= attempts; }, timeout);
  }

  bool wait_for_state(std::int64_t id, const std::string& state, std::chrono::milliseconds timeout = 15s) {
    return wait_until([&] { return row(id).state == state; }, timeout);
  }

  Json mail_queue() {
    Json response = daemon_.call({{"op", "mail_queue"}});
    EXPECT_EQ(outcome_of(response), "ok") << response;
    return response;
  }

  DaemonHarness daemon_;
  std::shared_ptr<StateDatabase> database_;
};

// --- delivery -----------------------------------------------------------------

TEST_F(MailDelivery, DeliversQueuedMailWithExactHeadersAndBody) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));
  MailValues values;
  values.link = "https://dir.example.com/password/reset?token=abc";
  values.username = "jurgen";
  values.display_name = "Jürgen Groß";
  values.expires = "2026-12-02T00:00:00Z";

  const std::int64_t id = enqueue("password_reset", "jurgen@example.com", values);

  const auto mails = smtp.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  const CapturedMail& mail = mails[0];
  EXPECT_EQ(mail.envelope_from, "noreply@example.com");
  EXPECT_THAT(mail.envelope_to, ElementsAre("jurgen@example.com"));
  EXPECT_THAT(mail.defects, IsEmpty());
  EXPECT_EQ(mail.header("From"), kFrom);
  EXPECT_EQ(mail.header("To"), "jurgen@example.com");
  EXPECT_EQ(mail.subject, "Reset your password for Example Site");
  EXPECT_EQ(mail.header("MIME-Version"), "1.0");
  EXPECT_EQ(mail.header("Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(mail.header("Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_THAT(mail.header("Message-ID").value_or(""), ::testing::MatchesRegex("<[0-9a-f]{32}@example\\.com>"));
  EXPECT_THAT(mail.header("Date").value_or(""),
              ::testing::MatchesRegex("[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \\+0000"));
  EXPECT_EQ(mail.body,
            "Hello Jürgen Groß,\r\n\r\n"
            "Someone, probably you, asked to reset the password of the account\r\n"
            "\"jurgen\" at Example Site. To choose a new password, open this link:\r\n\r\n"
            "https://dir.example.com/password/reset?token=abc\r\n\r\n"
            "The link can be used once and expires at 2026-12-02T00:00:00Z.\r\n\r\n"
            "If you did not ask for this, ignore this message: your password stays as\r\n"
            "it is.\r\n");
  EXPECT_EQ(dirproxy::testing::first_link(mail.body), "https://dir.example.com/password/reset?token=abc");
  EXPECT_FALSE(mail.tls);
  EXPECT_EQ(mail.auth_user, std::nullopt);

  ASSERT_TRUE(wait_for_state(id, "sent"));
  const OutboxRow sent = row(id);
  EXPECT_EQ(sent.message, "") << "a sent message's text (which may hold a token) is erased";
  EXPECT_TRUE(sent.has_sent_at);
  EXPECT_EQ(sent.attempts, 0);
}

TEST_F(MailDelivery, NonAsciiSubjectArrivesDecoded) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));
  MailValues values;
  values.display_name = "Zoë Ünal";
  values.email = "zoe@example.com";
  values.message = "Bitte um Zugang.\nDanke!";

  enqueue("access_request", "admin@example.com", values);

  const auto mails = smtp.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_THAT(mails[0].headers.at("Subject"), HasSubstr("=?UTF-8?B?"));
  EXPECT_EQ(mails[0].subject, "Access request from Zoë Ünal at Example Site");
  EXPECT_THAT(mails[0].body, HasSubstr("Zoë Ünal <zoe@example.com> asks for access to Example Site:\r\n\r\n"
                                       "Bitte um Zugang.\r\nDanke!\r\n"));
}

TEST_F(MailDelivery, MailQueueReportsNothingPendingAfterDelivery) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));
  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_state(id, "sent"));
  const Json queue = mail_queue();

  EXPECT_EQ(queue["pending"], 0);
  EXPECT_EQ(queue["failed"], 0);
  EXPECT_EQ(queue["held"], 0);
  EXPECT_EQ(queue["oldest_pending_age_s"], nullptr);
}

// --- TLS and AUTH -------------------------------------------------------------

TEST_F(MailDelivery, RequiredStartTlsNeverFallsBackToPlaintext) {
  SmtpServer smtp;  // offers no STARTTLS
  daemon_.start(config_for(smtp, {{"starttls", "required"}}));

  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_attempts(id, 1));
  const OutboxRow after = row(id);
  EXPECT_EQ(after.state, "pending");
  EXPECT_THAT(after.last_error.value_or(""), Not(IsEmpty()));
  EXPECT_THAT(smtp.messages(), IsEmpty());
}

TEST_F(MailDelivery, RequiredStartTlsDeliversOverTls) {
  SmtpServerOptions options;
  options.tls = SmtpTls::starttls_required;
  SmtpServer smtp(options);
  daemon_.start(config_for(smtp, {{"starttls", "required"}}));

  enqueue_invitation();

  const auto mails = smtp.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_TRUE(mails[0].tls);
}

TEST_F(MailDelivery, OpportunisticStartTlsUsesTlsWhenOffered) {
  SmtpServerOptions options;
  options.tls = SmtpTls::starttls;
  SmtpServer smtp(options);
  daemon_.start(config_for(smtp, {{"starttls", "opportunistic"}}));

  enqueue_invitation();

  const auto mails = smtp.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_TRUE(mails[0].tls);
}

TEST_F(MailDelivery, SmtpsDeliversOverImplicitTls) {
  SmtpServerOptions options;
  options.tls = SmtpTls::implicit;
  SmtpServer smtp(options);
  daemon_.start(config_for(smtp));

  enqueue_invitation();

  const auto mails = smtp.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_TRUE(mails[0].tls);
  EXPECT_EQ(mails[0].subject, "You are invited to join Example Site");
}

TEST_F(MailDelivery, UntrustedCertificateIsRefused) {
  SmtpServerOptions options;
  options.tls = SmtpTls::implicit;
  SmtpServer smtp(options);
  Json config = config_for(smtp);
  config["mail"].erase("tls_ca_file");  // the system's CAs do not know the test CA
  daemon_.start(config);

  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_attempts(id, 1));
  EXPECT_EQ(row(id).state, "pending");
  EXPECT_THAT(smtp.messages(), IsEmpty());
}

TEST_F(MailDelivery, AuthWithTheRightCredentialsDelivers) {
  SmtpServerOptions options;
  options.auth_username = "mailer";
  options.auth_password = "mail-secret";
  SmtpServer smtp(options);
  std::ofstream(daemon_.dir() + "/smtp.secret") << "mail-secret\n";
  daemon_.start(config_for(smtp, {{"username", "mailer"}, {"password_file", daemon_.dir() + "/smtp.secret"}}));

  enqueue_invitation();

  const auto mails = smtp.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].auth_user, "mailer");
}

TEST_F(MailDelivery, WrongCredentialsKeepMailQueued) {
  SmtpServerOptions options;
  options.auth_username = "mailer";
  options.auth_password = "mail-secret";
  SmtpServer smtp(options);
  std::ofstream(daemon_.dir() + "/smtp.secret") << "wrong-secret\n";
  daemon_.start(config_for(smtp, {{"username", "mailer"}, {"password_file", daemon_.dir() + "/smtp.secret"}}));

  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_attempts(id, 2));
  const OutboxRow after = row(id);
  EXPECT_EQ(after.state, "pending");
  EXPECT_THAT(after.last_error.value_or(""), HasSubstr("535"));
  EXPECT_THAT(daemon_.log(), Not(HasSubstr("wrong-secret")));
  EXPECT_THAT(smtp.messages(), IsEmpty());
}

TEST_F(MailDelivery, OpportunisticStartTlsWithCredentialsNeverAuthenticatesInClearText) {
  // A server that offers no STARTTLS is what a network attacker who strips
  // it from the greeting looks like: the password must not go out.
  SmtpServerOptions options;
  options.auth_username = "mailer";
  options.auth_password = "mail-secret";
  SmtpServer smtp(options);
  std::ofstream(daemon_.dir() + "/smtp.secret") << "mail-secret\n";
  daemon_.start(config_for(
      smtp,
      {{"starttls", "opportunistic"}, {"username", "mailer"}, {"password_file", daemon_.dir() + "/smtp.secret"}}));

  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_attempts(id, 1));
  EXPECT_EQ(row(id).state, "pending");
  EXPECT_THAT(smtp.messages(), IsEmpty());
}

TEST_F(MailDelivery, ARecipientThatIsNotAStrictAddressNeverReachesRcptTo) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));

  // As an LDAP mail attribute edited by its owner could hold it.
  const std::int64_t id = enqueue_invitation("x@example.com>\r\nRSET\r\nMAIL FROM:<ceo@example.com");

  ASSERT_TRUE(wait_for_state(id, "failed"));
  const OutboxRow after = row(id);
  EXPECT_EQ(after.state, "failed");
  EXPECT_THAT(after.last_error.value_or(""), HasSubstr("not a valid recipient address"));
  EXPECT_THAT(smtp.messages(), IsEmpty());
}

// --- failures, retries, outages -----------------------------------------------

TEST_F(MailDelivery, OutageKeepsMailPendingUntilTheServerIsBack) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));
  smtp.stop();

  const std::int64_t id = enqueue_invitation();

  // The growing back-off between attempts is OutboxDeliveryTest's to show.
  ASSERT_TRUE(wait_for_attempts(id, 1));
  const Json queue = mail_queue();
  EXPECT_EQ(queue["pending"], 1);
  EXPECT_EQ(queue["failed"], 0);
  EXPECT_TRUE(queue["oldest_pending_age_s"].is_number_integer()) << queue;
  EXPECT_EQ(row(id).state, "pending");

  smtp.start();

  const auto mails = smtp.wait_for_messages(1, 15s);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_THAT(mails[0].envelope_to, ElementsAre("bob@example.com"));
  EXPECT_TRUE(wait_for_state(id, "sent"));
}

TEST_F(MailDelivery, TemporaryRefusalIsRetried) {
  SmtpServer smtp;
  smtp.set_temporary_failure(true);
  daemon_.start(config_for(smtp));
  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_attempts(id, 1));
  EXPECT_THAT(row(id).last_error.value_or(""), HasSubstr("451"));
  smtp.set_temporary_failure(false);

  EXPECT_EQ(smtp.wait_for_messages(1, 10s).size(), 1u);
  EXPECT_TRUE(wait_for_state(id, "sent"));
}

TEST_F(MailDelivery, PermanentRefusalFailsAtOnce) {
  SmtpServer smtp;
  smtp.set_permanent_failure(true);
  daemon_.start(config_for(smtp));

  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_state(id, "failed"));
  EXPECT_EQ(row(id).attempts, 1);
  EXPECT_THAT(row(id).last_error.value_or(""), HasSubstr("550"));
  EXPECT_TRUE(daemon_.wait_for_log("giving up on invitation mail #" + std::to_string(id) + " to bob@example.com"));
}

TEST_F(MailDelivery, MaxAttemptsReachedMarksMailFailed) {
  SmtpServer smtp;
  // One attempt, so no back-off to wait for: giving up after several is
  // OutboxDeliveryTest's to show.
  daemon_.start(config_for(smtp, {{"max_attempts", 1}}));
  smtp.stop();

  const std::int64_t id = enqueue_invitation();

  ASSERT_TRUE(wait_for_state(id, "failed"));
  EXPECT_EQ(row(id).attempts, 1);
  const Json queue = mail_queue();
  EXPECT_EQ(queue["pending"], 0);
  EXPECT_EQ(queue["failed"], 1);
  EXPECT_EQ(queue["oldest_pending_age_s"], nullptr);
  EXPECT_THAT(daemon_.log(), Not(HasSubstr("tok3n"))) << "the message text never reaches the log";
}

TEST_F(MailDelivery, HungSmtpServerDelaysNoRequest) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp, {{"timeout", "30s"}}));
  smtp.pause();
  enqueue_invitation();
  std::this_thread::sleep_for(1500ms);  // the sender is now waiting on the hung server

  const auto before = Clock::now();
  const Json pong = daemon_.call({{"op", "ping"}});
  const Json queue = mail_queue();
  const auto elapsed = Clock::now() - before;

  EXPECT_EQ(outcome_of(pong), "ok");
  EXPECT_EQ(queue["pending"], 1);
  EXPECT_LT(elapsed, 1s) << "the SMTP timeout is 30 s: nothing waited for it";
}

// --- restarts -------------------------------------------------------------------

TEST_F(MailDelivery, SigtermWhileTheSmtpServerHangsStopsPromptly) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp, {{"timeout", "60s"}}));
  smtp.pause();
  const std::int64_t id = enqueue_invitation();
  std::this_thread::sleep_for(1500ms);

  const auto before = Clock::now();
  EXPECT_EQ(daemon_.stop(10s), 0);

  EXPECT_LT(Clock::now() - before, 5s);
  const OutboxRow after = row(id);
  EXPECT_EQ(after.state, "pending");
  EXPECT_EQ(after.attempts, 0) << "an attempt aborted by shutdown does not count";
}

TEST_F(MailDelivery, PendingMailIsDeliveredAfterARestart) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));
  smtp.stop();
  const std::int64_t id = enqueue_invitation();
  ASSERT_TRUE(wait_for_attempts(id, 1));

  EXPECT_EQ(daemon_.stop(), 0);
  smtp.start();
  daemon_.start(config_for(smtp));

  EXPECT_EQ(smtp.wait_for_messages(1, 15s).size(), 1u);
  EXPECT_TRUE(wait_for_state(id, "sent"));
}

TEST_F(MailDelivery, PendingMailIsDeliveredAfterACrash) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));
  smtp.stop();
  const std::int64_t id = enqueue_invitation();
  ASSERT_TRUE(wait_for_attempts(id, 1));

  daemon_.kill9();
  smtp.start();
  daemon_.start(config_for(smtp));

  EXPECT_EQ(smtp.wait_for_messages(1, 15s).size(), 1u);
  EXPECT_TRUE(wait_for_state(id, "sent"));
}

TEST_F(MailDelivery, MailQueuedWhileTheDaemonIsDownGoesOutAtStart) {
  SmtpServer smtp;
  const std::int64_t id = enqueue_invitation();

  daemon_.start(config_for(smtp));

  EXPECT_EQ(smtp.wait_for_messages(1).size(), 1u);
  EXPECT_TRUE(wait_for_state(id, "sent"));
}

// --- held mail and configuration ------------------------------------------------

TEST_F(MailDelivery, AtStartACrashedCreationIsCompletedWhenItsAccountExistsAndUndoneWhenNot) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp));
  ASSERT_EQ(outcome_of(daemon_.call(add_user_request("alice"))), "ok");
  const std::int64_t for_alice = enqueue("new_user", "alice@example.com", {}, "alice");
  const std::int64_t for_ghost = enqueue("new_user", "ghost@example.com", {}, "ghost");
  // As if a daemon had died while it created alice (her account exists,
  // not yet in "crew") and ghost (whose account it never made).
  execute(
      "INSERT INTO account_creations (username, groups, process, started_at) VALUES"
      " ('alice', '[\"crew\"]', 'dead', 0), ('ghost', '[]', 'dead', 0)");

  daemon_.restart();

  const auto mails = smtp.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_THAT(mails[0].envelope_to, ElementsAre("alice@example.com"));
  EXPECT_TRUE(wait_for_state(for_alice, "sent"));
  EXPECT_TRUE(wait_until([&] { return row_count() == 1; }, 5s)) << "ghost's mail #" << for_ghost << " is dropped";
  EXPECT_EQ(daemon_.call({{"op", "get_user_groups"}, {"username", "alice"}})["groups"], Json::array({"crew"}));
  EXPECT_THAT(daemon_.log(), HasSubstr("creation of account \"alice\" completed: the account exists in directory "
                                       "'internal'; groups joined: crew; its mail released"));
  EXPECT_THAT(daemon_.log(), HasSubstr("creation of account \"ghost\" undone: the account was never made"));
}

TEST_F(MailDelivery, WithoutAMailSectionMailWaitsUntilAReloadAddsOne) {
  SmtpServer smtp;
  daemon_.start(daemon_.default_config());
  const std::int64_t id = enqueue_invitation();
  std::this_thread::sleep_for(1500ms);
  Json queue = mail_queue();
  EXPECT_EQ(queue["pending"], 1);
  EXPECT_EQ(queue["mail_configured"], false);
  EXPECT_EQ(row(id).attempts, 0);

  daemon_.write_config(config_for(smtp));
  ASSERT_EQ(outcome_of(daemon_.call({{"op", "reload"}})), "ok");

  EXPECT_EQ(smtp.wait_for_messages(1).size(), 1u);
  EXPECT_TRUE(wait_for_state(id, "sent"));
}

// --- mail_queue and dirproxyctl -------------------------------------------------

TEST_F(MailDelivery, MailQueueIsForAdminsOnly) {
  if (!can_change_identity()) GTEST_SKIP() << "needs root to act as another user";
  SmtpServer smtp;
  daemon_.start(config_for(smtp));

  const ProcessOutput output = daemon_.run_ctl_as(nobody(), {"mail", "queue"});

  EXPECT_NE(output.exit_code, 0);
  EXPECT_THAT(output.err, HasSubstr("forbidden"));
}

TEST_F(MailDelivery, CtlMailQueuePrintsTheCounts) {
  SmtpServer smtp;
  daemon_.start(config_for(smtp, {{"max_attempts", 1}}));
  smtp.stop();
  const std::int64_t failed = enqueue_invitation("one@example.com");
  ASSERT_TRUE(wait_for_state(failed, "failed"));
  execute("UPDATE outbox SET next_attempt_at = strftime('%s','now') + 3600");  // nothing else is due

  enqueue_invitation("two@example.com");
  execute(
      "UPDATE outbox SET next_attempt_at = strftime('%s','now') + 3600, created_at = created_at - 42"
      " WHERE state = 'pending'");

  const ProcessOutput human = daemon_.run_ctl({"mail", "queue"});
  const ProcessOutput json = daemon_.run_ctl({"--json", "mail", "queue"});

  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, ::testing::MatchesRegex("pending: +1\nfailed: +1\nheld: +0\noldest pending: +4[2-4] s\n"));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const Json result = Json::parse(json.out);
  EXPECT_EQ(result["pending"], 1);
  EXPECT_EQ(result["failed"], 1);
  EXPECT_GE(result["oldest_pending_age_s"].get<int>(), 42);
}

}  // namespace
}  // namespace dirproxy::integration
