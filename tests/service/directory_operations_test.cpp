// The directory group's typed operations run directly on a Runtime built by
// hand: in-memory directories, a real state database and a ManualClock, so
// that the lockout window, the links' expiry and the outbox's ages are
// proved to the second without sleeping.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "accounts/account_token.hpp"
#include "accounts/reset_token_store.hpp"
#include "directories/in_memory_directory.hpp"
#include "service/directory_requests.hpp"
#include "support/manual_clock.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::InMemoryDirectory;
using testing::ManualClock;

constexpr char kPassword[] = "correct horse battery";
constexpr unsigned kMaxFailures = 3;
constexpr std::int64_t kWindowSeconds = 60;
constexpr std::int64_t kLockSeconds = 120;

class DirectoryOperations : public ::testing::Test {
 protected:
  DirectoryOperations() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
    local_ =
        std::make_shared<InMemoryDirectory>("local", config::DirectoryType::internal, config::Permissions::read_write);
    corp_ = std::make_shared<InMemoryDirectory>("corp", config::DirectoryType::ldap, config::Permissions::read_only);
    local_->put_user(User{"alice", "alice@example.com", "Alice", {}, {}, true, ""}, kPassword);
    local_->put_group("staff", {"alice"});
    config_->security.lockout.max_failures = kMaxFailures;
    config_->security.lockout.window = std::chrono::seconds(kWindowSeconds);
    config_->security.lockout.duration = std::chrono::seconds(kLockSeconds);
    auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
    auto chain = std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{local_, corp_}, ChainOptions{}, hasher);
    // No mail server: `mail` stays null, as without a `mail` section.
    runtime_ = std::make_unique<Runtime>(Runtime{config_, hasher, chain, AccountPolicy(config_->accounts), database_,
                                                 nullptr, std::make_shared<RateLimiter>(), clock_});
  }

  template <typename Request>
  auto run_as_admin(const Request& request) {
    Caller admin;
    admin.admin = true;
    return run(OperationContext{*runtime_, admin}, request);
  }

  Result<AuthenticatedUser> authenticate(const std::string& password) {
    return run_as_admin(AuthenticateRequest{.username = "alice", .password = password});
  }

  void fail_authentication(unsigned times) {
    for (unsigned i = 0; i < times; ++i) {
      auto refused = authenticate("wrong password");
      ASSERT_FALSE(refused);
      ASSERT_EQ(refused.error().code, ErrorCode::invalid_credentials);
    }
  }

  // A password-reset link of alice's, issued now and valid for an hour.
  IssuedToken store_reset_link_of_alice() {
    IssuedToken token = issue_token();
    auto lease = database_->acquire();
    auto stored = store_reset_token(lease, token, "alice", ResetPurpose::password_reset, clock_->unix_seconds(),
                                    clock_->unix_seconds() + 3600);
    if (!stored) throw std::runtime_error(stored.error().message);
    return token;
  }

  bool reset_link_works(const IssuedToken& token) {
    auto lease = database_->acquire();
    auto consumed = consume_reset_token(lease, token.token, clock_->unix_seconds());
    if (!consumed) throw std::runtime_error(consumed.error().message);
    return consumed->has_value();
  }

  struct StoredResetToken {
    std::string username;
    std::string purpose;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
  };
  std::vector<StoredResetToken> reset_tokens() {
    auto lease = database_->acquire();
    auto query = lease.prepare("SELECT username, purpose, created_at, expires_at FROM reset_tokens ORDER BY id");
    std::vector<StoredResetToken> rows;
    while (query && *query->step()) {
      rows.push_back({query->column_text(0), query->column_text(1), query->column_int64(2), query->column_int64(3)});
    }
    return rows;
  }

  std::int64_t outbox_rows() {
    auto lease = database_->acquire();
    auto query = lease.prepare("SELECT COUNT(*) FROM outbox");
    if (!query || !*query->step()) throw std::runtime_error("cannot count the outbox");
    return query->column_int64(0);
  }

  dirproxy::testing::TemporaryDirectory temp_{"dirops"};
  StateDatabasePtr database_;
  std::shared_ptr<InMemoryDirectory> local_;
  std::shared_ptr<InMemoryDirectory> corp_;
  std::shared_ptr<config::Config> config_ = std::make_shared<config::Config>();
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::unique_ptr<Runtime> runtime_;
};

// authenticate ---------------------------------------------------------------

TEST_F(DirectoryOperations, AuthenticateAnswersTheUserWithTheirGroups) {
  auto authenticated = authenticate(kPassword);

  ASSERT_TRUE(authenticated) << authenticated.error().message;
  EXPECT_EQ(authenticated->user.username, "alice");
  EXPECT_EQ(authenticated->user.directory, "local");
  EXPECT_EQ(authenticated->groups, std::vector<std::string>({"staff"}));
}

TEST_F(DirectoryOperations, AuthenticateWithoutGroupsAsksNoDirectoryForThem) {
  corp_->set_down(true);  // the user's groups would need corp too

  auto with_groups = authenticate(kPassword);
  auto without = run_as_admin(AuthenticateRequest{.username = "alice", .password = kPassword, .groups = false});

  ASSERT_FALSE(with_groups);
  EXPECT_EQ(with_groups.error().code, ErrorCode::directory_unavailable);
  ASSERT_TRUE(without) << without.error().message;
  EXPECT_EQ(without->user.username, "alice");
  EXPECT_TRUE(without->groups.empty());
}

TEST_F(DirectoryOperations, AuthenticateLocksTheUsernameAfterMaxFailuresEvenForTheRightPassword) {
  fail_authentication(kMaxFailures);

  auto locked = authenticate(kPassword);

  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::account_locked);
  EXPECT_EQ(locked.error().retry_after, kLockSeconds);
}

TEST_F(DirectoryOperations, AuthenticateStaysLockedUntilTheLastSecondOfTheLock) {
  fail_authentication(kMaxFailures);
  clock_->advance(std::chrono::seconds(kLockSeconds - 1));

  auto locked = authenticate(kPassword);

  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::account_locked);
  EXPECT_EQ(locked.error().retry_after, 1);
}

TEST_F(DirectoryOperations, AuthenticateOpensAgainOnceTheLockHasPassed) {
  fail_authentication(kMaxFailures);
  clock_->advance(std::chrono::seconds(kLockSeconds));

  auto authenticated = authenticate(kPassword);

  ASSERT_TRUE(authenticated) << authenticated.error().message;
  EXPECT_EQ(authenticated->user.username, "alice");
}

TEST_F(DirectoryOperations, AuthenticateCountsOnlyTheFailuresWithinOneWindow) {
  fail_authentication(kMaxFailures - 1);
  clock_->advance(std::chrono::seconds(kWindowSeconds));
  fail_authentication(kMaxFailures - 1);

  auto authenticated = authenticate(kPassword);

  ASSERT_TRUE(authenticated) << authenticated.error().message;
}

TEST_F(DirectoryOperations, AuthenticateWithAWrongPasswordNeverFallsThroughToALaterDirectory) {
  // The same username in a later directory, with the password tried.
  corp_->put_user(User{"alice", "alice@corp.example", "Alice C", {}, {}, true, ""}, "the corp password");

  auto refused = authenticate("the corp password");

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_credentials);
  EXPECT_EQ(local_->authentications, 1);
  EXPECT_EQ(corp_->authentications, 0);
}

// change_password -------------------------------------------------------------

TEST_F(DirectoryOperations, ChangePasswordEndsTheResetLinksIssuedBefore) {
  const IssuedToken link = store_reset_link_of_alice();

  auto changed = run_as_admin(
      ChangePasswordRequest{.username = "alice", .old_password = kPassword, .new_password = "a brand new passphrase"});

  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(local_->password_of("alice"), "a brand new passphrase");
  EXPECT_FALSE(reset_link_works(link));
}

TEST_F(DirectoryOperations, ChangePasswordWithAWrongOldPasswordKeepsThePasswordAndTheLinks) {
  const IssuedToken link = store_reset_link_of_alice();

  auto refused = run_as_admin(ChangePasswordRequest{
      .username = "alice", .old_password = "not the password", .new_password = "a brand new passphrase"});

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_credentials);
  EXPECT_EQ(local_->password_of("alice"), kPassword);
  EXPECT_TRUE(reset_link_works(link));
}

// add_user ----------------------------------------------------------------------

AddUserRequest new_user_without_password(bool notify) {
  AddUserRequest request;
  request.username = "bob";
  request.email = "bob@example.com";
  request.display_name = "Bob";
  request.notify = notify;
  return request;
}

TEST_F(DirectoryOperations, AddUserWithoutNotifyAnswersASetPasswordLinkStoredForTheNewUser) {
  auto added = run_as_admin(new_user_without_password(/*notify=*/false));

  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->user.username, "bob");
  ASSERT_TRUE(added->set_password_link);
  EXPECT_TRUE(added->set_password_link->starts_with("http://localhost/password/reset?token="))
      << *added->set_password_link;
  const std::int64_t now = clock_->unix_seconds();
  const auto tokens = reset_tokens();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].username, "bob");
  EXPECT_EQ(tokens[0].purpose, "new_user");
  EXPECT_EQ(tokens[0].created_at, now);
  EXPECT_EQ(tokens[0].expires_at, now + 7 * 24 * 3600);  // password_reset.new_user_ttl
  EXPECT_EQ(outbox_rows(), 0);
}

TEST_F(DirectoryOperations, AddUserAskingToNotifyWithoutAMailServerIsRefusedAndCreatesNothing) {
  auto refused = run_as_admin(new_user_without_password(/*notify=*/true));

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::mail_not_configured);
  EXPECT_EQ(refused.error().field, "notify");
  auto found = runtime_->chain->find_user("bob");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_TRUE(reset_tokens().empty());
  EXPECT_EQ(outbox_rows(), 0);
}

TEST_F(DirectoryOperations, AddUserWithAPasswordAndNoMailServerAnswersNoLink) {
  AddUserRequest request = new_user_without_password(/*notify=*/true);
  request.password = kPassword;

  auto added = run_as_admin(request);

  ASSERT_TRUE(added) << added.error().message;
  EXPECT_FALSE(added->set_password_link);
  EXPECT_TRUE(reset_tokens().empty());
  EXPECT_EQ(local_->password_of("bob"), kPassword);
}

// find_users ----------------------------------------------------------------------

TEST_F(DirectoryOperations, FindUsersRefusesALimitOutsideOneToAThousandNamingLimit) {
  for (std::int64_t limit : {std::int64_t{0}, std::int64_t{-1}, FindUsersRequest::max_limit + 1}) {
    SCOPED_TRACE(limit);
    auto refused = run_as_admin(FindUsersRequest{.query = "", .limit = limit});

    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::bad_request);
    EXPECT_EQ(refused.error().field, "limit");
    EXPECT_EQ(refused.error().message, "'limit' must be between 1 and 1000");
  }
}

TEST_F(DirectoryOperations, FindUsersTakesTheLimitsAtBothBounds) {
  local_->put_user(User{"alina", "alina@example.com", "Alina", {}, {}, true, ""}, kPassword);

  auto one = run_as_admin(FindUsersRequest{.query = "ali", .limit = 1});
  auto most = run_as_admin(FindUsersRequest{.query = "ali", .limit = FindUsersRequest::max_limit});

  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->size(), 1u);
  ASSERT_TRUE(most) << most.error().message;
  EXPECT_EQ(most->size(), 2u);
}

// mail_queue ----------------------------------------------------------------------

TEST_F(DirectoryOperations, MailQueueAgesTheOldestPendingMailByTheRuntimeClock) {
  const std::int64_t now = clock_->unix_seconds();
  {
    auto lease = database_->acquire();
    auto inserted = lease.execute(
        "INSERT INTO outbox (template, recipient, message, state, next_attempt_at, created_at) VALUES"
        " ('new_user', 'a@example.com', 'x', 'pending', 0, " +
        std::to_string(now - 300) +
        "),"
        " ('new_user', 'b@example.com', 'x', 'pending', 0, " +
        std::to_string(now - 20) +
        "),"
        " ('new_user', 'c@example.com', 'x', 'failed', 0, " +
        std::to_string(now - 900) + ")");
    ASSERT_TRUE(inserted) << inserted.error().message;
  }

  auto status = run_as_admin(MailQueueRequest{});

  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->pending, 2);
  EXPECT_EQ(status->failed, 1);
  EXPECT_EQ(status->held, 0);
  EXPECT_EQ(status->oldest_pending_age_s, 300);
  EXPECT_FALSE(status->mail_configured);
}

}  // namespace
}  // namespace dirproxy
