// The metrics endpoint of the real dirproxyd (metrics.listen): requests made
// over the socket show up with their exact counts in a scrape over HTTP, the
// scrape passes `promtool check metrics` (Debian's prometheus package), and
// every metric that the Grafana dashboard and the alert rules in contrib/
// query exists in a scrape.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/asio.hpp"
#include "ldap_test_support.hpp"
#include "protocol_test_support.hpp"

namespace dirproxy::integration {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

const std::filesystem::path kSourceDir = DIRPROXY_SOURCE_DIR;
constexpr const char* kPromtool = "/usr/bin/promtool";

// A TCP port on 127.0.0.1 that nothing listens on now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// GET http://127.0.0.1:PORT/metrics: the status and the body.
std::pair<unsigned, std::string> get_metrics(int port) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::empty_body> request{http::verb::get, "/metrics", 11};
  request.set(http::field::host, "127.0.0.1");
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {response.result_int(), response.body()};
}

// The value of each sample line of a scrape, by the line's name and labels.
std::map<std::string, std::string> samples_of(const std::string& text) {
  std::map<std::string, std::string> samples;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.rfind(' ');
    samples[line.substr(0, space)] = line.substr(space + 1);
  }
  return samples;
}

// The metric families a scrape declares (its # TYPE lines), with their types.
std::map<std::string, std::string> families_of(const std::string& text) {
  std::map<std::string, std::string> families;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("# TYPE ")) continue;
    std::istringstream words(line.substr(7));
    std::string name, type;
    words >> name >> type;
    families[name] = type;
  }
  return families;
}

// The families that `expression` (PromQL) reads: every dirproxy_ name, a
// histogram's _bucket, _sum and _count series counted as the histogram.
std::set<std::string> metrics_in(const std::string& expression, const std::map<std::string, std::string>& families) {
  static const std::regex kName("dirproxy_[a-z0-9_]+");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(expression.begin(), expression.end(), kName); it != std::sregex_iterator();
       ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string base = name.substr(0, name.size() - std::string(suffix).size());
      if (name.ends_with(suffix) && families.contains(base) && families.at(base) == "histogram") name = base;
    }
    names.insert(name);
  }
  return names;
}

ProcessOutput promtool(const std::vector<std::string>& args, const std::string& input = "") {
  if (!std::filesystem::exists(kPromtool)) {
    throw std::runtime_error("promtool is not installed (Debian package prometheus; scripts/install-deps test)");
  }
  RunOptions options;
  options.stdin_text = input;
  return run_program(kPromtool, args, options);
}

class MetricsEndpoint : public DaemonTest {
 protected:
  // The default configuration with the metrics listener on a free port.
  Json metrics_config() {
    port_ = free_port();
    Json config = daemon_.default_config();
    config["metrics"] = {{"listen", "127.0.0.1:" + std::to_string(port_)}};
    return config;
  }

  std::string scrape() {
    auto [status, body] = get_metrics(port_);
    if (status != 200) throw std::runtime_error("GET /metrics answered " + std::to_string(status) + ": " + body);
    return body;
  }

  // A scrape of a daemon with an internal and an LDAP directory, after
  // requests through both: every metric has series.
  std::string full_scrape() {
    SlapdServer server(dirproxy::testing::openldap_test_options());
    Json config =
        config_with_directories(daemon_, Json::array({internal_directory(), ldap_directory(daemon_, "corp", server)}));
    config["metrics"] = metrics_config()["metrics"];
    daemon_.start(config);
    add_user("zoe");
    EXPECT_EQ(outcome_of(get_user("alice")), "ok");
    EXPECT_EQ(outcome_of(get_user("alice")), "ok");
    EXPECT_EQ(outcome_of(authenticate("alice", "not the password")), "invalid_credentials");
    EXPECT_EQ(outcome_of(send({{"op", "delete_group"}, {"name", "no-such-group"}})), "not_found");
    return scrape();
  }

  int port_ = 0;
};

TEST_F(MetricsEndpoint, CountsEachRequestByOperationAndResultExactly) {
  Json config = metrics_config();
  config["security"] = {{"lockout", {{"max_failures", 2}, {"window", "1m"}, {"duration", "1m"}}},
                        {"rate_limit", {{"requests", 1}, {"per", "1h"}}}};
  daemon_.start(config);
  add_user("alice");
  ASSERT_EQ(outcome_of(get_user("alice")), "ok");
  ASSERT_EQ(outcome_of(get_user("nobody-here")), "not_found");
  ASSERT_EQ(outcome_of(authenticate("alice", "not the password")), "invalid_credentials");
  ASSERT_EQ(outcome_of(authenticate("alice", "not the password")), "invalid_credentials");  // the lock begins
  ASSERT_EQ(outcome_of(authenticate("alice", kPassword)), "account_locked");
  const Json reset = {
      {"op", "reset_password"}, {"token", "no-such-token"}, {"password", kPassword}, {"client_ip", "192.0.2.7"}};
  ASSERT_EQ(outcome_of(send(reset)), "invalid_token");
  ASSERT_EQ(outcome_of(send(reset)), "rate_limited");

  const auto samples = samples_of(scrape());

  std::map<std::string, std::string> requests;
  for (const auto& [series, value] : samples) {
    if (series.starts_with("dirproxy_requests_total{")) requests[series] = value;
  }
  EXPECT_EQ(
      requests,
      (std::map<std::string, std::string>{
          {R"(dirproxy_requests_total{frontend="socket",operation="add_user",result="ok"})", "1"},
          {R"(dirproxy_requests_total{frontend="socket",operation="authenticate",result="account_locked"})", "1"},
          {R"(dirproxy_requests_total{frontend="socket",operation="authenticate",result="invalid_credentials"})", "2"},
          {R"(dirproxy_requests_total{frontend="socket",operation="get_user",result="not_found"})", "1"},
          {R"(dirproxy_requests_total{frontend="socket",operation="get_user",result="ok"})", "1"},
          {R"(dirproxy_requests_total{frontend="socket",operation="reset_password",result="invalid_token"})", "1"},
          {R"(dirproxy_requests_total{frontend="socket",operation="reset_password",result="rate_limited"})", "1"},
      }));
  EXPECT_EQ(samples.at(R"(dirproxy_request_duration_seconds_count{frontend="socket",operation="authenticate"})"), "3");
  EXPECT_EQ(samples.at("dirproxy_lockouts_total"), "1");
  EXPECT_EQ(samples.at("dirproxy_locked_usernames"), "1");
  EXPECT_EQ(samples.at("dirproxy_rate_limit_refusals_total"), "1");
  EXPECT_EQ(samples.at(R"(dirproxy_connections_refused_total{frontend="socket"})"), "0");
  EXPECT_EQ(samples.at(R"(dirproxy_directory_up{directory="internal"})"), "1");
  EXPECT_EQ(samples.at(R"(dirproxy_outbox_messages{state="pending"})"), "0");
  EXPECT_EQ(samples.at(R"(dirproxy_build_info{version=")" DIRPROXY_VERSION R"("})"), "1");
}

TEST_F(MetricsEndpoint, TheScrapePassesPromtool) {
  const std::string text = full_scrape();

  const ProcessOutput checked = promtool({"check", "metrics"}, text);

  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err << "\n" << text;
  EXPECT_EQ(checked.out + checked.err, "") << "promtool's lint found something";
}

TEST_F(MetricsEndpoint, ThereIsNoListenerWithoutMetricsListen) {
  const int port = free_port();
  daemon_.start();

  EXPECT_THROW(get_metrics(port), boost::system::system_error);
  EXPECT_FALSE(daemon_.wait_for_log("serving metrics", 0ms));
}

TEST_F(MetricsEndpoint, APortInUseStopsTheStart) {
  Json config = metrics_config();
  RefusingPort taken;  // bound, so nobody else can listen on it
  config["metrics"]["listen"] = "127.0.0.1:" + std::to_string(taken.port());
  daemon_.write_config(config);
  daemon_.spawn();

  EXPECT_EQ(daemon_.wait_exit(10s), 1);
  EXPECT_TRUE(daemon_.wait_for_log("metrics.listen: cannot listen on 127.0.0.1:" + std::to_string(taken.port()) +
                                   ": Address already in use"))
      << daemon_.log_tail();
}

// Every expression of the Grafana dashboard and of the alert rules: each
// parses as PromQL (promtool check rules, with Grafana's variables filled
// in) and reads only metrics that a daemon with an LDAP directory exposes.
class ContribQueries : public MetricsEndpoint {
 protected:
  static std::vector<std::string> dashboard_expressions() {
    std::ifstream file(kSourceDir / "contrib/grafana/dirproxy-dashboard.json");
    const Json dashboard = Json::parse(file);  // throws, failing the test, when not JSON
    std::vector<std::string> expressions;
    std::function<void(const Json&)> collect = [&](const Json& node) {
      if (node.is_object()) {
        for (const auto& [key, value] : node.items()) {
          if (key == "expr" && value.is_string()) expressions.push_back(value.get<std::string>());
          collect(value);
        }
      } else if (node.is_array()) {
        for (const auto& item : node) collect(item);
      }
    };
    collect(dashboard);
    return expressions;
  }

  static std::vector<std::string> alert_expressions() {
    std::ifstream file(kSourceDir / "contrib/prometheus/dirproxy-alerts.yaml");
    std::vector<std::string> expressions;
    static const std::regex kExpr(R"(^\s*expr:\s*(.+)$)");
    for (std::string line; std::getline(file, line);) {
      std::smatch match;
      if (std::regex_match(line, match, kExpr)) expressions.push_back(match[1]);
    }
    return expressions;
  }
};

TEST_F(ContribQueries, TheDashboardIsJsonAndQueriesOnlyMetricsThatExist) {
  const auto families = families_of(full_scrape());
  const auto expressions = dashboard_expressions();
  ASSERT_GE(expressions.size(), 15u);

  std::set<std::string> queried;
  for (const auto& expression : expressions) {
    for (const auto& name : metrics_in(expression, families)) {
      queried.insert(name);
      EXPECT_TRUE(families.contains(name)) << name << " in " << expression;
    }
  }
  for (const char* expected :
       {"dirproxy_requests_total", "dirproxy_request_duration_seconds", "dirproxy_directory_up",
        "dirproxy_directory_request_duration_seconds", "dirproxy_cache_hits_total", "dirproxy_ldap_pool_connections",
        "dirproxy_lockouts_total", "dirproxy_rate_limit_refusals_total", "dirproxy_outbox_messages",
        "dirproxy_connections_open"}) {
    EXPECT_TRUE(queried.contains(expected)) << "the dashboard has no panel on " << expected;
  }
}

TEST_F(ContribQueries, TheAlertsQueryOnlyMetricsThatExist) {
  const auto families = families_of(full_scrape());
  const auto expressions = alert_expressions();
  ASSERT_GE(expressions.size(), 5u);

  for (const auto& expression : expressions) {
    for (const auto& name : metrics_in(expression, families)) {
      EXPECT_TRUE(families.contains(name)) << name << " in " << expression;
    }
  }
  const ProcessOutput checked =
      promtool({"check", "rules", (kSourceDir / "contrib/prometheus/dirproxy-alerts.yaml").string()});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
}

TEST_F(ContribQueries, TheDashboardsExpressionsParseAsPromql) {
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  int number = 0;
  for (std::string expression : dashboard_expressions()) {
    for (const auto& [variable, value] :
         {std::pair<std::string, std::string>{"$__rate_interval", "5m"}, {"$instance", ".*"}}) {
      for (auto at = expression.find(variable); at != std::string::npos; at = expression.find(variable, at)) {
        expression.replace(at, variable.size(), value);
      }
    }
    rules += "      - record: dashboard:expression_" + std::to_string(++number) +
             "\n        expr: " + Json(expression).dump() + "\n";
  }
  const std::string path = daemon_.dir() + "/dashboard-rules.yaml";
  std::ofstream(path) << rules;

  const ProcessOutput checked = promtool({"check", "rules", path});

  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err << "\n" << rules;
}

}  // namespace
}  // namespace dirproxy::integration
