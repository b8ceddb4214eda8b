// From a page's Response to the HTTP answer (web_response.hpp): the
// headers on every answer, cookies, and redirects that never leave the site.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "frontends/web/web_response.hpp"

namespace dirproxy::web {
namespace {

std::string header(const HttpResponse& response, const char* name) {
  auto found = response.find(name);
  return found == response.end() ? "(none)" : std::string(found->value());
}

TEST(IsLocalPath, TakesOnlyAPathOfThisSite) {
  EXPECT_TRUE(is_local_path("/"));
  EXPECT_TRUE(is_local_path("/signup?done=1"));
  EXPECT_TRUE(is_local_path("/admin/users/ann"));
  for (const char* target : {"", "//evil.example", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
                             "https://evil.example/", "evil.example", "/a\r\nSet-Cookie: x=1", "/a\tb", "javascript:x",
                             "/a\\b"}) {
    EXPECT_FALSE(is_local_path(target)) << target;
  }
}

TEST(SetCookieValue, AlwaysPathSecureHttpOnlyAndStrict) {
  EXPECT_EQ(set_cookie_value({.name = "__Host-dirproxy-session", .value = "abc-_123", .max_age_s = 1800}),
            "__Host-dirproxy-session=abc-_123; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=1800");
  EXPECT_EQ(set_cookie_value({.name = "x", .value = "", .max_age_s = 0}),
            "x=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
  EXPECT_EQ(set_cookie_value({.name = "x", .value = "1", .max_age_s = std::nullopt}),
            "x=1; Path=/; Secure; HttpOnly; SameSite=Strict");
}

TEST(SetCookieValue, RefusesWhatWouldChangeTheCookieOrTheHeader) {
  EXPECT_FALSE(set_cookie_value({.name = "x", .value = "a; Domain=evil.example", .max_age_s = std::nullopt}));
  EXPECT_FALSE(set_cookie_value({.name = "x", .value = "a\r\nX: y", .max_age_s = std::nullopt}));
  EXPECT_FALSE(set_cookie_value({.name = "x", .value = "a b", .max_age_s = std::nullopt}));
  EXPECT_FALSE(set_cookie_value({.name = "x=y", .value = "a", .max_age_s = std::nullopt}));
  EXPECT_FALSE(set_cookie_value({.name = "", .value = "a", .max_age_s = std::nullopt}));
}

TEST(ToHttp, EveryAnswerCarriesTheSecurityHeaders) {
  Response page;
  page.body = "<p>hi</p>";
  auto answer = to_http(page, 11, true, false);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->result_int(), 200u);
  EXPECT_EQ(header(*answer, "Content-Security-Policy"), "default-src 'self'; form-action 'self'; frame-ancestors 'none'");
  EXPECT_EQ(header(*answer, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header(*answer, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(*answer, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(*answer, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(*answer, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(header(*answer, "Content-Length"), "9");
  EXPECT_EQ(answer->body(), "<p>hi</p>");
}

TEST(ToHttp, NoStoreForPagesWithTokensOrPasswords) {
  Response page;
  page.no_store = true;
  EXPECT_EQ(header(*to_http(page, 11, true, false), "Cache-Control"), "no-store");
}

TEST(ToHttp, HeadKeepsTheLengthWithoutTheBody) {
  Response page;
  page.body = "12345";
  auto answer = to_http(page, 11, true, true);
  EXPECT_EQ(header(*answer, "Content-Length"), "5");
  EXPECT_EQ(answer->body(), "");
}

TEST(ToHttp, RedirectsOnlyToAPathOfThisSite) {
  auto local = to_http(redirect_to("/signup/done"), 11, true, false);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->result_int(), 303u);
  EXPECT_EQ(header(*local, "Location"), "/signup/done");
  for (const char* target : {"//evil.example", "/\\evil.example", "https://evil.example"}) {
    auto away = to_http(redirect_to(target), 11, true, false);
    ASSERT_FALSE(away) << target;
    EXPECT_EQ(away.error().code, ErrorCode::internal_error);
  }
}

TEST(ToHttp, WritesEveryCookieAndRefusesAnUnsafeOne) {
  Response page;
  page.cookies = {{.name = "a", .value = "1", .max_age_s = 60}, {.name = "b", .value = "", .max_age_s = 0}};
  auto answer = to_http(page, 11, true, false);
  ASSERT_TRUE(answer);
  std::vector<std::string> cookies;
  for (auto [it, end] = answer->equal_range("Set-Cookie"); it != end; ++it) cookies.emplace_back(it->value());
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=60",
                                               "b=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"}));
  page.cookies = {{.name = "a", .value = "1;x", .max_age_s = std::nullopt}};
  EXPECT_FALSE(to_http(page, 11, true, false));
}

TEST(ToHttp, RefusesAHeaderOrStatusThatCannotBeWritten) {
  Response header_injection;
  header_injection.headers = {{"Retry-After", "1\r\nSet-Cookie: x=1"}};
  EXPECT_FALSE(to_http(header_injection, 11, true, false));
  Response bad_status;
  bad_status.status = 999;
  EXPECT_FALSE(to_http(bad_status, 11, true, false));
  Response extra;
  extra.status = 405;
  extra.headers = {{"Allow", "GET, HEAD"}};
  EXPECT_EQ(header(*to_http(extra, 11, true, false), "Allow"), "GET, HEAD");
}

TEST(ErrorPage, SaysWhatHappenedInTheErrorTemplate) {
  auto templates = PageTemplates::build(config::Config{});
  ASSERT_TRUE(templates);
  const Response not_found = error_page(**templates, 404);
  EXPECT_EQ(not_found.status, 404u);
  EXPECT_NE(not_found.body.find("<h1>Page not found</h1>"), std::string::npos) << not_found.body;
  EXPECT_NE(not_found.body.find("<title>Page not found · dirproxy</title>"), std::string::npos);
  const Response teapot = error_page(**templates, 418);
  EXPECT_EQ(teapot.status, 418u);
  EXPECT_NE(teapot.body.find("Something went wrong"), std::string::npos);
}

}  // namespace
}  // namespace dirproxy::web
