// The admin console end to end: the real dirproxyd with its web listener,
// the SMTP capture server, headless Chromium for what a person does
// (sign in, every tab, add a user, reset the shared link, send and revoke
// invitations) and curl for what a browser hides (the session cookie after
// logout, CSRF tokens missing or wrong, idle expiry). Links are followed to
// the socket's signup and reset_password, so these tests do not depend on
// the public pages.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "account_test_support.hpp"
#include "support/browser.hpp"
#include "support/slapd_server.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::Browser;

// What curl saw of one HTTP exchange.
struct HttpAnswer {
  int status = 0;
  std::string headers;  // the raw header block
  std::string body;

  std::string header(const std::string& name) const {
    std::smatch match;
    if (!std::regex_search(headers, match, std::regex("(^|\n)" + name + ": ([^\r\n]*)", std::regex::icase))) {
      return {};
    }
    return match[2];
  }
};

class WebAdmin : public AccountTest {
 protected:
  void SetUp() override {
    port_ = dirproxy::testing::free_port(held_ports_);
    held_ports_.clear();
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    configure_smtp();
    config_["site"]["base_url"] = base_;
    config_["web"] = {{"listen", base_}, {"admin_groups", {"admins"}}, {"session_ttl", "30m"}};
    config_["log"]["audit"] = true;
  }

  // Starts the daemon with boss in admins and bob in no group.
  void start_with_admin() {
    start();
    add_admin();
    add_user("bob");
  }

  void sign_in(Browser& browser, const std::string& username, const std::string& password = kPassword) {
    browser.open(base_ + "/login");
    browser.fill("#username", username);
    browser.fill("#password", password);
    browser.click("form[action='/login'] button[type=submit]");
  }

  // One request with curl: `form` fields urlencoded as a POST body when
  // given, `cookie` as the Cookie header.
  HttpAnswer http(const std::string& method, const std::string& path, const std::string& cookie = "",
                  const std::vector<std::pair<std::string, std::string>>& form = {}) {
    std::vector<std::string> args = {"-s", "-i", "-X", method, "--max-time", "10"};
    if (!cookie.empty()) args.insert(args.end(), {"-H", "Cookie: " + cookie});
    for (const auto& [name, value] : form) args.insert(args.end(), {"--data-urlencode", name + "=" + value});
    args.push_back(base_ + path);
    const auto result = run_program("curl", args);
    if (result.exit_code != 0) throw std::runtime_error("curl failed: " + result.err);
    HttpAnswer answer;
    const auto end = result.out.find("\r\n\r\n");
    answer.headers = result.out.substr(0, end);
    answer.body = end == std::string::npos ? "" : result.out.substr(end + 4);
    answer.status = std::stoi(answer.headers.substr(answer.headers.find(' ') + 1, 3));
    return answer;
  }

  static std::string cookie_value(const HttpAnswer& answer, const std::string& name) {
    std::smatch match;
    if (!std::regex_search(answer.headers, match,
                           std::regex("Set-Cookie: " + name + "=([^;\r\n]*)", std::regex::icase))) {
      return {};
    }
    return match[1];
  }

  static std::string csrf_in(const std::string& body) {
    std::smatch match;
    if (!std::regex_search(body, match, std::regex(R"re(name="csrf" value="([^"]+)")re"))) return {};
    return match[1];
  }

  // Signs in with curl; the session cookie ("__Host-dirproxy-session=...")
  // and the session's CSRF token (from the users tab).
  std::pair<std::string, std::string> curl_sign_in(const std::string& username) {
    const HttpAnswer form = http("GET", "/login");
    const std::string form_cookie = "__Host-dirproxy-form=" + cookie_value(form, "__Host-dirproxy-form");
    const HttpAnswer signed_in = http("POST", "/login", form_cookie,
                                      {{"csrf", csrf_in(form.body)}, {"username", username}, {"password", kPassword}});
    if (signed_in.status != 303) throw std::runtime_error("sign-in failed: " + signed_in.headers + signed_in.body);
    const std::string session = "__Host-dirproxy-session=" + cookie_value(signed_in, "__Host-dirproxy-session");
    const HttpAnswer users = http("GET", "/admin/users", session);
    return {session, csrf_in(users.body)};
  }

  // What a console page answers a browser holding `session`: "200", or
  // "303 /login" once the session has ended.
  std::string console_answer(const std::string& session) {
    const HttpAnswer page = http("GET", "/admin/users", session);
    return page.status == 303 ? "303 " + page.header("Location") : std::to_string(page.status);
  }

  std::vector<std::string> audit_lines_with(const std::string& text) const {
    std::vector<std::string> lines;
    std::istringstream log(daemon_.log());
    for (std::string line; std::getline(log, line);) {
      if (line.find("[audit]") != std::string::npos && line.find(text) != std::string::npos) lines.push_back(line);
    }
    return lines;
  }

  std::vector<dirproxy::UniqueFd> held_ports_;
  int port_ = 0;
  std::string base_;
};

TEST_F(WebAdmin, AnAdminSignsInAndEveryTabShows) {
  start_with_admin();
  Browser browser;

  sign_in(browser, "boss");

  EXPECT_EQ(browser.url(), base_ + "/admin/users");
  const std::vector<std::pair<std::string, std::string>> tabs = {{"/admin/users", "Users"},
                                                                 {"/admin/groups", "Groups"},
                                                                 {"/admin/invitations", "Invite users"},
                                                                 {"/admin/access-requests", "Access requests"},
                                                                 {"/admin/signup-options", "Signup options"},
                                                                 {"/admin/mail-queue", "Mail queue"},
                                                                 {"/admin/directories", "Directories"}};
  for (const auto& [path, heading] : tabs) {
    browser.click("nav.tabs a[href='" + path + "']");

    EXPECT_EQ(browser.url(), base_ + path);
    EXPECT_EQ(browser.text("main h1"), heading);
    EXPECT_EQ(browser.text("nav.tabs a[aria-current=page]"), heading);
  }
  browser.open(base_ + "/admin/signup-options");
  EXPECT_NE(browser.text("main").find("These settings live in the configuration file"), std::string::npos);
}

TEST_F(WebAdmin, AUserInNoAdminGroupIsRefused) {
  start_with_admin();
  Browser browser;

  sign_in(browser, "bob");

  EXPECT_NE(browser.text("main").find("This account may not use the admin console."), std::string::npos);
  browser.open(base_ + "/admin/users");
  EXPECT_EQ(browser.url(), base_ + "/login");
}

TEST_F(WebAdmin, AWrongPasswordIsRefused) {
  start_with_admin();
  Browser browser;

  sign_in(browser, "boss", "not the password");

  EXPECT_EQ(browser.url(), base_ + "/login");
  EXPECT_NE(browser.text("main").find("The username or password is wrong."), std::string::npos);
  EXPECT_EQ(browser.value("#username"), "boss");
  EXPECT_EQ(browser.value("#password"), "");
}

TEST_F(WebAdmin, AnAddedUserGetsTheSetPasswordMailAndItsLinkWorks) {
  start_with_admin();
  Browser browser;
  sign_in(browser, "boss");
  browser.open(base_ + "/admin/users/new");

  browser.fill("#username", "carol");
  browser.fill("#email", "carol@example.com");
  browser.fill("#display_name", "Carol");
  browser.click("form[action='/admin/users/new'] button[type=submit]");

  EXPECT_EQ(browser.url(), base_ + "/admin/user?username=carol");
  EXPECT_EQ(browser.text("p.notice"), "Added carol. A mail with a link to set a password went to carol@example.com.");
  const auto mails = mails_to("carol@example.com", 1);
  ASSERT_EQ(mails.size(), 1u);
  const auto link = dirproxy::testing::first_link(mails[0].body);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->rfind(base_ + "/password/reset?token=", 0), 0u) << *link;
  EXPECT_EQ(outcome_of(send({{"op", "reset_password"}, {"token", token_in_link(*link)}, {"password", kPassword}})),
            "ok");
  EXPECT_EQ(outcome_of(authenticate("carol", kPassword)), "ok");
}

TEST_F(WebAdmin, ResettingTheSharedLinkRefusesTheOldOne) {
  config_["signup"] = {{"mode", "disabled"}};
  start_with_admin();
  Browser browser;
  sign_in(browser, "boss");
  browser.open(base_ + "/admin/invitations");
  const std::string old_link = browser.value("#shared-link");
  ASSERT_EQ(old_link.rfind(base_ + "/signup?token=", 0), 0u) << old_link;

  browser.click("form[action='/admin/invitations/reset-link'] button[type=submit]");

  const std::string new_link = browser.value("#shared-link");
  EXPECT_NE(new_link, old_link);
  EXPECT_NE(browser.text("p.notice").find("The shared link was reset"), std::string::npos);
  // What a person who opens each link sees, then what signing up answers.
  browser.open(old_link);
  EXPECT_EQ(browser.text("h1"), "This invitation link cannot be used");
  browser.open(new_link);
  EXPECT_EQ(browser.text("h1"), "Accept your invitation");
  EXPECT_EQ(outcome_of(signup("dan", "dan@example.com", token_in_link(old_link))), "invalid_token");
  EXPECT_EQ(outcome_of(signup("dan", "dan@example.com", token_in_link(new_link))), "ok");
}

TEST_F(WebAdmin, ARevokedInvitationsLinkIsRefused) {
  config_["signup"] = {{"mode", "disabled"}};
  start_with_admin();
  Browser browser;
  sign_in(browser, "boss");
  browser.open(base_ + "/admin/invitations");
  browser.fill("#emails", "dan@example.com");
  browser.fill("#message", "Welcome aboard");
  browser.click("form[action='/admin/invitations/send'] button[type=submit]");
  EXPECT_EQ(browser.text("p.notice"), "Invitations went to 1 address: dan@example.com.");
  const auto mails = mails_to("dan@example.com", 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].body.find("Welcome aboard"), std::string::npos);

  browser.click("form[action='/admin/invitations/revoke'] button[type=submit]");

  EXPECT_NE(browser.text("p.notice").find("is revoked: its link no longer works."), std::string::npos);
  EXPECT_NE(browser.text("table").find("revoked"), std::string::npos);
  browser.open(base_ + "/signup?token=" + token_in_mail(mails[0]));
  EXPECT_EQ(browser.text("h1"), "This invitation link cannot be used");
  EXPECT_EQ(outcome_of(signup("dan", "dan@example.com", token_in_mail(mails[0]))), "invalid_token");
}

TEST_F(WebAdmin, AnActionsAuditLineNamesTheAdmin) {
  start_with_admin();
  Browser browser;
  sign_in(browser, "boss");
  browser.open(base_ + "/admin/groups");

  browser.fill("#name", "ops");
  browser.click("form[action='/admin/groups'] button[type=submit]");

  EXPECT_EQ(browser.url(), base_ + "/admin/group?name=ops");
  ASSERT_TRUE(daemon_.wait_for_log("op=add_group actor=\"boss\""));
  const auto lines = audit_lines_with("op=add_group actor=\"boss\" name=\"ops\"");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("client_ip=\"127.0.0.1\" result=ok"), std::string::npos) << lines[0];
}

TEST_F(WebAdmin, LogoutEndsTheSessionAndTheOldCookieNoLongerWorks) {
  start_with_admin();
  const auto [session, csrf] = curl_sign_in("boss");
  ASSERT_EQ(console_answer(session), "200");

  const HttpAnswer out = http("POST", "/logout", session, {{"csrf", csrf}});

  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.header("Location"), "/login");
  EXPECT_EQ(console_answer(session), "303 /login");
}

TEST_F(WebAdmin, APostWithoutOrWithAWrongCsrfTokenIs403AndDoesNothing) {
  start_with_admin();
  const auto [session, csrf] = curl_sign_in("boss");
  ASSERT_FALSE(csrf.empty());

  const HttpAnswer missing = http("POST", "/admin/groups", session, {{"name", "ops"}});
  const HttpAnswer wrong = http("POST", "/admin/groups", session, {{"name", "ops"}, {"csrf", csrf + "x"}});

  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "ops"}})), "not_found");
  EXPECT_EQ(http("POST", "/admin/groups", session, {{"name", "ops"}, {"csrf", csrf}}).status, 303);
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "ops"}})), "ok");
}

TEST_F(WebAdmin, AnIdleSessionEnds) {
  config_["web"]["session_ttl"] = "2s";
  start_with_admin();
  const auto [session, csrf] = curl_sign_in("boss");
  ASSERT_EQ(console_answer(session), "200");

  std::this_thread::sleep_for(std::chrono::milliseconds(3100));

  EXPECT_EQ(console_answer(session), "303 /login");
}

TEST_F(WebAdmin, AReloadThatRemovesTheAdminGroupEndsTheSession) {
  start_with_admin();
  const auto [session, csrf] = curl_sign_in("boss");
  ASSERT_EQ(console_answer(session), "200");

  config_["web"]["admin_groups"] = {"operators"};
  daemon_.write_config(config_);
  daemon_.signal(SIGHUP);
  ASSERT_TRUE(daemon_.wait_for_log("configuration reloaded", 10s)) << daemon_.log_tail();

  EXPECT_EQ(console_answer(session), "303 /login");
}

// The sign-in page and every tab, with something in each, at 320 CSS
// pixels (nothing wider than the screen: tables scroll inside their box)
// and on a desktop. With DIRPROXY_WEB_SCREENSHOTS set to a directory, the
// pictures of docs/web.md are written there (admin-TAB-WIDTH.png).
TEST_F(WebAdmin, EveryPageFitsA320PixelScreenAndADesktop) {
  config_["access_requests"] = {{"enabled", true}};
  config_["signup"] = {{"mode", "restricted"}, {"domains", {"example.com"}}};
  start_with_admin();
  add_group("developers");
  add_member("developers", "bob");
  arrange({{"op", "request_access"},
           {"email", "erin@example.org"},
           {"display_name", "Erin Example"},
           {"message", "I work with Bob on the wiki."}});
  arrange({{"op", "send_invitations"}, {"emails", {"dan@example.com", "frank@example.com"}}});
  const char* wanted = std::getenv("DIRPROXY_WEB_SCREENSHOTS");
  dirproxy::testing::TemporaryDirectory scratch;
  const std::filesystem::path dir = wanted != nullptr ? std::filesystem::path(wanted) : scratch.path();
  Browser browser;
  auto picture = [&](const std::string& name) {
    for (const int width : {320, 1280}) {
      browser.screenshot(dir / ("admin-" + name + "-" + std::to_string(width) + ".png"), width);
      if (width == 320) {
        EXPECT_EQ(browser.script("return document.documentElement.scrollWidth <= window.innerWidth"), true)
            << name << " is wider than a 320 px screen";
      }
    }
  };
  browser.open(base_ + "/login");
  picture("login");
  sign_in(browser, "boss");
  for (const std::string tab :
       {"users", "groups", "invitations", "access-requests", "signup-options", "mail-queue", "directories"}) {
    browser.open(base_ + "/admin/" + tab);
    picture(tab);
  }
  browser.open(base_ + "/admin/user?username=bob");
  picture("user");
  browser.open(base_ + "/admin/users/new");
  picture("add-user");
}

}  // namespace
}  // namespace dirproxy::integration
