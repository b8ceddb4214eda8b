#include "accounts/signup_policy.hpp"

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

config::Signup restricted(std::vector<std::string> domains) {
  config::Signup signup;
  signup.mode = config::SignupMode::restricted;
  signup.domains = std::move(domains);
  return signup;
}

std::string outcome(const Result<void>& result) { return result ? "ok" : std::string(to_string(result.error().code)); }

TEST(SignupPolicy, ExactDomainAndSubdomainPatternAdmitMatchingAddresses) {
  const std::vector<std::string> domains = {"example.com", "*.corp.example"};

  EXPECT_EQ(outcome(check_signup_domain(domains, "alice@example.com")), "ok");
  EXPECT_EQ(outcome(check_signup_domain(domains, "Alice@EXAMPLE.COM")), "ok");
  EXPECT_EQ(outcome(check_signup_domain(domains, "bob@eu.corp.example")), "ok");
  EXPECT_EQ(outcome(check_signup_domain(domains, "bob@a.b.corp.example")), "ok");
}

TEST(SignupPolicy, LookalikeDomainsAreNotAllowed) {
  const std::vector<std::string> domains = {"example.com", "*.corp.example"};

  for (const char* email :
       {"a@example.com.evil.com", "a@evilexample.com", "a@corp.example", "a@evilcorp.example", "a@sub.example.com"}) {
    auto checked = check_signup_domain(domains, email);
    ASSERT_FALSE(checked) << email;
    EXPECT_EQ(checked.error().code, ErrorCode::domain_not_allowed) << email;
    EXPECT_EQ(checked.error().field, "email") << email;
  }
}

TEST(SignupPolicy, AddressesALenientParserWouldGuessAtAreInvalid) {
  const std::vector<std::string> domains = {"example.com"};

  for (const char* email : {"a@example.com@evil.com", "\"a@evil.com\"@example.com", "\"a\"@example.com",
                            "a b@example.com", "a@example.com\n", "a@example.com\r\nBcc: x@evil.com", " a@example.com",
                            "a@example.com ", "Alice <a@example.com>", "a@", "@example.com"}) {
    auto checked = check_signup_domain(domains, email);
    ASSERT_FALSE(checked) << email;
    EXPECT_EQ(checked.error().code, ErrorCode::invalid_email) << email;
    EXPECT_EQ(checked.error().field, "email") << email;
  }
}

TEST(SignupPolicy, DisabledSignupNeedsAnInvitation) {
  config::Signup signup;  // disabled by default

  auto refused = signup_path(signup, "a@example.com", /*valid_invitation=*/false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::signup_disabled);
  auto invited = signup_path(signup, "a@example.com", /*valid_invitation=*/true);
  ASSERT_TRUE(invited);
  EXPECT_EQ(*invited, SignupPath::create_now);
}

TEST(SignupPolicy, OpenSignupCreatesAtOnce) {
  config::Signup signup;
  signup.mode = config::SignupMode::open;

  auto path = signup_path(signup, "a@anywhere.org", false);
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, SignupPath::create_now);
}

TEST(SignupPolicy, RestrictedSignupConfirmsAllowedDomainsAndRefusesOthers) {
  auto signup = restricted({"example.com"});

  auto allowed = signup_path(signup, "a@example.com", false);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(*allowed, SignupPath::confirm_by_email);
  auto refused = signup_path(signup, "a@evilexample.com", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::domain_not_allowed);
}

TEST(SignupPolicy, InvitationBypassesTheDomainList) {
  auto signup = restricted({"example.com"});

  auto path = signup_path(signup, "guest@partner.org", /*valid_invitation=*/true);
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, SignupPath::create_now);
}

}  // namespace
}  // namespace dirproxy
