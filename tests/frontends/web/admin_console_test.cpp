// The admin console's pages, called as the web server calls them (Routes,
// PageContext) over a real Service, internal directory and state database:
// sign-in (who may, and the answers to who may not), sessions (cookie,
// CSRF, logout, idle expiry, a reload that removes the admin group), the
// tabs, and actions answered 303 with their notice on the next page. HTTP
// itself is the web server's (tests/integration/web_admin_test.cpp drives
// both with a browser).
#include <gtest/gtest.h>

#include <regex>

#include "core/worker_pool.hpp"
#include "frontends/web/admin_console.hpp"
#include "frontends/web/admin_session.hpp"
#include "frontends/web/form_token.hpp"
#include "frontends/web/page_templates.hpp"
#include "service/access_request_requests.hpp"
#include "service/captured_log.hpp"
#include "service/directory_requests.hpp"
#include "service/service.hpp"
#include "support/manual_clock.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy::web {
namespace {

constexpr const char* kPassword = "correct horse battery";

class AdminConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.state_dir = directory_.path();
    config::DirectoryConfig internal;
    internal.name = "internal";
    internal.type = DirectoryType::internal;
    internal.permissions = Permissions::read_write;
    config_.directories.push_back(internal);
    config_.accounts.password_hash = {1, 8192};
    config_.site.name = "Example Directory";
    config_.site.base_url = "https://dir.example";
    config::Mail mail;
    mail.from = "dirproxy <dirproxy@dir.example>";
    config_.mail = mail;
    config::Web web;
    web.admin_groups = {"admins"};
    config_.web = web;
    auto database = StateDatabase::open(directory_.path(), 2);
    ASSERT_TRUE(database);
    database_ = *database;
    apply_config();

    Caller root;
    root.admin = true;
    for (const char* username : {"alice", "bob"}) {
      AddUserRequest add;
      add.username = username;
      add.email = std::string(username) + "@example.com";
      add.display_name = "User " + std::string(username);
      add.password = kPassword;
      add.notify = false;
      ASSERT_TRUE(call(root, add));
    }
    ASSERT_TRUE(call(root, AddGroupRequest{"admins", std::nullopt}));
    ASSERT_TRUE(call(root, AddMemberRequest{"admins", "alice"}));
    add_admin_console(routes_);
  }

  // Builds the runtime and templates of config_, as a reload does.
  void apply_config() {
    auto config = std::make_shared<const config::Config>(config_);
    auto runtime = build_runtime(config, database_, rate_limiter_, clock_);
    ASSERT_TRUE(runtime) << runtime.error().message;
    runtime_ = *runtime;
    auto templates = PageTemplates::build(*config);
    ASSERT_TRUE(templates);
    templates_ = *templates;
  }

  template <typename Request>
  Result<typename Request::Response> call(const Caller& caller, const Request& request) {
    asio::io_context io;
    std::optional<Result<typename Request::Response>> answer;
    asio::co_spawn(
        io, [&]() -> awaitable<void> { answer = co_await service_.call(caller, request); }, asio::detached);
    io.run();
    return std::move(*answer);
  }

  // The answer of the page at `path` to `request` (its path set here), with
  // the cookies the browser holds.
  Response send(Request request, const std::string& path) {
    request.path = path;
    request.client_address = "192.0.2.7";
    for (const auto& [name, value] : cookies_) request.cookies.emplace(name, value);
    const Handler* handler = routes_.find(path);
    if (handler == nullptr) {
      Response none;
      none.status = 404;
      return none;
    }
    const PageContext page(
        service_, [this] { return templates_; }, [this] { return runtime_->config; });
    asio::io_context io;
    std::optional<Response> response;
    asio::co_spawn(
        io, [&]() -> awaitable<void> { response = co_await (*handler)(page, request); }, asio::detached);
    io.run();
    for (const SetCookie& cookie : response->cookies) {
      if (cookie.max_age_s == 0) {
        cookies_.erase(cookie.name);
      } else {
        cookies_[cookie.name] = cookie.value;
      }
    }
    return std::move(*response);
  }

  Response get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& query = {}) {
    Request request;
    request.method = Method::get;
    request.query = Fields(query);
    return send(std::move(request), path);
  }

  Response post(const std::string& path, std::vector<std::pair<std::string, std::string>> form) {
    Request request;
    request.method = Method::post;
    request.form = Fields(std::move(form));
    return send(std::move(request), path);
  }

  // POST with the CSRF token of the page the browser is on.
  Response submit(const std::string& path, std::vector<std::pair<std::string, std::string>> form) {
    form.emplace_back("csrf", csrf_);
    return post(path, std::move(form));
  }

  static std::string csrf_in(const std::string& body) {
    std::smatch match;
    if (!std::regex_search(body, match, std::regex(R"re(name="csrf" value="([^"]+)")re"))) return {};
    return match[1];
  }

  // Signs in as `username` through the form; the answer to the POST.
  Response sign_in(const std::string& username, const std::string& password = kPassword) {
    const Response form = get("/login");
    return post("/login", {{"csrf", csrf_in(form.body)}, {"username", username}, {"password", password}});
  }

  // A page of the console, its token kept for the next submit().
  Response open(const std::string& path, const std::vector<std::pair<std::string, std::string>>& query = {}) {
    Response response = get(path, query);
    if (std::string token = csrf_in(response.body); !token.empty()) csrf_ = token;
    return response;
  }

  static bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  testing::TemporaryDirectory directory_{"web-admin"};
  config::Config config_;
  StateDatabasePtr database_;
  std::shared_ptr<testing::ManualClock> clock_ = std::make_shared<testing::ManualClock>();
  RateLimiterPtr rate_limiter_ = std::make_shared<RateLimiter>();
  RuntimePtr runtime_;
  std::shared_ptr<const PageTemplates> templates_;
  WorkerPool pool_{2};
  Service service_{pool_, [this] { return runtime_; }, []() -> awaitable<Result<void>> { co_return Result<void>{}; },
                   clock_};
  Routes routes_;
  std::map<std::string, std::string> cookies_;
  std::string csrf_;
};

TEST_F(AdminConsoleTest, AnAdminSignsInAndLandsOnTheUsersTab) {
  const Response signed_in = sign_in("alice");

  EXPECT_EQ(signed_in.status, 303u);
  EXPECT_EQ(signed_in.redirect, "/admin/users");
  ASSERT_EQ(cookies_.count(std::string(kSessionCookie)), 1u);
  const Response users = open("/admin/users");
  EXPECT_EQ(users.status, 200u);
  EXPECT_TRUE(users.no_store);
  EXPECT_TRUE(contains(users.body, "Signed in as <strong>alice</strong>"));
  EXPECT_TRUE(contains(users.body, R"(aria-current="page">Users</a>)"));
  EXPECT_TRUE(contains(users.body, "bob@example.com"));
}

TEST_F(AdminConsoleTest, AUserInNoAdminGroupIsRefusedWith403) {
  const Response refused = sign_in("bob");

  EXPECT_EQ(refused.status, 403u);
  EXPECT_TRUE(contains(refused.body, "This account may not use the admin console."));
  EXPECT_EQ(cookies_.count(std::string(kSessionCookie)), 0u);
}

TEST_F(AdminConsoleTest, AWrongPasswordShowsTheFormAgainWithTheUsernameKept) {
  const Response refused = sign_in("alice", "not the password");

  EXPECT_EQ(refused.status, 400u);
  EXPECT_TRUE(contains(refused.body, "The username or password is wrong."));
  EXPECT_TRUE(contains(refused.body, R"(name="username" value="alice")"));
  EXPECT_FALSE(contains(refused.body, "not the password"));
  EXPECT_TRUE(refused.no_store);
  EXPECT_EQ(cookies_.count(std::string(kSessionCookie)), 0u);
}

TEST_F(AdminConsoleTest, ASignInWithoutTheFormsTokenIsRefused) {
  const Response refused = post("/login", {{"username", "alice"}, {"password", kPassword}});

  EXPECT_EQ(refused.status, 403u);
  EXPECT_EQ(cookies_.count(std::string(kSessionCookie)), 0u);
}

TEST_F(AdminConsoleTest, WithoutAdminGroupsThereIsNoConsole) {
  config_.web->admin_groups.clear();
  apply_config();

  EXPECT_EQ(get("/login").status, 404u);
  EXPECT_EQ(get("/admin").status, 404u);
  EXPECT_EQ(get("/admin/users").status, 404u);
}

TEST_F(AdminConsoleTest, APageWithoutASessionSendsTheBrowserToSignIn) {
  const Response page = get("/admin/groups");

  EXPECT_EQ(page.status, 303u);
  EXPECT_EQ(page.redirect, "/login");
}

TEST_F(AdminConsoleTest, APostWithoutOrWithAWrongCsrfTokenIs403AndChangesNothing) {
  sign_in("alice");
  open("/admin/groups");

  const Response missing = post("/admin/groups", {{"name", "ops"}});
  const Response wrong = post("/admin/groups", {{"name", "ops"}, {"csrf", random_token()}});

  EXPECT_EQ(missing.status, 403u);
  EXPECT_EQ(wrong.status, 403u);
  EXPECT_FALSE(call(Caller{}, GetGroupRequest{"ops"}));
  EXPECT_EQ(submit("/admin/groups", {{"name", "ops"}}).status, 303u);
  EXPECT_TRUE(call(Caller{}, GetGroupRequest{"ops"}));
}

TEST_F(AdminConsoleTest, AMethodAPageDoesNotTakeIs405WithAllow) {
  sign_in("alice");

  const Response response = post("/admin/directories", {});

  EXPECT_EQ(response.status, 405u);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, HEAD"}));
}

TEST_F(AdminConsoleTest, LogoutEndsTheSessionForGood) {
  sign_in("alice");
  const std::string old_cookie = cookies_.at(std::string(kSessionCookie));
  open("/admin/users");

  const Response out = submit("/logout", {});

  EXPECT_EQ(out.status, 303u);
  EXPECT_EQ(out.redirect, "/login");
  EXPECT_EQ(cookies_.count(std::string(kSessionCookie)), 0u);
  cookies_[std::string(kSessionCookie)] = old_cookie;
  EXPECT_EQ(get("/admin/users").redirect, "/login");
}

TEST_F(AdminConsoleTest, AnIdleSessionEnds) {
  config_.web->session_ttl = std::chrono::minutes(5);
  apply_config();
  sign_in("alice");

  clock_->advance(std::chrono::minutes(4));
  EXPECT_EQ(get("/admin/users").status, 200u);
  clock_->advance(std::chrono::minutes(5) + std::chrono::seconds(1));

  EXPECT_EQ(get("/admin/users").redirect, "/login");
}

TEST_F(AdminConsoleTest, AReloadThatRemovesTheAdminGroupEndsTheSession) {
  sign_in("alice");
  ASSERT_EQ(get("/admin/users").status, 200u);

  config_.web->admin_groups = {"operators"};
  apply_config();

  EXPECT_EQ(get("/admin/users").redirect, "/login");
}

TEST_F(AdminConsoleTest, AddingAUserWithTheMailShowsTheNoticeOnTheUsersPageAndQueuesTheMail) {
  sign_in("alice");
  open("/admin/users/new");

  const Response added = submit("/admin/users/new", {{"username", "carol"},
                                                     {"email", "carol@example.com"},
                                                     {"display_name", "Carol"},
                                                     {"how", "mail"},
                                                     {"groups", "admins"}});

  ASSERT_EQ(added.status, 303u) << added.body;
  EXPECT_EQ(added.redirect, "/admin/user?username=carol");
  const Response shown = open("/admin/user", {{"username", "carol"}});
  EXPECT_TRUE(contains(shown.body, "Added carol. A mail with a link to set a password went to carol@example.com."));
  EXPECT_TRUE(contains(shown.body, "admins</a>"));
  EXPECT_FALSE(contains(open("/admin/user", {{"username", "carol"}}).body, "Added carol"));
  auto lease = database_->acquire();
  auto mails = lease.prepare("SELECT template, recipient FROM outbox");
  ASSERT_TRUE(mails);
  ASSERT_TRUE(*mails->step());
  EXPECT_EQ(mails->column_text(0), "new_user");
  EXPECT_EQ(mails->column_text(1), "carol@example.com");
}

TEST_F(AdminConsoleTest, ARefusedAddShowsTheErrorBesideItsFieldAndKeepsWhatWasTyped) {
  sign_in("alice");
  open("/admin/users/new");

  const Response refused = submit("/admin/users/new", {{"username", "bob"},
                                                       {"email", "other@example.com"},
                                                       {"display_name", "Another Bob"},
                                                       {"how", "password"},
                                                       {"password", "a secret password"}});

  EXPECT_EQ(refused.status, 400u);
  EXPECT_TRUE(contains(refused.body, R"(<div class="field-invalid">
<label for="username">)"));
  EXPECT_TRUE(contains(refused.body, R"(value="Another Bob")"));
  EXPECT_FALSE(contains(refused.body, "a secret password"));
}

TEST_F(AdminConsoleTest, DeactivatingAUserIsAnUpdateWhoseNoticeFollows) {
  sign_in("alice");
  open("/admin/user", {{"username", "bob"}});

  const Response done = submit("/admin/user/active", {{"username", "bob"}, {"active", "false"}});

  EXPECT_EQ(done.status, 303u);
  const Response shown = open("/admin/user", {{"username", "bob"}});
  EXPECT_TRUE(contains(shown.body, "bob is deactivated: they can no longer sign in."));
  EXPECT_TRUE(contains(shown.body, "Reactivate"));
  GetUserRequest get_bob;
  get_bob.username = "bob";
  EXPECT_FALSE(call(Caller{}, get_bob)->active);
}

TEST_F(AdminConsoleTest, GroupsAreCreatedAndMembersAddedAndRemoved) {
  sign_in("alice");
  open("/admin/groups");
  ASSERT_EQ(submit("/admin/groups", {{"name", "ops"}, {"description", "Operations"}}).redirect,
            "/admin/group?name=ops");
  open("/admin/group", {{"name", "ops"}});

  ASSERT_EQ(submit("/admin/group/members", {{"name", "ops"}, {"username", "bob"}}).status, 303u);
  EXPECT_EQ(call(Caller{}, GetGroupRequest{"ops"})->members, std::vector<std::string>{"bob"});
  const Response group = open("/admin/group", {{"name", "ops"}});
  EXPECT_TRUE(contains(group.body, "Added bob to ops."));
  ASSERT_EQ(submit("/admin/group/members/remove", {{"name", "ops"}, {"username", "bob"}}).status, 303u);

  EXPECT_EQ(call(Caller{}, GetGroupRequest{"ops"})->members, std::vector<std::string>{});
  const Response list = open("/admin/groups");
  EXPECT_TRUE(contains(list.body, R"(<a href="&#x2F;admin&#x2F;group?name=ops">ops</a>)"));
}

TEST_F(AdminConsoleTest, ResettingTheSharedLinkShowsANewOne) {
  sign_in("alice");
  const Response before = open("/admin/invitations");
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(before.body, match, std::regex(R"re(id="shared-link" class="link" value="([^"]+)")re")));
  const std::string old_link = match[1];

  ASSERT_EQ(submit("/admin/invitations/reset-link", {}).redirect, "/admin/invitations");

  const Response after = open("/admin/invitations");
  EXPECT_TRUE(contains(after.body, "The shared link was reset"));
  EXPECT_FALSE(contains(after.body, old_link));
  EXPECT_TRUE(contains(after.body, R"(<script src="/static/copy_link.js"></script>)"));
}

TEST_F(AdminConsoleTest, SentInvitationsAreListedAndOneCanBeRevoked) {
  sign_in("alice");
  open("/admin/invitations");

  ASSERT_EQ(
      submit("/admin/invitations/send", {{"emails", "dan@example.com\nerin@example.com"}, {"message", "Hi"}}).status,
      303u);
  const Response listed = open("/admin/invitations");
  EXPECT_TRUE(contains(listed.body, "Invitations went to 2 addresses: dan@example.com, erin@example.com."));
  EXPECT_TRUE(contains(listed.body, "<td>dan@example.com</td><td>pending</td>"));
  ASSERT_EQ(submit("/admin/invitations/revoke", {{"id", "1"}}).status, 303u);

  const Response after = open("/admin/invitations");
  EXPECT_TRUE(contains(after.body, "Invitation 1 is revoked: its link no longer works."));
  EXPECT_TRUE(contains(after.body, "<td>1</td><td>dan@example.com</td><td>revoked</td>") ||
              contains(after.body, "<td>1</td><td>erin@example.com</td><td>revoked</td>"));
}

TEST_F(AdminConsoleTest, ResendingAnInvitationMailsItAgain) {
  sign_in("alice");
  open("/admin/invitations");
  ASSERT_EQ(submit("/admin/invitations/send", {{"emails", "dan@example.com"}}).status, 303u);
  open("/admin/invitations");

  ASSERT_EQ(submit("/admin/invitations/resend", {{"id", "1"}}).status, 303u);

  EXPECT_TRUE(contains(open("/admin/invitations").body,
                       "Invitation 1 was mailed again to dan@example.com; its earlier link no longer works."));
  auto lease = database_->acquire();
  auto mails =
      lease.prepare("SELECT COUNT(*) FROM outbox WHERE template = 'invitation' AND recipient = ?1", "dan@example.com");
  ASSERT_TRUE(mails);
  ASSERT_TRUE(*mails->step());
  EXPECT_EQ(mails->column_int64(0), 2);
}

TEST_F(AdminConsoleTest, AnUnknownInvitationIsAnErrorNotice) {
  sign_in("alice");
  open("/admin/invitations");

  ASSERT_EQ(submit("/admin/invitations/revoke", {{"id", "not-a-number"}}).status, 303u);

  EXPECT_TRUE(contains(open("/admin/invitations").body,
                       R"(<p class="notice error" role="status">There is no such invitation.</p>)"));
}

TEST_F(AdminConsoleTest, AnAccessRequestIsApprovedWithGroupsOrDenied) {
  config_.access_requests.enabled = true;
  apply_config();
  Caller visitor;
  visitor.client_address = "198.51.100.9";
  ASSERT_TRUE(call(visitor, RequestAccessRequest{"erin@example.org", "Erin", std::nullopt}));
  ASSERT_TRUE(call(visitor, RequestAccessRequest{"frank@example.org", "Frank", std::nullopt}));
  sign_in("alice");
  const Response listed = open("/admin/access-requests");
  EXPECT_TRUE(contains(listed.body, "<h3>Erin &lt;erin@example.org&gt;</h3>"));

  ASSERT_EQ(submit("/admin/access-requests/approve", {{"id", "1"}, {"groups", "admins"}}).status, 303u);
  EXPECT_TRUE(contains(open("/admin/access-requests").body, "Approved: an invitation was mailed to erin@example.org."));
  ASSERT_EQ(submit("/admin/access-requests/deny", {{"id", "2"}}).status, 303u);

  const Response after = open("/admin/access-requests");
  EXPECT_TRUE(contains(after.body, "Denied: nothing was mailed."));
  EXPECT_TRUE(contains(after.body, "No request is waiting."));
  auto lease = database_->acquire();
  auto invitation = lease.prepare("SELECT email, groups FROM invitations");
  ASSERT_TRUE(invitation);
  ASSERT_TRUE(*invitation->step());
  EXPECT_EQ(invitation->column_text(0), "erin@example.org");
  EXPECT_EQ(invitation->column_text(1), R"(["admins"])");
}

TEST_F(AdminConsoleTest, SignInsBeyondTheRateLimitAre429WithRetryAfter) {
  config_.security.rate_limit.requests = 1;
  apply_config();
  sign_in("alice", "not the password");

  const Response limited = sign_in("alice");

  EXPECT_EQ(limited.status, 429u);
  ASSERT_EQ(limited.headers.size(), 1u);
  EXPECT_EQ(limited.headers[0].first, "Retry-After");
  EXPECT_EQ(cookies_.count(std::string(kSessionCookie)), 0u);
}

TEST_F(AdminConsoleTest, UsersAreFoundByAPartOfTheirNameOrAddress) {
  sign_in("alice");

  const Response found = open("/admin/users", {{"q", "bob@"}});

  EXPECT_TRUE(contains(found.body, R"(<a href="&#x2F;admin&#x2F;user?username=bob">bob</a>)"));
  EXPECT_FALSE(contains(found.body, "alice@example.com"));
  EXPECT_TRUE(contains(open("/admin/users", {{"q", "nobody-like-this"}}).body, "No user matches"));
}

TEST_F(AdminConsoleTest, EveryTabAnswersWithItsTabMarked) {
  sign_in("alice");
  const std::vector<std::pair<std::string, std::string>> tabs = {{"/admin/users", "Users"},
                                                                 {"/admin/groups", "Groups"},
                                                                 {"/admin/invitations", "Invite users"},
                                                                 {"/admin/access-requests", "Access requests"},
                                                                 {"/admin/signup-options", "Signup options"},
                                                                 {"/admin/mail-queue", "Mail queue"},
                                                                 {"/admin/directories", "Directories"}};
  for (const auto& [path, label] : tabs) {
    const Response page = get(path);

    EXPECT_EQ(page.status, 200u) << path;
    EXPECT_TRUE(contains(page.body, R"(aria-current="page">)" + label + "</a>")) << path;
    EXPECT_TRUE(contains(page.body, "<title>" + label + " · Admin · Example Directory</title>")) << path;
  }
  EXPECT_TRUE(contains(get("/admin/signup-options").body, "These settings live in the configuration file"));
  EXPECT_TRUE(contains(get("/admin/directories").body, "<td>internal</td><td>internal</td><td>read and write</td>"));
}

TEST_F(AdminConsoleTest, AnActionsAuditLineNamesTheAdminAsActor) {
  sign_in("alice");
  open("/admin/groups");
  testing::CapturedLog log("audit");

  ASSERT_EQ(submit("/admin/groups", {{"name", "ops"}}).status, 303u);

  EXPECT_TRUE(contains(log.text(), R"(op=add_group actor="alice" name="ops" client_ip="192.0.2.7" result=ok)"))
      << log.text();
}

}  // namespace
}  // namespace dirproxy::web
