// RequestMetrics: each request counted once under its front end, operation
// and result, with its duration, from any number of threads.
#include "service/request_metrics.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/metrics_text.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::lines_starting;

constexpr OperationPolicy kGetUser{.name = "get_user"};
constexpr OperationPolicy kPing{.name = "ping"};

TEST(RequestMetrics, CountsEachRequestByFrontEndOperationAndResult) {
  metrics::Registry registry;
  RequestMetrics requests(&registry);
  const Error not_found = make_error(ErrorCode::not_found, "no user 'x'");

  requests.record(FrontEnd::socket, kGetUser, nullptr, 10us);
  requests.record(FrontEnd::socket, kGetUser, nullptr, 20us);
  requests.record(FrontEnd::socket, kGetUser, &not_found, 30us);
  requests.record(FrontEnd::socket, kPing, nullptr, 1us);

  EXPECT_EQ(lines_starting(registry.render(), "dirproxy_requests_total{"),
            (std::vector<std::string>{
                R"(dirproxy_requests_total{frontend="socket",operation="get_user",result="not_found"} 1)",
                R"(dirproxy_requests_total{frontend="socket",operation="get_user",result="ok"} 2)",
                R"(dirproxy_requests_total{frontend="socket",operation="ping",result="ok"} 1)",
            }));
}

TEST(RequestMetrics, TimesEachRequestByFrontEndAndOperation) {
  metrics::Registry registry;
  RequestMetrics requests(&registry);
  const Error locked = make_error(ErrorCode::account_locked, "too many failed attempts");

  requests.record(FrontEnd::socket, kGetUser, nullptr, 40us);
  requests.record(FrontEnd::socket, kGetUser, &locked, 3ms);

  const std::string text = registry.render();
  EXPECT_EQ(lines_starting(text, "dirproxy_request_duration_seconds_count{"),
            (std::vector<std::string>{
                R"(dirproxy_request_duration_seconds_count{frontend="socket",operation="get_user"} 2)"}));
  EXPECT_EQ(lines_starting(text, "dirproxy_request_duration_seconds_sum{"),
            (std::vector<std::string>{
                R"(dirproxy_request_duration_seconds_sum{frontend="socket",operation="get_user"} 0.00304)"}));
  EXPECT_EQ(lines_starting(
                text, R"(dirproxy_request_duration_seconds_bucket{frontend="socket",operation="get_user",le="5e-05"})"),
            (std::vector<std::string>{
                R"(dirproxy_request_duration_seconds_bucket{frontend="socket",operation="get_user",le="5e-05"} 1)"}));
}

TEST(RequestMetrics, ASeriesAppearsWithItsFirstRequest) {
  metrics::Registry registry;
  RequestMetrics requests(&registry);

  EXPECT_TRUE(lines_starting(registry.render(), "dirproxy_requests_total{").empty());
  EXPECT_NE(registry.render().find("# TYPE dirproxy_requests_total counter\n"), std::string::npos);
}

TEST(RequestMetrics, WithoutARegistryCountsNothing) {
  RequestMetrics requests(nullptr);

  requests.record(FrontEnd::socket, kGetUser, nullptr, 10us);  // and does not crash
}

TEST(RequestMetrics, CountsEveryRequestFromManyThreads) {
  metrics::Registry registry;
  RequestMetrics requests(&registry);
  const Error not_found = make_error(ErrorCode::not_found, "no user");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) requests.record(FrontEnd::socket, kGetUser, t % 2 ? &not_found : nullptr, 1us);
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(registry.counter("dirproxy_requests_total", "", {"frontend", "operation", "result"})
                .with({"socket", "get_user", "ok"})
                .value(),
            10000u);
  EXPECT_EQ(registry.counter("dirproxy_requests_total", "", {"frontend", "operation", "result"})
                .with({"socket", "get_user", "not_found"})
                .value(),
            10000u);
}

}  // namespace
}  // namespace dirproxy
