// Every request of a known operation is counted once in
// dirproxy_requests_total, whichever way the socket front end and the service
// answer it: run, refused as forbidden, or refused for its parameters.
#include <gtest/gtest.h>

#include "core/metrics_registry.hpp"
#include "frontends/socket/request_dispatcher.hpp"
#include "support/metrics_text.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

class RequestCounting : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = std::make_shared<config::Config>();
    config->state_dir = directory_.path();
    config::DirectoryConfig internal;
    internal.name = "internal";
    internal.type = DirectoryType::internal;
    internal.permissions = Permissions::read_write;
    config->directories.push_back(internal);
    config->accounts.password_hash = {1, 8192};
    auto database = StateDatabase::open(directory_.path(), 2);
    ASSERT_TRUE(database);
    auto runtime = build_runtime(config, *database);
    ASSERT_TRUE(runtime);
    runtime_ = *runtime;
  }
  void TearDown() override { runtime_.reset(); }

  // Runs each line through the dispatcher for `peer`, one after the other.
  void run(const std::vector<std::string>& lines, const Peer& peer) {
    asio::io_context io;
    WorkerPool pool(2);
    Service service(
        pool, [this] { return runtime_; }, []() -> awaitable<Result<void>> { co_return Result<void>{}; },
        system_clock(), &registry_);
    RequestDispatcher dispatcher(service);
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          for (const auto& line : lines) (void)co_await dispatcher.handle(line, peer);
        },
        asio::detached);
    io.run();
  }

  // The lines of dirproxy_requests_total's series.
  std::vector<std::string> request_counts() {
    return testing::lines_starting(registry_.render(), "dirproxy_requests_total{");
  }

  const Peer admin_{1, PeerCredentials{1, 0, 0}, true};
  const Peer other_{2, PeerCredentials{2, 65534, 65534}, false};
  testing::TemporaryDirectory directory_{"dp-counting"};
  RuntimePtr runtime_;
  metrics::Registry registry_;
};

TEST_F(RequestCounting, EachOutcomeIsCountedOnceUnderItsOperation) {
  run({R"({"op":"ping"})", R"({"op":"get_user","username":"nobody-here"})", R"({"op":"add_group","name":"ops"})",
       R"({"op":"add_group"})"},
      admin_);
  run({R"({"op":"add_group","name":"ops"})", R"({"op":"delete_group"})"}, other_);

  EXPECT_EQ(request_counts(),
            (std::vector<std::string>{
                R"(dirproxy_requests_total{frontend="socket",operation="add_group",result="bad_request"} 1)",
                R"(dirproxy_requests_total{frontend="socket",operation="add_group",result="forbidden"} 1)",
                R"(dirproxy_requests_total{frontend="socket",operation="add_group",result="ok"} 1)",
                R"(dirproxy_requests_total{frontend="socket",operation="delete_group",result="forbidden"} 1)",
                R"(dirproxy_requests_total{frontend="socket",operation="get_user",result="not_found"} 1)",
                R"(dirproxy_requests_total{frontend="socket",operation="ping",result="ok"} 1)",
            }));
}

TEST_F(RequestCounting, LinesThatNameNoOperationAreNotCounted) {
  run({R"({"op":"no_such_op"})", R"(not json)", R"({"id":1})"}, admin_);

  EXPECT_TRUE(request_counts().empty());
}

}  // namespace
}  // namespace dirproxy
