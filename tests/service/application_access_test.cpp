// Applications' access groups (APPLICATIONS.md, docs/applications.md) as the
// service applies them: authenticate for a caller acting for an application,
// on runtimes built by hand over in-memory directories (an internal one and
// one standing for LDAP) and a real state database for the lockout. The
// rules are read from the runtime a call runs with, so a reload is a new
// runtime given to the next call with the same Caller.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "directories/in_memory_directory.hpp"
#include "service/application_requests.hpp"
#include "service/captured_log.hpp"
#include "service/directory_requests.hpp"
#include "service/service.hpp"
#include "support/manual_clock.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using testing::CapturedLog;
using testing::InMemoryDirectory;
using testing::ManualClock;

constexpr char kPassword[] = "correct horse battery";
constexpr unsigned kMaxFailures = 3;

config::Application application(std::string name, std::vector<std::string> access_groups) {
  config::Application made;
  made.name = std::move(name);
  made.access_groups = std::move(access_groups);
  return made;
}

// The chain "local" (internal) then "corp" (standing for an LDAP directory,
// read-only): alice and carol live in local, bob in corp. local's group
// grafana-users holds alice and corp's bob; corp's group developers holds
// bob; carol is in no group.
class ApplicationAccess : public ::testing::Test {
 protected:
  ApplicationAccess() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
    local_ =
        std::make_shared<InMemoryDirectory>("local", config::DirectoryType::internal, config::Permissions::read_write);
    corp_ = std::make_shared<InMemoryDirectory>("corp", config::DirectoryType::ldap, config::Permissions::read_only);
    local_->put_user(User{"alice", "alice@example.com", "Alice", {}, {}, true, ""}, kPassword);
    local_->put_user(User{"carol", "carol@example.com", "Carol", {}, {}, true, ""}, kPassword);
    corp_->put_user(User{"bob", "bob@example.com", "Bob", {}, {}, true, ""}, kPassword);
    local_->put_group("grafana-users", {"alice", "bob"});
    corp_->put_group("developers", {"bob"});
    grafana_.application = "grafana";
  }

  // A runtime over the same directories and database whose configuration
  // has `applications`, under `membership`.
  RuntimePtr runtime_with(std::vector<config::Application> applications,
                          config::Membership membership = config::Membership::aggregate) {
    auto config = std::make_shared<config::Config>();
    config->security.lockout.max_failures = kMaxFailures;
    config->security.lockout.window = std::chrono::seconds(60);
    config->security.lockout.duration = std::chrono::seconds(120);
    config->membership = membership;
    config->applications = std::move(applications);
    auto chain = std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{local_, corp_},
                                                  ChainOptions{.membership = membership}, hasher_);
    return std::make_shared<const Runtime>(Runtime{config, hasher_, chain, AccountPolicy(config->accounts), database_,
                                                   nullptr, std::make_shared<RateLimiter>(), clock_});
  }

  // grafana admits grafana-users; wiki admits everyone.
  RuntimePtr grafana_and_wiki(config::Membership membership = config::Membership::aggregate) {
    return runtime_with({application("grafana", {"grafana-users"}), application("wiki", {})}, membership);
  }

  static Result<AuthenticatedUser> authenticate(const RuntimePtr& runtime, const Caller& caller,
                                                const std::string& username, const std::string& password) {
    return run(OperationContext{*runtime, caller}, AuthenticateRequest{.username = username, .password = password});
  }

  static std::string code_of(const Result<AuthenticatedUser>& result) {
    return result ? "ok" : std::string(to_string(result.error().code));
  }

  dirproxy::testing::TemporaryDirectory temp_{"appaccess"};
  StateDatabasePtr database_;
  PasswordHasherPtr hasher_ = std::make_shared<const PasswordHasher>(1, 8192, 1);
  std::shared_ptr<InMemoryDirectory> local_;
  std::shared_ptr<InMemoryDirectory> corp_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  Caller grafana_;  // a caller acting for grafana
};

TEST_F(ApplicationAccess, AMemberOfAnAccessGroupAuthenticates) {
  auto authenticated = authenticate(grafana_and_wiki(), grafana_, "alice", kPassword);

  ASSERT_TRUE(authenticated) << authenticated.error().message;
  EXPECT_EQ(authenticated->user.username, "alice");
  EXPECT_EQ(authenticated->groups, std::vector<std::string>({"grafana-users"}));
}

TEST_F(ApplicationAccess, TheRightPasswordOfAUserOutsideTheAccessGroupsIsAccessDenied) {
  auto refused = authenticate(grafana_and_wiki(), grafana_, "carol", kPassword);

  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::access_denied);
  EXPECT_EQ(refused.error().message, "user 'carol' may not use application 'grafana'");
}

TEST_F(ApplicationAccess, AWrongPasswordOfAUserOutsideTheAccessGroupsIsStillInvalidCredentials) {
  auto refused = authenticate(grafana_and_wiki(), grafana_, "carol", "wrong password");

  EXPECT_EQ(code_of(refused), "invalid_credentials");
}

TEST_F(ApplicationAccess, WrongPasswordsThroughAnApplicationCountForTheLockout) {
  const RuntimePtr runtime = grafana_and_wiki();
  for (unsigned i = 0; i < kMaxFailures; ++i) {
    ASSERT_EQ(code_of(authenticate(runtime, grafana_, "alice", "wrong password")), "invalid_credentials");
  }

  EXPECT_EQ(code_of(authenticate(runtime, grafana_, "alice", kPassword)), "account_locked");
  EXPECT_EQ(code_of(authenticate(runtime, Caller{}, "alice", kPassword)), "account_locked");
}

TEST_F(ApplicationAccess, TheRightPasswordOfAUserNotAdmittedStillClearsTheLockoutCount) {
  const RuntimePtr runtime = grafana_and_wiki();
  for (unsigned i = 0; i + 1 < kMaxFailures; ++i) {
    ASSERT_EQ(code_of(authenticate(runtime, grafana_, "carol", "wrong password")), "invalid_credentials");
  }
  ASSERT_EQ(code_of(authenticate(runtime, grafana_, "carol", kPassword)), "access_denied");
  for (unsigned i = 0; i + 1 < kMaxFailures; ++i) {
    ASSERT_EQ(code_of(authenticate(runtime, grafana_, "carol", "wrong password")), "invalid_credentials");
  }

  // Without the clearing, this would be the 5th failure in the window.
  EXPECT_EQ(code_of(authenticate(runtime, Caller{}, "carol", kPassword)), "ok");
}

TEST_F(ApplicationAccess, AnApplicationWithoutAccessGroupsAdmitsEveryone) {
  Caller wiki;
  wiki.application = "wiki";

  EXPECT_EQ(code_of(authenticate(grafana_and_wiki(), wiki, "carol", kPassword)), "ok");
}

TEST_F(ApplicationAccess, ACallerWithoutApplicationAuthenticatesAnyone) {
  EXPECT_EQ(code_of(authenticate(grafana_and_wiki(), Caller{}, "carol", kPassword)), "ok");
}

TEST_F(ApplicationAccess, AccessGroupsCompareFolded) {
  const RuntimePtr runtime = runtime_with({application("grafana", {"Grafana-USERS"})});

  EXPECT_EQ(code_of(authenticate(runtime, grafana_, "alice", kPassword)), "ok");
  EXPECT_EQ(code_of(authenticate(runtime, grafana_, "carol", kPassword)), "access_denied");
}

TEST_F(ApplicationAccess, UnderAggregateMembershipALocalGroupAdmitsAUserOfAnotherDirectory) {
  auto authenticated = authenticate(grafana_and_wiki(config::Membership::aggregate), grafana_, "bob", kPassword);

  ASSERT_TRUE(authenticated) << authenticated.error().message;
  EXPECT_EQ(authenticated->user.directory, "corp");
  EXPECT_EQ(authenticated->groups, std::vector<std::string>({"developers", "grafana-users"}));
}

TEST_F(ApplicationAccess, UnderFirstMembershipALocalGroupDoesNotAdmitAUserOfAnotherDirectory) {
  const RuntimePtr runtime = grafana_and_wiki(config::Membership::first);

  EXPECT_EQ(code_of(authenticate(runtime, grafana_, "bob", kPassword)), "access_denied");
}

TEST_F(ApplicationAccess, UnderFirstMembershipTheOwningDirectorysGroupAdmits) {
  const RuntimePtr runtime =
      runtime_with({application("grafana", {"grafana-users", "developers"})}, config::Membership::first);

  EXPECT_EQ(code_of(authenticate(runtime, grafana_, "bob", kPassword)), "ok");
}

TEST_F(ApplicationAccess, AReloadThatChangesAccessGroupsAppliesToTheNextCallOfTheSameCaller) {
  const RuntimePtr before = grafana_and_wiki();
  const RuntimePtr after = runtime_with({application("grafana", {"developers"})});

  EXPECT_EQ(code_of(authenticate(before, grafana_, "alice", kPassword)), "ok");
  EXPECT_EQ(code_of(authenticate(after, grafana_, "alice", kPassword)), "access_denied");
  EXPECT_EQ(code_of(authenticate(after, grafana_, "bob", kPassword)), "ok");
}

TEST_F(ApplicationAccess, AnApplicationRemovedByAReloadIsNoApplication) {
  const RuntimePtr after = runtime_with({application("wiki", {"nobody-is-here"})});

  EXPECT_EQ(code_of(authenticate(after, grafana_, "carol", kPassword)), "ok");
}

// list_applications and get_user_access -----------------------------------------

TEST_F(ApplicationAccess, ListApplicationsCountsTheUsersEachAdmits) {
  const RuntimePtr runtime = grafana_and_wiki();
  Caller admin;
  admin.admin = true;

  auto listed = run(OperationContext{*runtime, admin}, ListApplicationsRequest{});

  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "grafana");
  EXPECT_EQ((*listed)[0].access_groups, std::vector<std::string>({"grafana-users"}));
  EXPECT_EQ((*listed)[0].admitted_users, 2u);  // alice, bob
  EXPECT_EQ((*listed)[1].name, "wiki");
  EXPECT_EQ((*listed)[1].admitted_users, 3u);
}

TEST_F(ApplicationAccess, GetUserAccessNamesTheApplicationsAdmittingTheUser) {
  const RuntimePtr runtime = grafana_and_wiki();
  Caller admin;
  admin.admin = true;

  auto bob = run(OperationContext{*runtime, admin}, GetUserAccessRequest{.username = "BOB"});
  auto carol = run(OperationContext{*runtime, admin}, GetUserAccessRequest{.username = "carol"});
  auto nobody = run(OperationContext{*runtime, admin}, GetUserAccessRequest{.username = "nobody"});

  ASSERT_TRUE(bob) << bob.error().message;
  EXPECT_EQ(bob->username, "bob");
  EXPECT_EQ(bob->groups, std::vector<std::string>({"developers", "grafana-users"}));
  EXPECT_EQ(bob->applications, std::vector<std::string>({"grafana", "wiki"}));
  ASSERT_TRUE(carol) << carol.error().message;
  EXPECT_EQ(carol->applications, std::vector<std::string>({"wiki"}));
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, ErrorCode::not_found);
}

// The Service: the socket's application, the audit line ----------------------------

class ApplicationService : public ApplicationAccess {
 protected:
  ApplicationService() : current_(grafana_and_wiki()) {}

  static awaitable<Result<void>> reload() { co_return Result<void>{}; }

  WorkerPool pool_{1};
  RuntimePtr current_;
  Service service_{pool_, [this] { return current_; }, [] { return reload(); }, clock_};
};

TEST_F(ApplicationService, TheSocketApplicationIsTheOneOfThePeersUidInTheConfigurationInForce) {
  config::Application grafana = application("grafana", {"grafana-users"});
  grafana.socket_uids = {472};
  current_ = runtime_with({application("wiki", {}), grafana});

  EXPECT_EQ(service_.socket_application(472), std::optional<std::string>("grafana"));
  EXPECT_EQ(service_.socket_application(473), std::nullopt);

  current_ = runtime_with({application("grafana", {"grafana-users"})});  // a reload took uid 472 away

  EXPECT_EQ(service_.socket_application(472), std::nullopt);
}

TEST_F(ApplicationService, AnAuditLineNamesTheCallersApplication) {
  CapturedLog log("audit");
  Caller caller = grafana_;
  caller.actor = "admin";
  const Error denied = make_error(ErrorCode::access_denied, "user 'carol' may not use application 'grafana'");

  service_.audit(caller, AuthenticateRequest::policy, "username=\"carol\"", &denied);

  EXPECT_NE(log.text().find("op=authenticate actor=\"admin\" application=\"grafana\" username=\"carol\" "
                            "result=access_denied"),
            std::string::npos)
      << log.text();
}

TEST_F(ApplicationService, AnAuditLineOfACallerWithoutApplicationNamesNone) {
  CapturedLog log("audit");
  const Error wrong = make_error(ErrorCode::invalid_credentials, "invalid credentials");

  service_.audit(Caller{}, AuthenticateRequest::policy, "username=\"carol\"", &wrong);

  EXPECT_NE(log.text().find("op=authenticate username=\"carol\" result=invalid_credentials"), std::string::npos)
      << log.text();
  EXPECT_EQ(log.text().find("application="), std::string::npos) << log.text();
}

}  // namespace
}  // namespace dirproxy
