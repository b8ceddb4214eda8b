// The public pages' handlers (public_pages.hpp) called as the web server
// calls them, on a real Service over an in-memory directory, a state
// database and a ManualClock: what each page answers, what it changes, and
// what it refuses (a POST without its form token, a GET that would use a
// token up, a method it does not take).
#include "frontends/web/public_pages.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/worker_pool.hpp"
#include "frontends/web/form_token.hpp"
#include "frontends/web/page_templates.hpp"
#include "service/invitation_requests.hpp"
#include "service/mailing_runtime.hpp"
#include "service/reset_link.hpp"
#include "service/service.hpp"

namespace dirproxy::web {
namespace {

constexpr const char* kPassword = "correct horse battery";
// A well-formed form cookie (64 hex digits) and the field that matches it.
const std::string kFormCookieValue(64, 'a');

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

std::optional<std::string> header(const Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

class PublicPages : public testing::MailingRuntime {
 protected:
  PublicPages() {
    config_->site.name = "Example Site";
    config_->site.links.confirm = "{token}";
    config_->signup.mode = config::SignupMode::open;
    config_->security.rate_limit.requests = 1000;
    config_->mail->templates.push_back({"signup_confirm", "Confirm", "{{link}}\n"});
    add_public_pages(routes_);
  }

  // What the page of `request` answers, run as the web server runs it.
  Response serve(Request request) {
    request.client_address = "192.0.2.1";
    Service service(
        pool_, [this] { return RuntimePtr(RuntimePtr(), &runtime()); }, [] { return reload(); }, clock_);
    auto built = PageTemplates::build(*config_);
    if (!built) throw std::runtime_error(built.error().message);
    std::shared_ptr<const PageTemplates> templates = *built;
    std::shared_ptr<const config::Config> config = config_;
    const PageContext page(
        service, [templates] { return templates; }, [config] { return config; });
    const Handler* handler = routes_.find(request.path);
    if (handler == nullptr) throw std::runtime_error("no page at " + request.path);
    asio::io_context io;
    std::optional<Response> response;
    asio::co_spawn(
        io, [&]() -> awaitable<void> { response = co_await (*handler)(page, request); }, asio::detached);
    io.run();
    return std::move(response.value());
  }

  Response get(const std::string& path, std::vector<std::pair<std::string, std::string>> query = {}) {
    Request request;
    request.method = Method::get;
    request.path = path;
    request.query = Fields(std::move(query));
    return serve(std::move(request));
  }

  // A POST of `fields` with a matching form token (unless `csrf` says
  // otherwise: nullopt sends none).
  Response post(const std::string& path, std::vector<std::pair<std::string, std::string>> fields,
                std::optional<std::string> csrf = kFormCookieValue) {
    Request request;
    request.method = Method::post;
    request.path = path;
    request.cookies[std::string(kFormCookie)] = kFormCookieValue;
    if (csrf) fields.emplace_back(std::string(kCsrfField), *csrf);
    request.form = Fields(std::move(fields));
    return serve(std::move(request));
  }

  Response sign_up(const std::string& username, const std::string& email, const std::string& password = kPassword,
                   const std::string& confirmation = kPassword, const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> fields = {{"username", username},
                                                               {"display_name", "User " + username},
                                                               {"email", email},
                                                               {"password", password},
                                                               {"password_confirm", confirmation}};
    if (!token.empty()) fields.emplace_back("token", token);
    return post("/signup", std::move(fields));
  }

  CreatedInvitation invitation(std::optional<std::string> email) {
    CreateInvitationRequest request;
    request.email = std::move(email);
    auto created = run(context(), request);
    if (!created) throw std::runtime_error(created.error().message);
    return std::move(*created);
  }

  // A set-password link of `purpose` for `username`, stored; its token.
  std::string stored_link(ResetPurpose purpose, const std::string& username) {
    const ResetLink link = make_reset_link(*config_, purpose, now());
    auto lease = database_->acquire();
    auto stored = lease.write_transaction(
        [&](const StateDatabase::Lease& lease) { return store_reset_link(lease, link, username); });
    if (!stored) throw std::runtime_error(stored.error().message);
    return link.token.token;
  }

  bool user_exists(const std::string& username) {
    auto found = directory_->find_user_by_name(username);
    return found && found->has_value();
  }

  static awaitable<Result<void>> reload() { co_return Result<void>{}; }

  WorkerPool pool_{1};
  Routes routes_;
};

// --- /signup -------------------------------------------------------------------

TEST_F(PublicPages, OpenSignupShowsTheFormWithItsFormTokenAndNoStore) {
  Response page = get("/signup");

  EXPECT_EQ(page.status, 200u);
  EXPECT_TRUE(page.no_store);
  ASSERT_EQ(page.cookies.size(), 1u);
  EXPECT_EQ(page.cookies[0].name, kFormCookie);
  EXPECT_NE(page.body.find("<input type=\"hidden\" name=\"csrf\" value=\"" + page.cookies[0].value + "\">"),
            std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("<title>Create an account · Example Site</title>"), std::string::npos);
  EXPECT_NE(page.body.find("<p class=\"hint\" id=\"password-hint\">At least 10 characters.</p>"), std::string::npos);
  for (const char* name : {"username", "display_name", "email", "password", "password_confirm"}) {
    EXPECT_NE(page.body.find("<label for=\"" + std::string(name) + "\">"), std::string::npos) << name;
  }
}

TEST_F(PublicPages, DisabledSignupSaysItIsClosedAndLinksToAccessRequestsWhenTheyAreTaken) {
  config_->signup.mode = config::SignupMode::disabled;

  Response without_requests = get("/signup");
  config_->access_requests.enabled = true;
  Response with_requests = get("/signup");

  EXPECT_EQ(without_requests.status, 200u);
  EXPECT_NE(without_requests.body.find("<h1>Signup is closed</h1>"), std::string::npos) << without_requests.body;
  EXPECT_EQ(without_requests.body.find("&#x2F;access"), std::string::npos);
  EXPECT_EQ(without_requests.body.find("<form"), std::string::npos);
  EXPECT_NE(with_requests.body.find("<a href=\"&#x2F;access\">Request access</a>"), std::string::npos)
      << with_requests.body;
}

TEST_F(PublicPages, RestrictedSignupListsTheAllowedDomainsInWords) {
  config_->signup.mode = config::SignupMode::restricted;
  config_->signup.domains = {"example.com", "*.corp.example"};

  Response page = get("/signup");

  EXPECT_EQ(page.status, 200u);
  EXPECT_NE(page.body.find("<li>addresses ending in @example.com</li>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<li>any address at a subdomain of corp.example</li>"), std::string::npos);
}

TEST_F(PublicPages, AnOpenSignupCreatesTheAccountAndSeesOtherToTheWelcomePage) {
  Response answer = sign_up("alice", "alice@example.com");

  EXPECT_EQ(answer.status, 303u);
  EXPECT_EQ(answer.redirect, std::optional<std::string>("/signup/welcome"));
  EXPECT_TRUE(user_exists("alice"));
  EXPECT_EQ(directory_->password_of("alice"), kPassword);
  Response welcome = get("/signup/welcome");
  EXPECT_NE(welcome.body.find("Your account has been created"), std::string::npos);
}

TEST_F(PublicPages, DifferentPasswordsAreRefusedBesideTheSecondFieldBeforeTheServiceIsAsked) {
  Response answer = sign_up("alice", "alice@example.com", kPassword, "correct horse battery!");

  EXPECT_EQ(answer.status, 400u);
  EXPECT_FALSE(user_exists("alice"));
  EXPECT_NE(answer.body.find("<p class=\"field-error\" id=\"password_confirm-error\">The two passwords are not the "
                             "same. Type the password twice.</p>"),
            std::string::npos)
      << answer.body;
  EXPECT_NE(answer.body.find("id=\"username\" name=\"username\" value=\"alice\""), std::string::npos);
  EXPECT_EQ(answer.body.find("correct horse"), std::string::npos) << "a password was echoed";
}

TEST_F(PublicPages, TheServicesErrorsStandBesideTheirFieldsWithWhatWasTypedKept) {
  Response bad_name = sign_up("Alice!", "alice@example.com");
  Response weak = sign_up("alice", "alice@example.com", "short", "short");

  EXPECT_EQ(bad_name.status, 400u);
  EXPECT_NE(bad_name.body.find("id=\"username-error\">The username does not match the site&#39;s username "
                               "pattern.</p>"),
            std::string::npos)
      << bad_name.body;
  EXPECT_NE(bad_name.body.find("name=\"username\" value=\"Alice!\""), std::string::npos);
  EXPECT_NE(bad_name.body.find("name=\"email\" value=\"alice@example.com\""), std::string::npos);
  EXPECT_EQ(weak.status, 400u);
  EXPECT_NE(weak.body.find("id=\"password-error\">The password must have at least"), std::string::npos) << weak.body;
  EXPECT_EQ(count_of(weak.body, "value=\"short\""), 0u);
  EXPECT_FALSE(user_exists("alice"));
}

TEST_F(PublicPages, APostWithoutOrWithAWrongFormTokenIs403AndChangesNothing) {
  std::vector<std::pair<std::string, std::string>> fields = {{"username", "alice"},
                                                             {"display_name", "Alice"},
                                                             {"email", "alice@example.com"},
                                                             {"password", kPassword},
                                                             {"password_confirm", kPassword}};

  Response missing = post("/signup", fields, std::nullopt);
  Response wrong = post("/signup", fields, std::string(64, 'b'));

  EXPECT_EQ(missing.status, 403u);
  EXPECT_EQ(wrong.status, 403u);
  EXPECT_NE(missing.body.find("<h1>This form has expired</h1>"), std::string::npos) << missing.body;
  EXPECT_FALSE(user_exists("alice"));
}

TEST_F(PublicPages, AnInvitationBoundToAnAddressShowsItReadOnly) {
  config_->signup.mode = config::SignupMode::disabled;
  const CreatedInvitation created = invitation("ann@example.com");

  Response page = get("/signup", {{"token", created.token}});

  EXPECT_EQ(page.status, 200u);
  EXPECT_NE(page.body.find("<title>Accept your invitation · Example Site</title>"), std::string::npos);
  EXPECT_NE(page.body.find("name=\"email\" value=\"ann@example.com\" autocomplete=\"email\" required readonly"),
            std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("name=\"token\" value=\"" + created.token + "\""), std::string::npos);
}

TEST_F(PublicPages, AnInvitedSignupCreatesTheAccountInAClosedSite) {
  config_->signup.mode = config::SignupMode::disabled;
  const CreatedInvitation created = invitation(std::nullopt);

  Response answer = sign_up("bob", "bob@anywhere.org", kPassword, kPassword, created.token);

  EXPECT_EQ(answer.status, 303u);
  EXPECT_EQ(answer.redirect, std::optional<std::string>("/signup/welcome"));
  EXPECT_TRUE(user_exists("bob"));
}

TEST_F(PublicPages, AnInvitationErrorKeepsTheFormOfTheInvitation) {
  config_->signup.mode = config::SignupMode::disabled;
  const CreatedInvitation created = invitation("ann@example.com");

  Response answer = sign_up("ann", "ann@example.com", "short", "short", created.token);

  EXPECT_EQ(answer.status, 400u);
  EXPECT_NE(answer.body.find("name=\"token\" value=\"" + created.token + "\""), std::string::npos) << answer.body;
  EXPECT_NE(answer.body.find("value=\"ann@example.com\" autocomplete=\"email\" required readonly"), std::string::npos);
  EXPECT_NE(answer.body.find("id=\"password-error\""), std::string::npos);
}

TEST_F(PublicPages, ADeadInvitationLinkSaysWhatToDoNext) {
  config_->signup.mode = config::SignupMode::disabled;
  const CreatedInvitation created = invitation(std::nullopt);
  ASSERT_EQ(sign_up("bob", "bob@example.com", kPassword, kPassword, created.token).status, 303u);

  Response used = get("/signup", {{"token", created.token}});
  Response again = sign_up("carl", "carl@example.com", kPassword, kPassword, created.token);

  EXPECT_EQ(used.status, 404u);
  EXPECT_NE(used.body.find("<h1>This invitation link cannot be used</h1>"), std::string::npos) << used.body;
  EXPECT_NE(used.body.find("ask the administrator who invited you for a new invitation"), std::string::npos);
  EXPECT_EQ(again.status, 400u);
  EXPECT_NE(again.body.find("<h1>This invitation link cannot be used</h1>"), std::string::npos);
  EXPECT_FALSE(user_exists("carl"));
}

// --- /signup/confirm -------------------------------------------------------------

TEST_F(PublicPages, ARestrictedSignupIsConfirmedByThePostOfTheConfirmPageNotByItsGet) {
  config_->signup.mode = config::SignupMode::restricted;
  config_->signup.domains = {"example.com"};
  Response answer = sign_up("carol", "carol@example.com");
  ASSERT_EQ(answer.status, 303u);
  EXPECT_EQ(answer.redirect, std::optional<std::string>("/signup/check-mail"));
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  const std::string token = mails[0].body;

  Response shown = get("/signup/confirm", {{"token", token}});
  Response shown_again = get("/signup/confirm", {{"token", token}});

  EXPECT_EQ(shown.status, 200u);
  EXPECT_TRUE(shown.no_store);
  EXPECT_NE(shown_again.body.find("<button type=\"submit\">Confirm and create my account</button>"), std::string::npos)
      << shown_again.body;
  EXPECT_FALSE(user_exists("carol"));
  Response confirmed = post("/signup/confirm", {{"token", token}});
  EXPECT_EQ(confirmed.status, 303u);
  EXPECT_EQ(confirmed.redirect, std::optional<std::string>("/signup/welcome"));
  EXPECT_TRUE(user_exists("carol"));
  Response twice = post("/signup/confirm", {{"token", token}});
  EXPECT_EQ(twice.status, 400u);
  EXPECT_NE(twice.body.find("<h1>This confirmation link cannot be used</h1>"), std::string::npos);
}

// --- /password/reset and /password/forgot ------------------------------------------

TEST_F(PublicPages, TheSetPasswordLinkOfANewUserSaysSetYourPassword) {
  directory_->put_user(User{"dan", "dan@example.com", "Dan", {}, {}, true, ""}, "");
  const std::string token = stored_link(ResetPurpose::new_user, "dan");

  Response page = get("/password/reset", {{"token", token}});

  EXPECT_EQ(page.status, 200u);
  EXPECT_TRUE(page.no_store);
  EXPECT_NE(page.body.find("<h1>Set your password</h1>"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("dan"), std::string::npos) << "the page names the account";
}

TEST_F(PublicPages, AWeakPasswordLeavesTheResetLinkUsableAndAStrongOneSetsIt) {
  directory_->put_user(User{"dan", "dan@example.com", "Dan", {}, {}, true, ""}, "the old password");
  const std::string token = stored_link(ResetPurpose::password_reset, "dan");

  Response weak = post("/password/reset", {{"token", token}, {"password", "short"}, {"password_confirm", "short"}});
  Response done = post("/password/reset",
                       {{"token", token}, {"password", "a new passphrase"}, {"password_confirm", "a new passphrase"}});

  EXPECT_EQ(weak.status, 400u);
  EXPECT_NE(weak.body.find("<h1>Choose a new password</h1>"), std::string::npos) << weak.body;
  EXPECT_NE(weak.body.find("id=\"password-error\">The password must have at least"), std::string::npos);
  EXPECT_EQ(done.status, 303u);
  EXPECT_EQ(done.redirect, std::optional<std::string>("/password/changed"));
  EXPECT_EQ(directory_->password_of("dan"), "a new passphrase");
}

TEST_F(PublicPages, ADeadResetLinkExplainsAndLinksToForgotPassword) {
  Response page = get("/password/reset", {{"token", "not-a-token"}});
  Response posted =
      post("/password/reset", {{"token", "not-a-token"}, {"password", kPassword}, {"password_confirm", kPassword}});

  EXPECT_EQ(page.status, 404u);
  EXPECT_NE(page.body.find("<h1>This link cannot be used</h1>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<a href=\"&#x2F;password&#x2F;forgot\">Get a new link</a>"), std::string::npos);
  EXPECT_EQ(posted.status, 400u);
  EXPECT_NE(posted.body.find("<h1>This link cannot be used</h1>"), std::string::npos);
}

TEST_F(PublicPages, ForgotPasswordAnswersTheSameForAnAccountAndForNone) {
  directory_->put_user(User{"dan", "dan@example.com", "Dan", {}, {}, true, ""}, "the old password");

  Response known = post("/password/forgot", {{"account", "dan"}});
  Response unknown = post("/password/forgot", {{"account", "nobody@example.com"}});
  pool_.join();  // the work after the answer

  EXPECT_EQ(known.status, 303u);
  EXPECT_EQ(known.redirect, std::optional<std::string>("/password/forgot/sent"));
  EXPECT_EQ(unknown.status, 303u);
  EXPECT_EQ(unknown.redirect, known.redirect);
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].recipient, "dan@example.com");
}

TEST_F(PublicPages, ForgotPasswordWithNothingTypedSaysWhatToType) {
  Response answer = post("/password/forgot", {{"account", "  "}});

  EXPECT_EQ(answer.status, 400u);
  EXPECT_NE(answer.body.find("id=\"account-error\">Enter your username or the email address of your account.</p>"),
            std::string::npos)
      << answer.body;
}

// --- /access -----------------------------------------------------------------------

TEST_F(PublicPages, AccessRequestsAreA404UnlessTheSiteTakesThem) {
  Response page = get("/access");

  EXPECT_EQ(page.status, 404u);
  EXPECT_NE(page.body.find("<h1>Access requests are not taken here</h1>"), std::string::npos) << page.body;
}

TEST_F(PublicPages, AnAccessRequestIsStoredAndSeesOtherToTheSentPage) {
  config_->access_requests.enabled = true;

  Response page = get("/access");
  Response bad = post("/access", {{"display_name", "Eve"}, {"email", "not an address"}, {"message", "hi"}});
  Response sent = post("/access", {{"display_name", "Eve"}, {"email", "eve@example.com"}, {"message", "hi"}});

  EXPECT_EQ(page.status, 200u);
  EXPECT_NE(page.body.find("<textarea id=\"message\" name=\"message\""), std::string::npos) << page.body;
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body.find("id=\"email-error\">Enter a whole email address"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find(">hi</textarea>"), std::string::npos);
  EXPECT_EQ(sent.status, 303u);
  EXPECT_EQ(sent.redirect, std::optional<std::string>("/access/sent"));
  EXPECT_EQ(rows("access_requests"), 1);
}

// --- What every page shares ---------------------------------------------------------

TEST_F(PublicPages, TooManyAttemptsIs429WithRetryAfter) {
  config_->security.rate_limit.requests = 1;
  ASSERT_EQ(sign_up("alice", "alice@example.com").status, 303u);

  Response answer = sign_up("bob", "bob@example.com");

  EXPECT_EQ(answer.status, 429u);
  const auto retry_after = header(answer, "Retry-After");
  ASSERT_TRUE(retry_after);
  EXPECT_GT(std::stoll(*retry_after), 0);
  EXPECT_NE(answer.body.find("<h1>Too many attempts</h1>"), std::string::npos) << answer.body;
}

TEST_F(PublicPages, AMethodAPageDoesNotTakeIs405WithAllow) {
  Request put;
  put.method = Method::other;
  put.path = "/signup";
  Request post_to_notice;
  post_to_notice.method = Method::post;
  post_to_notice.path = "/signup/welcome";

  Response form = serve(put);
  Response notice = serve(post_to_notice);

  EXPECT_EQ(form.status, 405u);
  EXPECT_EQ(header(form, "Allow"), std::optional<std::string>("GET, HEAD, POST"));
  EXPECT_EQ(notice.status, 405u);
  EXPECT_EQ(header(notice, "Allow"), std::optional<std::string>("GET, HEAD"));
}

TEST_F(PublicPages, UsersManagedElsewhereGetAPageSayingSo) {
  config_->user_management = config::UserManagement::external;

  Response signup = get("/signup");
  Response access = get("/access");

  EXPECT_NE(signup.body.find("<h1>Accounts are managed elsewhere</h1>"), std::string::npos) << signup.body;
  EXPECT_NE(access.body.find("<h1>Accounts are managed elsewhere</h1>"), std::string::npos);
}

}  // namespace
}  // namespace dirproxy::web
