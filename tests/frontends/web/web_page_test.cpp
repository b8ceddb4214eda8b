// The web front end's request decoding and page templates (web_page.hpp,
// page_templates.hpp).
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "frontends/web/page_templates.hpp"
#include "frontends/web/web_page.hpp"

namespace dirproxy::web {
namespace {

TEST(ParseUrlencoded, DecodesPlusAndPercentInOrder) {
  auto fields = parse_urlencoded("username=ann+lee&email=a%40example.com&group=x&group=y&empty&&name=%C3%A9");
  ASSERT_TRUE(fields) << fields.error().message;
  EXPECT_EQ(fields->value("username"), "ann lee");
  EXPECT_EQ(fields->value("email"), "a@example.com");
  EXPECT_EQ(fields->all("group"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(fields->get("empty"), std::optional<std::string_view>(""));
  EXPECT_EQ(fields->value("name"), "\xC3\xA9");
  EXPECT_FALSE(fields->get("missing"));
}

TEST(ParseUrlencoded, RefusesMalformedEscapesInvalidUtf8NulAndTooManyFields) {
  EXPECT_EQ(parse_urlencoded("a=%4").error().code, ErrorCode::bad_request);
  EXPECT_EQ(parse_urlencoded("a=%zz").error().field, "a");
  EXPECT_EQ(parse_urlencoded("a=%FF").error().field, "a");
  EXPECT_EQ(parse_urlencoded("a=%00").error().field, "a");
  EXPECT_EQ(parse_urlencoded("a=1&b=2&c=3", 2).error().message, "more than 2 fields");
}

TEST(ParseCookies, SplitsPairsTrimsAndKeepsTheFirst) {
  const auto cookies = parse_cookies(" a=1;b = \"two\" ; junk; a=3; =x");
  EXPECT_EQ(cookies.size(), 2u);
  EXPECT_EQ(cookies.at("a"), "1");
  EXPECT_EQ(cookies.at("b"), "two");
}

TEST(Routes, ExactPathBeforeLongestPrefix) {
  Routes routes;
  int chosen = 0;
  auto handler = [&chosen](int n) -> Handler {
    return [&chosen, n](const PageContext&, const Request&) -> awaitable<Response> {
      chosen = n;
      co_return Response{};
    };
  };
  routes.add("/admin/", handler(1));
  routes.add("/admin/users/", handler(2));
  routes.add("/admin/users", handler(3));
  EXPECT_NE(routes.find("/admin/users"), nullptr);
  EXPECT_EQ(routes.find("/signup"), nullptr);
  EXPECT_EQ(routes.find("/admin/users/x"), routes.find("/admin/users/"));
  EXPECT_NE(routes.find("/admin/users/x"), routes.find("/admin/groups"));
}

TEST(PageTemplates, EscapesValuesAndPutsThePageInTheLayout) {
  config::Config config;
  config.site.name = "Example & Co";
  auto templates = PageTemplates::build(config);
  ASSERT_TRUE(templates) << templates.error().message;
  const std::string page = (*templates)->render_page("error", {{"title", std::string("Not found")},
                                                               {"message", std::string("<script>x</script>")}});
  EXPECT_NE(page.find("<title>Not found · Example &amp; Co</title>"), std::string::npos) << page;
  EXPECT_NE(page.find("<p>&lt;script&gt;x&lt;&#x2F;script&gt;</p>"), std::string::npos) << page;
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  ASSERT_NE((*templates)->file("dirproxy.css"), nullptr);
  EXPECT_EQ((*templates)->file("dirproxy.css")->content_type, "text/css; charset=utf-8");
}

TEST(PageTemplates, OverridesReplaceBuiltInsAndUnknownNamesAreRefused) {
  config::Config config;
  config.web.emplace();
  config.web->templates.push_back({"error", "<p>custom {{message}}</p>"});
  config.web->stylesheet_file = "/etc/site.css";
  config.web->stylesheet = "body{}";
  auto templates = PageTemplates::build(config);
  ASSERT_TRUE(templates);
  EXPECT_EQ((*templates)->render("error", {{"message", std::string("m")}}), "<p>custom m</p>");
  EXPECT_EQ((*templates)->file("dirproxy.css")->content, "body{}");

  config.web->templates.push_back({"sigup", "x"});
  auto refused = PageTemplates::build(config);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "web.templates_dir: sigup.html is not one of the built-in templates (docs/web.md)");
}

}  // namespace
}  // namespace dirproxy::web
