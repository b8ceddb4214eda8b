// The public pages end to end: the real dirproxyd with its web listener,
// the SMTP capture, and headless Chromium (tests/support/browser.hpp)
// following the links of the mails the daemon sends; curl for what a
// browser hides (a POST without its form token, a GET of a confirm link).
// Each flow ends where it matters: an authenticate over the socket with the
// password typed into the page.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "account_test_support.hpp"
#include "support/browser.hpp"
#include "support/slapd_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::Browser;

constexpr const char* kWebPassword = "a password typed in a page";

class WebPublic : public AccountTest {
 protected:
  WebPublic() {
    std::vector<UniqueFd> held;
    port_ = dirproxy::testing::free_port(held);
    base_url_ = "http://127.0.0.1:" + std::to_string(port_);
    config_["site"] = {{"name", "Example Site"}, {"base_url", base_url_}};
    config_["web"] = {{"listen", base_url_}};
    // Every page view that checks a token counts; the flows here make more
    // than the default 20 an hour from 127.0.0.1.
    config_["security"] = {{"rate_limit", {{"requests", 500}, {"per", "1h"}}}};
  }

  std::string url(const std::string& path) const { return base_url_ + path; }

  // The link of the only mail to `address` (waiting for `count` mails in all).
  std::string link_mailed_to(const std::string& address, std::size_t count = 1) {
    auto mails = mails_to(address, count);
    if (mails.size() != 1) throw std::runtime_error("expected one mail to " + address);
    auto link = dirproxy::testing::first_link(mails[0].body);
    if (!link) throw std::runtime_error("no link in the mail to " + address);
    return *link;
  }

  // Fills the signup form's fields that are not read-only and sends it.
  void fill_signup(const std::string& username, const std::string& email, const std::string& password = kWebPassword,
                   const std::string& confirmation = kWebPassword) {
    browser_.fill("#username", username);
    browser_.fill("#display_name", "User " + username);
    if (!email.empty()) browser_.fill("#email", email);
    browser_.fill("#password", password);
    browser_.fill("#password_confirm", confirmation);
    browser_.click("button[type=submit]");
  }

  // Types `password` into a set-password form, twice, and sends it.
  void choose_password(const std::string& password) {
    browser_.fill("#password", password);
    browser_.fill("#password_confirm", password);
    browser_.click("button[type=submit]");
  }

  // The page as it is now, at 320 CSS pixels wide and at 1280: it must fit
  // 320 px without scrolling sideways. With DIRPROXY_SCREENSHOTS=DIR the
  // pictures are kept as DIR/public-NAME-320.png and -1280.png (docs/web.md
  // shows them); otherwise they go to the daemon's temporary directory.
  void picture(const std::string& name) {
    const char* kept = std::getenv("DIRPROXY_SCREENSHOTS");
    const std::filesystem::path dir =
        kept != nullptr ? std::filesystem::path(kept) : std::filesystem::path(daemon_.dir());
    browser_.screenshot(dir / ("public-" + name + "-320.png"), 320);
    EXPECT_LE(browser_.script("return document.documentElement.scrollWidth").get<int>(), 320) << name;
    browser_.screenshot(dir / ("public-" + name + "-1280.png"), 1280);
  }

  // curl with `args` against the listener: the status line's code and the
  // body, as "CODE\nBODY".
  ProcessOutput curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"-s", "-o", "-", "-w", "\n%{http_code}"});
    return run_program("/usr/bin/curl", args);
  }
  static std::string status_of(const ProcessOutput& output) { return output.out.substr(output.out.rfind('\n') + 1); }

  int port_ = 0;
  std::string base_url_;
  Browser browser_;
};

TEST_F(WebPublic, AnInvitationMailLeadsToASignupWithTheAddressFixedAndTheAccountAuthenticates) {
  configure_smtp();
  start();
  arrange({{"op", "send_invitations"}, {"emails", {"ann@example.com"}}});
  const std::string link = link_mailed_to("ann@example.com");
  ASSERT_EQ(link.rfind(url("/signup?token="), 0), 0u) << link;

  browser_.open(link);
  EXPECT_EQ(browser_.text("h1"), "Accept your invitation");
  EXPECT_EQ(browser_.value("#email"), "ann@example.com");
  EXPECT_NE(browser_.attribute("#email", "readonly"), "");
  picture("signup-invitation");
  fill_signup("ann", "");

  EXPECT_EQ(browser_.url(), url("/signup/welcome"));
  EXPECT_EQ(browser_.text("h1"), "Your account has been created");
  picture("signup-welcome");
  EXPECT_EQ(outcome_of(authenticate("ann", kWebPassword)), "ok");
  EXPECT_EQ(get_user("ann")["user"]["email"], "ann@example.com");
  browser_.open(link);
  EXPECT_EQ(browser_.text("h1"), "This invitation link cannot be used");
  EXPECT_NE(browser_.text().find("ask the administrator who invited you for a new invitation"), std::string::npos);
  picture("signup-invitation-used");
  EXPECT_EQ(daemon_.log().find(token_in_link(link)), std::string::npos) << "a token was logged";
}

TEST_F(WebPublic, TheSharedLinkTakesAnyAddress) {
  start();
  const std::string link = arrange({{"op", "get_invitation_link"}})["link"];

  browser_.open(link);
  EXPECT_EQ(browser_.attribute("#email", "readonly"), "");
  fill_signup("bob", "bob@anywhere.org");

  EXPECT_EQ(browser_.text("h1"), "Your account has been created");
  EXPECT_EQ(outcome_of(authenticate("bob", kWebPassword)), "ok");
}

TEST_F(WebPublic, ARestrictedSignupIsConfirmedByTheButtonNotByFetchingTheLink) {
  config_["signup"] = {{"mode", "restricted"}, {"domains", {"example.com", "*.corp.example"}}};
  configure_smtp();
  start();

  browser_.open(url("/signup"));
  EXPECT_NE(browser_.text().find("addresses ending in @example.com"), std::string::npos) << browser_.text();
  EXPECT_NE(browser_.text().find("any address at a subdomain of corp.example"), std::string::npos);
  picture("signup-restricted");
  fill_signup("carol", "carol@eu.corp.example");
  EXPECT_EQ(browser_.url(), url("/signup/check-mail"));
  EXPECT_EQ(browser_.text("h1"), "Check your mail");
  picture("signup-check-mail");
  const std::string link = link_mailed_to("carol@eu.corp.example");
  ASSERT_EQ(link.rfind(url("/signup/confirm?token="), 0), 0u) << link;

  // A mail scanner fetches the link, twice: nothing is created or used up.
  EXPECT_EQ(status_of(curl({link})), "200");
  EXPECT_EQ(status_of(curl({link})), "200");
  EXPECT_EQ(outcome_of(get_user("carol")), "not_found");

  browser_.open(link);
  picture("signup-confirm");
  browser_.click("button[type=submit]");
  EXPECT_EQ(browser_.url(), url("/signup/welcome"));
  EXPECT_EQ(browser_.text("h1"), "Your account has been created");
  EXPECT_EQ(outcome_of(authenticate("carol", kWebPassword)), "ok");
}

TEST_F(WebPublic, AnAdminAddedUserSetsThePasswordFromTheMail) {
  configure_smtp();
  start();
  Json request = add_user_request("dan");
  request.erase("password");
  request.erase("notify");
  arrange(request);
  const std::string link = link_mailed_to("dan@example.com");

  browser_.open(link);
  EXPECT_EQ(browser_.text("h1"), "Set your password");
  picture("password-set");
  choose_password(kWebPassword);

  EXPECT_EQ(browser_.url(), url("/password/changed"));
  EXPECT_EQ(outcome_of(authenticate("dan", kWebPassword)), "ok");
}

TEST_F(WebPublic, ForgotPasswordMailsALinkWhoseWeakPasswordComesBackAndWhoseGoodOneWorks) {
  configure_smtp();
  start();
  add_user("erin");

  browser_.open(url("/password/forgot"));
  picture("password-forgot");
  browser_.fill("#account", "erin@example.com");
  browser_.click("button[type=submit]");
  EXPECT_EQ(browser_.url(), url("/password/forgot/sent"));
  EXPECT_NE(browser_.text().find("If an account matches"), std::string::npos);
  picture("password-forgot-sent");
  const std::string link = link_mailed_to("erin@example.com");

  browser_.open(link);
  EXPECT_EQ(browser_.text("h1"), "Choose a new password");
  choose_password("short");
  EXPECT_NE(browser_.text("#password-error").find("The password must have at least"), std::string::npos);
  EXPECT_EQ(browser_.value("#password"), "");
  picture("password-reset-weak");
  choose_password(kWebPassword);

  EXPECT_EQ(browser_.url(), url("/password/changed"));
  EXPECT_EQ(outcome_of(authenticate("erin", kWebPassword)), "ok");
  browser_.open(link);
  EXPECT_EQ(browser_.text("h1"), "This link cannot be used");
  EXPECT_EQ(browser_.attribute("a[href='/password/forgot']", "href"), url("/password/forgot"));
  picture("password-link-used");
  EXPECT_EQ(daemon_.log().find(token_in_link(link)), std::string::npos) << "a token was logged";
}

TEST_F(WebPublic, ClosedSignupSaysSoAndLinksToAccessRequests) {
  config_["access_requests"] = {{"enabled", true}};
  configure_smtp();
  start();  // signup.mode defaults to disabled

  browser_.open(url("/signup"));
  EXPECT_EQ(browser_.text("h1"), "Signup is closed");
  EXPECT_EQ(browser_.count("form"), 0u);
  picture("signup-closed");
  browser_.click("a[href='/access']");

  EXPECT_EQ(browser_.url(), url("/access"));
  EXPECT_EQ(browser_.text("h1"), "Request access");
}

TEST_F(WebPublic, ForgotPasswordAnswersTheSameForAnUnknownAccount) {
  configure_smtp();
  start();

  browser_.open(url("/password/forgot"));
  browser_.fill("#account", "nobody");
  browser_.click("button[type=submit]");

  EXPECT_EQ(browser_.url(), url("/password/forgot/sent"));
}

TEST_F(WebPublic, AnAccessRequestReachesTheAdmins) {
  config_["access_requests"] = {{"enabled", true}};
  configure_smtp();
  start();

  browser_.open(url("/access"));
  browser_.fill("#display_name", "Frank");
  browser_.fill("#email", "frank@example.com");
  browser_.fill("#message", "I run the build farm.");
  picture("access");
  browser_.click("button[type=submit]");

  EXPECT_EQ(browser_.url(), url("/access/sent"));
  picture("access-sent");
  Json requests = arrange({{"op", "list_access_requests"}})["requests"];
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["email"], "frank@example.com");
  EXPECT_EQ(requests[0]["message"], "I run the build farm.");
}

TEST_F(WebPublic, ErrorsStandBesideTheirFieldsWithWhatWasTypedAndNoPassword) {
  config_["signup"] = {{"mode", "open"}};
  start();

  browser_.open(url("/signup"));
  fill_signup("Gina!", "gina@example.com");
  EXPECT_NE(browser_.text("#username-error").find("username"), std::string::npos);
  EXPECT_EQ(browser_.value("#username"), "Gina!");
  EXPECT_EQ(browser_.value("#email"), "gina@example.com");
  EXPECT_EQ(browser_.value("#password"), "");
  EXPECT_EQ(browser_.source().find(kWebPassword), std::string::npos);
  picture("signup-errors");

  fill_signup("gina", "gina@example.com", kWebPassword, "another password");
  EXPECT_EQ(browser_.text("#password_confirm-error"), "The two passwords are not the same. Type the password twice.");
  EXPECT_EQ(outcome_of(get_user("gina")), "not_found");
}

TEST_F(WebPublic, TheSignupFormIsFilledAndSentWithTheKeyboardAlone) {
  config_["signup"] = {{"mode", "open"}};
  start();

  browser_.open(url("/signup"));
  browser_.keys("\t");  // from the site's name in the header
  browser_.keys("\t");
  EXPECT_EQ(browser_.focused(), "username");
  browser_.keys("ivy\tIvy Lee\tivy@example.com\t");
  EXPECT_EQ(browser_.focused(), "password");
  browser_.keys(std::string(kWebPassword) + "\t" + kWebPassword + "\n");

  EXPECT_EQ(browser_.text("h1"), "Your account has been created");
  EXPECT_EQ(outcome_of(authenticate("ivy", kWebPassword)), "ok");
  EXPECT_EQ(get_user("ivy")["user"]["display_name"], "Ivy Lee");
}

TEST_F(WebPublic, AFormWhoseCookieWentSaysItExpiredAndItsReloadWorks) {
  config_["signup"] = {{"mode", "open"}};
  start();

  browser_.open(url("/signup"));
  browser_.clear_cookies();
  fill_signup("jo", "jo@example.com");
  EXPECT_EQ(browser_.text("h1"), "This form has expired");
  EXPECT_EQ(outcome_of(get_user("jo")), "not_found");
  picture("form-expired");
  browser_.click("a[href='/signup']");
  fill_signup("jo", "jo@example.com");

  EXPECT_EQ(browser_.text("h1"), "Your account has been created");
  EXPECT_EQ(outcome_of(authenticate("jo", kWebPassword)), "ok");
}

TEST_F(WebPublic, APostWithoutTheFormTokenOrWithAnotherIs403) {
  config_["signup"] = {{"mode", "open"}};
  start();
  const std::string form =
      "username=hal&display_name=Hal&email=hal%40example.com&password=" + std::string("long+enough+password") +
      "&password_confirm=long+enough+password";
  const std::string cookie = "__Host-dirproxy-form=" + std::string(64, 'a');

  auto without = curl({"--data", form, url("/signup")});
  auto wrong = curl({"-H", "Cookie: " + cookie, "--data", form + "&csrf=" + std::string(64, 'b'), url("/signup")});
  auto right = curl({"-H", "Cookie: " + cookie, "--data", form + "&csrf=" + std::string(64, 'a'), url("/signup")});

  EXPECT_EQ(status_of(without), "403") << without.out;
  EXPECT_NE(without.out.find("This form has expired"), std::string::npos);
  EXPECT_EQ(status_of(wrong), "403");
  EXPECT_EQ(status_of(right), "303") << right.out;
  EXPECT_EQ(outcome_of(authenticate("hal", "long enough password")), "ok");
}

}  // namespace
}  // namespace dirproxy::integration
