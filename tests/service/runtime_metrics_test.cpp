// watch_runtime: what a scrape reads from the runtime in force and its state
// database (directories, outbox, locked usernames), with no stale series
// after a reload.
#include "service/runtime_metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "accounts/login_lockout.hpp"
#include "mail/outbox.hpp"
#include "service/mailing_runtime.hpp"
#include "support/metrics_text.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::lines_starting;

class RuntimeMetrics : public testing::MailingRuntime {
 protected:
  RuntimePtr shared_runtime() {
    return RuntimePtr(&runtime(), [](const Runtime*) {});
  }

  metrics::Registry registry_;
};

TEST_F(RuntimeMetrics, TheOutboxIsCountedByStateWithTheOldestPendingAge) {
  {
    auto lease = database_->acquire();
    ASSERT_TRUE(enqueue_mail(lease, {"invitation", "a@example.com", "first"}, now()));
    ASSERT_TRUE(enqueue_mail(lease, {"invitation", "b@example.com", "second"}, now() + 30));
    ASSERT_TRUE(enqueue_mail(lease, {"new_user", "c@example.com", "held"}, now(), std::string("carol")));
    auto due = claim_due_mail(lease, "node", now(), /*lease_seconds=*/80);
    ASSERT_TRUE(due && due->has_value());
    ASSERT_TRUE(record_failed_attempt(lease, (*due)->id, "node", 10, std::nullopt, "550 no such mailbox").value());
  }
  clock_->advance(100s);
  auto hook = watch_runtime(registry_, [this] { return shared_runtime(); });

  const std::string text = registry_.render();

  EXPECT_EQ(lines_starting(text, "dirproxy_outbox_"),
            (std::vector<std::string>{
                R"(dirproxy_outbox_messages{state="failed"} 1)", R"(dirproxy_outbox_messages{state="held"} 1)",
                R"(dirproxy_outbox_messages{state="pending"} 1)", "dirproxy_outbox_oldest_pending_age_seconds 70"}));
}

TEST_F(RuntimeMetrics, AnEmptyOutboxHasNoPendingAge) {
  auto hook = watch_runtime(registry_, [this] { return shared_runtime(); });

  EXPECT_EQ(lines_starting(registry_.render(), "dirproxy_outbox_oldest"),
            (std::vector<std::string>{"dirproxy_outbox_oldest_pending_age_seconds 0"}));
}

TEST_F(RuntimeMetrics, TheUsernamesLockedNowAreCounted) {
  config_->security.lockout.max_failures = 1;
  LoginLockout lockout(*database_, config_->security.lockout);
  ASSERT_TRUE(lockout.record_failure("alice", now()));
  ASSERT_TRUE(lockout.record_failure("bob", now()));
  auto hook = watch_runtime(registry_, [this] { return shared_runtime(); });

  EXPECT_EQ(lines_starting(registry_.render(), "dirproxy_locked_usernames"),
            (std::vector<std::string>{"dirproxy_locked_usernames 2"}));
  clock_->advance(std::chrono::duration_cast<std::chrono::seconds>(config_->security.lockout.duration));
  EXPECT_EQ(lines_starting(registry_.render(), "dirproxy_locked_usernames"),
            (std::vector<std::string>{"dirproxy_locked_usernames 0"}));
}

TEST_F(RuntimeMetrics, EachDirectoryOfTheRuntimeInForceIsReportedAndNoOther) {
  auto other = std::make_shared<testing::InMemoryDirectory>("removed", config::DirectoryType::ldap,
                                                            config::Permissions::read_only);
  auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
  auto before = std::make_shared<Runtime>(runtime());
  before->chain =
      std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{directory_, other}, ChainOptions{}, hasher);
  RuntimePtr in_force = before;
  auto hook = watch_runtime(registry_, [&] { return in_force; });
  ASSERT_EQ(lines_starting(registry_.render(), "dirproxy_directory_up"),
            (std::vector<std::string>{R"(dirproxy_directory_up{directory="local"} 1)",
                                      R"(dirproxy_directory_up{directory="removed"} 1)"}));

  in_force = shared_runtime();  // a reload without "removed"

  EXPECT_EQ(lines_starting(registry_.render(), "dirproxy_directory_up"),
            (std::vector<std::string>{R"(dirproxy_directory_up{directory="local"} 1)"}));
}

}  // namespace
}  // namespace dirproxy
