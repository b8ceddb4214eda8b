// account_creation's rules with in-memory directories and a real state
// database: default groups (created when missing), the undo when a group
// cannot be joined, and what happens to the held mail and the caller's claim.
#include "service/account_creation.hpp"

#include <gtest/gtest.h>

#include "directories/in_memory_directory.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using testing::InMemoryDirectory;

class AccountCreation : public ::testing::Test {
 protected:
  AccountCreation() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
    users_ =
        std::make_shared<InMemoryDirectory>("local", config::DirectoryType::internal, config::Permissions::read_write);
    corp_ = std::make_shared<InMemoryDirectory>("corp", config::DirectoryType::ldap, config::Permissions::read_only);
  }

  Runtime runtime(std::vector<std::string> default_groups) {
    auto config = std::make_shared<config::Config>();
    config->accounts.default_groups = std::move(default_groups);
    auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
    auto chain = std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{users_, corp_}, ChainOptions{}, hasher);
    return Runtime{config,
                   hasher,
                   chain,
                   AccountPolicy(config->accounts),
                   database_,
                   nullptr,
                   std::make_shared<RateLimiter>(),
                   system_clock()};
  }

  static NewAccount account(const std::string& username) {
    NewAccount account;
    account.user.username = username;
    account.user.email = username + "@example.com";
    account.user.display_name = "User " + username;
    account.user.password = "correct horse battery";
    account.mails.push_back(OutgoingMail{"new_user", username + "@example.com", "Subject: hi\r\n\r\nhi\r\n"});
    return account;
  }

  // state of each outbox row, in order.
  std::vector<std::string> outbox_states() {
    auto lease = database_->acquire();
    auto query = lease.prepare("SELECT state FROM outbox ORDER BY id");
    std::vector<std::string> states;
    while (query && *query->step()) states.push_back(query->column_text(0));
    return states;
  }

  dirproxy::testing::TemporaryDirectory temp_{"dpc"};
  StateDatabasePtr database_;
  std::shared_ptr<InMemoryDirectory> users_;
  std::shared_ptr<InMemoryDirectory> corp_;
};

TEST_F(AccountCreation, TheAccountJoinsDefaultAndExtraGroupsCreatingMissingOnes) {
  auto rt = runtime({"users"});
  NewAccount request = account("ann");
  request.groups = {"dev", "USERS"};

  auto created = create_account(rt, request);

  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->directory, "local");
  auto groups = rt.chain->user_groups("ann");
  ASSERT_TRUE(groups);
  EXPECT_EQ(*groups, std::vector<std::string>({"dev", "users"}));
  EXPECT_EQ(outbox_states(), std::vector<std::string>({"pending"}));
}

TEST_F(AccountCreation, AGroupThatCannotBeJoinedUndoesTheAccountItsMailAndTheClaim) {
  corp_->put_group("staff", {});  // owned by a read-only directory
  auto rt = runtime({"staff"});
  int claims = 0;
  int unclaims = 0;
  StateStep claim = [&](const StateDatabase::Lease&) -> Result<void> {
    ++claims;
    return {};
  };
  StateStep unclaim = [&](const StateDatabase::Lease&) -> Result<void> {
    ++unclaims;
    return {};
  };

  auto created = create_account(rt, account("ann"), claim, unclaim);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::read_only);
  auto found = rt.chain->find_user("ann");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(claims, 1);
  EXPECT_EQ(unclaims, 1);
  EXPECT_TRUE(outbox_states().empty());
}

TEST_F(AccountCreation, ACreationThatMayHaveHappenedKeepsTheClaimAndLeavesTheMailToRecovery) {
  users_->set_create_times_out_after_adding(true);
  auto rt = runtime({});
  int unclaims = 0;
  StateStep claim = [](const StateDatabase::Lease&) -> Result<void> { return {}; };
  StateStep unclaim = [&](const StateDatabase::Lease&) -> Result<void> {
    ++unclaims;
    return {};
  };

  auto created = create_account(rt, account("ann"), claim, unclaim);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::directory_unavailable);
  // The account exists after all: a single-use token given back now would
  // make a second account.
  EXPECT_EQ(unclaims, 0);
  EXPECT_EQ(outbox_states(), std::vector<std::string>({"held"}));
}

TEST_F(AccountCreation, AFailedClaimCreatesNothing) {
  auto rt = runtime({});
  StateStep claim = [](const StateDatabase::Lease&) -> Result<void> {
    return fail(ErrorCode::invalid_token, "used", "token");
  };

  auto created = create_account(rt, account("ann"), claim);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::invalid_token);
  EXPECT_FALSE(rt.chain->find_user("ann")->has_value());
  EXPECT_TRUE(outbox_states().empty());
}

TEST_F(AccountCreation, ATakenUsernameIsRefusedBeforeTheClaim) {
  users_->put_user(User{"ann", "ann@example.com", "Ann", {}, {}, true, ""}, "pw");
  auto rt = runtime({});
  int claims = 0;
  StateStep claim = [&](const StateDatabase::Lease&) -> Result<void> {
    ++claims;
    return {};
  };

  auto created = create_account(rt, account("ann"), claim);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::conflict);
  EXPECT_EQ(created.error().field, "username");
  EXPECT_EQ(claims, 0);
  EXPECT_TRUE(outbox_states().empty());
}

TEST_F(AccountCreation, DefaultGroupsComeFirstWithoutRepeats) {
  config::Config config;
  config.accounts.default_groups = {"users", "Staff"};

  EXPECT_EQ(groups_for_new_account(config, {"staff", "dev", "DEV"}),
            std::vector<std::string>({"users", "Staff", "dev"}));
}

}  // namespace
}  // namespace dirproxy
