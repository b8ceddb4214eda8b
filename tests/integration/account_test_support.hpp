// Shared by the account life cycle tests (signup, invitations, access
// requests): a fixture whose configuration a test adjusts before starting
// the daemon, and helpers for the requests those tests repeat.
#pragma once

#include <optional>
#include <string>

#include "protocol_test_support.hpp"

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

  void start() { daemon_.start(config_); }

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
};

}  // namespace dirproxy::integration
