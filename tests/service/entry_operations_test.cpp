// The entry operations (entry_requests.hpp) on a Runtime built by hand:
// in-memory directories for the chain, a real state database for the
// identity store.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "directories/in_memory_directory.hpp"
#include "service/entry_requests.hpp"
#include "service/runtime.hpp"
#include "support/manual_clock.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using testing::InMemoryDirectory;
using testing::ManualClock;

User make_user(std::string username) {
  User user;
  user.username = std::move(username);
  user.email = user.username + "@example.com";
  return user;
}

class EntryOperations : public ::testing::Test {
 protected:
  EntryOperations() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
    local_ = std::make_shared<InMemoryDirectory>("local", DirectoryType::internal, Permissions::read_write);
    corp_ = std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_only);
  }

  // A runtime over local and corp in that order, as membership says.
  void start(config::Membership membership = config::Membership::aggregate) {
    auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
    auto chain = std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{local_, corp_},
                                                  ChainOptions{membership, true}, hasher);
    auto identities = std::make_shared<IdentityStore>(
        database_, IdentitySettings{.uid_number_min = 20000, .gid_number_min = 30000}, clock_);
    runtime_ =
        std::make_unique<Runtime>(Runtime{config_, hasher, chain, AccountPolicy(config_->accounts), database_, nullptr,
                                          std::make_shared<RateLimiter>(), clock_, nullptr, identities});
  }

  template <typename Request>
  auto run_request(const Request& request) {
    Caller caller;
    return run(OperationContext{*runtime_, caller}, request);
  }

  std::optional<UserEntry> user_entry(const GetUserEntryRequest& request) {
    auto entry = run_request(request);
    EXPECT_TRUE(entry) << entry.error().message;
    return entry ? *entry : std::nullopt;
  }

  std::optional<GroupEntry> group_entry(const GetGroupEntryRequest& request) {
    auto entry = run_request(request);
    EXPECT_TRUE(entry) << entry.error().message;
    return entry ? *entry : std::nullopt;
  }

  ::dirproxy::testing::TemporaryDirectory temp_;
  StateDatabasePtr database_;
  std::shared_ptr<InMemoryDirectory> local_, corp_;
  std::shared_ptr<config::Config> config_ = std::make_shared<config::Config>();
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::unique_ptr<Runtime> runtime_;
};

std::vector<std::string> names_of(const std::vector<UserEntry>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.user.username + "@" + entry.user.directory);
  return names;
}

TEST_F(EntryOperations, AUserGetsAnAllocatedIdentityItsPrivateGroupNumberAndItsGroups) {
  local_->put_user(make_user("alice"), "x");
  local_->put_group("staff", {"alice"});
  corp_->put_group("engineers", {"alice"});
  start();

  auto entry = user_entry({.username = "ALICE"});

  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->user.username, "alice");
  EXPECT_EQ(entry->identity.number, 20000u);
  EXPECT_EQ(entry->gid_number, 20000u);
  EXPECT_EQ(entry->identity.uuid.size(), 36u);
  EXPECT_EQ(entry->groups, (std::vector<std::string>{"engineers", "staff"}));
}

TEST_F(EntryOperations, TheIdentityIsTheSameByUsernameEmailNumberAndUuid) {
  local_->put_user(make_user("alice"), "x");
  start();
  auto by_name = user_entry({.username = "alice"});
  ASSERT_TRUE(by_name);

  auto by_email = user_entry({.email = "alice@example.com"});
  auto by_number = user_entry({.uid_number = by_name->identity.number});
  auto by_uuid = user_entry({.uuid = by_name->identity.uuid});

  ASSERT_TRUE(by_email && by_number && by_uuid);
  for (const auto* entry : {&*by_email, &*by_number, &*by_uuid}) {
    EXPECT_EQ(entry->user.username, "alice");
    EXPECT_EQ(entry->identity.uuid, by_name->identity.uuid);
    EXPECT_EQ(entry->identity.number, by_name->identity.number);
  }
}

TEST_F(EntryOperations, ADirectorysOwnIdentityIsShownAndFoundByReverseLookupAfterFirstSight) {
  User bob = make_user("bob");
  bob.uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  bob.uid_number = 5001;
  bob.gid_number = 100;
  bob.created_at = 1700000000;
  corp_->put_user(bob, "x");
  start();

  auto entry = user_entry({.username = "bob"});
  auto by_number = user_entry({.uid_number = 5001});
  auto by_uuid = user_entry({.uuid = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"});

  ASSERT_TRUE(entry && by_number && by_uuid);
  EXPECT_EQ(entry->identity.uuid, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  EXPECT_EQ(entry->identity.number, 5001u);
  EXPECT_EQ(entry->gid_number, 100u);
  EXPECT_EQ(entry->created_at, 1700000000);
  EXPECT_EQ(by_number->user.directory, "corp");
  EXPECT_EQ(by_uuid->user.username, "bob");
}

TEST_F(EntryOperations, AnUnknownNumberOrUuidIsAMiss) {
  start();

  auto entry = run_request(GetUserEntryRequest{.uid_number = 12345});
  auto group = run_request(GetGroupEntryRequest{.uuid = "not a uuid"});

  ASSERT_TRUE(entry && group);
  EXPECT_FALSE(entry->has_value());
  EXPECT_FALSE(group->has_value());
}

TEST_F(EntryOperations, ANumberWhoseNameNowBelongsToAnEarlierDirectoryFindsNobody) {
  corp_->put_user(make_user("bob"), "x");
  start();
  auto corp_bob = user_entry({.username = "bob"});
  ASSERT_TRUE(corp_bob);
  local_->put_user(make_user("bob"), "y");  // shadows corp's bob from now on

  auto by_old_number = user_entry({.uid_number = corp_bob->identity.number});
  auto by_name = user_entry({.username = "bob"});

  EXPECT_FALSE(by_old_number);
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->user.directory, "local");
  EXPECT_NE(by_name->identity.number, corp_bob->identity.number);
}

TEST_F(EntryOperations, ExactlyOneKeyIsRequired) {
  start();

  auto none = run_request(GetUserEntryRequest{});
  auto two = run_request(GetUserEntryRequest{.username = "alice", .uid_number = 1});
  auto two_for_a_group = run_request(GetGroupEntryRequest{.name = "staff", .gid_number = 1});

  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::bad_request);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, ErrorCode::bad_request);
  ASSERT_FALSE(two_for_a_group);
  EXPECT_EQ(two_for_a_group.error().code, ErrorCode::bad_request);
}

TEST_F(EntryOperations, ListingShowsAShadowedUserOnceFromTheFirstDirectoryInPages) {
  for (const char* name : {"alice", "carol"}) local_->put_user(make_user(name), "x");
  for (const char* name : {"bob", "carol", "dave"}) corp_->put_user(make_user(name), "x");
  start();

  auto first = run_request(ListUserEntriesRequest{.after = "", .limit = 3});
  auto second = run_request(ListUserEntriesRequest{.after = "carol", .limit = 3});

  ASSERT_TRUE(first && second);
  EXPECT_EQ(names_of(*first), (std::vector<std::string>{"alice@local", "bob@corp", "carol@local"}));
  EXPECT_EQ(names_of(*second), (std::vector<std::string>{"dave@corp"}));
  auto carol = user_entry({.username = "carol"});
  ASSERT_TRUE(carol);
  EXPECT_EQ((*first)[2].identity.uuid, carol->identity.uuid);
}

TEST_F(EntryOperations, GroupsAreListedMergedByTheMembershipRuleWithStableIdentities) {
  local_->put_group("developers", {"zoe"});
  corp_->put_group("developers", {"adam"});
  corp_->put_group("testers", {"tim"});
  start(config::Membership::aggregate);

  auto groups = run_request(ListGroupEntriesRequest{});
  auto developers = group_entry({.name = "developers"});

  ASSERT_TRUE(groups && developers);
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].group.members, (std::vector<std::string>{"adam", "zoe"}));
  EXPECT_EQ((*groups)[0].group.directory, "local");
  EXPECT_EQ((*groups)[0].identity.number, 30000u);
  EXPECT_EQ((*groups)[1].identity.number, 30001u);
  EXPECT_EQ(developers->identity.uuid, (*groups)[0].identity.uuid);
  auto by_number = group_entry({.gid_number = 30001});
  ASSERT_TRUE(by_number);
  EXPECT_EQ(by_number->group.name, "testers");
}

TEST_F(EntryOperations, UnderFirstAListedGroupHasItsFirstDirectorysMembersOnly) {
  local_->put_group("developers", {"zoe"});
  corp_->put_group("developers", {"adam"});
  start(config::Membership::first);

  auto groups = run_request(ListGroupEntriesRequest{});

  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].group.members, (std::vector<std::string>{"zoe"}));
}

TEST(IdentitySettingsOfAConfiguration, MemoryHoldsAsManyIdentitiesAsTheLdapCachesHoldUsers) {
  config::Config config;
  EXPECT_EQ(identity_settings(config).cached_identities, IdentitySettings{}.cached_identities);
  config::DirectoryConfig a;
  a.name = "a";
  a.type = config::DirectoryType::ldap;
  a.ldap.cache.max_entries = 30000;
  config::DirectoryConfig b = a;
  b.name = "b";
  b.ldap.cache.max_entries = 20000;
  config::DirectoryConfig uncached = a;  // identities do not go stale: they count as well
  uncached.name = "uncached";
  uncached.ldap.cache.ttl = std::chrono::seconds(0);
  uncached.ldap.cache.max_entries = 5000;
  config::DirectoryConfig internal;
  internal.name = "internal";
  config.directories = {a, b, uncached, internal};

  EXPECT_EQ(identity_settings(config).cached_identities, 55000u);
}

}  // namespace
}  // namespace dirproxy
