// LdapDirectory against real slapd servers started by the test: lookups and
// attribute mapping, filter-injection strings, DNs that need escaping,
// authentication, groups (DN members, memberUid, memberOf, nesting, cycles),
// paged results, the Active Directory preset, writes verified with
// ldapsearch / ldapwhoami, and the cache.
#include "directories/ldap/ldap_directory.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/uuid.hpp"
#include "support/slapd_server.hpp"

namespace dirproxy {
namespace {

using testing::SlapdServer;

std::string read_data(const std::string& name) {
  std::ifstream file(std::string(DIRPROXY_TEST_DATA_DIR) + "/ldap/" + name);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

constexpr const char* kServiceDn = "cn=dirproxy,ou=service,dc=example,dc=com";
constexpr const char* kServicePassword = "dirproxy-service-password";

SlapdServer::Options openldap_options(testing::ServiceAccess access = testing::ServiceAccess::read) {
  SlapdServer::Options options;
  options.ldif = read_data("openldap.ldif");
  options.service_account = testing::ServiceAccount{kServiceDn, kServicePassword, access};
  return options;
}

config::DirectoryConfig openldap_config(const SlapdServer& server) {
  config::DirectoryConfig config;
  config.name = "corp";
  config.type = DirectoryType::ldap;
  config.permissions = Permissions::read_only;
  auto& ldap = config.ldap;
  ldap.uri = {server.uri()};
  ldap.bind_dn = kServiceDn;
  ldap.bind_password = kServicePassword;
  ldap.base_dn = server.suffix();
  ldap.timeouts = {std::chrono::milliseconds(1000), std::chrono::milliseconds(2000)};
  ldap.retry_backoff = std::chrono::milliseconds(100);
  ldap.cache.ttl = std::chrono::milliseconds(0);  // most tests look at the server
  return config;
}

class LdapDirectoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new SlapdServer(openldap_options()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static LdapDirectory directory(config::DirectoryConfig config) { return LdapDirectory(config); }
  static config::DirectoryConfig config() { return openldap_config(*server_); }

  static std::optional<User> find(LdapDirectory& directory, std::string_view username) {
    auto user = directory.find_user_by_name(username);
    EXPECT_TRUE(user) << user.error().message;
    return user ? *user : std::nullopt;
  }

  static SlapdServer* server_;
};

SlapdServer* LdapDirectoryTest::server_ = nullptr;

// --- Lookups -------------------------------------------------------------------

TEST_F(LdapDirectoryTest, FindsAUserWithTheMappedAttributes) {
  LdapDirectory corp(config());

  auto alice = find(corp, "alice");

  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->username, "alice");
  EXPECT_EQ(alice->email, "alice@example.com");
  EXPECT_EQ(alice->directory, "corp");
  EXPECT_TRUE(alice->display_name.has_value());
  EXPECT_TRUE(alice->first_name.has_value());
  EXPECT_TRUE(alice->last_name.has_value());
  EXPECT_TRUE(alice->active);
}

TEST_F(LdapDirectoryTest, UsernameLookupIgnoresCaseAndReturnsTheStoredSpelling) {
  LdapDirectory corp(config());

  auto alice = find(corp, "ALICE");

  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->username, "alice");
}

TEST_F(LdapDirectoryTest, FindsAUserByEmail) {
  LdapDirectory corp(config());

  auto user = corp.find_user_by_email("BOB@example.com");

  ASSERT_TRUE(user && user->has_value()) << (user ? "" : user.error().message);
  EXPECT_EQ((*user)->username, "bob");
}

TEST_F(LdapDirectoryTest, UnknownUserIsAMiss) {
  LdapDirectory corp(config());

  EXPECT_FALSE(find(corp, "nobody-here"));
}

TEST_F(LdapDirectoryTest, FilterInjectionStringsOnlyEverMatchLiterally) {
  LdapDirectory corp(config());

  EXPECT_FALSE(find(corp, "*"));
  EXPECT_FALSE(find(corp, "alice*"));
  EXPECT_FALSE(find(corp, ")(uid=*"));
  EXPECT_FALSE(find(corp, "*)(|(uid=*"));
  EXPECT_FALSE(find(corp, std::string("alice\0x", 7)));
  EXPECT_FALSE(find(corp, "\\"));
  auto star = find(corp, "st*r");
  ASSERT_TRUE(star);
  EXPECT_EQ(star->username, "st*r");
  auto paren = find(corp, "paren)(x");
  ASSERT_TRUE(paren);
  EXPECT_EQ(paren->username, "paren)(x");
  auto backslash = find(corp, "back\\slash");
  ASSERT_TRUE(backslash);
  EXPECT_EQ(backslash->username, "back\\slash");
}

TEST_F(LdapDirectoryTest, SearchWithInjectionStringsDoesNotWidenTheMatch) {
  LdapDirectory corp(config());

  auto star = corp.search_users("*", 1000);
  auto injected = corp.search_users(")(uid=*", 1000);

  // "*" is a literal character: only the one user whose name holds it.
  ASSERT_TRUE(star) << star.error().message;
  ASSERT_EQ(star->size(), 1u);
  EXPECT_EQ(star->front().username, "st*r");
  ASSERT_TRUE(injected) << injected.error().message;
  EXPECT_TRUE(injected->empty());
}

TEST_F(LdapDirectoryTest, SearchUsersIsSortedAndLimited) {
  LdapDirectory corp(config());

  auto users = corp.search_users("", 3);

  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].username, "alice");
  EXPECT_EQ((*users)[1].username, "back\\slash");
  EXPECT_EQ((*users)[2].username, "bob");
}

// --- Authentication ----------------------------------------------------------

TEST_F(LdapDirectoryTest, RightPasswordBindsAsTheUser) {
  LdapDirectory corp(config());
  auto alice = find(corp, "alice");
  ASSERT_TRUE(alice);

  auto outcome = corp.authenticate(*alice, "alice-password");

  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, AuthOutcome::success);
}

TEST_F(LdapDirectoryTest, WrongPasswordIsWrongPassword) {
  LdapDirectory corp(config());
  auto alice = find(corp, "alice");
  ASSERT_TRUE(alice);

  auto outcome = corp.authenticate(*alice, "bob-password");

  ASSERT_TRUE(outcome);
  EXPECT_EQ(*outcome, AuthOutcome::wrong_password);
}

TEST_F(LdapDirectoryTest, EmptyPasswordIsNeverAnAnonymousBind) {
  LdapDirectory corp(config());
  auto alice = find(corp, "alice");
  ASSERT_TRUE(alice);

  auto outcome = corp.authenticate(*alice, "");

  ASSERT_TRUE(outcome);
  EXPECT_EQ(*outcome, AuthOutcome::wrong_password);
}

TEST_F(LdapDirectoryTest, UserWhoseDnNeedsEscapingAuthenticates) {
  LdapDirectory corp(config());
  auto frank = find(corp, "frank, jr");
  ASSERT_TRUE(frank);

  auto outcome = corp.authenticate(*frank, "frank-password");

  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, AuthOutcome::success);
}

// --- Groups --------------------------------------------------------------------

TEST_F(LdapDirectoryTest, GroupMembersAreMappedFromDnsToUsernames) {
  LdapDirectory corp(config());

  auto group = corp.find_group("Developers");

  ASSERT_TRUE(group && group->has_value()) << (group ? "" : group.error().message);
  EXPECT_EQ((*group)->name, "developers");
  EXPECT_EQ((*group)->directory, "corp");
  EXPECT_EQ((*group)->members, (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(LdapDirectoryTest, NestedGroupMembersAreExpandedWhenEnabled) {
  auto flat_config = config();
  auto nested_config = config();
  nested_config.ldap.nested_groups = true;
  LdapDirectory flat(flat_config);
  LdapDirectory nested(nested_config);

  auto flat_staff = flat.find_group("staff");
  auto nested_staff = nested.find_group("staff");

  ASSERT_TRUE(flat_staff && flat_staff->has_value());
  EXPECT_EQ((*flat_staff)->members, (std::vector<std::string>{"alice", "carol"}));
  ASSERT_TRUE(nested_staff && nested_staff->has_value());
  EXPECT_EQ((*nested_staff)->members, (std::vector<std::string>{"alice", "bob", "carol"}));
}

TEST_F(LdapDirectoryTest, UsersGroupsIncludeParentsOfNestedGroups) {
  auto nested_config = config();
  nested_config.ldap.nested_groups = true;
  LdapDirectory flat(config());
  LdapDirectory nested(nested_config);

  auto flat_groups = flat.groups_of("bob");
  auto nested_groups = nested.groups_of("bob");

  ASSERT_TRUE(flat_groups);
  EXPECT_EQ(*flat_groups, (std::vector<std::string>{"developers"}));
  ASSERT_TRUE(nested_groups);
  EXPECT_EQ(*nested_groups, (std::vector<std::string>{"developers", "staff"}));
}

TEST_F(LdapDirectoryTest, MembershipCyclesEnd) {
  auto nested_config = config();
  nested_config.ldap.nested_groups = true;
  LdapDirectory nested(nested_config);

  auto cycle = nested.find_group("cycle-a");
  auto carol = nested.groups_of("carol");

  ASSERT_TRUE(cycle && cycle->has_value());
  EXPECT_EQ((*cycle)->members, (std::vector<std::string>{"carol", "dave"}));
  ASSERT_TRUE(carol);
  EXPECT_EQ(*carol, (std::vector<std::string>{"cycle-a", "cycle-b", "staff"}));
}

TEST(LdapDirectoryNesting, NestingFollowsAtMostTheMaximumNumberOfLevels) {
  // bob is in developers, which is in staff; "everyone" holds staff: bob is
  // in everyone two levels up.
  auto options = openldap_options();
  options.ldif += "\n" + testing::make_group_ldif("cn=everyone,ou=groups,dc=example,dc=com",
                                                  {"cn=staff,ou=groups,dc=example,dc=com"});
  SlapdServer server(options);
  auto one_level = openldap_config(server);
  one_level.ldap.nested_groups = true;
  one_level.ldap.nested_max_depth = 1;
  auto two_levels = one_level;
  two_levels.ldap.nested_max_depth = 2;
  LdapDirectory shallow(one_level);
  LdapDirectory deep(two_levels);

  auto shallow_groups = shallow.groups_of("bob");
  auto deep_groups = deep.groups_of("bob");
  auto shallow_everyone = shallow.find_group("everyone");
  auto deep_everyone = deep.find_group("everyone");

  ASSERT_TRUE(shallow_groups && deep_groups);
  EXPECT_EQ(*shallow_groups, (std::vector<std::string>{"developers", "staff"}));
  EXPECT_EQ(*deep_groups, (std::vector<std::string>{"developers", "everyone", "staff"}));
  ASSERT_TRUE(shallow_everyone && shallow_everyone->has_value() && deep_everyone && deep_everyone->has_value());
  EXPECT_EQ((*shallow_everyone)->members, (std::vector<std::string>{"alice", "carol"}));
  EXPECT_EQ((*deep_everyone)->members, (std::vector<std::string>{"alice", "bob", "carol"}));
}

// Its passwords are unicodePwd writes; the configuration loader checks that
// the connection is encrypted.
TEST(LdapDirectoryCreate, ReadWriteActiveDirectoryIsBuilt) {
  config::DirectoryConfig ad;
  ad.name = "ad";
  ad.type = DirectoryType::ldap;
  ad.permissions = Permissions::read_write;
  ad.ldap.schema = config::LdapSchema::active_directory;
  ad.ldap.uri = {"ldaps://dc1.example.com"};

  auto created = LdapDirectory::create(ad);

  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ((*created)->permissions(), Permissions::read_write);
}

TEST(LdapDirectoryCreate, MalformedExtraFilterIsRefusedNamingTheKey) {
  config::DirectoryConfig corp;
  corp.name = "corp";
  corp.type = DirectoryType::ldap;
  corp.ldap.users.filter = "(|(a=b)(c=d)";

  auto created = LdapDirectory::create(corp);

  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find("directory 'corp': users.filter"), std::string::npos)
      << created.error().message;
}

TEST_F(LdapDirectoryTest, MemberUidGroupsListUsernames) {
  auto posix = config();
  posix.ldap.groups.base = "ou=posix";
  posix.ldap.groups.object_class = "posixGroup";
  posix.ldap.groups.member_attribute = "memberUid";
  posix.ldap.groups.member_format = config::MemberFormat::username;
  LdapDirectory corp(posix);

  auto unixers = corp.find_group("unixers");
  auto alice = corp.groups_of("alice");

  ASSERT_TRUE(unixers && unixers->has_value()) << (unixers ? "" : unixers.error().message);
  EXPECT_EQ((*unixers)->members, (std::vector<std::string>{"alice", "dave"}));
  ASSERT_TRUE(alice);
  EXPECT_EQ(*alice, (std::vector<std::string>{"unixers"}));
}

TEST_F(LdapDirectoryTest, UnknownGroupIsAMiss) {
  LdapDirectory corp(config());

  auto group = corp.find_group("*");

  ASSERT_TRUE(group);
  EXPECT_FALSE(group->has_value());
}

TEST_F(LdapDirectoryTest, StoppedServerIsDirectoryUnavailableNamingTheDirectory) {
  SlapdServer gone(openldap_options());
  auto settings = openldap_config(gone);
  LdapDirectory corp(settings);
  gone.stop();

  auto user = corp.find_user_by_name("alice");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(user.error().directory, "corp");
  EXPECT_FALSE(corp.status().up);
}

// --- Lookups that block no thread (start_user_lookup) ----------------------------

// Drives a PendingUserLookup as the daemon's event loop does: wait until its
// socket is readable (or its deadline), then poll.
Result<std::optional<User>> finish(PendingUserLookup& lookup) {
  for (;;) {
    pollfd socket{};
    socket.fd = lookup.descriptor();
    socket.events = POLLIN;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(lookup.deadline() - std::chrono::steady_clock::now());
    ::poll(&socket, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())) + 1);
    if (auto outcome = lookup.poll()) return std::move(*outcome);
  }
}

TEST_F(LdapDirectoryTest, LookupWithoutBlockingNeedsAnIdleConnection) {
  auto corp = directory(config());

  // Nothing is connected yet: opening a connection blocks, so it is left to
  // find_user_by_name.
  EXPECT_EQ(corp.start_user_lookup("alice"), nullptr);
  find(corp, "bob");
  EXPECT_NE(corp.start_user_lookup("alice"), nullptr);
}

TEST_F(LdapDirectoryTest, LookupWithoutBlockingAnswersAsTheBlockingOne) {
  auto corp = directory(config());
  const auto blocking = find(corp, "ALICE");
  ASSERT_TRUE(blocking.has_value());

  auto lookup = corp.start_user_lookup("ALICE");
  ASSERT_NE(lookup, nullptr);
  auto user = finish(*lookup);

  ASSERT_TRUE(user) << user.error().message;
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->username, blocking->username);
  EXPECT_EQ((*user)->email, blocking->email);
  EXPECT_EQ((*user)->display_name, blocking->display_name);
  EXPECT_EQ((*user)->directory, "corp");
}

TEST_F(LdapDirectoryTest, LookupWithoutBlockingOfAnUnknownOrInjectedNameIsAMiss) {
  auto corp = directory(config());
  find(corp, "alice");

  for (const char* name : {"nobody", "*", "alice)(uid=*"}) {
    auto lookup = corp.start_user_lookup(name);
    ASSERT_NE(lookup, nullptr);
    auto user = finish(*lookup);
    ASSERT_TRUE(user) << name << ": " << user.error().message;
    EXPECT_FALSE(user->has_value()) << name;
  }
}

TEST_F(LdapDirectoryTest, LookupWithoutBlockingFillsTheCache) {
  auto settings = config();
  settings.ldap.cache.ttl = std::chrono::minutes(1);
  settings.ldap.cache.negative_ttl = std::chrono::minutes(1);
  auto corp = directory(settings);
  find(corp, "bob");

  auto lookup = corp.start_user_lookup("alice");
  ASSERT_NE(lookup, nullptr);
  ASSERT_TRUE(finish(*lookup));
  auto missing = corp.start_user_lookup("nobody");
  ASSERT_NE(missing, nullptr);
  ASSERT_TRUE(finish(*missing));

  auto alice = corp.cached_user_by_name("alice");
  ASSERT_TRUE(alice.has_value());
  ASSERT_TRUE(alice->has_value());
  EXPECT_EQ((*alice)->username, "alice");
  auto nobody = corp.cached_user_by_name("nobody");
  ASSERT_TRUE(nobody.has_value());
  EXPECT_FALSE(nobody->has_value());
}

TEST_F(LdapDirectoryTest, LookupWithoutBlockingOfAPausedServerTimesOutAsUnavailable) {
  SlapdServer paused(openldap_options());
  auto settings = openldap_config(paused);
  settings.ldap.timeouts.operation = std::chrono::milliseconds(300);
  LdapDirectory corp(settings);
  find(corp, "bob");
  paused.pause();

  auto lookup = corp.start_user_lookup("alice");
  ASSERT_NE(lookup, nullptr);
  const auto started = std::chrono::steady_clock::now();
  auto user = finish(*lookup);
  const auto waited = std::chrono::steady_clock::now() - started;
  paused.resume();

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::directory_unavailable);
  EXPECT_EQ(user.error().directory, "corp");
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  // The timed-out connection was dropped; once its backoff (100 ms) is over
  // the directory answers again on a new one.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_TRUE(find(corp, "alice").has_value());
}

TEST_F(LdapDirectoryTest, AbandonedLookupWithoutBlockingLeavesAUsableConnection) {
  auto corp = directory(config());
  find(corp, "bob");

  {
    auto lookup = corp.start_user_lookup("alice");
    ASSERT_NE(lookup, nullptr);
  }  // destroyed before its answer was read

  // The same (only) connection, blocking again, and without a stray answer
  // in its way: the blocking lookups that follow get their own answers.
  EXPECT_EQ(find(corp, "bob")->username, "bob");
  EXPECT_FALSE(find(corp, "nobody").has_value());
  auto lookup = corp.start_user_lookup("alice");
  ASSERT_NE(lookup, nullptr);
  auto user = finish(*lookup);
  ASSERT_TRUE(user);
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->username, "alice");
}

// --- Paged results -------------------------------------------------------------

TEST(LdapDirectoryPaging, PagedSearchReadsPastTheServersSizeLimit) {
  SlapdServer::Options options = openldap_options();
  options.ldif += "\n" + testing::make_users_ldif("ou=people,dc=example,dc=com", "user", 600);
  // The server answers at most 100 entries per search, but any number of
  // pages of a paged search.
  options.extra_database_config = {"limits dn.exact=\"" + std::string(kServiceDn) +
                                   "\" size.soft=100 size.hard=100 size.prtotal=unlimited"};
  SlapdServer server(options);
  auto paged_config = openldap_config(server);
  paged_config.ldap.page_size = 50;
  auto unpaged_config = openldap_config(server);
  unpaged_config.ldap.page_size = 0;
  LdapDirectory paged(paged_config);
  LdapDirectory unpaged(unpaged_config);

  auto all = paged.search_users("user", 1000);
  auto truncated = unpaged.search_users("user", 1000);

  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->size(), 600u);
  ASSERT_TRUE(truncated) << truncated.error().message;
  EXPECT_EQ(truncated->size(), 100u);
}

// --- Active Directory ----------------------------------------------------------

class ActiveDirectoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SlapdServer::Options options;
    options.suffix = "dc=corp,dc=example";
    options.extra_schema_files = {std::string(DIRPROXY_TEST_DATA_DIR) + "/ldap/ad.schema"};
    options.ldif = read_data("ad.ldif");
    options.service_account =
        testing::ServiceAccount{"cn=svc-dirproxy,cn=Users,dc=corp,dc=example", "svc-dirproxy-password"};
    server_ = new SlapdServer(options);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static config::DirectoryConfig ad_config() {
    // What the loader's active_directory preset produces (docs/configuration.md).
    config::DirectoryConfig config;
    config.name = "ad";
    config.type = DirectoryType::ldap;
    auto& ldap = config.ldap;
    ldap.schema = config::LdapSchema::active_directory;
    ldap.uri = {server_->uri()};
    ldap.bind_dn = "cn=svc-dirproxy,cn=Users,dc=corp,dc=example";
    ldap.bind_password = "svc-dirproxy-password";
    ldap.base_dn = "dc=corp,dc=example";
    ldap.users.base = "cn=Users";
    ldap.users.object_class = "user";
    ldap.users.username_attribute = "sAMAccountName";
    ldap.users.display_name_attribute = "displayName";
    ldap.users.rdn_attribute = "cn";
    ldap.users.disabled_attribute = "userAccountControl";
    ldap.users.disabled_bitmask = 2;
    ldap.groups.base = "cn=Users";
    ldap.groups.object_class = "group";
    ldap.groups.user_membership_attribute = "memberOf";
    ldap.cache.ttl = std::chrono::milliseconds(0);
    return config;
  }

  static SlapdServer* server_;
};

SlapdServer* ActiveDirectoryTest::server_ = nullptr;

TEST_F(ActiveDirectoryTest, UsersAreFoundBySamAccountNameWithDisplayName) {
  LdapDirectory ad(ad_config());

  auto grace = ad.find_user_by_name("GRACE");

  ASSERT_TRUE(grace && grace->has_value()) << (grace ? "" : grace.error().message);
  EXPECT_EQ((*grace)->username, "grace");
  EXPECT_TRUE((*grace)->display_name.has_value());
  EXPECT_TRUE((*grace)->active);
}

TEST_F(ActiveDirectoryTest, AccountDisableBitMakesTheUserInactive) {
  LdapDirectory ad(ad_config());

  auto dan = ad.find_user_by_name("dan");

  ASSERT_TRUE(dan && dan->has_value());
  EXPECT_FALSE((*dan)->active);
}

TEST_F(ActiveDirectoryTest, RightPasswordOnADisabledAccountIsDisabled) {
  LdapDirectory ad(ad_config());
  auto dan = ad.find_user_by_name("dan");
  ASSERT_TRUE(dan && dan->has_value());

  auto right = ad.authenticate(**dan, "dan-password");
  auto wrong = ad.authenticate(**dan, "guess");

  ASSERT_TRUE(right);
  EXPECT_EQ(*right, AuthOutcome::disabled);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(*wrong, AuthOutcome::wrong_password);
}

TEST_F(ActiveDirectoryTest, UserWithACommaInTheDnAuthenticates) {
  LdapDirectory ad(ad_config());
  auto grace = ad.find_user_by_name("grace");
  ASSERT_TRUE(grace && grace->has_value());

  auto outcome = ad.authenticate(**grace, "grace-password");

  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, AuthOutcome::success);
}

TEST_F(ActiveDirectoryTest, GroupsComeFromMemberOf) {
  LdapDirectory ad(ad_config());

  auto grace = ad.groups_of("grace");

  ASSERT_TRUE(grace) << grace.error().message;
  EXPECT_EQ(*grace, (std::vector<std::string>{"Engineers", "Staff"}));
}

TEST_F(ActiveDirectoryTest, GroupMembersAreMappedToSamAccountNames) {
  LdapDirectory ad(ad_config());

  auto engineers = ad.find_group("engineers");

  ASSERT_TRUE(engineers && engineers->has_value()) << (engineers ? "" : engineers.error().message);
  EXPECT_EQ((*engineers)->members, (std::vector<std::string>{"ada", "brian", "grace"}));
}

// --- Writes --------------------------------------------------------------------

class LdapWritesTest : public ::testing::Test {
 protected:
  LdapWritesTest() : server_(openldap_options(testing::ServiceAccess::write)) {
    settings_ = openldap_config(server_);
    settings_.permissions = Permissions::read_write;
  }

  SlapdServer server_;
  config::DirectoryConfig settings_;
};

NewUser new_user() {
  NewUser user;
  user.username = "zoe";
  user.email = "zoe@example.com";
  user.display_name = "Zoe Zed";
  user.first_name = "Zoe";
  user.last_name = "Zed";
  user.password = "zoe-secret-password";
  return user;
}

TEST_F(LdapWritesTest, CreatedUserExistsWithAHashedPasswordItCanBindWith) {
  LdapDirectory corp(settings_);

  auto created = corp.create_user(new_user());

  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->username, "zoe");
  EXPECT_EQ(created->email, "zoe@example.com");
  const std::string entry = server_.search("ou=people,dc=example,dc=com", "(uid=zoe)");
  EXPECT_NE(entry.find("dn: uid=zoe,ou=people,dc=example,dc=com"), std::string::npos) << entry;
  EXPECT_NE(entry.find("mail: zoe@example.com"), std::string::npos) << entry;
  EXPECT_EQ(entry.find("zoe-secret-password"), std::string::npos) << "clear password stored:\n" << entry;
  EXPECT_EQ(server_.whoami("uid=zoe,ou=people,dc=example,dc=com", "zoe-secret-password").exit_code, 0);
}

TEST_F(LdapWritesTest, UpdatedAttributesAreWrittenToTheEntry) {
  LdapDirectory corp(settings_);
  UserChanges changes;
  changes.email = "alice.l@example.com";
  changes.display_name = "Alice L.";

  auto updated = corp.update_user("alice", changes);

  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->email, "alice.l@example.com");
  const std::string entry = server_.search("ou=people,dc=example,dc=com", "(uid=alice)");
  EXPECT_NE(entry.find("mail: alice.l@example.com"), std::string::npos) << entry;
}

TEST_F(LdapWritesTest, SetPasswordChangesWhatTheUserBindsWith) {
  LdapDirectory corp(settings_);

  auto changed = corp.set_password("bob", "bob-new-password-1");

  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(server_.whoami("uid=bob,ou=people,dc=example,dc=com", "bob-new-password-1").exit_code, 0);
  EXPECT_NE(server_.whoami("uid=bob,ou=people,dc=example,dc=com", "bob-password").exit_code, 0);
}

TEST_F(LdapWritesTest, DeletedUserIsGoneFromTheServer) {
  LdapDirectory corp(settings_);

  auto deleted = corp.delete_user("dave");

  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(server_.search("ou=people,dc=example,dc=com", "(uid=dave)").find("dn:"), std::string::npos);
  auto again = corp.find_user_by_name("dave");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
}

TEST_F(LdapWritesTest, GroupsAndMembershipsAreWrittenAsDnMembers) {
  LdapDirectory corp(settings_);

  auto created = corp.create_group("wiki", std::string("Wiki editors"));
  auto added = corp.add_member("wiki", "carol");
  auto group = corp.find_group("wiki");

  ASSERT_TRUE(created) << created.error().message;
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_TRUE(group && group->has_value());
  EXPECT_EQ((*group)->members, (std::vector<std::string>{"carol"}));
  EXPECT_NE(
      server_.search("ou=groups,dc=example,dc=com", "(cn=wiki)").find("member: uid=carol,ou=people,dc=example,dc=com"),
      std::string::npos);

  ASSERT_TRUE(corp.remove_member("wiki", "carol"));
  auto emptied = corp.find_group("wiki");
  ASSERT_TRUE(emptied && emptied->has_value());
  EXPECT_TRUE((*emptied)->members.empty());
  ASSERT_TRUE(corp.delete_group("wiki"));
  auto gone = corp.find_group("wiki");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TEST_F(LdapWritesTest, ReadOnlyDirectoryRefusesEveryWrite) {
  settings_.permissions = Permissions::read_only;
  LdapDirectory corp(settings_);

  auto created = corp.create_user(new_user());
  auto password = corp.set_password("alice", "whatever-password");
  auto group = corp.create_group("x", std::nullopt);

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::read_only);
  ASSERT_FALSE(password);
  EXPECT_EQ(password.error().code, ErrorCode::read_only);
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().code, ErrorCode::read_only);
}

// --- Cache ---------------------------------------------------------------------

TEST_F(LdapWritesTest, CachedLookupsAreServedUntilAWriteThroughDirproxy) {
  settings_.ldap.cache.ttl = std::chrono::minutes(5);
  settings_.ldap.cache.negative_ttl = std::chrono::minutes(5);
  LdapDirectory corp(settings_);
  ASSERT_TRUE(corp.find_user_by_name("carol"));
  ASSERT_TRUE(corp.find_user_by_name("newcomer"));  // a negative entry

  // Changed behind dirproxy's back: the cache still answers.
  server_.modify(
      "dn: uid=carol,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: mail\nmail: c2@example.com\n");
  auto cached = corp.find_user_by_name("carol");
  ASSERT_TRUE(cached && cached->has_value());
  EXPECT_EQ((*cached)->email, "carol@example.com");

  // A write made through dirproxy clears it.
  UserChanges changes;
  changes.display_name = "Carol C.";
  ASSERT_TRUE(corp.update_user("bob", changes));
  auto fresh = corp.find_user_by_name("carol");
  ASSERT_TRUE(fresh && fresh->has_value());
  EXPECT_EQ((*fresh)->email, "c2@example.com");
}

TEST_F(LdapWritesTest, CachedUserByNameKnowsOnlyWhatALookupPutInTheCache) {
  settings_.ldap.cache.ttl = std::chrono::minutes(5);
  settings_.ldap.cache.negative_ttl = std::chrono::minutes(5);
  LdapDirectory corp(settings_);
  EXPECT_FALSE(corp.cached_user_by_name("carol").has_value());
  ASSERT_TRUE(corp.find_user_by_name("carol"));
  ASSERT_TRUE(corp.find_user_by_name("newcomer"));

  auto carol = corp.cached_user_by_name("CAROL");
  auto newcomer = corp.cached_user_by_name("newcomer");

  ASSERT_TRUE(carol.has_value());
  ASSERT_TRUE(carol->has_value());
  EXPECT_EQ((*carol)->username, "carol");
  EXPECT_EQ((*carol)->email, "carol@example.com");
  EXPECT_EQ((*carol)->directory, "corp");
  ASSERT_TRUE(newcomer.has_value());
  EXPECT_FALSE(newcomer->has_value());
}

TEST_F(LdapWritesTest, CachedUserByNameKnowsNothingWithTheCacheOff) {
  settings_.ldap.cache.ttl = std::chrono::milliseconds(0);
  LdapDirectory corp(settings_);
  ASSERT_TRUE(corp.find_user_by_name("carol"));

  EXPECT_FALSE(corp.cached_user_by_name("carol").has_value());
}

TEST_F(LdapWritesTest, NegativeEntriesHideANewUserUntilAWrite) {
  settings_.ldap.cache.ttl = std::chrono::minutes(5);
  settings_.ldap.cache.negative_ttl = std::chrono::minutes(5);
  LdapDirectory corp(settings_);
  auto before = corp.find_user_by_name("zoe");
  ASSERT_TRUE(before && !before->has_value());

  auto created = corp.create_user(new_user());
  auto after = corp.find_user_by_name("zoe");

  ASSERT_TRUE(created) << created.error().message;
  ASSERT_TRUE(after && after->has_value());
}

// --- Metrics ----------------------------------------------------------------------

// How many requests of `call` the directory "corp" timed.
std::uint64_t timed_requests(metrics::Registry& registry, const std::string& call) {
  return registry.histogram("dirproxy_directory_request_duration_seconds", "", {"directory", "call"})
      .with({"corp", call})
      .snapshot()
      .cumulative_counts.back();
}

std::uint64_t counted(metrics::Registry& registry, const std::string& name, const std::string& cache) {
  return registry.counter(name, "", {"directory", "cache"}).with({"corp", cache}).value();
}

TEST_F(LdapDirectoryTest, RequestsToTheServerAreTimedAndCacheAnswersCounted) {
  metrics::Registry registry;
  auto settings = config();
  settings.ldap.cache.ttl = std::chrono::minutes(1);
  LdapDirectory corp(settings, &registry);

  find(corp, "alice");  // a miss, then a search
  find(corp, "alice");  // a hit
  auto lookup = corp.start_user_lookup("bob");
  ASSERT_NE(lookup, nullptr);
  ASSERT_TRUE(finish(*lookup));
  User alice;
  alice.username = "alice";
  ASSERT_TRUE(corp.authenticate(alice, "wrong password"));

  EXPECT_EQ(timed_requests(registry, "lookup"), 2u) << "the search for alice and the one for bob";
  EXPECT_EQ(timed_requests(registry, "authenticate"), 1u);
  EXPECT_EQ(counted(registry, "dirproxy_cache_hits_total", "user"), 2u) << "alice again, and before the bind";
  EXPECT_EQ(counted(registry, "dirproxy_cache_misses_total", "user"), 1u)
      << "alice first (the lookup of bob asks no cache)";
}

TEST_F(LdapDirectoryTest, AFailedRequestIsCountedByCodeAndTheDirectoryReportedDown) {
  metrics::Registry registry;
  SlapdServer gone(openldap_options());
  LdapDirectory corp(openldap_config(gone), &registry);
  EXPECT_TRUE(corp.health().up) << "before its first attempt";
  gone.stop();

  ASSERT_FALSE(corp.find_user_by_name("alice"));

  EXPECT_EQ(registry.counter("dirproxy_directory_errors_total", "", {"directory", "call", "code"})
                .with({"corp", "lookup", "directory_unavailable"})
                .value(),
            1u);
  EXPECT_FALSE(corp.health().up);
}

TEST_F(LdapDirectoryTest, HealthReportsThePoolsUse) {
  auto settings = config();
  settings.ldap.pool_size = 3;
  LdapDirectory corp(settings);
  find(corp, "alice");

  const DirectoryHealth health = corp.health();

  EXPECT_TRUE(health.up);
  ASSERT_TRUE(health.pool.has_value());
  EXPECT_EQ(health.pool->size, 3u);
  EXPECT_EQ(health.pool->in_use, 0u);
  EXPECT_EQ(health.pool->idle, 1u);
}

// --- Own identities and enumeration ----------------------------------------------

// The shared data plus a user with POSIX numbers of its own.
SlapdServer::Options posix_options() {
  SlapdServer::Options options = openldap_options();
  options.ldif +=
      "\ndn: uid=posixuser,ou=people,dc=example,dc=com\n"
      "objectClass: inetOrgPerson\n"
      "objectClass: posixAccount\n"
      "uid: posixuser\n"
      "cn: Posix User\n"
      "sn: User\n"
      "uidNumber: 4242\n"
      "gidNumber: 4200\n"
      "homeDirectory: /home/posixuser\n";
  return options;
}

class LdapDirectoryIdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new SlapdServer(posix_options()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static SlapdServer* server_;
};

SlapdServer* LdapDirectoryIdentityTest::server_ = nullptr;

TEST_F(LdapDirectoryIdentityTest, AUserCarriesTheServersEntryUuidNumbersAndTimes) {
  LdapDirectory directory(openldap_config(*server_));

  auto posix = directory.find_user_by_name("posixuser");
  auto alice = directory.find_user_by_name("alice");

  ASSERT_TRUE(posix && posix->has_value()) << (posix ? "" : posix.error().message);
  ASSERT_TRUE(alice && alice->has_value());
  const User& user = **posix;
  ASSERT_TRUE(user.uuid.has_value());
  EXPECT_EQ(normalized_uuid(*user.uuid), user.uuid);
  EXPECT_EQ(user.uid_number, 4242u);
  EXPECT_EQ(user.gid_number, 4200u);
  ASSERT_TRUE(user.created_at.has_value());
  EXPECT_GT(*user.created_at, 1600000000);  // slapadd stamped it when the test began
  EXPECT_TRUE(user.modified_at.has_value());
  EXPECT_TRUE((*alice)->uuid.has_value());
  EXPECT_NE((*alice)->uuid, user.uuid);
  EXPECT_FALSE((*alice)->uid_number.has_value());  // not a posixAccount
}

TEST_F(LdapDirectoryIdentityTest, AGroupCarriesTheServersEntryUuidAndGidNumber) {
  auto config = openldap_config(*server_);
  config.ldap.groups.base = "ou=posix";
  config.ldap.groups.object_class = "posixGroup";
  config.ldap.groups.member_attribute = "memberUid";
  config.ldap.groups.member_format = config::MemberFormat::username;
  LdapDirectory directory(config);

  auto group = directory.find_group("unixers");

  ASSERT_TRUE(group && group->has_value()) << (group ? "" : group.error().message);
  EXPECT_EQ((*group)->gid_number, 5000u);
  ASSERT_TRUE((*group)->uuid.has_value());
  EXPECT_EQ(normalized_uuid(*(*group)->uuid), (*group)->uuid);
}

TEST_F(LdapDirectoryIdentityTest, ListUsersPagesInFoldedNameOrderSortedHere) {
  auto config = openldap_config(*server_);
  config.ldap.page_size = 2;  // several paged-results pages make one listing page
  LdapDirectory directory(config);

  auto first = directory.list_users("", 3);
  auto next = directory.list_users("BOB", 2);

  ASSERT_TRUE(first && next) << (first ? "" : first.error().message);
  std::vector<std::string> names;
  for (const auto& user : *first) names.push_back(user.username);
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "back\\slash", "bob"}));
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ((*next)[0].username, "carol");
  EXPECT_EQ((*next)[1].username, "dave");
}

TEST_F(LdapDirectoryIdentityTest, ListGroupsGivesEachGroupWithItsMembers) {
  LdapDirectory directory(openldap_config(*server_));

  auto groups = directory.list_groups("cycle-b", 1);

  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].name, "developers");
  auto found = directory.find_group("developers");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*groups)[0].members, (*found)->members);
}

}  // namespace
}  // namespace dirproxy
