// A Runtime for unit tests of operations that store tokens and queue mail:
// one read-write in-memory directory, a real state database in a temporary
// directory, a mail composer, and a ManualClock the test moves. Templates
// are overridden so that a queued mail's body is exactly what a test reads
// back (the link, and the expiry where the mail has one).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "directories/in_memory_directory.hpp"
#include "service/intercepted_directory.hpp"
#include "service/operation_context.hpp"
#include "service/outbox_rows.hpp"
#include "service/runtime.hpp"
#include "support/manual_clock.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy::testing {

class MailingRuntime : public ::testing::Test {
 protected:
  MailingRuntime() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
    directory_ =
        std::make_shared<InMemoryDirectory>("local", config::DirectoryType::internal, config::Permissions::read_write);
    config_ = std::make_shared<config::Config>();
    // The link is the bare token, so a test can redeem what it reads.
    config_->site.links.password_reset = "{token}";
    config_->site.links.signup = "{token}";
    config::Mail mail;
    mail.from = "Example <noreply@example.com>";
    mail.templates = {{"password_reset", "Reset", "{{link}}\n"},
                      {"invitation", "Invitation", "{{link}} {{expires}}\n"},
                      {"access_request", "Access request", "{{display_name}} <{{email}}>: {{message}}\n"}};
    config_->mail = std::move(mail);
  }

  // The runtime over the configuration as the test left it.
  const Runtime& runtime() {
    if (!runtime_) {
      auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
      DirectoryPtr directory = directory_;
      if (directory_hook_) directory = std::make_shared<InterceptedDirectory>(directory_, directory_hook_);
      auto chain = std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{directory}, ChainOptions{}, hasher);
      auto mail = std::make_shared<const MailComposer>(config_->site, *config_->mail);
      runtime_ = std::make_unique<Runtime>(Runtime{config_, hasher, chain, AccountPolicy(config_->accounts), database_,
                                                   mail, std::make_shared<RateLimiter>(), clock_});
    }
    return *runtime_;
  }

  // What an operation runs with, as of the clock's time when it runs.
  OperationContext context() { return OperationContext{runtime(), caller_}; }

  std::int64_t now() const { return clock_->unix_seconds(); }

  std::vector<QueuedMail> outbox() { return outbox_rows(*database_); }

  // The number of rows of `table`.
  std::int64_t rows(const std::string& table) {
    auto lease = database_->acquire();
    auto query = lease.prepare("SELECT count(*) FROM " + table);
    if (!query || !*query->step()) return -1;
    return query->column_int64(0);
  }

  TemporaryDirectory temp_{"dps"};
  StateDatabasePtr database_;
  std::shared_ptr<InMemoryDirectory> directory_;
  // Called before each call to directory_ when set (before runtime()).
  InterceptedDirectory::Hook directory_hook_;
  std::shared_ptr<config::Config> config_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  Caller caller_;

 private:
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace dirproxy::testing
