// The web listener (docs/web.md) against a real dirproxyd: the headers on
// every answer, 404, 405 with Allow, the limits (413, 431, 503), keep-alive
// and the idle timeout, a slow client that holds no thread, https:// with
// a test CA and a reload that swaps the certificate, X-Forwarded-For
// believed only from a trusted proxy, the stylesheet, and template
// overrides (shown, and a bad one refused by --check-config and reload).
// Raw HTTP through testing::HttpClient, to see what a browser hides;
// https:// through curl.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/daemon_harness.hpp"
#include "support/http_client.hpp"
#include "support/slapd_server.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {
namespace {

using testing::HttpAnswer;
using testing::HttpClient;
using testing::http_get;

constexpr const char* kCsp = "default-src 'self'; form-action 'self'; frame-ancestors 'none'";

class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<UniqueFd> held;
    port_ = testing::free_port(held);
  }

  // The default configuration with a web listener on http://127.0.0.1:port_.
  Json config() const {
    Json config = daemon_.default_config();
    config["site"] = {{"name", "Example Wiki"}, {"base_url", base_url()}};
    config["web"] = {{"listen", base_url()}};
    return config;
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void write_file(const std::string& path, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }

  std::string templates() const { return daemon_.dir() + "/templates"; }

  // Starts the daemon with templates() as web.templates_dir, holding
  // error.html with `text`.
  void start_with_error_template(const std::string& text) {
    write_file(templates() + "/error.html", text);
    Json settings = config();
    settings["web"]["templates_dir"] = templates();
    daemon_.start(settings);
  }

  // Reloads (SIGHUP) and waits for the daemon to say how it went.
  bool reload() const {
    const std::size_t before = daemon_.log().size();
    daemon_.signal(SIGHUP);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string since = daemon_.log().substr(before);
      if (since.find("configuration reloaded") != std::string::npos) return true;
      if (since.find("was not reloaded") != std::string::npos) return false;
      std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error("no word on the reload in 10 s");
  }

  static void expect_security_headers(const HttpAnswer& answer, const std::string& what) {
    EXPECT_EQ(answer.header("Content-Security-Policy"), kCsp) << what;
    EXPECT_EQ(answer.header("X-Frame-Options"), "DENY") << what;
    EXPECT_EQ(answer.header("Referrer-Policy"), "no-referrer") << what;
    EXPECT_EQ(answer.header("X-Content-Type-Options"), "nosniff") << what;
    EXPECT_TRUE(answer.header("Cache-Control").has_value()) << what;
  }

  DaemonHarness daemon_;
  int port_ = 0;
};

TEST_F(WebServerTest, EveryAnswerCarriesTheSecurityHeaders) {
  daemon_.start(config());
  HttpClient client(port_);
  const std::vector<std::pair<std::string, HttpAnswer>> answers = {
      {"GET /", client.request("GET", "/")},
      {"GET /static/dirproxy.css", client.request("GET", "/static/dirproxy.css")},
      {"GET /no/such/page", client.request("GET", "/no/such/page")},
      {"DELETE /", client.request("DELETE", "/")},
      {"HEAD /", client.request("HEAD", "/")},
      {"GET /a%2Fb", client.request("GET", "/a%2Fb")},
  };
  for (const auto& [what, answer] : answers) expect_security_headers(answer, what);
  EXPECT_EQ(answers[0].second.status, 200);
  EXPECT_EQ(answers[0].second.header("Cache-Control"), "no-cache");
  EXPECT_EQ(answers[2].second.status, 404);
  EXPECT_EQ(answers[3].second.status, 405);
  EXPECT_EQ(answers[5].second.status, 400);
}

TEST_F(WebServerTest, UnknownPathGetsTheErrorPageWith404) {
  daemon_.start(config());
  const HttpAnswer answer = http_get(port_, "/no/such/page?token=secret-token-value");
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(answer.body.find("<title>Page not found · Example Wiki</title>"), std::string::npos) << answer.body;
  EXPECT_NE(answer.body.find("There is no page at this address."), std::string::npos) << answer.body;
  // The log names the path, never the query string (tokens are in URLs).
  ASSERT_TRUE(daemon_.wait_for_log("GET /no/such/page 404"));
  EXPECT_EQ(daemon_.log().find("secret-token-value"), std::string::npos);
}

TEST_F(WebServerTest, AnotherMethodGets405WithAllow) {
  daemon_.start(config());
  HttpClient client(port_);
  const HttpAnswer put = client.request("PUT", "/signup", {"Content-Type: text/plain"}, "x");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("Allow"), "GET, HEAD, POST");
  const HttpAnswer post_static = client.request("POST", "/static/dirproxy.css",
                                                {"Content-Type: application/x-www-form-urlencoded"}, "a=1");
  EXPECT_EQ(post_static.status, 405);
  EXPECT_EQ(post_static.header("Allow"), "GET, HEAD");
}

TEST_F(WebServerTest, APostThatIsNotAFormGets415) {
  daemon_.start(config());
  const HttpAnswer answer = HttpClient(port_).request("POST", "/signup", {"Content-Type: application/json"}, "{}");
  EXPECT_EQ(answer.status, 415);
}

TEST_F(WebServerTest, HeadIsAnsweredLikeGetWithoutTheBody) {
  daemon_.start(config());
  HttpClient client(port_);
  const HttpAnswer get = client.request("GET", "/static/dirproxy.css");
  const HttpAnswer head = client.request("HEAD", "/static/dirproxy.css");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(get.body.size()));
  EXPECT_EQ(head.body, "");
  // The connection is still in step: the next answer is read whole.
  EXPECT_EQ(client.request("GET", "/").status, 200);
}

TEST_F(WebServerTest, AnOversizedBodyGets413AndTheConnectionCloses) {
  Json settings = config();
  settings["web"]["limits"] = {{"max_body_bytes", 2048}};
  daemon_.start(settings);
  HttpClient client(port_);
  const HttpAnswer answer = client.request("POST", "/signup", {"Content-Type: application/x-www-form-urlencoded"},
                                           "username=" + std::string(4096, 'a'));
  EXPECT_EQ(answer.status, 413);
  EXPECT_NE(answer.body.find("larger than this site accepts"), std::string::npos) << answer.body;
  EXPECT_EQ(answer.header("Connection"), "close");
  EXPECT_TRUE(client.closed_within(5s));
}

TEST_F(WebServerTest, AClientThatExpects100ContinueIsToldToGoOn) {
  daemon_.start(config());
  HttpClient client(port_);
  client.send("POST /signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.read().status, 100);
  client.send("{}");
  EXPECT_EQ(client.read().status, 415);
}

TEST_F(WebServerTest, AnOversizedHeadGets431) {
  Json settings = config();
  settings["web"]["limits"] = {{"max_header_bytes", 2048}};
  daemon_.start(settings);
  HttpClient client(port_);
  const HttpAnswer answer = client.request("GET", "/", {"Cookie: big=" + std::string(4096, 'c')});
  EXPECT_EQ(answer.status, 431);
  EXPECT_EQ(answer.header("X-Frame-Options"), "DENY");
  EXPECT_TRUE(client.closed_within(5s));
  // Within the limit, the same request is served.
  EXPECT_EQ(http_get(port_, "/", {"Cookie: big=" + std::string(1024, 'c')}).status, 200);
}

TEST_F(WebServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  daemon_.start(config());
  HttpClient client(port_);
  EXPECT_EQ(client.request("GET", "/").status, 200);
  EXPECT_EQ(client.request("GET", "/static/dirproxy.css").status, 200);
  // Two requests sent at once (pipelined) are answered in order.
  client.send(testing::http_request("GET", "/nothing-here") + testing::http_request("GET", "/"));
  EXPECT_EQ(client.read().status, 404);
  EXPECT_EQ(client.read().status, 200);
  const std::string log = daemon_.log();
  // One connection number for every line.
  EXPECT_NE(log.find("conn=1 client=127.0.0.1 GET / 200"), std::string::npos) << log;
  EXPECT_NE(log.find("conn=1 client=127.0.0.1 GET /nothing-here 404"), std::string::npos) << log;
}

TEST_F(WebServerTest, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  Json settings = config();
  settings["web"]["limits"] = {{"idle_timeout", "1s"}};
  daemon_.start(settings);
  HttpClient client(port_);
  EXPECT_EQ(client.request("GET", "/").status, 200);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed_within(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 900ms);
}

TEST_F(WebServerTest, AHalfSentRequestIsDroppedAfterTheReadTimeout) {
  Json settings = config();
  settings["web"]["limits"] = {{"read_timeout", "1s"}};
  daemon_.start(settings);
  HttpClient client(port_);
  client.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  EXPECT_TRUE(client.closed_within(5s));
}

TEST_F(WebServerTest, SlowClientsHoldNoThread) {
  daemon_.start(config());
  // More half-sent requests than the daemon has io threads.
  std::vector<HttpClient> slow;
  for (int i = 0; i < 16; ++i) {
    slow.emplace_back(port_);
    slow.back().send("POST /signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nusername=a");
  }
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(http_get(port_, "/").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
}

TEST_F(WebServerTest, ConnectionsBeyondMaxConnectionsGet503) {
  Json settings = config();
  settings["web"]["limits"] = {{"max_connections", 2}};
  daemon_.start(settings);
  HttpClient first(port_);
  HttpClient second(port_);
  EXPECT_EQ(first.request("GET", "/").status, 200);
  EXPECT_EQ(second.request("GET", "/").status, 200);
  HttpClient third(port_);
  const HttpAnswer busy = third.read();
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.header("Retry-After"), "1");
  EXPECT_EQ(busy.header("Content-Security-Policy"), kCsp);
  EXPECT_NE(busy.body.find("Too busy right now"), std::string::npos) << busy.body;
  EXPECT_TRUE(third.closed_within(5s));
  // A place is free again once one closes.
  { HttpClient closing = std::move(first); }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    HttpClient again(port_);
    again.send(testing::http_request("GET", "/"));
    status = again.read().status;
    if (status != 200) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 200);
}

TEST_F(WebServerTest, ForwardedForIsBelievedOnlyFromATrustedProxy) {
  daemon_.start(config());
  EXPECT_EQ(http_get(port_, "/untrusted", {"X-Forwarded-For: 203.0.113.5"}).status, 404);
  ASSERT_TRUE(daemon_.wait_for_log("client=127.0.0.1 GET /untrusted 404"));

  Json trusted = config();
  trusted["web"]["trusted_proxies"] = {"127.0.0.1"};
  daemon_.write_config(trusted);
  ASSERT_TRUE(reload());
  EXPECT_EQ(http_get(port_, "/trusted", {"X-Forwarded-For: 198.51.100.1, 203.0.113.5"}).status, 404);
  EXPECT_TRUE(daemon_.wait_for_log("client=203.0.113.5 GET /trusted 404"));
  EXPECT_EQ(http_get(port_, "/trusted-no-header").status, 404);
  EXPECT_TRUE(daemon_.wait_for_log("client=127.0.0.1 GET /trusted-no-header 404"));
}

TEST_F(WebServerTest, TheStylesheetIsServedWithItsContentTypeAndCacheable) {
  daemon_.start(config());
  const HttpAnswer css = http_get(port_, "/static/dirproxy.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.header("Cache-Control"), "public, max-age=3600");
  EXPECT_NE(css.body.find("box-sizing"), std::string::npos);
  EXPECT_EQ(http_get(port_, "/static/missing.css").status, 404);
}

TEST_F(WebServerTest, AReplacementStylesheetIsServed) {
  const std::string stylesheet = daemon_.dir() + "/site.css";
  write_file(stylesheet, "body { color: rebeccapurple; }\n");
  Json settings = config();
  settings["web"]["stylesheet_file"] = stylesheet;
  daemon_.start(settings);
  EXPECT_EQ(http_get(port_, "/static/dirproxy.css").body, "body { color: rebeccapurple; }\n");
}

TEST_F(WebServerTest, ATemplateOverrideIsShownAndAReloadTakesItsChange) {
  start_with_error_template("<h1 class=\"custom\">Sorry: {{title}}</h1>\n");
  EXPECT_NE(http_get(port_, "/nowhere").body.find("<h1 class=\"custom\">Sorry: Page not found</h1>"),
            std::string::npos);

  write_file(templates() + "/error.html", "<h1>Changed: {{title}}</h1>\n");
  ASSERT_TRUE(reload());
  EXPECT_NE(http_get(port_, "/nowhere").body.find("<h1>Changed: Page not found</h1>"), std::string::npos);
}

TEST_F(WebServerTest, ABadTemplateOverrideIsRefusedByCheckConfigAndByReload) {
  start_with_error_template("<h1>Ours: {{title}}</h1>\n");

  write_file(templates() + "/eror.html", "<h1>typo</h1>\n");
  const ProcessOutput check = run_program(DIRPROXYD_PATH, {"--check-config", "--config", daemon_.config_path()});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find("web.templates_dir: eror.html is not one of the built-in templates"), std::string::npos)
      << check.err;

  EXPECT_FALSE(reload());
  // The templates in force stay.
  EXPECT_NE(http_get(port_, "/nowhere").body.find("<h1>Ours: Page not found</h1>"), std::string::npos);
}

TEST_F(WebServerTest, TheHomePageNamesTheSiteAndLinksOnlyToPagesThatExist) {
  Json settings = config();
  settings["access_requests"] = {{"enabled", false}};
  daemon_.start(settings);
  const HttpAnswer home = http_get(port_, "/");
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("<title>Home · Example Wiki</title>"), std::string::npos) << home.body;
  EXPECT_NE(home.body.find("<h1>Example Wiki</h1>"), std::string::npos) << home.body;
  // Access requests are off: no link to them, whatever else is linked.
  EXPECT_EQ(home.body.find("href=\"&#x2F;access\""), std::string::npos) << home.body;
  EXPECT_EQ(http_get(port_, "/?anything=1").status, 200);
  EXPECT_EQ(HttpClient(port_).request("POST", "/", {"Content-Type: application/x-www-form-urlencoded"}, "a=1").status,
            405);
}

TEST_F(WebServerTest, ShutdownClosesIdleConnections) {
  daemon_.start(config());
  HttpClient idle(port_);
  EXPECT_EQ(idle.request("GET", "/").status, 200);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon_.stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  EXPECT_TRUE(idle.closed_within(1s));
}

class WebServerTlsTest : public WebServerTest {
 protected:
  void SetUp() override {
    WebServerTest::SetUp();
    tls_dir_ = daemon_.dir() + "/tls";
    testing::make_test_certificates(tls_dir_);
  }

  Json tls_config(const std::string& tls_dir) const {
    Json settings = config();
    settings["web"]["listen"] = "https://127.0.0.1:" + std::to_string(port_);
    settings["web"]["tls"] = {{"certificate_file", tls_dir + "/server.crt"}, {"key_file", tls_dir + "/server.key"}};
    return settings;
  }

  // curl https://127.0.0.1:port_/PATH trusting `ca_file`: its exit code and
  // the head and body it printed.
  ProcessOutput curl(const std::string& ca_file, const std::string& path) const {
    RunOptions options;
    options.timeout = 20s;
    return run_program("curl", {"--silent", "--show-error", "--include", "--cacert", ca_file, "--max-time", "10",
                                "https://127.0.0.1:" + std::to_string(port_) + path},
                       options);
  }

  std::string tls_dir_;
};

TEST_F(WebServerTlsTest, ServesHttpsWithTheConfiguredCertificate) {
  daemon_.start(tls_config(tls_dir_));
  const ProcessOutput answer = curl(tls_dir_ + "/ca.crt", "/static/dirproxy.css");
  ASSERT_EQ(answer.exit_code, 0) << answer.err;
  EXPECT_TRUE(answer.out.starts_with("HTTP/1.1 200 OK\r\n")) << answer.out;
  EXPECT_NE(answer.out.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
  // Plain HTTP on the https:// port is not served.
  EXPECT_ANY_THROW(http_get(port_, "/"));
}

TEST_F(WebServerTlsTest, AReloadSwapsTheCertificateWithoutARestart) {
  daemon_.start(tls_config(tls_dir_));
  ASSERT_EQ(curl(tls_dir_ + "/ca.crt", "/").exit_code, 0);
  const std::string other_dir = daemon_.dir() + "/tls-new";
  testing::make_test_certificates(other_dir);
  daemon_.write_config(tls_config(other_dir));
  ASSERT_TRUE(reload());

  const ProcessOutput with_new_ca = curl(other_dir + "/ca.crt", "/");
  EXPECT_EQ(with_new_ca.exit_code, 0) << with_new_ca.err;
  const ProcessOutput with_old_ca = curl(tls_dir_ + "/ca.crt", "/");
  EXPECT_NE(with_old_ca.exit_code, 0) << with_old_ca.out;
}

TEST_F(WebServerTlsTest, AKeyThatDoesNotMatchRefusesTheReloadAndKeepsTheCertificate) {
  daemon_.start(tls_config(tls_dir_));
  const std::string other_dir = daemon_.dir() + "/tls-new";
  testing::make_test_certificates(other_dir);
  Json mismatched = tls_config(tls_dir_);
  mismatched["web"]["tls"]["key_file"] = other_dir + "/server.key";
  daemon_.write_config(mismatched);
  EXPECT_FALSE(reload());
  EXPECT_TRUE(daemon_.wait_for_log("web.tls.key_file: cannot use " + other_dir + "/server.key"));
  EXPECT_EQ(curl(tls_dir_ + "/ca.crt", "/").exit_code, 0);
}

}  // namespace
}  // namespace dirproxy::integration
