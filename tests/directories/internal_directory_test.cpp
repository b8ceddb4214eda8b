// InternalDirectory against a real SQLite state database in a fresh
// temporary directory per test, with the fastest Argon2id limits.
#include "directories/internal/internal_directory.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <regex>
#include <thread>
#include <vector>

#include "core/timestamp.hpp"
#include "directories/timed_directory.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_state_database.hpp"

namespace dirproxy {
namespace {

using testing::TemporaryDirectory;

NewUser new_user(std::string username, std::string email, std::optional<std::string> password = std::nullopt) {
  NewUser user;
  user.username = std::move(username);
  user.email = std::move(email);
  user.display_name = user.username + " display";
  user.password = std::move(password);
  return user;
}

// The User the chain would hand to authenticate(); only the username counts.
User user_named(std::string username) {
  User user;
  user.username = std::move(username);
  user.directory = "internal";
  return user;
}

class InternalDirectoryTest : public ::testing::TestWithParam<StateBackend> {
 protected:
  std::shared_ptr<void> keep_database_;  // a PostgreSQL test database, dropped last

 protected:
  InternalDirectoryTest() {
    auto opened = testing::open_state_database(GetParam(), temp_.path() / "state", 4, keep_database_);
    if (!opened) {
      throw std::runtime_error(opened.error().message);
    }
    database_ = *opened;
    directory_ = make_directory(Permissions::read_write, /*unique_email=*/true);
  }

  std::shared_ptr<InternalDirectory> make_directory(Permissions permissions, bool unique_email,
                                                    PasswordHasherPtr hasher = nullptr) {
    config::DirectoryConfig settings;
    settings.name = "internal";
    settings.type = DirectoryType::internal;
    settings.permissions = permissions;
    return std::make_shared<InternalDirectory>(settings, database_, hasher ? hasher : hasher_, unique_email);
  }

  User create(const NewUser& user) {
    auto created = directory_->create_user(user);
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? *created : User{};
  }

  // One column of the users row for `username` (raw, as stored).
  std::optional<std::string> stored(std::string_view username, std::string_view column) {
    auto lease = database_->acquire();
    auto statement = lease.prepare("SELECT " + std::string(column) + " FROM users WHERE username = ?1", username);
    EXPECT_TRUE(statement.has_value());
    auto row = statement->step();
    EXPECT_TRUE(row.has_value() && *row) << "no row for " << username;
    return row && *row ? statement->column_optional_text(0) : std::nullopt;
  }

  std::int64_t count(std::string_view sql) {
    auto lease = database_->acquire();
    auto statement = lease.prepare(sql);
    EXPECT_TRUE(statement.has_value());
    auto row = statement->step();
    EXPECT_TRUE(row.has_value() && *row);
    return statement->column_int64(0);
  }

  TemporaryDirectory temp_;
  StateDatabasePtr database_;
  PasswordHasherPtr hasher_ = std::make_shared<PasswordHasher>(1, 8192, 4);
  std::shared_ptr<InternalDirectory> directory_;
};

// --- Identity ---------------------------------------------------------------

TEST_P(InternalDirectoryTest, ReportsItsConfiguredNameTypeAndPermissions) {
  EXPECT_EQ(directory_->name(), "internal");
  EXPECT_EQ(directory_->type(), DirectoryType::internal);
  EXPECT_EQ(directory_->permissions(), Permissions::read_write);
  EXPECT_EQ(directory_->on_unavailable(), OnUnavailable::fail);
}

// --- Users ------------------------------------------------------------------

TEST_P(InternalDirectoryTest, CreatedUserIsReturnedAndFoundAsStored) {
  NewUser alice = new_user("alice", "alice@example.com");
  alice.display_name = "Alice Liddell";
  alice.first_name = "Alice";
  alice.last_name = "Liddell";

  auto created = directory_->create_user(alice);
  auto found = directory_->find_user_by_name("alice");

  ASSERT_TRUE(created.has_value()) << created.error().message;
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  for (const User& user : {*created, **found}) {
    EXPECT_EQ(user.username, "alice");
    EXPECT_EQ(user.email, "alice@example.com");
    EXPECT_EQ(user.display_name, "Alice Liddell");
    EXPECT_EQ(user.first_name, "Alice");
    EXPECT_EQ(user.last_name, "Liddell");
    EXPECT_TRUE(user.active);
    EXPECT_EQ(user.directory, "internal");
  }
}

TEST_P(InternalDirectoryTest, TimestampsAreStoredAsRfc3339Utc) {
  create(new_user("alice", "alice@example.com"));

  const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
  EXPECT_TRUE(std::regex_match(stored("alice", "created_at").value_or(""), rfc3339));
  EXPECT_TRUE(std::regex_match(stored("alice", "updated_at").value_or(""), rfc3339));
}

TEST_P(InternalDirectoryTest, EmptyOptionalFieldsAreStoredAsNull) {
  NewUser bare = new_user("bare", "");
  bare.display_name = "";
  bare.first_name = "";

  auto created = directory_->create_user(bare);

  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->email, std::nullopt);
  EXPECT_EQ(created->display_name, std::nullopt);
  EXPECT_EQ(created->first_name, std::nullopt);
  EXPECT_EQ(created->last_name, std::nullopt);
  EXPECT_EQ(stored("bare", "email"), std::nullopt);
  EXPECT_EQ(stored("bare", "display_name"), std::nullopt);
  EXPECT_EQ(stored("bare", "first_name"), std::nullopt);
  EXPECT_EQ(stored("bare", "password_hash"), std::nullopt);
}

TEST_P(InternalDirectoryTest, UnknownUsersAreNotFoundByNameOrEmail) {
  create(new_user("alice", "alice@example.com"));

  auto by_name = directory_->find_user_by_name("bob");
  auto by_email = directory_->find_user_by_email("bob@example.com");

  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(*by_name, std::nullopt);
  ASSERT_TRUE(by_email.has_value());
  EXPECT_EQ(*by_email, std::nullopt);
}

TEST_P(InternalDirectoryTest, LookupByNameIgnoresCaseAndReturnsTheStoredSpelling) {
  create(new_user("Alice", "alice@example.com"));

  auto found = directory_->find_user_by_name("aLiCe");

  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, "Alice");
}

TEST_P(InternalDirectoryTest, LookupByEmailIgnoresCase) {
  create(new_user("alice", "Alice@Example.com"));

  auto found = directory_->find_user_by_email("alice@EXAMPLE.COM");

  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, "alice");
  EXPECT_EQ((*found)->email, "Alice@Example.com");
}

TEST_P(InternalDirectoryTest, LookupByASharedEmailReturnsTheSmallestUsername) {
  directory_ = make_directory(Permissions::read_write, /*unique_email=*/false);
  create(new_user("carol", "shared@example.com"));
  create(new_user("Bob", "shared@example.com"));
  create(new_user("dave", "SHARED@example.com"));

  auto found = directory_->find_user_by_email("shared@example.com");

  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, "Bob");
}

TEST_P(InternalDirectoryTest, UsernamesAreUniqueIgnoringCase) {
  create(new_user("Alice", "alice@example.com"));

  auto again = directory_->create_user(new_user("alice", "other@example.com"));

  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(again.error().field, "username");
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 1);
}

TEST_P(InternalDirectoryTest, ADuplicateEmailIsAConflictWhenEmailsAreUnique) {
  create(new_user("alice", "alice@example.com"));

  auto second = directory_->create_user(new_user("bob", "ALICE@example.com"));

  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::conflict);
  EXPECT_EQ(second.error().field, "email");
  auto bob = directory_->find_user_by_name("bob");
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(*bob, std::nullopt);
}

TEST_P(InternalDirectoryTest, ADuplicateEmailIsAllowedWhenEmailsAreNotUnique) {
  directory_ = make_directory(Permissions::read_write, /*unique_email=*/false);
  create(new_user("alice", "alice@example.com"));

  auto second = directory_->create_user(new_user("bob", "ALICE@example.com"));

  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE email = 'alice@example.com'"), 2);
}

TEST_P(InternalDirectoryTest, UsersWithoutEmailDoNotConflictWithEachOther) {
  create(new_user("alice", ""));

  auto second = directory_->create_user(new_user("bob", ""));

  EXPECT_TRUE(second.has_value());
}

TEST_P(InternalDirectoryTest, UpdateChangesOnlyTheGivenFields) {
  NewUser alice = new_user("alice", "alice@example.com");
  alice.first_name = "Alice";
  alice.last_name = "Liddell";
  create(alice);
  UserChanges changes;
  changes.display_name = "Alice L.";
  changes.last_name = "";  // clears it
  changes.active = false;

  auto updated = directory_->update_user("ALICE", changes);

  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  auto found = directory_->find_user_by_name("alice");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  for (const User& user : {*updated, **found}) {
    EXPECT_EQ(user.username, "alice");
    EXPECT_EQ(user.email, "alice@example.com");
    EXPECT_EQ(user.display_name, "Alice L.");
    EXPECT_EQ(user.first_name, "Alice");
    EXPECT_EQ(user.last_name, std::nullopt);
    EXPECT_FALSE(user.active);
    EXPECT_EQ(user.directory, "internal");
  }
}

TEST_P(InternalDirectoryTest, UpdateOfAMissingUserIsNotFound) {
  UserChanges changes;
  changes.display_name = "Nobody";

  auto updated = directory_->update_user("nobody", changes);

  ASSERT_FALSE(updated.has_value());
  EXPECT_EQ(updated.error().code, ErrorCode::not_found);
}

TEST_P(InternalDirectoryTest, UpdateToAnEmailInUseIsAConflict) {
  create(new_user("alice", "alice@example.com"));
  create(new_user("bob", "bob@example.com"));
  UserChanges changes;
  changes.email = "Alice@Example.com";

  auto updated = directory_->update_user("bob", changes);

  ASSERT_FALSE(updated.has_value());
  EXPECT_EQ(updated.error().code, ErrorCode::conflict);
  EXPECT_EQ(updated.error().field, "email");
  EXPECT_EQ(stored("bob", "email"), "bob@example.com");
}

TEST_P(InternalDirectoryTest, UpdateMayChangeTheCaseOfTheUsersOwnEmail) {
  create(new_user("alice", "alice@example.com"));
  UserChanges changes;
  changes.email = "Alice@Example.com";

  auto updated = directory_->update_user("alice", changes);

  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_EQ(stored("alice", "email"), "Alice@Example.com");
}

TEST_P(InternalDirectoryTest, DeleteRemovesTheUser) {
  create(new_user("alice", "alice@example.com"));

  auto deleted = directory_->delete_user("ALICE");

  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  auto found = directory_->find_user_by_name("alice");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, std::nullopt);
}

TEST_P(InternalDirectoryTest, DeleteOfAMissingUserIsNotFound) {
  auto deleted = directory_->delete_user("nobody");

  ASSERT_FALSE(deleted.has_value());
  EXPECT_EQ(deleted.error().code, ErrorCode::not_found);
}

TEST_P(InternalDirectoryTest, DeleteRemovesTheUsersMemberships) {
  create(new_user("alice", "alice@example.com"));
  create(new_user("bob", "bob@example.com"));
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));
  ASSERT_TRUE(directory_->create_group("ops", std::nullopt));
  ASSERT_TRUE(directory_->add_member("devs", "alice"));
  ASSERT_TRUE(directory_->add_member("ops", "alice"));
  ASSERT_TRUE(directory_->add_member("devs", "bob"));

  ASSERT_TRUE(directory_->delete_user("Alice"));

  EXPECT_EQ(count("SELECT COUNT(*) FROM memberships WHERE username = 'alice'"), 0);
  auto devs = directory_->find_group("devs");
  ASSERT_TRUE(devs.has_value());
  ASSERT_TRUE(devs->has_value());
  EXPECT_EQ((*devs)->members, std::vector<std::string>{"bob"});
}

// --- Read-only --------------------------------------------------------------

TEST_P(InternalDirectoryTest, AReadOnlyDirectoryRefusesEveryWrite) {
  create(new_user("alice", "alice@example.com", "password-1"));
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));
  auto read_only = make_directory(Permissions::read_only, /*unique_email=*/true);
  UserChanges changes;
  changes.display_name = "changed";

  std::vector<Error> errors;
  errors.push_back(read_only->create_user(new_user("bob", "bob@example.com")).error());
  errors.push_back(read_only->update_user("alice", changes).error());
  errors.push_back(read_only->delete_user("alice").error());
  errors.push_back(read_only->set_password("alice", "password-2").error());
  errors.push_back(read_only->create_group("ops", std::nullopt).error());
  errors.push_back(read_only->delete_group("devs").error());
  errors.push_back(read_only->add_member("devs", "alice").error());
  errors.push_back(read_only->remove_member("devs", "alice").error());

  for (const Error& error : errors) {
    EXPECT_EQ(error.code, ErrorCode::read_only);
    EXPECT_EQ(error.message, "directory 'internal' is read-only");
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 1);
  EXPECT_EQ(stored("alice", "display_name"), "alice display");
  EXPECT_EQ(count("SELECT COUNT(*) FROM groups"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM memberships"), 0);
  auto login = read_only->authenticate(user_named("alice"), "password-1");
  ASSERT_TRUE(login.has_value());
  EXPECT_EQ(*login, AuthOutcome::success);
}

TEST_P(InternalDirectoryTest, ReadOnlyLocalGroupsRefusesUserWritesButAllowsGroupWrites) {
  create(new_user("alice", "alice@example.com"));
  auto local_groups = make_directory(Permissions::read_only_local_groups, /*unique_email=*/true);

  auto user_write = local_groups->create_user(new_user("bob", "bob@example.com"));
  auto group_write = local_groups->create_group("devs", std::nullopt);
  auto member_write = local_groups->add_member("devs", "alice");

  ASSERT_FALSE(user_write.has_value());
  EXPECT_EQ(user_write.error().code, ErrorCode::read_only);
  EXPECT_TRUE(group_write.has_value());
  EXPECT_TRUE(member_write.has_value());
}

// --- Authentication ---------------------------------------------------------

TEST_P(InternalDirectoryTest, AuthenticateSucceedsWithTheRightPassword) {
  const User alice = create(new_user("alice", "alice@example.com", "correct horse"));

  auto outcome = directory_->authenticate(alice, "correct horse");

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::success);
}

TEST_P(InternalDirectoryTest, AuthenticateRejectsAWrongPassword) {
  const User alice = create(new_user("alice", "alice@example.com", "correct horse"));

  auto outcome = directory_->authenticate(alice, "Correct horse");

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::wrong_password);
}

TEST_P(InternalDirectoryTest, ADisabledAccountWithTheRightPasswordIsDisabled) {
  NewUser alice = new_user("alice", "alice@example.com", "correct horse");
  alice.active = false;
  const User created = create(alice);

  auto right = directory_->authenticate(created, "correct horse");
  auto wrong = directory_->authenticate(created, "wrong horse");

  ASSERT_TRUE(right.has_value());
  EXPECT_EQ(*right, AuthOutcome::disabled);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(*wrong, AuthOutcome::wrong_password);
}

TEST_P(InternalDirectoryTest, AnAccountWithoutAPasswordCannotLogInYet) {
  const User alice = create(new_user("alice", "alice@example.com"));

  auto outcome = directory_->authenticate(alice, "anything");

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::wrong_password);
}

TEST_P(InternalDirectoryTest, AnUnknownUserGetsWrongPassword) {
  auto outcome = directory_->authenticate(user_named("ghost"), "anything");

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::wrong_password);
}

TEST_P(InternalDirectoryTest, AuthenticateIgnoresTheCaseOfTheUsername) {
  create(new_user("alice", "alice@example.com", "correct horse"));

  auto outcome = directory_->authenticate(user_named("ALICE"), "correct horse");

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::success);
}

TEST_P(InternalDirectoryTest, OnlyAnArgon2idHashOfThePasswordIsStored) {
  create(new_user("alice", "alice@example.com", "correct horse"));

  const auto hash = stored("alice", "password_hash");

  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(hasher_->verify(*hash, "correct horse"));
}

TEST_P(InternalDirectoryTest, SetPasswordReplacesThePassword) {
  const User alice = create(new_user("alice", "alice@example.com", "old password"));

  ASSERT_TRUE(directory_->set_password("Alice", "new password"));

  auto old_outcome = directory_->authenticate(alice, "old password");
  auto new_outcome = directory_->authenticate(alice, "new password");
  ASSERT_TRUE(old_outcome.has_value());
  EXPECT_EQ(*old_outcome, AuthOutcome::wrong_password);
  ASSERT_TRUE(new_outcome.has_value());
  EXPECT_EQ(*new_outcome, AuthOutcome::success);
}

TEST_P(InternalDirectoryTest, SetPasswordGivesAnAccountWithoutPasswordOne) {
  const User alice = create(new_user("alice", "alice@example.com"));

  ASSERT_TRUE(directory_->set_password("alice", "first password"));

  auto outcome = directory_->authenticate(alice, "first password");
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::success);
}

TEST_P(InternalDirectoryTest, SetPasswordOfAMissingUserIsNotFound) {
  auto result = directory_->set_password("nobody", "password");

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::not_found);
}

TEST_P(InternalDirectoryTest, ALoginRehashesAHashMadeWithOtherLimits) {
  const User alice = create(new_user("alice", "alice@example.com", "correct horse"));
  const std::string old_hash = stored("alice", "password_hash").value_or("");
  auto stronger = std::make_shared<PasswordHasher>(2, 16384, 1);
  auto rehashing = make_directory(Permissions::read_write, /*unique_email=*/true, stronger);
  ASSERT_TRUE(stronger->needs_rehash(old_hash));

  auto outcome = rehashing->authenticate(alice, "correct horse");

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::success);
  const std::string new_hash = stored("alice", "password_hash").value_or("");
  EXPECT_NE(new_hash, old_hash);
  EXPECT_FALSE(stronger->needs_rehash(new_hash));
  EXPECT_TRUE(stronger->verify(new_hash, "correct horse"));
}

TEST_P(InternalDirectoryTest, AFailedLoginDoesNotRehash) {
  const User alice = create(new_user("alice", "alice@example.com", "correct horse"));
  const auto old_hash = stored("alice", "password_hash");
  auto rehashing =
      make_directory(Permissions::read_write, /*unique_email=*/true, std::make_shared<PasswordHasher>(2, 16384, 1));

  auto outcome = rehashing->authenticate(alice, "wrong horse");

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, AuthOutcome::wrong_password);
  EXPECT_EQ(stored("alice", "password_hash"), old_hash);
}

// --- Groups -----------------------------------------------------------------

TEST_P(InternalDirectoryTest, ACreatedGroupIsReturnedAndFoundIgnoringCase) {
  auto created = directory_->create_group("Developers", std::string("the devs"));

  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->name, "Developers");
  EXPECT_EQ(created->description, "the devs");
  EXPECT_EQ(created->directory, "internal");
  EXPECT_TRUE(created->members.empty());
  auto found = directory_->find_group("developers");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "Developers");
  EXPECT_EQ((*found)->description, "the devs");
  EXPECT_EQ((*found)->directory, "internal");
}

TEST_P(InternalDirectoryTest, AnEmptyGroupDescriptionIsStoredAsNull) {
  auto created = directory_->create_group("devs", std::string());

  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->description, std::nullopt);
  auto found = directory_->find_group("devs");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->description, std::nullopt);
}

TEST_P(InternalDirectoryTest, AnUnknownGroupIsNotFound) {
  auto found = directory_->find_group("nobody");

  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, std::nullopt);
}

TEST_P(InternalDirectoryTest, GroupNamesAreUniqueIgnoringCase) {
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));

  auto again = directory_->create_group("DEVS", std::nullopt);

  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(again.error().field, "name");
}

TEST_P(InternalDirectoryTest, DeleteGroupRemovesTheGroupAndItsMemberships) {
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));
  ASSERT_TRUE(directory_->add_member("devs", "alice"));

  ASSERT_TRUE(directory_->delete_group("DEVS"));

  auto found = directory_->find_group("devs");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, std::nullopt);
  EXPECT_EQ(count("SELECT COUNT(*) FROM memberships"), 0);
}

TEST_P(InternalDirectoryTest, DeleteOfAMissingGroupIsNotFound) {
  auto deleted = directory_->delete_group("nobody");

  ASSERT_FALSE(deleted.has_value());
  EXPECT_EQ(deleted.error().code, ErrorCode::not_found);
}

TEST_P(InternalDirectoryTest, MembersAreSortedAndKeepTheirStoredSpelling) {
  create(new_user("Carol", "carol@example.com"));
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));
  ASSERT_TRUE(directory_->add_member("devs", "dave"));
  ASSERT_TRUE(directory_->add_member("devs", "carol"));  // internal user: stored as "Carol"
  ASSERT_TRUE(directory_->add_member("devs", "Bob"));

  auto found = directory_->find_group("devs");

  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->members, (std::vector<std::string>{"Bob", "Carol", "dave"}));
}

TEST_P(InternalDirectoryTest, AGroupMayHoldAUsernameOfAnotherDirectory) {
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));

  ASSERT_TRUE(directory_->add_member("devs", "ldap.user"));  // no internal user of that name

  auto groups = directory_->groups_of("LDAP.USER");
  ASSERT_TRUE(groups.has_value());
  EXPECT_EQ(*groups, std::vector<std::string>{"devs"});
  auto found = directory_->find_group("devs");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->members, std::vector<std::string>{"ldap.user"});
}

TEST_P(InternalDirectoryTest, AddingAMemberTwiceIsIdempotent) {
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));
  ASSERT_TRUE(directory_->add_member("devs", "alice"));

  auto again = directory_->add_member("devs", "ALICE");

  EXPECT_TRUE(again.has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM memberships"), 1);
}

TEST_P(InternalDirectoryTest, RemovingAMemberIgnoresCaseAndAnAbsentMemberSucceeds) {
  ASSERT_TRUE(directory_->create_group("devs", std::nullopt));
  ASSERT_TRUE(directory_->add_member("devs", "alice"));

  auto removed = directory_->remove_member("devs", "Alice");
  auto absent = directory_->remove_member("devs", "alice");

  EXPECT_TRUE(removed.has_value());
  EXPECT_TRUE(absent.has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM memberships"), 0);
}

TEST_P(InternalDirectoryTest, MembershipChangesOfAMissingGroupAreNotFound) {
  auto added = directory_->add_member("nobody", "alice");
  auto removed = directory_->remove_member("nobody", "alice");

  ASSERT_FALSE(added.has_value());
  EXPECT_EQ(added.error().code, ErrorCode::not_found);
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().code, ErrorCode::not_found);
}

TEST_P(InternalDirectoryTest, GroupsOfListsTheGroupNamesSorted) {
  for (const char* name : {"ops", "Admins", "devs", "other"}) {
    ASSERT_TRUE(directory_->create_group(name, std::nullopt));
  }
  ASSERT_TRUE(directory_->add_member("ops", "alice"));
  ASSERT_TRUE(directory_->add_member("Admins", "alice"));
  ASSERT_TRUE(directory_->add_member("devs", "alice"));
  ASSERT_TRUE(directory_->add_member("other", "bob"));

  auto groups = directory_->groups_of("alice");

  ASSERT_TRUE(groups.has_value());
  EXPECT_EQ(*groups, (std::vector<std::string>{"Admins", "devs", "ops"}));
}

TEST_P(InternalDirectoryTest, GroupsOfAUserInNoGroupIsEmpty) {
  auto groups = directory_->groups_of("alice");

  ASSERT_TRUE(groups.has_value());
  EXPECT_TRUE(groups->empty());
}

// --- Search -----------------------------------------------------------------

std::vector<std::string> usernames(const std::vector<User>& users) {
  std::vector<std::string> names;
  for (const User& user : users) {
    names.push_back(user.username);
  }
  return names;
}

TEST_P(InternalDirectoryTest, SearchMatchesUsernameEmailOrDisplayNameIgnoringCase) {
  NewUser alice = new_user("alice", "alice@example.com");
  alice.display_name = "Alice Liddell";
  NewUser bob = new_user("bob", "bob@wonderland.org");
  NewUser carol = new_user("carol", "carol@example.com");
  carol.display_name = "Carol of Wonderland";
  NewUser dave = new_user("dave", "dave@example.com");
  for (const NewUser& user : {alice, bob, carol, dave}) {
    create(user);
  }

  auto by_display_and_email = directory_->search_users("WONDERLAND", 100);
  auto by_username = directory_->search_users("AVE", 100);

  ASSERT_TRUE(by_display_and_email.has_value());
  EXPECT_EQ(usernames(*by_display_and_email), (std::vector<std::string>{"bob", "carol"}));
  ASSERT_TRUE(by_username.has_value());
  EXPECT_EQ(usernames(*by_username), std::vector<std::string>{"dave"});
  EXPECT_EQ((*by_username)[0].directory, "internal");
}

TEST_P(InternalDirectoryTest, SearchTreatsLikeWildcardsAndBackslashLiterally) {
  directory_ = make_directory(Permissions::read_write, /*unique_email=*/false);
  NewUser percent = new_user("percent", "");
  percent.display_name = "100% sure";
  NewUser under_score = new_user("under_score", "");
  under_score.display_name = "Under";
  NewUser plain = new_user("plain", "");
  plain.display_name = "Plain";
  for (const NewUser& user : {percent, under_score, plain}) {
    create(user);
  }

  auto by_percent = directory_->search_users("%", 100);
  auto by_underscore = directory_->search_users("_", 100);
  auto by_backslash = directory_->search_users("\\", 100);
  auto by_pattern = directory_->search_users("p%n", 100);

  ASSERT_TRUE(by_percent.has_value());
  EXPECT_EQ(usernames(*by_percent), std::vector<std::string>{"percent"});
  ASSERT_TRUE(by_underscore.has_value());
  EXPECT_EQ(usernames(*by_underscore), std::vector<std::string>{"under_score"});
  ASSERT_TRUE(by_backslash.has_value());
  EXPECT_TRUE(by_backslash->empty());
  ASSERT_TRUE(by_pattern.has_value());
  EXPECT_TRUE(by_pattern->empty());
}

TEST_P(InternalDirectoryTest, AnEmptySearchListsEveryUserSortedAndLimited) {
  for (const char* name : {"dave", "Bob", "alice", "carol"}) {
    create(new_user(name, std::string(name) + "@example.com"));
  }

  auto all = directory_->search_users("", 100);
  auto first_two = directory_->search_users("", 2);
  auto none = directory_->search_users("", 0);

  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(usernames(*all), (std::vector<std::string>{"alice", "Bob", "carol", "dave"}));
  ASSERT_TRUE(first_two.has_value());
  EXPECT_EQ(usernames(*first_two), (std::vector<std::string>{"alice", "Bob"}));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

// --- Status -----------------------------------------------------------------

TEST_P(InternalDirectoryTest, StatusIsUpAndCountsTheUsers) {
  create(new_user("alice", "alice@example.com"));
  create(new_user("bob", "bob@example.com"));

  const DirectoryStatus status = directory_->status();

  EXPECT_TRUE(status.up);
  EXPECT_EQ(status.detail, "");
  EXPECT_EQ(status.users, std::optional<std::size_t>(2));
}

// --- Concurrency ------------------------------------------------------------

TEST_P(InternalDirectoryTest, ConcurrentCreatesOfTheSameUsernameLetExactlyOneSucceed) {
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> created{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      NewUser user = new_user(i % 2 == 0 ? "racer" : "RACER", "racer" + std::to_string(i) + "@example.com", "password");
      start.arrive_and_wait();
      auto result = directory_->create_user(user);
      if (result) {
        ++created;
      } else if (result.error().code == ErrorCode::conflict) {
        ++conflicts;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 1);
}

TEST_P(InternalDirectoryTest, ConcurrentCreatesWithTheSameEmailLetExactlyOneSucceed) {
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> created{0};
  std::atomic<int> email_conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      NewUser user = new_user("user" + std::to_string(i), "Same@example.com");
      start.arrive_and_wait();
      auto result = directory_->create_user(user);
      if (result) {
        ++created;
      } else if (result.error().code == ErrorCode::conflict && result.error().field == "email") {
        ++email_conflicts;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(email_conflicts.load(), kThreads - 1);
}

TEST_P(InternalDirectoryTest, ManyThreadsReadAndWriteConcurrently) {
  constexpr int kThreads = 8;
  constexpr int kUsersPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kUsersPerThread; ++i) {
        const std::string name = "user" + std::to_string(t) + "-" + std::to_string(i);
        if (!directory_->create_user(new_user(name, name + "@example.com", "pw"))) ++failures;
        auto found = directory_->find_user_by_name(name);
        if (!found || !found->has_value()) ++failures;
        auto outcome = directory_->authenticate(user_named(name), "pw");
        if (!outcome || *outcome != AuthOutcome::success) ++failures;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(directory_->status().users, std::optional<std::size_t>(kThreads * kUsersPerThread));
}

TEST_P(InternalDirectoryTest, TimedItAnswersAsItselfAndCountsEachCall) {
  metrics::Registry registry;
  config::DirectoryConfig settings;
  settings.name = "internal";
  settings.type = DirectoryType::internal;
  settings.permissions = Permissions::read_write;
  Timed<InternalDirectory> timed(registry, settings, database_, hasher_, /*unique_email=*/true);
  auto timed_requests = [&](const std::string& call) {
    return registry.histogram("dirproxy_directory_request_duration_seconds", "", {"directory", "call"})
        .with({"internal", call})
        .snapshot()
        .cumulative_counts.back();
  };

  ASSERT_TRUE(timed.create_user(new_user("alice", "alice@example.com", "a long password")));
  auto again = timed.create_user(new_user("alice", "other@example.com"));
  auto found = timed.find_user_by_name("ALICE");

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->username, "alice");
  EXPECT_EQ(timed.type(), DirectoryType::internal);
  EXPECT_EQ(timed_requests("write"), 2u);
  EXPECT_EQ(timed_requests("lookup"), 1u);
  EXPECT_EQ(registry.counter("dirproxy_directory_errors_total", "", {"directory", "call", "code"})
                .with({"internal", "write", "conflict"})
                .value(),
            1u);
}

// Enumeration and identities ------------------------------------------------

std::vector<std::string> names_of(const std::vector<User>& users) {
  std::vector<std::string> names;
  for (const auto& user : users) names.push_back(user.username);
  return names;
}

TEST_P(InternalDirectoryTest, ListUsersPagesInFoldedNameOrderStrictlyAfterTheGivenName) {
  for (const char* name : {"carol", "Alice", "bob", "dave"}) create(new_user(name, std::string(name) + "@example.com"));

  auto first = directory_->list_users("", 2);
  auto second = directory_->list_users("BOB", 2);
  auto past_the_end = directory_->list_users("dave", 2);

  ASSERT_TRUE(first && second && past_the_end);
  EXPECT_EQ(names_of(*first), (std::vector<std::string>{"Alice", "bob"}));
  EXPECT_EQ(names_of(*second), (std::vector<std::string>{"carol", "dave"}));
  EXPECT_TRUE(past_the_end->empty());
}

TEST_P(InternalDirectoryTest, ListGroupsPagesWithEachGroupsMembers) {
  for (const char* name : {"ops", "devs", "empty"}) ASSERT_TRUE(directory_->create_group(name, std::nullopt));
  ASSERT_TRUE(directory_->add_member("devs", "zoe"));
  ASSERT_TRUE(directory_->add_member("devs", "adam"));
  ASSERT_TRUE(directory_->add_member("ops", "kim"));

  auto first = directory_->list_groups("", 2);
  auto second = directory_->list_groups("empty", 2);

  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].name, "devs");
  EXPECT_EQ((*first)[0].members, (std::vector<std::string>{"adam", "zoe"}));
  EXPECT_EQ((*first)[1].name, "empty");
  EXPECT_TRUE((*first)[1].members.empty());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].name, "ops");
  EXPECT_EQ((*second)[0].members, (std::vector<std::string>{"kim"}));
}

TEST_P(InternalDirectoryTest, AUserCarriesItsCreationAndModificationTimes) {
  create(new_user("alice", "alice@example.com"));

  auto found = directory_->find_user_by_name("alice");

  ASSERT_TRUE(found && found->has_value());
  ASSERT_TRUE((*found)->created_at.has_value());
  EXPECT_EQ((*found)->created_at, parse_rfc3339(stored("alice", "created_at").value_or("")));
  EXPECT_EQ((*found)->modified_at, parse_rfc3339(stored("alice", "updated_at").value_or("")));
}

TEST_P(InternalDirectoryTest, DeletingAUserOrGroupRetiresItsIdentity) {
  auto identities = std::make_shared<IdentityStore>(database_, IdentitySettings{});
  config::DirectoryConfig settings;
  settings.name = "internal";
  settings.permissions = Permissions::read_write;
  auto directory = std::make_shared<InternalDirectory>(settings, database_, hasher_, true, system_clock(), identities);
  ASSERT_TRUE(directory->create_user(new_user("alice", "alice@example.com")));
  ASSERT_TRUE(directory->create_group("staff", std::nullopt));
  auto user_before = identities->identity_of(IdentityKind::user, "internal", "alice");
  auto group_before = identities->identity_of(IdentityKind::group, "internal", "staff");
  ASSERT_TRUE(user_before && group_before);

  ASSERT_TRUE(directory->delete_user("ALICE"));
  ASSERT_TRUE(directory->delete_group("staff"));
  ASSERT_TRUE(directory->create_user(new_user("alice", "alice@example.com")));
  auto user_after = identities->identity_of(IdentityKind::user, "internal", "alice");
  auto group_after = identities->identity_of(IdentityKind::group, "internal", "staff");

  ASSERT_TRUE(user_after && group_after);
  EXPECT_NE(user_after->uuid, user_before->uuid);
  EXPECT_GT(user_after->number, user_before->number);
  EXPECT_NE(group_after->uuid, group_before->uuid);
  EXPECT_GT(group_after->number, group_before->number);
}

INSTANTIATE_TEST_SUITE_P(Backends, InternalDirectoryTest, testing::every_state_backend(), testing::state_backend_name);

}  // namespace
}  // namespace dirproxy
