// web, the web pages' listener (WEB.md "Configuration"): its defaults, the
// listen URL, TLS, trusted proxies, template overrides, limits, and every
// refusal and warning.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::load_ok;
using testing::ScratchDirectory;

const std::string kBaseUrl = "site:\n  base_url: https://id.example.com\n";

// kMinimal with a site.base_url and a web section listening on `url`.
std::string web_on(const std::string& url, const std::string& more = "") {
  return kMinimal + kBaseUrl + "web:\n  listen: \"" + url + "\"\n" + more;
}

std::string listen_error(const std::string& url, const std::string& why = "") {
  return "web.listen: expected http://ADDRESS[:PORT] or https://ADDRESS[:PORT] with an IPv4 or [IPv6] address, "
         "got '" +
         url + "'" + why;
}

TEST(Web, AbsentMeansNoListener) { EXPECT_FALSE(load_ok(kMinimal).web.has_value()); }

TEST(Web, ListenAloneTakesEveryDefault) {
  const Config config = load_ok(web_on("http://127.0.0.1:8080"));
  ASSERT_TRUE(config.web.has_value());
  const Web& web = *config.web;
  EXPECT_EQ(web.listen.url, "http://127.0.0.1:8080");
  EXPECT_EQ(web.listen.scheme, WebScheme::http);
  EXPECT_EQ(web.listen.address, "127.0.0.1");
  EXPECT_EQ(web.listen.port, 8080);
  EXPECT_FALSE(web.tls.has_value());
  EXPECT_THAT(web.trusted_proxies, IsEmpty());
  EXPECT_THAT(web.admin_groups, IsEmpty());
  EXPECT_EQ(web.session_ttl, std::chrono::minutes(30));
  EXPECT_THAT(web.templates, IsEmpty());
  EXPECT_EQ(web.stylesheet, "");
  EXPECT_EQ(web.limits.max_connections, 512u);
  EXPECT_EQ(web.limits.max_header_bytes, 8192u);
  EXPECT_EQ(web.limits.max_body_bytes, 65536u);
  EXPECT_EQ(web.limits.read_timeout, std::chrono::seconds(20));
  EXPECT_EQ(web.limits.idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(web.limits.write_timeout, std::chrono::seconds(20));
}

TEST(Web, PortsDefaultToTheSchemesAndIpv6IsBracketed) {
  EXPECT_EQ(load_ok(web_on("http://127.0.0.1")).web->listen.port, 80);
  EXPECT_EQ(load_ok(web_on("http://[::1]:8080/")).web->listen.address, "::1");
  ScratchDirectory scratch;
  scratch.write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  scratch.write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  const Config config = load_ok(
      web_on("https://[::1]", "  tls:\n    certificate_file: cert.pem\n    key_file: key.pem\n"), scratch.path());
  EXPECT_EQ(config.web->listen.scheme, WebScheme::https);
  EXPECT_EQ(config.web->listen.port, 443);
  ASSERT_TRUE(config.web->tls.has_value());
  EXPECT_EQ(config.web->tls->certificate_file, (scratch.path() / "cert.pem").string());
}

TEST(Web, ListenUrlsThatAreNotOneAreRefusedNamingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ftp://127.0.0.1", ""},
      {"http://localhost:8080", " (not an IP address)"},
      {"http://[::1:8080", " (no ']' after the IPv6 address)"},
      {"http://[::1]x", ""},
      {"http://127.0.0.1:0", " (the port must be 1 to 65535)"},
      {"http://127.0.0.1:65536", " (the port must be 1 to 65535)"},
      {"http://[127.0.0.1]:80", " (not an IP address)"},
  };
  for (const auto& [url, why] : cases) {
    EXPECT_THAT(load(web_on(url)).errors, ElementsAre(HasSubstr(listen_error(url, why)))) << url;
  }
}

TEST(Web, HttpsNeedsTlsAndHttpRefusesIt) {
  EXPECT_THAT(load(web_on("https://127.0.0.1:8443")).errors,
              ElementsAre(HasSubstr("web.tls: required when listen is https:// (certificate_file and key_file)")));
  ScratchDirectory scratch;
  scratch.write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  scratch.write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  EXPECT_THAT(load(web_on("http://127.0.0.1", "  tls:\n    certificate_file: cert.pem\n    key_file: key.pem\n"),
                   scratch.path())
                  .errors,
              ElementsAre(HasSubstr("web.tls: has no effect: listen is http://, so no TLS is served")));
  EXPECT_THAT(load(web_on("https://127.0.0.1", "  tls:\n    certificate_file: missing.pem\n    key_file: key.pem\n"),
                   scratch.path())
                  .errors,
              ElementsAre(AllOf(HasSubstr("web.tls.certificate_file"), HasSubstr("missing.pem"))));
}

TEST(Web, TrustedProxiesAreAddressesOrNetworks) {
  const Config config = load_ok(web_on("http://127.0.0.1", "  trusted_proxies: [\"10.0.0.0/8\", \"::1\", \"fd00::/8\"]\n"));
  EXPECT_THAT(config.web->trusted_proxies, ElementsAre("10.0.0.0/8", "::1", "fd00::/8"));
  for (const std::string bad : {"10.0.0.0/33", "proxy.example.com", "10.0.0.0/", "::1/129"}) {
    EXPECT_THAT(load(web_on("http://127.0.0.1", "  trusted_proxies: [\"" + bad + "\"]\n")).errors,
                ElementsAre(HasSubstr("web.trusted_proxies[0]: expected an IP address or a network like 10.0.0.0/8 "
                                      "or fd00::/8, got '" +
                                      bad + "'")))
        << bad;
  }
}

TEST(Web, TemplatesDirOverridesAreReadByNameAndOtherFilesLeftAlone) {
  ScratchDirectory scratch;
  scratch.write("pages/signup.html", "<h1>{{title}}</h1>\n");
  scratch.write("pages/README.txt", "notes\n");
  scratch.write("site.css", "body { color: black; }\n");
  const Config config =
      load_ok(web_on("http://127.0.0.1", "  templates_dir: pages\n  stylesheet_file: site.css\n"), scratch.path());
  ASSERT_EQ(config.web->templates.size(), 1u);
  EXPECT_EQ(config.web->templates[0].name, "signup");
  EXPECT_EQ(config.web->templates[0].text, "<h1>{{title}}</h1>\n");
  EXPECT_EQ(config.web->stylesheet, "body { color: black; }\n");

  EXPECT_THAT(load(web_on("http://127.0.0.1", "  templates_dir: nowhere\n"), scratch.path()).errors,
              ElementsAre(HasSubstr("web.templates_dir: not a readable directory: " +
                                    (scratch.path() / "nowhere").string())));
}

TEST(Web, LimitsAreChecked) {
  const Config config = load_ok(web_on("http://127.0.0.1",
                                       "  limits:\n    max_connections: 10\n    max_body_bytes: 2048\n"
                                       "    idle_timeout: 5s\n"));
  EXPECT_EQ(config.web->limits.max_connections, 10u);
  EXPECT_EQ(config.web->limits.max_body_bytes, 2048u);
  EXPECT_EQ(config.web->limits.idle_timeout, std::chrono::seconds(5));
  EXPECT_THAT(load(web_on("http://127.0.0.1", "  limits:\n    max_body_bytes: 100\n")).errors,
              ElementsAre(HasSubstr("web.limits.max_body_bytes")));
  EXPECT_THAT(load(web_on("http://127.0.0.1", "  limits:\n    max_connections: 0\n")).errors,
              ElementsAre(HasSubstr("web.limits.max_connections")));
}

TEST(Web, WarnsWhenMailedLinksMissThePagesAndWhenPasswordsCrossPlainHttp) {
  const LoadResult without_base_url = load(kMinimal + "web:\n  listen: http://127.0.0.1:8080\n");
  EXPECT_THAT(without_base_url.errors, IsEmpty());
  EXPECT_THAT(without_base_url.warnings,
              Contains(HasSubstr("site.base_url: is not set, so the links in mail point at http://localhost")));

  const LoadResult exposed = load(web_on("http://192.0.2.10:8080"));
  EXPECT_THAT(exposed.errors, IsEmpty());
  EXPECT_THAT(exposed.warnings, Contains(HasSubstr("web.listen: serves passwords over plain HTTP to a non-loopback "
                                                   "address with no trusted_proxies")));
  EXPECT_THAT(load(web_on("http://192.0.2.10:8080", "  trusted_proxies: [\"192.0.2.1\"]\n")).warnings, IsEmpty());
  EXPECT_THAT(load(web_on("http://127.0.0.1:8080")).warnings, IsEmpty());
}

}  // namespace
}  // namespace dirproxy::config
