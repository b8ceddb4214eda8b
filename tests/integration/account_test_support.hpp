// Shared by the account life cycle tests (signup, invitations, access
// requests): a fixture whose configuration a test adjusts before starting
// the daemon, and helpers for the requests those tests repeat.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol_test_support.hpp"
#include "support/smtp_server.hpp"

namespace dirproxy::integration {

// The token in a link built from site.links ("...?token=TOKEN").
inline std::string token_in_link(const std::string& link) {
  const auto at = link.find("token=");
  if (at == std::string::npos) throw std::runtime_error("no token in link: " + link);
  auto token = link.substr(at + 6);
  return token.substr(0, token.find_first_of("&# \r\n"));
}

class AccountTest : public DaemonTest {
 protected:
  AccountTest() : config_(daemon_.default_config()) {
    config_["site"] = {{"name", "Test Site"}, {"base_url", "https://dir.example"}};
  }

  // Mail to a port where nothing listens: accepted by the configuration
  // (restricted signup needs mail), and nothing is delivered.
  void configure_unreachable_mail() {
    config_["mail"] = {{"smtp_url", "smtp://127.0.0.1:9"}, {"from", "dirproxy <dirproxy@dir.example>"}};
  }

  // A real SMTP server (aiosmtpd) that captures what the daemon sends.
  void configure_smtp() {
    smtp_ = std::make_unique<dirproxy::testing::SmtpServer>();
    config_["mail"] = {{"smtp_url", smtp_->url()},
                       {"starttls", "none"},
                       {"from", "dirproxy <dirproxy@dir.example>"},
                       {"retry_backoff", "1s"}};
  }

  // accounts.admin_group "admins" with one member, boss <boss@example.com>
  // (call after start()).
  void add_admin() {
    arrange(add_user_request("boss"));
    add_group("admins");
    add_member("admins", "boss");
  }

  void start() { daemon_.start(config_); }

  // Waits until `count` mails were captured in all, and returns those to `address`.
  std::vector<dirproxy::testing::CapturedMail> mails_to(const std::string& address, std::size_t count) {
    std::vector<dirproxy::testing::CapturedMail> found;
    for (auto& mail : smtp_->wait_for_messages(count)) {
      for (const auto& to : mail.envelope_to) {
        if (to == address) found.push_back(mail);
      }
    }
    return found;
  }

  // The token of the first link in `mail`'s body.
  static std::string token_in_mail(const dirproxy::testing::CapturedMail& mail) {
    auto link = dirproxy::testing::first_link(mail.body);
    if (!link) throw std::runtime_error("no link in mail: " + mail.body);
    return token_in_link(*link);
  }

  Json signup(const std::string& username, const std::string& email,
              const std::optional<std::string>& token = std::nullopt) {
    Json request = {{"op", "signup"},
                    {"username", username},
                    {"email", email},
                    {"display_name", "User " + username},
                    {"password", kPassword}};
    if (token) request["token"] = *token;
    return send(request);
  }

  Json user_groups(const std::string& username) {
    return send({{"op", "get_user_groups"}, {"username", username}})["groups"];
  }

  Json config_;
  std::unique_ptr<dirproxy::testing::SmtpServer> smtp_;
};

}  // namespace dirproxy::integration
