// account_creation's rules against a real state database: default groups
// (created when missing); with the real internal directory, everything in
// one transaction, so that a failure or a crash anywhere leaves nothing; with
// directories outside the database (in-memory doubles standing in for LDAP),
// the record of the creation, the undo after a failure, and the recovery of
// a creation that a crash interrupted, with its log line. A "crash" is an
// exception thrown from a directory call: nothing of create_account runs
// after it, as nothing would after the process died there.
#include "service/account_creation.hpp"

#include <gtest/gtest.h>

#include "accounts/account_creation_store.hpp"
#include "accounts/invitation_store.hpp"
#include "directories/in_memory_directory.hpp"
#include "directories/internal/internal_directory.hpp"
#include "service/captured_log.hpp"
#include "service/intercepted_directory.hpp"
#include "support/manual_clock.hpp"
#include "storage/node_registry.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using testing::CapturedLog;
using testing::InMemoryDirectory;
using testing::InterceptedDirectory;

constexpr std::int64_t kNow = 1'700'000'000;

// The process "died" here.
struct Crash : std::runtime_error {
  Crash() : std::runtime_error("crash") {}
};

class AccountCreation : public ::testing::Test {
 protected:
  AccountCreation() {
    auto opened = StateDatabase::open(temp_.path() / "state", 4);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
  }

  // The first directory of the chain: the real internal directory (in the
  // state database) or an in-memory one standing in for a writable LDAP
  // directory; `corp` (read-only, in memory) comes after it. Each call
  // passes through `hook` first.
  enum class Users { internal, outside };
  Runtime runtime(Users users, std::vector<std::string> default_groups, InterceptedDirectory::Hook hook = {}) {
    auto config = std::make_shared<config::Config>();
    config->accounts.default_groups = std::move(default_groups);
    auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
    DirectoryPtr first;
    if (users == Users::internal) {
      config::DirectoryConfig settings;
      settings.name = "local";
      settings.type = config::DirectoryType::internal;
      settings.permissions = config::Permissions::read_write;
      first = std::make_shared<InternalDirectory>(settings, database_, hasher, /*unique_email=*/true);
    } else {
      first = outside_;
    }
    if (!hook) hook = [](std::string_view, std::string_view) -> Result<void> { return {}; };
    auto intercepted = std::make_shared<InterceptedDirectory>(first, std::move(hook));
    auto chain =
        std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{intercepted, corp_}, ChainOptions{}, hasher);
    auto clock = std::make_shared<testing::ManualClock>(kNow);
    return Runtime{
        config, hasher, chain, AccountPolicy(config->accounts), database_, nullptr, std::make_shared<RateLimiter>(),
        clock};
  }

  // A hook that crashes (throws) or fails at `method` on `argument`.
  static InterceptedDirectory::Hook crash_at(std::string method, std::string argument) {
    return [=](std::string_view called, std::string_view with) -> Result<void> {
      if (called == method && with == argument) throw Crash();
      return {};
    };
  }
  static InterceptedDirectory::Hook fail_at(std::string method, std::string argument, ErrorCode code) {
    return [=](std::string_view called, std::string_view with) -> Result<void> {
      if (called == method && with == argument) return fail(code, "refused by the test");
      return {};
    };
  }

  // ann's account without a password: her set-password link is claimed and
  // its mail queued with the account.
  NewAccount account(const Runtime& rt, const std::string& username = "ann") {
    NewAccount account;
    account.user.username = username;
    account.user.email = username + "@example.com";
    account.user.display_name = "User " + username;
    account.claim.set_password_link = make_reset_link(*rt.config, ResetPurpose::new_user, kNow);
    account.mails.push_back(OutgoingMail{"new_user", username + "@example.com", "Subject: hi\r\n\r\nhi\r\n"});
    return account;
  }

  std::int64_t invitation() {
    auto lease = database_->acquire();
    auto stored =
        insert_invitation(lease, NewInvitation{"hash", std::nullopt, {}, std::nullopt, 3600, std::nullopt}, kNow);
    if (!stored) throw std::runtime_error(stored.error().message);
    return stored->id;
  }

  // The rows of `sql`'s first column, as text.
  std::vector<std::string> rows(const std::string& sql) {
    auto lease = database_->acquire();
    auto query = lease.prepare(sql);
    if (!query) throw std::runtime_error(query.error().message);
    std::vector<std::string> values;
    while (*query->step()) values.push_back(query->column_text(0));
    return values;
  }
  std::vector<std::string> outbox_states() { return rows("SELECT state FROM outbox ORDER BY id"); }
  std::vector<std::string> reset_tokens() { return rows("SELECT username FROM reset_tokens ORDER BY id"); }
  std::vector<std::string> records() { return rows("SELECT username FROM account_creations ORDER BY id"); }
  std::vector<std::string> users() { return rows("SELECT username FROM users ORDER BY username"); }
  std::vector<std::string> groups() { return rows("SELECT name FROM groups ORDER BY name"); }
  std::vector<std::string> memberships() {
    return rows("SELECT g.name || ':' || m.username FROM memberships m JOIN groups g ON g.id = m.group_id ORDER BY 1");
  }
  std::optional<std::string> invitation_used_by(std::int64_t id) {
    auto lease = database_->acquire();
    return (*find_invitation(lease, id))->used_by;
  }

  // What the next start sees: the records of a process that is gone.
  void restart() {
    auto lease = database_->acquire();
    if (auto moved = lease.execute("UPDATE account_creations SET process = 'crashed'"); !moved) {
      throw std::runtime_error(moved.error().message);
    }
  }

  std::vector<std::string> groups_of(const Runtime& rt, const std::string& username) {
    auto found = rt.chain->user_groups(username);
    if (!found) throw std::runtime_error(found.error().message);
    return *found;
  }

  dirproxy::testing::TemporaryDirectory temp_{"dpc"};
  StateDatabasePtr database_;
  // Kept across runtime() calls, as a server outlives the daemon's restarts.
  std::shared_ptr<InMemoryDirectory> outside_ =
      std::make_shared<InMemoryDirectory>("ldap", config::DirectoryType::ldap, config::Permissions::read_write);
  std::shared_ptr<InMemoryDirectory> corp_ =
      std::make_shared<InMemoryDirectory>("corp", config::DirectoryType::ldap, config::Permissions::read_only);
};

// --- everything in the state database: one transaction --------------------

TEST_F(AccountCreation, AnInternalAccountCommitsWithItsGroupsTokenAndMailInOneStep) {
  auto rt = runtime(Users::internal, {"users", "staff", "ops"});

  auto created = create_account(rt, account(rt));

  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->directory, "local");
  EXPECT_EQ(memberships(), std::vector<std::string>({"ops:ann", "staff:ann", "users:ann"}));
  EXPECT_EQ(reset_tokens(), std::vector<std::string>{"ann"});
  EXPECT_EQ(outbox_states(), std::vector<std::string>{"pending"});
  EXPECT_TRUE(records().empty()) << "no record: nothing is left for recovery";
}

TEST_F(AccountCreation, ACrashWhileAnInternalAccountJoinsItsGroupsLeavesNothingOfIt) {
  auto rt = runtime(Users::internal, {"users", "staff", "ops"}, crash_at("add_member", "ops"));

  EXPECT_THROW((void)create_account(rt, account(rt)), Crash);

  EXPECT_TRUE(users().empty());
  EXPECT_TRUE(groups().empty()) << "the groups it created go with it";
  EXPECT_TRUE(memberships().empty());
  EXPECT_TRUE(reset_tokens().empty());
  EXPECT_TRUE(outbox_states().empty());
  EXPECT_TRUE(records().empty());
  restart();
  EXPECT_TRUE(recover_account_creations(rt).empty()) << "nothing to recover";
}

TEST_F(AccountCreation, AFailedGroupOfAnInternalAccountLeavesNothingAndARetryWorks) {
  bool failing = true;
  auto rt = runtime(Users::internal, {"users", "staff", "ops"},
                    [&](std::string_view method, std::string_view argument) -> Result<void> {
                      if (failing && method == "add_member" && argument == "ops") {
                        return fail(ErrorCode::internal_error, "disk full");
                      }
                      return {};
                    });
  const NewAccount ann = account(rt);

  auto failed = create_account(rt, ann);
  failing = false;
  auto retried = create_account(rt, ann);

  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::internal_error);
  EXPECT_EQ(failed.error().message, "cannot join group 'ops': disk full");
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_EQ(memberships(), std::vector<std::string>({"ops:ann", "staff:ann", "users:ann"}));
  EXPECT_EQ(reset_tokens(), std::vector<std::string>{"ann"});
  EXPECT_EQ(outbox_states(), std::vector<std::string>{"pending"});
}

TEST_F(AccountCreation, AnInternalAccountThatCannotClaimItsInvitationCreatesNothing) {
  auto rt = runtime(Users::internal, {"users"});
  const std::int64_t id = invitation();
  NewAccount first = account(rt, "ann");
  first.claim.invitation_id = id;
  NewAccount second = account(rt, "bob");
  second.claim.invitation_id = id;

  ASSERT_TRUE(create_account(rt, first));
  auto refused = create_account(rt, second);

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_token);
  EXPECT_EQ(users(), std::vector<std::string>{"ann"});
  EXPECT_EQ(invitation_used_by(id), "ann");
  EXPECT_EQ(reset_tokens(), std::vector<std::string>{"ann"});
}

// --- directories outside the state database: recorded, then recovered -------

TEST_F(AccountCreation, AnAccountOutsideTheDatabaseJoinsDefaultAndExtraGroupsCreatingMissingOnes) {
  auto rt = runtime(Users::outside, {"users"});
  NewAccount request = account(rt);
  request.groups = {"dev", "USERS"};

  auto created = create_account(rt, request);

  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->directory, "ldap");
  EXPECT_EQ(groups_of(rt, "ann"), std::vector<std::string>({"dev", "users"}));
  EXPECT_EQ(outbox_states(), std::vector<std::string>({"pending"}));
  EXPECT_TRUE(records().empty());
}

TEST_F(AccountCreation, AGroupThatCannotBeJoinedIsRefusedBeforeAnythingIsClaimedOrWritten) {
  corp_->put_group("staff", {});  // held by a read-only directory
  auto rt = runtime(Users::outside, {"staff"});
  const std::int64_t id = invitation();
  NewAccount ann = account(rt);
  ann.claim.invitation_id = id;

  auto created = create_account(rt, ann);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::read_only);
  EXPECT_EQ(outside_->writes, 0);
  EXPECT_EQ(invitation_used_by(id), std::nullopt);
  EXPECT_TRUE(reset_tokens().empty());
  EXPECT_TRUE(outbox_states().empty());
  EXPECT_TRUE(records().empty());
}

TEST_F(AccountCreation, AGroupFailingAfterTheUserIsMadeRemovesTheUserAndGivesTheClaimBack) {
  auto rt = runtime(Users::outside, {"users"}, fail_at("add_member", "users", ErrorCode::directory_unavailable));
  const std::int64_t id = invitation();
  NewAccount ann = account(rt);
  ann.claim.invitation_id = id;

  auto created = create_account(rt, ann);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::directory_unavailable);
  EXPECT_FALSE(rt.chain->find_user("ann")->has_value());
  EXPECT_EQ(invitation_used_by(id), std::nullopt);
  EXPECT_TRUE(reset_tokens().empty());
  EXPECT_TRUE(outbox_states().empty());
  EXPECT_TRUE(records().empty());
}

TEST_F(AccountCreation, ACrashAfterTheUserIsMadeIsCompletedAtTheNextStart) {
  auto rt = runtime(Users::outside, {"users", "staff", "ops"}, crash_at("add_member", "staff"));
  const std::int64_t id = invitation();
  NewAccount ann = account(rt);
  ann.claim.invitation_id = id;
  EXPECT_THROW((void)create_account(rt, ann), Crash);
  const auto held = outbox_states();
  const auto recorded = records();
  const auto groups_before = groups_of(rt, "ann");
  auto next_start = runtime(Users::outside, {"users", "staff", "ops"});
  restart();
  CapturedLog log("accounts");

  auto recovered = recover_account_creations(next_start);

  EXPECT_EQ(held, std::vector<std::string>{"held"});
  EXPECT_EQ(recorded, std::vector<std::string>{"ann"});
  EXPECT_EQ(groups_before, std::vector<std::string>{"users"});
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].username, "ann");
  EXPECT_EQ(recovered[0].outcome, CreationOutcome::completed);
  EXPECT_EQ(groups_of(next_start, "ann"), std::vector<std::string>({"ops", "staff", "users"}));
  EXPECT_EQ(outbox_states(), std::vector<std::string>{"pending"});
  EXPECT_EQ(reset_tokens(), std::vector<std::string>{"ann"});
  EXPECT_EQ(invitation_used_by(id), "ann");
  EXPECT_TRUE(records().empty());
  EXPECT_NE(log.text().find("creation of account \"ann\" completed: the account exists in directory 'ldap'; groups "
                            "joined: users, staff, ops; its mail released"),
            std::string::npos)
      << log.text();
}

TEST_F(AccountCreation, ACrashBeforeTheUserIsMadeIsUndoneAtTheNextStart) {
  auto rt = runtime(Users::outside, {"users"}, crash_at("create_user", "ann"));
  const std::int64_t id = invitation();
  NewAccount ann = account(rt);
  ann.claim.invitation_id = id;
  EXPECT_THROW((void)create_account(rt, ann), Crash);
  const auto token_before = reset_tokens();
  const auto used_before = invitation_used_by(id);
  restart();
  CapturedLog log("accounts");

  auto recovered = recover_account_creations(runtime(Users::outside, {"users"}));

  EXPECT_EQ(token_before, std::vector<std::string>{"ann"});
  EXPECT_EQ(used_before, "ann");
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].outcome, CreationOutcome::undone);
  EXPECT_TRUE(reset_tokens().empty()) << "no link may set the password of a later 'ann'";
  EXPECT_EQ(invitation_used_by(id), std::nullopt) << "the invitation can be used again";
  EXPECT_TRUE(outbox_states().empty());
  EXPECT_TRUE(records().empty());
  EXPECT_NE(log.text().find("creation of account \"ann\" undone: the account was never made; its claim was given "
                            "back and its mail dropped"),
            std::string::npos)
      << log.text();
}

TEST_F(AccountCreation, AnUnfinishedCreationRefusesARetryUntilItIsSettledAndThenAllowsIt) {
  auto crashing = runtime(Users::outside, {"users"}, crash_at("create_user", "ann"));
  EXPECT_THROW((void)create_account(crashing, account(crashing)), Crash);
  auto rt = runtime(Users::outside, {"users"});

  auto while_recorded = create_account(rt, account(rt));
  restart();
  (void)recover_account_creations(rt);
  auto after_recovery = create_account(rt, account(rt));

  ASSERT_FALSE(while_recorded);
  EXPECT_EQ(while_recorded.error().code, ErrorCode::conflict);
  EXPECT_EQ(while_recorded.error().field, "username");
  ASSERT_TRUE(after_recovery) << after_recovery.error().message;
  EXPECT_EQ(outbox_states(), std::vector<std::string>{"pending"});
}

TEST_F(AccountCreation, ACreationThatMayHaveHappenedIsLeftToRecoveryWhichCompletesIt) {
  auto rt = runtime(Users::outside, {"users"});
  outside_->set_create_times_out_after_adding(true);
  const std::int64_t id = invitation();
  NewAccount ann = account(rt);
  ann.claim.invitation_id = id;
  CapturedLog log("accounts");

  auto created = create_account(rt, ann);
  const auto held = outbox_states();
  auto recovered = recover_account_creations(rt);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(held, std::vector<std::string>{"held"}) << "no mail before it is known that the account exists";
  ASSERT_EQ(recovered.size(), 1u) << "this process handed it over, so recovery takes it now";
  EXPECT_EQ(recovered[0].outcome, CreationOutcome::completed);
  EXPECT_EQ(invitation_used_by(id), "ann") << "a single-use invitation must not make a second account";
  EXPECT_EQ(groups_of(rt, "ann"), std::vector<std::string>{"users"});
  EXPECT_EQ(outbox_states(), std::vector<std::string>{"pending"});
  EXPECT_NE(log.text().find("creation of account \"ann\" left for recovery"), std::string::npos) << log.text();
}

TEST_F(AccountCreation, ACreationThatCannotBeDecidedStaysUntilTheDirectoryAnswers) {
  auto crashing = runtime(Users::outside, {"users"}, crash_at("create_user", "ann"));
  EXPECT_THROW((void)create_account(crashing, account(crashing)), Crash);
  auto rt = runtime(Users::outside, {"users"});
  restart();
  outside_->set_down(true);

  auto while_down = recover_account_creations(rt);
  outside_->set_down(false);
  auto once_up = recover_account_creations(rt);

  ASSERT_EQ(while_down.size(), 1u);
  EXPECT_EQ(while_down[0].outcome, CreationOutcome::unfinished);
  ASSERT_EQ(once_up.size(), 1u);
  EXPECT_EQ(once_up[0].outcome, CreationOutcome::undone);
}

TEST_F(AccountCreation, RecoveryLeavesTheCreationsOfThisProcessAlone) {
  auto rt = runtime(Users::outside, {"users"}, crash_at("create_user", "ann"));
  EXPECT_THROW((void)create_account(rt, account(rt)), Crash);

  auto recovered = recover_account_creations(rt);

  EXPECT_TRUE(recovered.empty());
  EXPECT_EQ(records(), std::vector<std::string>{"ann"});
}

TEST_F(AccountCreation, ATakenUsernameIsRefusedBeforeTheClaim) {
  corp_->put_user(User{"ann", "ann@example.com", "Ann", {}, {}, true, ""}, "pw");
  auto rt = runtime(Users::outside, {});
  const std::int64_t id = invitation();
  NewAccount ann = account(rt);
  ann.claim.invitation_id = id;

  auto created = create_account(rt, ann);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::conflict);
  EXPECT_EQ(created.error().field, "username");
  EXPECT_EQ(invitation_used_by(id), std::nullopt);
  EXPECT_TRUE(outbox_states().empty());
}

TEST_F(AccountCreation, DefaultGroupsComeFirstWithoutRepeats) {
  config::Config config;
  config.accounts.default_groups = {"users", "Staff"};

  EXPECT_EQ(groups_for_new_account(config, {"staff", "dev", "DEV"}),
            std::vector<std::string>({"users", "Staff", "dev"}));
}

// --- several nodes over one database ------------------------------------------

// The unfinished creation is now node-b's, whose heartbeat was last seen at
// `last_seen_at`.
void hand_to_another_node(const StateDatabasePtr& database, std::int64_t last_seen_at) {
  auto lease = database->acquire();
  if (auto moved = lease.execute("UPDATE account_creations SET process = 'node-b'"); !moved) {
    throw std::runtime_error(moved.error().message);
  }
  if (auto seen = lease.execute("DELETE FROM nodes WHERE process = 'node-b'"); !seen) {
    throw std::runtime_error(seen.error().message);
  }
  if (auto seen = record_node_heartbeat(lease, "node-b", last_seen_at); !seen) {
    throw std::runtime_error(seen.error().message);
  }
}

TEST_F(AccountCreation, RecoveryLeavesALiveNodesCreationAloneAndSettlesItOnceThatNodeIsStale) {
  const std::int64_t stale_after = std::chrono::seconds(kNodeStaleAfter).count();
  auto crashing = runtime(Users::outside, {"users"}, crash_at("create_user", "ann"));
  EXPECT_THROW((void)create_account(crashing, account(crashing)), Crash);
  auto rt = runtime(Users::outside, {"users"});

  hand_to_another_node(database_, kNow - stale_after);
  auto while_live = recover_account_creations(rt);
  const auto records_while_live = records();
  hand_to_another_node(database_, kNow - stale_after - 1);
  auto once_stale = recover_account_creations(rt);

  EXPECT_TRUE(while_live.empty()) << "node-b, seen " << stale_after << " s ago, may still be creating ann";
  EXPECT_EQ(records_while_live, std::vector<std::string>{"ann"});
  ASSERT_EQ(once_stale.size(), 1u);
  EXPECT_EQ(once_stale[0].username, "ann");
  EXPECT_EQ(once_stale[0].outcome, CreationOutcome::undone);
  EXPECT_TRUE(records().empty());
  EXPECT_TRUE(reset_tokens().empty());
  EXPECT_TRUE(outbox_states().empty());
}

TEST_F(AccountCreation, OfTwoNodesRecoveringOneRecordAtOnceOnlyTheFirstSettlesIt) {
  auto crashing = runtime(Users::outside, {"users"}, crash_at("create_user", "ann"));
  EXPECT_THROW((void)create_account(crashing, account(crashing)), Crash);
  restart();
  // While this node asks the directory about ann, the other node's recovery
  // undoes the record, and a new creation of ann takes a new link and holds
  // its mail (and is still under way when this node goes on).
  Runtime other = runtime(Users::outside, {"users"}, crash_at("create_user", "ann"));
  std::vector<RecoveredCreation> other_node;
  bool interleaved = false;
  bool new_ann_under_way = false;
  auto rt = runtime(Users::outside, {"users"}, [&](std::string_view method, std::string_view argument) -> Result<void> {
    if (method == "find_user_by_name" && argument == "ann" && !interleaved) {
      interleaved = true;
      other_node = recover_account_creations(other);
      try {
        (void)create_account(other, account(other));
      } catch (const Crash&) {
        new_ann_under_way = true;
      }
    }
    return {};
  });

  auto this_node = recover_account_creations(rt);

  ASSERT_EQ(other_node.size(), 1u);
  EXPECT_EQ(other_node[0].outcome, CreationOutcome::undone);
  EXPECT_TRUE(new_ann_under_way);
  ASSERT_EQ(this_node.size(), 1u);
  EXPECT_EQ(this_node[0].outcome, CreationOutcome::settled_elsewhere);
  EXPECT_EQ(outbox_states(), std::vector<std::string>{"held"}) << "the new creation's mail stays";
  EXPECT_EQ(reset_tokens(), std::vector<std::string>{"ann"}) << "the new creation's link stays";
  EXPECT_EQ(records(), std::vector<std::string>{"ann"}) << "the new creation's record stays";
}

}  // namespace
}  // namespace dirproxy
