// Operations that answer before their work (OperationPolicy::
// answers_before_work), run through the Service as a front end runs them:
// request_password_reset answers once its input is checked, while the
// account's lookup is still blocked, and the link's mail follows. Never a
// timing: a directory that holds the lookup until the test lets it go shows
// which came first.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "core/worker_pool.hpp"
#include "service/captured_log.hpp"
#include "service/mailing_runtime.hpp"
#include "service/password_reset_requests.hpp"
#include "service/service.hpp"

namespace dirproxy {
namespace {

using namespace std::chrono_literals;
using testing::CapturedLog;

class AnswerBeforeWork : public testing::MailingRuntime {
 protected:
  AnswerBeforeWork() {
    directory_->put_user(User{"ann", "ann@example.com", "Ann", {}, {}, true, ""}, "the old password");
    // Every lookup of an account waits until the test releases it (or 5 s
    // pass, so that code that waits for it before answering fails instead
    // of hanging).
    directory_hook_ = [this](std::string_view method, std::string_view) -> Result<void> {
      if (method == "find_user_by_name" || method == "find_user_by_email") {
        lookups_started_++;
        (void)released_.wait_for(5s);
        lookups_finished_++;
        if (directory_down_) return fail(ErrorCode::directory_unavailable, "directory 'local' is down");
      }
      return {};
    };
  }

  // The answer of `request`, through the Service on `pool_`.
  Result<void> answer(const RequestPasswordResetRequest& request) {
    Service service(
        pool_, [this] { return RuntimePtr(RuntimePtr(), &runtime()); }, [] { return reload(); }, clock_);
    asio::io_context io;
    std::optional<Result<void>> answer;
    asio::co_spawn(
        io, [&]() -> awaitable<void> { answer = co_await service.call(caller_, request); }, asio::detached);
    io.run();
    return answer.value();
  }

  static awaitable<Result<void>> reload() { co_return Result<void>{}; }

  // Lets the blocked lookups go on and waits for the work after the answer.
  void release_and_finish() {
    release_.set_value();
    pool_.join();
  }

  WorkerPool pool_{2};
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::atomic<int> lookups_started_{0};
  std::atomic<int> lookups_finished_{0};
  std::atomic<bool> directory_down_{false};
};

TEST_F(AnswerBeforeWork, ARequestedResetIsAnsweredBeforeTheAccountIsLookedUpAndItsMailFollows) {
  auto answered = answer(RequestPasswordResetRequest{.username = "ann", .email = std::nullopt});
  const int finished_at_answer = lookups_finished_;
  const bool mail_at_answer = !outbox().empty();

  release_and_finish();

  ASSERT_TRUE(answered) << answered.error().message;
  EXPECT_EQ(finished_at_answer, 0) << "the answer waited for the lookup";
  EXPECT_FALSE(mail_at_answer);
  EXPECT_EQ(lookups_finished_, 1);
  const auto mails = outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].template_name, "password_reset");
  EXPECT_EQ(mails[0].recipient, "ann@example.com");
  EXPECT_EQ(rows("reset_tokens"), 1);
}

TEST_F(AnswerBeforeWork, TheAnswerForAnUnknownAccountIsTheSameAndNothingFollows) {
  auto known = answer(RequestPasswordResetRequest{.username = std::nullopt, .email = "ann@example.com"});
  auto unknown = answer(RequestPasswordResetRequest{.username = std::nullopt, .email = "nobody@example.com"});
  const int finished_at_answers = lookups_finished_;

  release_and_finish();

  ASSERT_TRUE(known && unknown);
  EXPECT_EQ(finished_at_answers, 0);
  ASSERT_EQ(outbox().size(), 1u);
  EXPECT_EQ(outbox()[0].recipient, "ann@example.com");
}

TEST_F(AnswerBeforeWork, TheRateLimitIsAnsweredAndCountsMalformedRequestsToo) {
  config_->security.rate_limit.requests = 1;

  auto malformed = answer(RequestPasswordResetRequest{.username = "ann", .email = "ann@example.com"});
  auto over_the_limit = answer(RequestPasswordResetRequest{.username = "ann", .email = std::nullopt});
  release_and_finish();

  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::bad_request);
  ASSERT_FALSE(over_the_limit);
  EXPECT_EQ(over_the_limit.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(lookups_started_, 0);
  EXPECT_TRUE(outbox().empty());
}

TEST_F(AnswerBeforeWork, InputIsCheckedBeforeTheAnswer) {
  auto both = answer(RequestPasswordResetRequest{.username = "ann", .email = "ann@example.com"});
  auto malformed = answer(RequestPasswordResetRequest{.username = std::nullopt, .email = "ann@@example.com"});

  release_and_finish();

  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, ErrorCode::bad_request);
  EXPECT_EQ(both.error().field, "email");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::invalid_email);
  EXPECT_EQ(lookups_started_, 0);
}

TEST_F(AnswerBeforeWork, AFailureAfterTheAnswerIsLoggedNotAnswered) {
  directory_down_ = true;
  CapturedLog log("request");

  auto answered = answer(RequestPasswordResetRequest{.username = "ann", .email = std::nullopt});
  release_and_finish();

  ASSERT_TRUE(answered) << answered.error().message;
  EXPECT_TRUE(outbox().empty());
  EXPECT_NE(log.text().find("op=request_password_reset failed after its answer: directory 'local' is down "
                            "(directory_unavailable)"),
            std::string::npos)
      << log.text();
}

}  // namespace
}  // namespace dirproxy
