// The chain rules of docs/design.md, one behaviour per test, each test named after
// the rule it proves. In-memory directories stand in for SQLite and LDAP.
#include "directories/directory_chain.hpp"

#include <gtest/gtest.h>

#include "directories/in_memory_directory.hpp"

namespace dirproxy {
namespace {

using testing::InMemoryDirectory;

User make_user(std::string username, std::string email, bool active = true) {
  User user;
  user.username = std::move(username);
  user.email = std::move(email);
  user.display_name = user.username;
  user.active = active;
  return user;
}

class DirectoryChainTest : public ::testing::Test {
 protected:
  DirectoryChainTest()
      : internal_(std::make_shared<InMemoryDirectory>("internal", DirectoryType::internal, Permissions::read_write)),
        corp_(std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_only)),
        partner_(std::make_shared<InMemoryDirectory>("partner", DirectoryType::ldap, Permissions::read_only)),
        hasher_(std::make_shared<PasswordHasher>(1, 8192, 2)) {}

  DirectoryChain chain(ChainOptions options = {}) {
    return DirectoryChain({internal_, corp_, partner_}, options, hasher_);
  }

  std::shared_ptr<InMemoryDirectory> internal_, corp_, partner_;
  PasswordHasherPtr hasher_;
};

// Rule 1 -------------------------------------------------------------------

TEST_F(DirectoryChainTest, Rule1_FirstDirectoryThatHasTheUserOwnsIt) {
  corp_->put_user(make_user("alice", "alice@corp.example"), "corp-secret");
  partner_->put_user(make_user("alice", "alice@partner.example"), "partner-secret");

  auto user = chain().find_user("alice");

  ASSERT_TRUE(user);
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->directory, "corp");
  EXPECT_EQ((*user)->email, "alice@corp.example");
}

TEST_F(DirectoryChainTest, Rule1_NamesCompareCaseInsensitively) {
  corp_->put_user(make_user("Alice", "alice@corp.example"), "corp-secret");
  partner_->put_user(make_user("alice", "alice@partner.example"), "partner-secret");

  auto user = chain().find_user("ALICE");

  ASSERT_TRUE(user && user->has_value());
  EXPECT_EQ((*user)->username, "Alice");  // the stored spelling
  EXPECT_EQ((*user)->directory, "corp");
}

TEST_F(DirectoryChainTest, Rule1_LookupByEmailWalksInOrder) {
  corp_->put_user(make_user("a.smith", "shared@example.com"), "x");
  partner_->put_user(make_user("asmith", "shared@example.com"), "y");

  auto user = chain().find_user_by_email("SHARED@example.com");

  ASSERT_TRUE(user && user->has_value());
  EXPECT_EQ((*user)->username, "a.smith");
}

TEST_F(DirectoryChainTest, Rule1_UnknownUserIsAMissNotAnError) {
  auto user = chain().find_user("nobody");

  ASSERT_TRUE(user);
  EXPECT_FALSE(user->has_value());
}

TEST_F(DirectoryChainTest, Rule1_FindUsersListsEachNameOnceFromItsOwner) {
  corp_->put_user(make_user("bob", "bob@corp.example"), "x");
  partner_->put_user(make_user("bob", "bob@partner.example"), "y");
  partner_->put_user(make_user("bobby", "bobby@partner.example"), "z");

  auto users = chain().find_users("bob", 100);

  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].username, "bob");
  EXPECT_EQ((*users)[0].directory, "corp");
  EXPECT_EQ((*users)[1].username, "bobby");
}

TEST_F(DirectoryChainTest, Rule1_FindUsersOmitsANameShadowedByANonMatchingOwner) {
  // corp owns "carol" but its entry does not match the query "partner":
  // partner's carol is shadowed and must not be listed.
  corp_->put_user(make_user("carol", "carol@corp.example"), "x");
  partner_->put_user(make_user("carol", "carol@partner.example"), "y");

  auto users = chain().find_users("car", 100);
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].directory, "corp");
}

TEST_F(DirectoryChainTest, Rule1_CachedLookupFindsTheSameOwnerWhenEveryDirectoryOnTheWayKnows) {
  corp_->put_user(make_user("alice", "alice@corp.example"), "corp-secret");
  partner_->put_user(make_user("alice", "alice@partner.example"), "partner-secret");
  internal_->set_answers_from_memory(true);
  corp_->set_answers_from_memory(true);

  auto user = chain().cached_find_user("ALICE");

  ASSERT_TRUE(user.has_value());
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->directory, "corp");
  EXPECT_EQ((*user)->email, "alice@corp.example");
  EXPECT_EQ(internal_->lookups + corp_->lookups + partner_->lookups, 0);
}

TEST_F(DirectoryChainTest, Rule1_CachedLookupGivesUpAtTheFirstDirectoryThatWouldNeedALookup) {
  partner_->put_user(make_user("alice", "alice@partner.example"), "partner-secret");
  internal_->set_answers_from_memory(true);
  partner_->set_answers_from_memory(true);  // corp, before it, knows nothing from memory

  auto user = chain().cached_find_user("alice");

  EXPECT_FALSE(user.has_value());
  EXPECT_EQ(partner_->lookups, 0);
}

TEST_F(DirectoryChainTest, Rule1_CachedLookupOfANameNoDirectoryHasIsAMiss) {
  internal_->set_answers_from_memory(true);
  corp_->set_answers_from_memory(true);
  partner_->set_answers_from_memory(true);

  auto user = chain().cached_find_user("nobody");

  ASSERT_TRUE(user.has_value());
  EXPECT_FALSE(user->has_value());
}

// The walk without blocking (UserWalk) answers as find_user does -------------

// Finishes every lookup the walk hands out (they answer at once here), and
// runs finish_blocking() where the walk stops.
Result<std::optional<User>> walk_to_the_end(DirectoryChain::UserWalk& walk, int* blocking_steps = nullptr) {
  auto step = walk.start();
  while (step.lookup) {
    auto outcome = step.lookup->poll();
    EXPECT_TRUE(outcome.has_value());
    step = walk.resume(std::move(*outcome));
  }
  if (step.answer) return std::move(*step.answer);
  if (blocking_steps != nullptr) ++*blocking_steps;
  return walk.finish_blocking();
}

TEST_F(DirectoryChainTest, Rule1_WalkWithoutBlockingStopsAtTheFirstDirectoryThatHasTheName) {
  corp_->put_user(make_user("alice", "alice@corp.example"), "corp-secret");
  partner_->put_user(make_user("alice", "alice@partner.example"), "partner-secret");
  internal_->set_answers_from_memory(true);
  corp_->set_looks_up_without_blocking(true);
  partner_->set_looks_up_without_blocking(true);
  auto directories = chain();
  DirectoryChain::UserWalk walk(directories, "ALICE");

  int blocking_steps = 0;
  auto user = walk_to_the_end(walk, &blocking_steps);

  ASSERT_TRUE(user) << user.error().message;
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->directory, "corp");
  EXPECT_EQ(corp_->started_lookups, 1);
  EXPECT_EQ(partner_->started_lookups, 0);
  EXPECT_EQ(blocking_steps, 0);
}

TEST_F(DirectoryChainTest, Rule1_WalkWithoutBlockingGoesOnPastADirectoryWithoutTheName) {
  partner_->put_user(make_user("bob", "bob@partner.example"), "partner-secret");
  internal_->set_answers_from_memory(true);
  corp_->set_looks_up_without_blocking(true);
  partner_->set_looks_up_without_blocking(true);
  auto directories = chain();
  DirectoryChain::UserWalk walk(directories, "bob");

  auto user = walk_to_the_end(walk);

  ASSERT_TRUE(user);
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->directory, "partner");
  EXPECT_EQ(corp_->started_lookups, 1);
  EXPECT_EQ(partner_->started_lookups, 1);
}

TEST_F(DirectoryChainTest, Rule1_WalkWithoutBlockingOfANameNoDirectoryHasIsAMiss) {
  internal_->set_answers_from_memory(true);
  corp_->set_looks_up_without_blocking(true);
  partner_->set_answers_from_memory(true);
  auto directories = chain();
  DirectoryChain::UserWalk walk(directories, "nobody");

  auto step = walk.start();
  ASSERT_TRUE(step.lookup);
  step = walk.resume(*step.lookup->poll());

  ASSERT_TRUE(step.answer.has_value());
  ASSERT_TRUE(*step.answer);
  EXPECT_FALSE((*step.answer)->has_value());
}

TEST_F(DirectoryChainTest, Rule1_WalkWithoutBlockingLeavesTheRestToABlockingWalkFromWhereItStopped) {
  // corp can only be asked the blocking way: the walk stops there, and
  // finish_blocking() asks corp, not internal again.
  corp_->put_user(make_user("alice", "alice@corp.example"), "corp-secret");
  internal_->set_answers_from_memory(true);
  auto directories = chain();
  DirectoryChain::UserWalk walk(directories, "alice");

  auto step = walk.start();
  EXPECT_FALSE(step.answer.has_value());
  EXPECT_FALSE(step.lookup);
  auto user = walk.finish_blocking();

  ASSERT_TRUE(user);
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->directory, "corp");
  EXPECT_EQ(internal_->lookups, 0);
  EXPECT_EQ(corp_->lookups, 1);
}

TEST_F(DirectoryChainTest, Rule2_WalkWithoutBlockingJudgesAFailedLookupAsFindUserDoes) {
  // corp is down and fails the walk; the blocking rest asks it again and
  // answers its directory_unavailable, naming it.
  corp_->set_down(true);
  partner_->put_user(make_user("alice", "alice@partner.example"), "partner-secret");
  internal_->set_answers_from_memory(true);
  corp_->set_looks_up_without_blocking(true);
  auto directories = chain();
  DirectoryChain::UserWalk walk(directories, "alice");

  int blocking_steps = 0;
  auto user = walk_to_the_end(walk, &blocking_steps);

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(user.error().directory, "corp");
  EXPECT_EQ(blocking_steps, 1);
  EXPECT_EQ(partner_->lookups, 0);
}

TEST(DirectoryChainWalk, Rule2_WalkWithoutBlockingSkipsADownDirectoryMarkedSkip) {
  auto corp =
      std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_only, OnUnavailable::skip);
  auto partner = std::make_shared<InMemoryDirectory>("partner", DirectoryType::ldap, Permissions::read_only);
  corp->set_down(true);
  corp->set_looks_up_without_blocking(true);
  partner->set_looks_up_without_blocking(true);
  partner->put_user(make_user("alice", "alice@partner.example"), "partner-secret");
  DirectoryChain directories({corp, partner}, {}, std::make_shared<PasswordHasher>(1, 8192, 2));
  DirectoryChain::UserWalk walk(directories, "alice");

  auto user = walk_to_the_end(walk);

  ASSERT_TRUE(user) << user.error().message;
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->directory, "partner");
}

// Rule 2 -------------------------------------------------------------------

TEST_F(DirectoryChainTest, Rule2_DownDirectoryStopsTheWalkByDefault) {
  corp_->set_down(true);
  partner_->put_user(make_user("dave", "dave@partner.example"), "x");

  auto user = chain().find_user("dave");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(user.error().directory, "corp");
  EXPECT_EQ(partner_->lookups, 0);
}

TEST_F(DirectoryChainTest, Rule2_DownDirectoryWithSkipIsPassedOver) {
  corp_ = std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_only, OnUnavailable::skip);
  corp_->set_down(true);
  partner_->put_user(make_user("dave", "dave@partner.example"), "x");

  auto user = chain().find_user("dave");

  ASSERT_TRUE(user && user->has_value());
  EXPECT_EQ((*user)->directory, "partner");
}

TEST_F(DirectoryChainTest, Rule2_DirectoryAfterTheOwnerIsNotAsked) {
  internal_->put_user(make_user("erin", "erin@example.com"), "x");
  corp_->set_down(true);

  auto user = chain().find_user("erin");

  ASSERT_TRUE(user && user->has_value());
  EXPECT_EQ((*user)->directory, "internal");
  EXPECT_EQ(corp_->lookups, 0);
}

// Rule 3 -------------------------------------------------------------------

TEST_F(DirectoryChainTest, Rule3_RightPasswordAuthenticatesAgainstTheOwner) {
  corp_->put_user(make_user("frank", "frank@corp.example"), "corp-secret");

  auto user = chain().authenticate("frank", "corp-secret");

  ASSERT_TRUE(user);
  EXPECT_EQ(user->directory, "corp");
}

TEST_F(DirectoryChainTest, Rule3_WrongPasswordNeverFallsThrough) {
  corp_->put_user(make_user("frank", "frank@corp.example"), "corp-secret");
  partner_->put_user(make_user("frank", "frank@partner.example"), "partner-secret");

  auto user = chain().authenticate("frank", "partner-secret");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::invalid_credentials);
  EXPECT_EQ(corp_->authentications, 1);
  EXPECT_EQ(partner_->authentications, 0);
  EXPECT_EQ(partner_->lookups, 0);
}

TEST_F(DirectoryChainTest, Rule3_UnknownUserAndWrongPasswordGiveTheSameAnswer) {
  corp_->put_user(make_user("frank", "frank@corp.example"), "corp-secret");

  auto wrong = chain().authenticate("frank", "not-it");
  auto unknown = chain().authenticate("nobody", "not-it");

  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().code, ErrorCode::invalid_credentials);
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_credentials);
  EXPECT_EQ(wrong.error().message, unknown.error().message);
}

TEST_F(DirectoryChainTest, Rule3_EmptyPasswordIsRefusedBeforeAnyDirectoryIsAsked) {
  corp_->put_user(make_user("frank", "frank@corp.example"), "");

  auto user = chain().authenticate("frank", "");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::invalid_credentials);
  EXPECT_EQ(internal_->lookups + corp_->lookups + partner_->lookups, 0);
  EXPECT_EQ(corp_->authentications, 0);
}

TEST_F(DirectoryChainTest, Rule3_RightPasswordOnAnInactiveAccountIsAccountDisabled) {
  internal_->put_user(make_user("gina", "gina@example.com", /*active=*/false), "secret-pw");

  auto user = chain().authenticate("gina", "secret-pw");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::account_disabled);
}

TEST_F(DirectoryChainTest, Rule3_WrongPasswordOnAnInactiveAccountRevealsNothing) {
  internal_->put_user(make_user("gina", "gina@example.com", /*active=*/false), "secret-pw");

  auto user = chain().authenticate("gina", "guess");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::invalid_credentials);
}

// The owner was found but cannot verify the password (its server went away
// between lookup and bind): the answer is directory_unavailable even under
// on_unavailable: skip, never a later directory's verdict.
TEST_F(DirectoryChainTest, Rule3_OwnerFailingDuringVerificationNeverFallsThrough) {
  corp_->put_user(make_user("ivan", "ivan@corp.example"), "pw");
  partner_->put_user(make_user("ivan", "ivan@partner.example"), "pw");
  // Wrap corp so that lookups work but authenticate reports the server down.
  class BindFails final : public Directory {
   public:
    explicit BindFails(std::shared_ptr<InMemoryDirectory> inner) : inner_(std::move(inner)) {}
    const std::string& name() const override { return inner_->name(); }
    DirectoryType type() const override { return inner_->type(); }
    Permissions permissions() const override { return inner_->permissions(); }
    OnUnavailable on_unavailable() const override { return OnUnavailable::skip; }
    Result<std::optional<User>> find_user_by_name(std::string_view u) override { return inner_->find_user_by_name(u); }
    Result<std::optional<User>> find_user_by_email(std::string_view e) override {
      return inner_->find_user_by_email(e);
    }
    Result<AuthOutcome> authenticate(const User&, std::string_view) override {
      Error error = make_error(ErrorCode::directory_unavailable, "bind timed out");
      return error;
    }
    Result<std::vector<User>> search_users(std::string_view q, std::size_t l) override {
      return inner_->search_users(q, l);
    }
    Result<std::vector<User>> list_users(std::string_view a, std::size_t l) override {
      return inner_->list_users(a, l);
    }
    Result<std::vector<Group>> list_groups(std::string_view a, std::size_t l) override {
      return inner_->list_groups(a, l);
    }
    Result<std::vector<std::string>> groups_of(std::string_view u) override { return inner_->groups_of(u); }
    Result<std::optional<Group>> find_group(std::string_view n) override { return inner_->find_group(n); }
    Result<User> create_user(const NewUser& u) override { return inner_->create_user(u); }
    Result<User> update_user(std::string_view u, const UserChanges& c) override { return inner_->update_user(u, c); }
    Result<void> delete_user(std::string_view u) override { return inner_->delete_user(u); }
    Result<void> set_password(std::string_view u, std::string_view p) override { return inner_->set_password(u, p); }
    Result<Group> create_group(std::string_view n, const std::optional<std::string>& d) override {
      return inner_->create_group(n, d);
    }
    Result<void> delete_group(std::string_view n) override { return inner_->delete_group(n); }
    Result<void> add_member(std::string_view g, std::string_view u) override { return inner_->add_member(g, u); }
    Result<void> remove_member(std::string_view g, std::string_view u) override { return inner_->remove_member(g, u); }
    DirectoryStatus status() override { return inner_->status(); }

   private:
    std::shared_ptr<InMemoryDirectory> inner_;
  };
  DirectoryChain chain({internal_, std::make_shared<BindFails>(corp_), partner_}, {}, hasher_);

  auto user = chain.authenticate("ivan", "pw");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(user.error().directory, "corp");
  EXPECT_EQ(partner_->authentications, 0);
}

// Rule 4 -------------------------------------------------------------------

TEST_F(DirectoryChainTest, Rule4_AggregateMembershipUnitesEveryDirectorysGroups) {
  corp_->put_user(make_user("jane", "jane@corp.example"), "x");
  corp_->put_group("staff", {"jane"});
  partner_->put_group("vendors", {"JANE"});
  internal_->put_group("wiki-editors", {"jane"});

  auto groups = chain({config::Membership::aggregate, true}).user_groups("jane");

  ASSERT_TRUE(groups);
  EXPECT_EQ(*groups, (std::vector<std::string>{"staff", "vendors", "wiki-editors"}));
}

TEST_F(DirectoryChainTest, Rule4_FirstMembershipCountsOnlyTheOwningDirectory) {
  corp_->put_user(make_user("jane", "jane@corp.example"), "x");
  corp_->put_group("staff", {"jane"});
  partner_->put_group("vendors", {"jane"});
  internal_->put_group("wiki-editors", {"jane"});

  auto groups = chain({config::Membership::first, true}).user_groups("jane");

  ASSERT_TRUE(groups);
  EXPECT_EQ(*groups, (std::vector<std::string>{"staff"}));
}

TEST_F(DirectoryChainTest, Rule4_GroupMembersAreUnitedAcrossDirectoriesHoldingTheName) {
  internal_->put_group("developers", {"zoe"});
  corp_->put_group("Developers", {"adam", "zoe"});
  partner_->put_group("developers", {"bea"});

  auto group = chain({config::Membership::aggregate, true}).find_group("developers");

  ASSERT_TRUE(group && group->has_value());
  EXPECT_EQ((*group)->directory, "internal");
  EXPECT_EQ((*group)->members, (std::vector<std::string>{"adam", "bea", "zoe"}));
}

TEST_F(DirectoryChainTest, Rule4_FirstMembershipTakesOnlyTheFirstGroupOfTheName) {
  internal_->put_group("developers", {"zoe"});
  corp_->put_group("developers", {"adam"});

  auto group = chain({config::Membership::first, true}).find_group("developers");

  ASSERT_TRUE(group && group->has_value());
  EXPECT_EQ((*group)->members, (std::vector<std::string>{"zoe"}));
}

TEST_F(DirectoryChainTest, Rule4_InternalGroupMayHoldUsersOfAnyDirectory) {
  corp_->put_user(make_user("kim", "kim@corp.example"), "x");
  internal_->put_group("wiki-admins", {});
  auto chain = this->chain();

  auto added = chain.add_member("wiki-admins", "KIM");
  auto groups = chain.user_groups("kim");

  ASSERT_TRUE(added);
  ASSERT_TRUE(groups);
  EXPECT_EQ(*groups, (std::vector<std::string>{"wiki-admins"}));
  auto group = chain.find_group("wiki-admins");
  ASSERT_TRUE(group && group->has_value());
  EXPECT_EQ((*group)->members, (std::vector<std::string>{"kim"}));  // the stored spelling
}

TEST_F(DirectoryChainTest, Rule4_ReadOnlyLocalGroupsUsersKeepInternalGroupsUnderFirst) {
  corp_ = std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_only_local_groups);
  corp_->put_user(make_user("lee", "lee@corp.example"), "x");
  corp_->put_group("staff", {"lee"});
  internal_->put_group("wiki-editors", {"lee"});
  partner_->put_group("vendors", {"lee"});

  auto groups = chain({config::Membership::first, true}).user_groups("lee");

  ASSERT_TRUE(groups);
  EXPECT_EQ(*groups, (std::vector<std::string>{"staff", "wiki-editors"}));
}

TEST_F(DirectoryChainTest, Rule4_DownDirectoryFailsAggregationByDefault) {
  corp_->put_user(make_user("jane", "jane@corp.example"), "x");
  auto chain = this->chain();
  partner_->set_down(true);

  auto groups = chain.user_groups("jane");

  ASSERT_FALSE(groups);
  EXPECT_EQ(groups.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(groups.error().directory, "partner");
}

// Enumeration (rules 1, 2 and 4 applied to pages) ---------------------------

std::vector<std::string> usernames(const std::vector<User>& users) {
  std::vector<std::string> names;
  for (const auto& user : users) names.push_back(user.username + "@" + user.directory);
  return names;
}

TEST_F(DirectoryChainTest, Rule1_AShadowedNameIsListedOnceFromTheFirstDirectory) {
  corp_->put_user(make_user("Alice", "alice@corp.example"), "x");
  partner_->put_user(make_user("alice", "alice@partner.example"), "y");
  partner_->put_user(make_user("bob", "bob@partner.example"), "y");

  auto users = chain().list_users("", 10);

  ASSERT_TRUE(users);
  EXPECT_EQ(usernames(*users), (std::vector<std::string>{"Alice@corp", "bob@partner"}));
}

TEST_F(DirectoryChainTest, Rule1_PagingWithAfterListsEveryNameOnceInOrder) {
  for (const char* name : {"alice", "carol", "erin"}) internal_->put_user(make_user(name, ""), "x");
  for (const char* name : {"bob", "Carol", "dave"}) corp_->put_user(make_user(name, ""), "x");
  partner_->put_user(make_user("frank", ""), "x");
  auto chain = this->chain();

  std::vector<std::string> listed;
  std::vector<std::size_t> page_sizes;
  std::string after;
  for (;;) {
    auto page = chain.list_users(after, 2);
    ASSERT_TRUE(page);
    if (page->empty()) break;
    page_sizes.push_back(page->size());
    for (const auto& name : usernames(*page)) listed.push_back(name);
    after = page->back().username;
  }

  EXPECT_EQ(listed, (std::vector<std::string>{"alice@internal", "bob@corp", "carol@internal", "dave@corp",
                                              "erin@internal", "frank@partner"}));
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 2}));
}

TEST_F(DirectoryChainTest, Rule1_ListingStartsStrictlyAfterTheNameInAnyCase) {
  for (const char* name : {"alice", "bob", "carol"}) corp_->put_user(make_user(name, ""), "x");

  auto users = chain().list_users("BOB", 10);

  ASSERT_TRUE(users);
  EXPECT_EQ(usernames(*users), (std::vector<std::string>{"carol@corp"}));
}

TEST_F(DirectoryChainTest, Rule2_ADownDirectoryStopsTheListingByDefault) {
  corp_->put_user(make_user("alice", ""), "x");
  partner_->set_down(true);

  auto users = chain().list_users("", 10);

  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(users.error().directory, "partner");
}

TEST_F(DirectoryChainTest, Rule2_ADownDirectoryWithSkipIsLeftOutOfTheListing) {
  partner_ =
      std::make_shared<InMemoryDirectory>("partner", DirectoryType::ldap, Permissions::read_only, OnUnavailable::skip);
  corp_->put_user(make_user("alice", ""), "x");
  partner_->put_user(make_user("bob", ""), "x");
  partner_->set_down(true);

  auto users = chain().list_users("", 10);

  ASSERT_TRUE(users);
  EXPECT_EQ(usernames(*users), (std::vector<std::string>{"alice@corp"}));
}

TEST_F(DirectoryChainTest, Rule4_AggregateListsAGroupOnceWithTheMembersOfEveryDirectory) {
  internal_->put_group("developers", {"zoe"});
  corp_->put_group("Developers", {"adam", "zoe"});
  partner_->put_group("developers", {"bea"});
  partner_->put_group("testers", {"tim"});

  auto groups = chain({config::Membership::aggregate, true}).list_groups("", 10);

  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].name, "developers");
  EXPECT_EQ((*groups)[0].directory, "internal");
  EXPECT_EQ((*groups)[0].members, (std::vector<std::string>{"adam", "bea", "zoe"}));
  EXPECT_EQ((*groups)[1].name, "testers");
}

TEST_F(DirectoryChainTest, Rule4_FirstListsAGroupWithTheMembersOfItsFirstDirectoryOnly) {
  internal_->put_group("developers", {"zoe"});
  corp_->put_group("developers", {"adam"});

  auto groups = chain({config::Membership::first, true}).list_groups("", 10);

  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].directory, "internal");
  EXPECT_EQ((*groups)[0].members, (std::vector<std::string>{"zoe"}));
}

TEST_F(DirectoryChainTest, Rule4_GroupPagesFollowAfterAndLimit) {
  internal_->put_group("a-team", {});
  corp_->put_group("b-team", {});
  corp_->put_group("c-team", {});
  partner_->put_group("A-Team", {"x"});

  auto first = chain().list_groups("", 2);
  auto second = chain().list_groups("b-team", 2);

  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].name, "a-team");
  EXPECT_EQ((*first)[0].members, (std::vector<std::string>{"x"}));
  EXPECT_EQ((*first)[1].name, "b-team");
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].name, "c-team");
}

// Rule 5 -------------------------------------------------------------------

NewUser new_user(std::string username, std::string email) {
  NewUser user;
  user.username = std::move(username);
  user.email = std::move(email);
  user.display_name = user.username;
  user.password = "long-enough-password";
  return user;
}

TEST_F(DirectoryChainTest, Rule5_NewUserGoesToTheFirstDirectoryPermittingIt) {
  auto created = chain().create_user(new_user("mona", "mona@example.com"));

  ASSERT_TRUE(created);
  EXPECT_EQ(created->directory, "internal");
  EXPECT_EQ(corp_->writes, 0);
}

TEST_F(DirectoryChainTest, Rule5_FirstWritableDirectoryMayComeAfterReadOnlyOnes) {
  corp_ = std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_write);
  DirectoryChain chain({partner_, corp_, internal_}, {}, hasher_);

  auto created = chain.create_user(new_user("mona", "mona@example.com"));

  ASSERT_TRUE(created);
  EXPECT_EQ(created->directory, "corp");
}

TEST_F(DirectoryChainTest, Rule5_NoWritableDirectoryAnswersReadOnly) {
  DirectoryChain chain({corp_, partner_}, {}, hasher_);

  auto created = chain.create_user(new_user("mona", "mona@example.com"));

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::read_only);
}

TEST_F(DirectoryChainTest, Rule5_UsernameTakenAnywhereInTheChainIsAConflict) {
  partner_->put_user(make_user("Nina", "nina@partner.example"), "x");

  auto created = chain().create_user(new_user("nina", "nina@example.com"));

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::conflict);
  EXPECT_EQ(created.error().field, "username");
  EXPECT_EQ(internal_->writes, 0);
}

TEST_F(DirectoryChainTest, Rule5_CreateIsRefusedWhileADirectoryCannotBeChecked) {
  partner_ =
      std::make_shared<InMemoryDirectory>("partner", DirectoryType::ldap, Permissions::read_only, OnUnavailable::skip);
  partner_->set_down(true);

  auto created = chain().create_user(new_user("olga", "olga@example.com"));

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(created.error().directory, "partner");
  EXPECT_EQ(internal_->writes, 0);
}

TEST_F(DirectoryChainTest, Rule5_EmailTakenAnywhereIsAConflictWhenEmailsAreUnique) {
  corp_->put_user(make_user("paul", "Paul@Corp.example"), "x");

  auto created =
      chain({config::Membership::aggregate, /*unique_email=*/true}).create_user(new_user("paula", "paul@corp.example"));

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::conflict);
  EXPECT_EQ(created.error().field, "email");
}

TEST_F(DirectoryChainTest, Rule5_SharedEmailIsAllowedWhenEmailsAreNotUnique) {
  corp_->put_user(make_user("paul", "paul@corp.example"), "x");

  auto created = chain({config::Membership::aggregate, /*unique_email=*/false})
                     .create_user(new_user("paula", "paul@corp.example"));

  ASSERT_TRUE(created);
}

TEST_F(DirectoryChainTest, Rule5_UpdateOfAReadOnlyOwnerIsRefused) {
  corp_->put_user(make_user("quinn", "quinn@corp.example"), "x");
  UserChanges changes;
  changes.display_name = "Quinn Q";

  auto updated = chain().update_user("quinn", changes);
  auto password = chain().set_password("quinn", "new-password-1");
  auto deleted = chain().delete_user("quinn");

  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::read_only);
  ASSERT_FALSE(password);
  EXPECT_EQ(password.error().code, ErrorCode::read_only);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, ErrorCode::read_only);
  EXPECT_EQ(corp_->writes, 0);
}

TEST_F(DirectoryChainTest, Rule5_UpdateGoesToTheOwnerNotToAShadowedCopy) {
  internal_->put_user(make_user("rosa", "rosa@example.com"), "x");
  corp_ = std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_write);
  corp_->put_user(make_user("rosa", "rosa@corp.example"), "y");
  UserChanges changes;
  changes.display_name = "Rosa R";

  auto updated = chain().update_user("rosa", changes);

  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->directory, "internal");
  EXPECT_EQ(corp_->writes, 0);
}

TEST_F(DirectoryChainTest, Rule5_MembershipChangesGoToTheGroupsOwner) {
  internal_->put_user(make_user("sam", "sam@example.com"), "x");
  corp_->put_group("staff", {});

  auto added = chain().add_member("staff", "sam");
  auto removed = chain().remove_member("staff", "sam");

  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, ErrorCode::read_only);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, ErrorCode::read_only);
}

TEST_F(DirectoryChainTest, Rule5_AddingAnUnknownUserToAGroupIsNotFound) {
  internal_->put_group("staff", {});

  auto added = chain().add_member("staff", "ghost");

  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, ErrorCode::not_found);
}

TEST_F(DirectoryChainTest, Rule5_GroupNameTakenAnywhereIsAConflict) {
  partner_->put_group("Ops", {});

  auto created = chain().create_group("ops", std::nullopt);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::conflict);
}

TEST_F(DirectoryChainTest, Rule5_APlannedAccountChecksEveryWriteBeforeMakingAny) {
  corp_->put_group("staff", {});  // held by a read-only directory

  auto plan = chain().plan_account(new_user("mona", "mona@example.com"), {"users", "staff"});

  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ErrorCode::read_only);
  EXPECT_EQ(plan.error().message,
            "cannot join group 'staff': directory 'corp' does not permit changing group memberships");
  EXPECT_EQ(internal_->writes, 0);
}

TEST_F(DirectoryChainTest, Rule5_APlannedAccountGoesWhereCreateUserCreateGroupAndAddMemberWould) {
  auto partner = std::make_shared<InMemoryDirectory>("partner", DirectoryType::ldap, Permissions::read_write);
  partner->put_group("Ops", {});
  DirectoryChain chain({internal_, corp_, partner}, {}, hasher_);
  const NewUser mona = new_user("mona", "mona@example.com");

  auto plan = chain.plan_account(mona, {"users", "ops"});
  ASSERT_TRUE(plan) << plan.error().message;
  const int writes_while_planning = internal_->writes + partner->writes;
  auto created = chain.create_planned_user(*plan, mona);
  auto joined = chain.join_planned_groups(*plan, "mona");

  EXPECT_EQ(writes_while_planning, 0);
  ASSERT_TRUE(created && joined);
  EXPECT_EQ(created->directory, "internal");
  EXPECT_EQ((*internal_->find_group("users"))->members, std::vector<std::string>{"mona"}) << "created where missing";
  EXPECT_EQ((*partner->find_group("ops"))->members, std::vector<std::string>{"mona"}) << "joined where it is held";
  EXPECT_FALSE(plan->stored_in_state_database()) << "in-memory directories are not in the state database";
}

TEST_F(DirectoryChainTest, Rule5_ChangePasswordChecksTheOldPasswordFirst) {
  internal_->put_user(make_user("tara", "tara@example.com"), "old-password-1");
  auto chain = this->chain();

  auto wrong = chain.change_password("tara", "guess", "new-password-1");
  auto right = chain.change_password("tara", "old-password-1", "new-password-1");

  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::invalid_credentials);
  ASSERT_TRUE(right);
  EXPECT_EQ(internal_->password_of("tara"), "new-password-1");
}

TEST_F(DirectoryChainTest, Rule5_DeletingAUserDropsItFromInternalGroups) {
  corp_ = std::make_shared<InMemoryDirectory>("corp", DirectoryType::ldap, Permissions::read_write);
  corp_->put_user(make_user("uma", "uma@corp.example"), "x");
  internal_->put_group("wiki", {"uma"});
  auto chain = this->chain();

  auto deleted = chain.delete_user("uma");

  ASSERT_TRUE(deleted);
  auto group = chain.find_group("wiki");
  ASSERT_TRUE(group && group->has_value());
  EXPECT_TRUE((*group)->members.empty());
}

// Rule 6 -------------------------------------------------------------------

TEST_F(DirectoryChainTest, Rule6_UsersWithTheSameEmailAreNeverMerged) {
  corp_->put_user(make_user("vic", "same@example.com"), "corp-pw");
  partner_->put_user(make_user("victor", "same@example.com"), "partner-pw");
  partner_->put_group("vendors", {"victor"});
  auto chain = this->chain();

  auto vic = chain.find_user("vic");
  auto victor = chain.find_user("victor");
  auto vic_groups = chain.user_groups("vic");
  auto wrong_account = chain.authenticate("vic", "partner-pw");

  ASSERT_TRUE(vic && vic->has_value() && victor && victor->has_value());
  EXPECT_EQ((*vic)->directory, "corp");
  EXPECT_EQ((*victor)->directory, "partner");
  ASSERT_TRUE(vic_groups);
  EXPECT_TRUE(vic_groups->empty());
  ASSERT_FALSE(wrong_account);
  EXPECT_EQ(wrong_account.error().code, ErrorCode::invalid_credentials);
}

}  // namespace
}  // namespace dirproxy
