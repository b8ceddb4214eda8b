// accounts.username_pattern against hostile usernames, through the socket:
// a name far beyond the length cap, and a pattern that a backtracking
// engine needs exponential time for, are refused with invalid_username while
// the daemon keeps answering everyone else.
#include <string>
#include <vector>

#include "account_test_support.hpp"

namespace dirproxy::integration {
namespace {

class UsernamePattern : public AccountTest {
 protected:
  void start_with_pattern(const std::string& pattern) {
    config_["accounts"]["username_pattern"] = pattern;
    config_["signup"] = {{"mode", "open"}};
    start();
  }

  Json signup_request(const std::string& username) {
    return {{"op", "signup"},
            {"username", username},
            {"email", "someone@example.com"},
            {"display_name", "Someone"},
            {"password", kPassword}};
  }
};

TEST_F(UsernamePattern, ASignupWithA40000CharacterUsernameIsInvalidAndTheDaemonKeepsAnswering) {
  start_with_pattern("^[a-z0-9][a-z0-9._-]*$");

  Json response = send(signup_request(std::string(40000, 'a')));

  EXPECT_EQ(outcome_of(response), "invalid_username") << response.dump().substr(0, 300);
  EXPECT_EQ(field_of(response), "username");
  EXPECT_EQ(response["error"]["message"], "the username is longer than 128 bytes");
  EXPECT_EQ(outcome_of(send({{"op", "ping"}})), "ok");
  EXPECT_EQ(outcome_of(signup("alice", "alice@example.com")), "ok");
}

TEST_F(UsernamePattern, AnAddUserWithA40000CharacterUsernameIsInvalidAndTheDaemonKeepsAnswering) {
  start_with_pattern("^[a-z0-9][a-z0-9._-]*$");
  Json request = add_user_request(std::string(40000, 'a'));
  request["email"] = "someone@example.com";
  request["display_name"] = "Someone";

  Json response = send(request);

  EXPECT_EQ(outcome_of(response), "invalid_username") << response.dump().substr(0, 300);
  EXPECT_EQ(field_of(response), "username");
  EXPECT_EQ(outcome_of(send({{"op", "ping"}})), "ok");
}

TEST_F(UsernamePattern, ACatastrophicPatternRefusesPromptlyAndOthersAreServed) {
  start_with_pattern("^(a+)+$");
  // 2^127 steps for a backtracking engine; two of them at once held up
  // every other request.
  const std::string hostile = std::string(127, 'a') + "!";
  std::vector<ProtocolClient> attackers;
  for (int i = 0; i < 2; ++i) {
    attackers.push_back(daemon_.connect());
    Json request = signup_request(hostile);
    request["id"] = i;
    ASSERT_TRUE(attackers.back().send_raw(request.dump() + "\n"));
  }

  Json ping = send({{"op", "ping"}});
  Json first = next_response(attackers[0]);
  Json second = next_response(attackers[1]);

  EXPECT_EQ(outcome_of(ping), "ok");
  EXPECT_EQ(outcome_of(first), "invalid_username") << first;
  EXPECT_EQ(outcome_of(second), "invalid_username") << second;
  EXPECT_EQ(first["error"]["message"], "the username does not match the site's username pattern");
  EXPECT_EQ(outcome_of(signup("aaa", "aaa@example.com")), "ok");
}

}  // namespace
}  // namespace dirproxy::integration
