// What the tests of the account life cycle's operations (signup,
// invitations) run on: a Runtime over a temporary state database, one
// writable in-memory directory, mail configured and a ManualClock that only
// the test moves; and readers of what the operations stored (outbox rows,
// the tokens in their mails, invitations).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "accounts/invitation_store.hpp"
#include "directories/in_memory_directory.hpp"
#include "mail/mail_composer.hpp"
#include "service/operation_context.hpp"
#include "service/outbox_rows.hpp"
#include "service/runtime.hpp"
#include "service/signup_requests.hpp"
#include "support/manual_clock.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy::testing {

// The one answer to a token that cannot be used, whether it is unknown,
// used, revoked or expired.
template <typename T>
void expect_invalid_token(const Result<T>& result) {
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::invalid_token);
  EXPECT_EQ(result.error().message, "the token is unknown, used, revoked or expired");
  EXPECT_EQ(result.error().field, "token");
}

class AccountLifeCycleTest : public ::testing::Test {
 protected:
  // The links carry the token after a '/', not after "token=": the mail
  // body is quoted-printable, which writes '=' as "=3D", and a link this
  // short is never folded, so the token stands in the mail as issued.
  static constexpr const char* kSignupLinkPrefix = "https://dir.example/signup/";
  static constexpr const char* kConfirmLinkPrefix = "https://dir.example/confirm/";
  static constexpr const char* kPassword = "correct horse battery";

  AccountLifeCycleTest() {
    auto opened = StateDatabase::open(temp_.path() / "state", 2);
    if (!opened) throw std::runtime_error(opened.error().message);
    database_ = std::move(*opened);
    directory_ =
        std::make_shared<InMemoryDirectory>("local", config::DirectoryType::internal, config::Permissions::read_write);
    config_.site.base_url = "https://dir.example";
    config_.site.links.signup = "{base_url}/signup/{token}";
    config_.site.links.confirm = "{base_url}/confirm/{token}";
    config::Mail mail;
    mail.from = "dirproxy <dirproxy@dir.example>";
    config_.mail = mail;
  }

  // `request` run as the service runs it, with the configuration in config_
  // and the time of clock_.
  template <typename Request>
  auto call(const Request& request) {
    auto config = std::make_shared<const config::Config>(config_);
    auto hasher = std::make_shared<const PasswordHasher>(1, 8192, 1);
    auto chain = std::make_shared<DirectoryChain>(std::vector<DirectoryPtr>{directory_}, ChainOptions{}, hasher);
    MailComposerPtr mail;
    if (config->mail) mail = std::make_shared<const MailComposer>(config->site, *config->mail);
    const Runtime runtime{config,    hasher, chain,         AccountPolicy(config->accounts),
                          database_, mail,   rate_limiter_, clock_};
    const OperationContext context{runtime, caller_};
    return run(context, request);
  }

  // signup of `username` (display name "User <username>") with `email`,
  // presenting `token` when given.
  Result<SignupOutcome> sign_up(const std::string& username, const std::string& email,
                                const std::optional<std::string>& token = std::nullopt) {
    return call(SignupRequest{username, email, "User " + username, kPassword, token});
  }

  void advance(std::chrono::seconds by) { clock_->advance(by); }
  std::int64_t now() const { return clock_->unix_seconds(); }

  // Every outbox row, oldest first.
  std::vector<QueuedMail> outbox() { return outbox_rows(*database_); }

  // The token of the link starting with `prefix` in `mail`.
  static std::string token_in(const QueuedMail& mail, const std::string& prefix) {
    const auto at = mail.message.find(prefix);
    if (at == std::string::npos) throw std::runtime_error("no link " + prefix + " in the " + mail.template_name);
    const auto start = at + prefix.size();
    return mail.message.substr(start, mail.message.find("\r\n", start) - start);
  }

  std::optional<Invitation> invitation(std::int64_t id) {
    auto found = find_invitation(database_->acquire(), id);
    if (!found) throw std::runtime_error(found.error().message);
    return *found;
  }

  std::optional<User> user(const std::string& username) {
    auto found = directory_->find_user_by_name(username);
    if (!found) throw std::runtime_error(found.error().message);
    return *found;
  }

  TemporaryDirectory temp_{"dpl"};
  StateDatabasePtr database_;
  std::shared_ptr<InMemoryDirectory> directory_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  RateLimiterPtr rate_limiter_ = std::make_shared<RateLimiter>();
  config::Config config_;
  Caller caller_ = [] {
    Caller caller;
    caller.client_address = "192.0.2.7";
    return caller;
  }();
};

}  // namespace dirproxy::testing
