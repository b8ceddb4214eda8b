// No password or token may reach a log line: checked on the formatter itself
// and end to end, by running requests full of secrets through the real
// dispatcher at log level trace and reading everything it logged.
#include "frontends/socket/request_redaction.hpp"

#include <gtest/gtest.h>

#include "core/logging.hpp"
#include "daemon/log_setup.hpp"
#include "frontends/socket/request_dispatcher.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using nlohmann::json;

TEST(RequestRedaction, SecretParametersAreReplaced) {
  json request = {{"op", "change_password"},      {"username", "alice"},     {"old_password", "old-secret"},
                  {"new_password", "new-secret"}, {"password", "pw-secret"}, {"token", "tok-secret"}};

  auto line = redacted_request(request);

  for (const char* secret : {"old-secret", "new-secret", "pw-secret", "tok-secret"}) {
    EXPECT_EQ(line.find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(line.find("\"username\":\"alice\""), std::string::npos);
  EXPECT_NE(line.find("<redacted>"), std::string::npos);
}

TEST(RequestRedaction, SecretsOfAnyTypeOrDepthAreReplaced) {
  json request = {{"op", "x"},
                  {"password", json::array({"in-an-array"})},
                  {"nested", {{"Token", {{"deep", "deep-secret"}}}}},
                  {"set_password_link", "https://x/?token=link-secret"}};

  auto line = redacted_request(request);

  for (const char* secret : {"in-an-array", "deep-secret", "link-secret"}) {
    EXPECT_EQ(line.find(secret), std::string::npos) << secret;
  }
}

TEST(RequestRedaction, LongValuesAreCut) {
  auto line = redacted_request(json{{"op", "x"}, {"query", std::string(5000, 'q')}});

  EXPECT_EQ(line,
            R"({"op":"x","query":")" + std::string(logging::kMaxLoggedValueBytes, 'q') + R"x(...(5000 bytes)"})x");
}

class DispatcherLogs : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& dir = directory_.path();
    auto config = std::make_shared<config::Config>();
    config->state_dir = dir;
    config::DirectoryConfig internal;
    internal.name = "internal";
    internal.type = DirectoryType::internal;
    internal.permissions = Permissions::read_write;
    config->directories.push_back(internal);
    config->accounts.password_hash = {1, 8192};
    config->accounts.password_min_length = 8;
    config->log.level = config::LogLevel::trace;
    auto database = StateDatabase::open(dir, 2);
    ASSERT_TRUE(database);
    auto runtime = build_runtime(config, *database);
    ASSERT_TRUE(runtime);
    runtime_ = *runtime;
    logging::configure(config->log);
  }
  void TearDown() override { runtime_.reset(); }

  // Runs each line through the dispatcher as an admin peer; returns the log.
  std::string run_and_capture(const std::vector<std::string>& lines) {
    asio::io_context io;
    WorkerPool pool(2);
    Service service(
        pool, [this] { return runtime_; }, []() -> awaitable<Result<void>> { co_return Result<void>{}; });
    RequestDispatcher dispatcher(service);
    Peer peer{1, PeerCredentials{1, 0, 0}, true};
    ::testing::internal::CaptureStderr();
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          for (const auto& line : lines) responses_.push_back(co_await dispatcher.handle(line, peer));
        },
        asio::detached);
    io.run();
    return ::testing::internal::GetCapturedStderr();
  }

  testing::TemporaryDirectory directory_{"dp-redact"};
  RuntimePtr runtime_;
  std::vector<std::string> responses_;
};

TEST_F(DispatcherLogs, NoPasswordOrTokenReachesALogLine) {
  const std::vector<std::string> lines = {
      R"({"op":"add_user","username":"alice","email":"a@example.com","display_name":"A","password":"Secret-One-111"})",
      R"({"op":"authenticate","username":"alice","password":"Secret-Two-222"})",
      R"({"op":"authenticate","username":"nobody","password":"Secret-Three-333"})",
      R"({"op":"change_password","username":"alice","old_password":"Secret-One-111","new_password":"Secret-Four-444"})",
      R"({"op":"set_password","username":"alice","password":"Secret-Five-555","actor":"ops"})",
      R"({"op":"reset_password","token":"Token-Six-666","password":"Secret-Seven-777"})",
      R"({"op":"authenticate","username":"alice","password":"Secret-Eight-888")",  // not JSON
      R"({"op":"authenticate","username":"alice","password":"Secret-Nine-999","extra":1})",
      R"({"op":"set_password","username":"alice","password":"short"})",
  };

  auto log = run_and_capture(lines);

  ASSERT_EQ(responses_.size(), lines.size());
  EXPECT_NE(log.find("[request]"), std::string::npos) << "nothing was logged: the test would prove nothing";
  EXPECT_NE(log.find("[audit]"), std::string::npos);
  for (const char* secret :
       {"Secret-One-111", "Secret-Two-222", "Secret-Three-333", "Secret-Four-444", "Secret-Five-555", "Token-Six-666",
        "Secret-Seven-777", "Secret-Eight-888", "Secret-Nine-999", "short"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " appeared in:\n" << log;
  }
}

TEST_F(DispatcherLogs, FailedAuthenticationIsAudited) {
  auto log = run_and_capture(
      {R"({"op":"authenticate","username":"mallory","password":"guess-guess","client_ip":"192.0.2.7"})"});

  EXPECT_NE(log.find("[audit] op=authenticate"), std::string::npos) << log;
  EXPECT_NE(log.find("username=\"mallory\""), std::string::npos) << log;
  EXPECT_NE(log.find("client_ip=\"192.0.2.7\""), std::string::npos) << log;
  EXPECT_NE(log.find("result=invalid_credentials"), std::string::npos) << log;
}

// At log level debug every request is logged through the redaction, which
// recursed once per level: 24,000 levels overflowed the stack.
TEST_F(DispatcherLogs, AHugelyNestedRequestIsRefusedBeforeItIsLogged) {
  const std::string line = R"({"op":"ping","id":9,"x":)" + std::string(24000, '[') + std::string(24000, ']') + "}";

  auto log = run_and_capture({line});

  ASSERT_EQ(responses_.size(), 1u);
  const auto response = json::parse(responses_[0]);
  EXPECT_EQ(response["error"]["code"], "bad_request") << response;
  EXPECT_EQ(response["error"]["message"], "the request nests arrays and objects deeper than 32 levels");
  EXPECT_NE(log.find("refused a 48025-byte line"), std::string::npos) << log;
}

// A 20,000-character username made a 20 KB audit line.
TEST_F(DispatcherLogs, AuditLinesCutLongValues) {
  const std::string username(20000, 'm');

  auto log =
      run_and_capture({json{{"op", "authenticate"}, {"username", username}, {"password", "guess-guess"}}.dump()});

  const auto audit = log.find("[audit] op=authenticate");
  ASSERT_NE(audit, std::string::npos) << log.substr(0, 2000);
  const std::string line = log.substr(audit, log.find('\n', audit) - audit);
  EXPECT_NE(line.find("username=\"" + std::string(logging::kMaxLoggedValueBytes, 'm') + "...(20000 bytes)\" "),
            std::string::npos)
      << line;
  EXPECT_LT(line.size(), 400u) << line;
}

TEST_F(DispatcherLogs, EveryAdminOperationIsAudited) {
  auto log = run_and_capture(
      {R"({"op":"add_group","name":"ops","actor":"jdoe"})", R"({"op":"delete_group","name":"missing"})"});

  EXPECT_NE(log.find("op=add_group actor=\"jdoe\" peer_uid=0"), std::string::npos) << log;
  EXPECT_NE(log.find("name=\"ops\" result=ok"), std::string::npos) << log;
  EXPECT_NE(log.find("op=delete_group"), std::string::npos) << log;
  EXPECT_NE(log.find("result=not_found"), std::string::npos) << log;
}

}  // namespace
}  // namespace dirproxy
