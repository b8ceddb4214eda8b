// The web listener with pages of the test's own (WebServer, WebConnection):
// what a page handler sees of a request and what becomes of its answer,
// over a real socket on 127.0.0.1: HEAD reaches it as GET, methods it
// cannot take never reach it, a handler that throws or breaks a rule gets
// the 500 page and leaks nothing. The daemon-level behaviour (limits, TLS,
// reload) is in tests/integration/web_server_test.cpp.
#include <mutex>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "core/io_threads.hpp"
#include "core/worker_pool.hpp"
#include "frontends/web/web_server.hpp"
#include "service/service.hpp"
#include "support/http_client.hpp"

namespace dirproxy::web {
namespace {

using testing::HttpAnswer;
using testing::HttpClient;

// A WebServer on a free port of 127.0.0.1 with `routes`, its event loop on
// a thread of its own.
class ServedRoutes {
 public:
  explicit ServedRoutes(Routes routes, std::vector<std::string> trusted_proxies = {})
      : connection_threads_(1), pool_(1) {
    auto config = std::make_shared<config::Config>();
    config->site.name = "Test Site";
    config->web.emplace();
    config->web->listen.address = "127.0.0.1";
    config->web->listen.port = 0;
    config->web->trusted_proxies = std::move(trusted_proxies);
    // Only the configuration: the test's pages call no service operation.
    runtime_ = std::make_shared<const Runtime>(Runtime{config, nullptr, nullptr, AccountPolicy(config->accounts),
                                                       nullptr, nullptr, nullptr, nullptr, nullptr, nullptr});
    service_ = std::make_unique<Service>(
        pool_, [this] { return runtime_; }, []() -> awaitable<Result<void>> { co_return Result<void>{}; });
    server_ = std::make_unique<WebServer>(io_, connection_threads_, *service_, [this] { return runtime_; },
                                          std::move(routes));
    auto listening = server_->listen(*config);
    if (!listening) throw std::runtime_error(listening.error().message);
    server_->start();
    loop_ = std::thread([this] {
      auto guard = asio::make_work_guard(io_);
      io_.run();
    });
  }
  ~ServedRoutes() {
    io_.stop();
    loop_.join();
    connection_threads_.stop();
  }

  int port() const { return server_->port(); }

 private:
  IoThreads connection_threads_;
  asio::io_context io_;
  WorkerPool pool_;
  RuntimePtr runtime_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<WebServer> server_;
  std::thread loop_;
};

// A route that answers `response` and keeps the request it saw (on the
// connection's thread; the test reads it on its own).
class RecordingPage {
 public:
  explicit RecordingPage(Response response) : response_(std::move(response)) {}

  Handler handler() const {
    return [response = response_, seen = seen_](const PageContext&, const Request& request) -> awaitable<Response> {
      seen->set(request);
      co_return response;
    };
  }

  std::optional<Request> seen() const { return seen_->get(); }

 private:
  struct Seen {
    void set(const Request& request) {
      std::lock_guard lock(mutex);
      value = request;
    }
    std::optional<Request> get() const {
      std::lock_guard lock(mutex);
      return value;
    }
    mutable std::mutex mutex;
    std::optional<Request> value;
  };
  Response response_;
  std::shared_ptr<Seen> seen_ = std::make_shared<Seen>();
};

Response page_with_body(std::string body) {
  Response response;
  response.body = std::move(body);
  return response;
}

TEST(WebServer, APageSeesTheDecodedRequest) {
  RecordingPage page(page_with_body("ok"));
  Routes routes;
  routes.add("/form", page.handler());
  ServedRoutes served(std::move(routes), {"127.0.0.1"});
  const HttpAnswer answer = HttpClient(served.port())
                                .request("POST", "/form?token=a%2Bb",
                                         {"Content-Type: application/x-www-form-urlencoded",
                                          "Cookie: __Host-dirproxy-form=c1", "X-Forwarded-For: 203.0.113.9",
                                          "X-Forwarded-Proto: https"},
                                         "name=Ann+Lee&csrf=t");
  EXPECT_EQ(answer.status, 200);
  const std::optional<Request> seen = page.seen();
  ASSERT_TRUE(seen.has_value());
  const Request& request = *seen;
  EXPECT_EQ(request.method, Method::post);
  EXPECT_EQ(request.path, "/form");
  EXPECT_EQ(request.query.value("token"), "a+b");
  EXPECT_EQ(request.form.value("name"), "Ann Lee");
  EXPECT_EQ(request.cookies.at("__Host-dirproxy-form"), "c1");
  EXPECT_EQ(request.client_address, "203.0.113.9");
  EXPECT_TRUE(request.secure);
  EXPECT_GE(request.connection, 1u);
}

TEST(WebServer, HeadReachesThePageAsGetAndLosesTheBody) {
  RecordingPage page(page_with_body("twelve bytes"));
  Routes routes;
  routes.add("/page", page.handler());
  ServedRoutes served(std::move(routes));
  const HttpAnswer answer = HttpClient(served.port()).request("HEAD", "/page");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.header("Content-Length"), "12");
  EXPECT_EQ(answer.body, "");
  ASSERT_TRUE(page.seen().has_value());
  EXPECT_EQ(page.seen()->method, Method::get);
}

TEST(WebServer, OtherMethodsAndOtherBodiesNeverReachThePage) {
  RecordingPage page(page_with_body("ok"));
  Routes routes;
  routes.add("/page", page.handler());
  ServedRoutes served(std::move(routes));
  HttpClient client(served.port());
  const HttpAnswer put = client.request("DELETE", "/page");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("Allow"), "GET, HEAD, POST");
  const HttpAnswer multipart =
      client.request("POST", "/page", {"Content-Type: multipart/form-data; boundary=x"}, "--x--");
  EXPECT_EQ(multipart.status, 415);
  const HttpAnswer traversal = client.request("GET", "/page/%2e%2e/page");
  EXPECT_EQ(traversal.status, 400);
  EXPECT_FALSE(page.seen().has_value());
}

TEST(WebServer, AnExceptionInAPageIsA500ThatLeaksNothing) {
  Routes routes;
  routes.add("/broken", [](const PageContext&, const Request&) -> awaitable<Response> {
    throw std::runtime_error("database password is hunter2");
    co_return Response{};
  });
  ServedRoutes served(std::move(routes));
  HttpClient client(served.port());
  const HttpAnswer answer = client.request("GET", "/broken");
  EXPECT_EQ(answer.status, 500);
  EXPECT_NE(answer.body.find("Something went wrong"), std::string::npos) << answer.body;
  EXPECT_EQ(answer.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(answer.header("X-Frame-Options"), "DENY");
  // The connection goes on.
  EXPECT_EQ(client.request("GET", "/static/dirproxy.css").status, 200);
}

TEST(WebServer, ARedirectOffTheSiteBecomesA500) {
  Routes routes;
  routes.add("/away", [](const PageContext&, const Request&) -> awaitable<Response> {
    co_return redirect_to("//evil.example/");
  });
  routes.add("/here", [](const PageContext&, const Request&) -> awaitable<Response> {
    Response response = redirect_to("/done");
    response.cookies.push_back({.name = "__Host-dirproxy-session", .value = "s1", .max_age_s = 1800});
    co_return response;
  });
  ServedRoutes served(std::move(routes));
  HttpClient client(served.port());
  const HttpAnswer away = client.request("GET", "/away");
  EXPECT_EQ(away.status, 500);
  EXPECT_FALSE(away.header("Location").has_value());
  const HttpAnswer here = client.request("GET", "/here");
  EXPECT_EQ(here.status, 303);
  EXPECT_EQ(here.header("Location"), "/done");
  EXPECT_EQ(here.header("Set-Cookie"),
            "__Host-dirproxy-session=s1; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=1800");
}

TEST(WebServer, APrefixRouteTakesThePathsBelowIt) {
  RecordingPage page(page_with_body("admin"));
  Routes routes;
  routes.add("/admin/", page.handler());
  ServedRoutes served(std::move(routes));
  EXPECT_EQ(testing::http_get(served.port(), "/admin/users/ann").body, "admin");
  EXPECT_EQ(page.seen()->path, "/admin/users/ann");
  EXPECT_EQ(testing::http_get(served.port(), "/administrator").status, 404);
}

}  // namespace
}  // namespace dirproxy::web
