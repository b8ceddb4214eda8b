// Every operation of docs/protocol.md that this build implements, against the real
// dirproxyd through its socket: the exact result objects, and the exact error
// code (and field) of each refusal. State is arranged through the protocol.
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "protocol_test_support.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {
namespace {

// The User object of a user made by add_user_request(username).
Json expected_user(const std::string& username) {
  return {{"username", username},
          {"email", username + "@example.com"},
          {"display_name", "User " + username},
          {"first_name", nullptr},
          {"last_name", nullptr},
          {"active", true},
          {"directory", "internal"}};
}

class ProtocolOperations : public DaemonTest {
 protected:
  void SetUp() override { daemon_.start(); }

  Json add_alice_with_every_field() {
    return send({{"op", "add_user"},
                 {"username", "alice"},
                 {"email", "Alice@Example.COM"},
                 {"display_name", "Alice Liddell"},
                 {"first_name", "Alice"},
                 {"last_name", "Liddell"},
                 {"password", kPassword},
                 {"notify", false}});
  }

  Json find_users(Json parameters) {
    parameters["op"] = "find_users";
    return send(parameters);
  }
};

// --- ping ---------------------------------------------------------------------

TEST_F(ProtocolOperations, PingAnswersTheDaemonsVersionAndUptime) {
  const auto version = run_program(DIRPROXYD_PATH, {"--version"});

  auto response = send({{"op", "ping"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  ASSERT_TRUE(response["version"].is_string()) << response;
  EXPECT_EQ("dirproxyd " + response["version"].get<std::string>() + "\n", version.out);
  ASSERT_TRUE(response["uptime_s"].is_number_integer()) << response;
  EXPECT_GE(response["uptime_s"].get<int>(), 0);
  EXPECT_LT(response["uptime_s"].get<int>(), 60);
  EXPECT_EQ(response.size(), 4u) << response;  // id, ok, version, uptime_s
}

// --- authenticate -------------------------------------------------------------

TEST_F(ProtocolOperations, AuthenticateReturnsTheUserWithItsGroupsSorted) {
  add_group("zeta");
  add_group("alpha");
  add_group("mid");
  Json request = add_user_request("alice");
  request["groups"] = {"zeta", "alpha"};
  arrange(request);
  add_member("mid", "alice");

  auto response = authenticate("alice", kPassword);

  ASSERT_EQ(outcome_of(response), "ok") << response;
  Json expected = expected_user("alice");
  expected["groups"] = {"alpha", "mid", "zeta"};
  EXPECT_EQ(response["user"], expected);
}

TEST_F(ProtocolOperations, AuthenticateOfAUserInNoGroupGivesAnEmptyGroupList) {
  add_user("alice");

  auto response = authenticate("alice", kPassword);

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["groups"], Json::array());
}

TEST_F(ProtocolOperations, AuthenticateWithAWrongPasswordAndOfAnUnknownUserAnswerTheSame) {
  add_user("alice");

  auto wrong_password = authenticate("alice", "not the password");
  auto unknown_user = authenticate("nosuchuser", "not the password");

  EXPECT_EQ(outcome_of(wrong_password), "invalid_credentials") << wrong_password;
  EXPECT_EQ(wrong_password, unknown_user);
}

TEST_F(ProtocolOperations, AuthenticateWithAnEmptyPasswordIsInvalidCredentials) {
  add_user("alice");

  auto response = authenticate("alice", "");

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
}

TEST_F(ProtocolOperations, AuthenticateOfAnInactiveUserWithTheRightPasswordIsAccountDisabled) {
  add_user("alice");
  arrange({{"op", "update_user"}, {"username", "alice"}, {"active", false}});

  auto response = authenticate("alice", kPassword);

  EXPECT_EQ(outcome_of(response), "account_disabled") << response;
}

TEST_F(ProtocolOperations, AuthenticateOfAnInactiveUserWithAWrongPasswordIsInvalidCredentials) {
  add_user("alice");
  arrange({{"op", "update_user"}, {"username", "alice"}, {"active", false}});

  auto response = authenticate("alice", "not the password");

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
}

// --- get_user -----------------------------------------------------------------

TEST_F(ProtocolOperations, GetUserByUsernameReturnsTheUser) {
  add_user("alice");

  auto response = get_user("alice");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"], expected_user("alice"));
}

TEST_F(ProtocolOperations, GetUserByUsernameIgnoresCase) {
  add_user("alice");

  auto response = get_user("ALICE");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["username"], "alice");
}

TEST_F(ProtocolOperations, GetUserByEmailIgnoresCase) {
  add_user("alice");

  auto response = send({{"op", "get_user"}, {"email", "ALICE@example.COM"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"], expected_user("alice"));
}

TEST_F(ProtocolOperations, GetUserWithBothUsernameAndEmailIsBadRequest) {
  add_user("alice");

  auto response = send({{"op", "get_user"}, {"username", "alice"}, {"email", "alice@example.com"}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
}

TEST_F(ProtocolOperations, GetUserWithNeitherUsernameNorEmailIsBadRequest) {
  auto response = send({{"op", "get_user"}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
}

TEST_F(ProtocolOperations, GetUserOfAnUnknownUsernameIsNotFound) {
  auto response = get_user("nosuchuser");

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(field_of(response), "username");
}

TEST_F(ProtocolOperations, GetUserOfAnUnknownEmailIsNotFound) {
  auto response = send({{"op", "get_user"}, {"email", "nobody@example.com"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(field_of(response), "email");
}

// --- find_users ---------------------------------------------------------------

TEST_F(ProtocolOperations, FindUsersWithoutQueryListsEveryUserSortedByUsername) {
  add_user("carol");
  add_user("alice");
  add_user("bob");

  auto response = find_users(Json::object());

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(usernames_of(response["users"]), (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(response["users"][0], expected_user("alice"));
}

TEST_F(ProtocolOperations, FindUsersMatchesASubstringOfTheUsername) {
  add_user("alice");
  add_user("bob");
  add_user("malina");

  auto response = find_users({{"query", "ali"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(usernames_of(response["users"]), (std::vector<std::string>{"alice", "malina"}));
}

TEST_F(ProtocolOperations, FindUsersMatchesASubstringOfTheEmail) {
  add_user("alice");
  Json bob = add_user_request("bob");
  bob["email"] = "bob@corp.test";
  arrange(bob);

  auto response = find_users({{"query", "corp.test"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(usernames_of(response["users"]), (std::vector<std::string>{"bob"}));
}

TEST_F(ProtocolOperations, FindUsersMatchesASubstringOfTheDisplayNameIgnoringCase) {
  add_user("alice");
  Json bob = add_user_request("bob");
  bob["display_name"] = "Robert Builder";
  arrange(bob);

  auto response = find_users({{"query", "BUILD"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(usernames_of(response["users"]), (std::vector<std::string>{"bob"}));
}

TEST_F(ProtocolOperations, FindUsersWithALimitReturnsTheFirstUsersByUsername) {
  add_user("carol");
  add_user("alice");
  add_user("bob");

  auto response = find_users({{"limit", 2}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(usernames_of(response["users"]), (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(ProtocolOperations, FindUsersMatchingNobodyReturnsAnEmptyList) {
  add_user("alice");

  auto response = find_users({{"query", "zzz"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["users"], Json::array());
}

TEST_F(ProtocolOperations, FindUsersAcceptsTheLimitsOneAndOneThousand) {
  add_user("alice");

  auto one = find_users({{"limit", 1}});
  auto thousand = find_users({{"limit", 1000}});

  EXPECT_EQ(outcome_of(one), "ok") << one;
  EXPECT_EQ(outcome_of(thousand), "ok") << thousand;
}

TEST_F(ProtocolOperations, FindUsersWithLimitZeroIsBadRequest) {
  auto response = find_users({{"limit", 0}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "limit");
}

TEST_F(ProtocolOperations, FindUsersWithLimitOverOneThousandIsBadRequest) {
  auto response = find_users({{"limit", 1001}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
  EXPECT_EQ(field_of(response), "limit");
}

// --- groups: lookups ----------------------------------------------------------

TEST_F(ProtocolOperations, GetGroupReturnsTheGroupWithMembersSorted) {
  arrange({{"op", "add_group"}, {"name", "developers"}, {"description", "They write code"}});
  add_user("carol");
  add_user("alice");
  add_user("bob");
  add_member("developers", "carol");
  add_member("developers", "alice");
  add_member("developers", "bob");

  auto response = send({{"op", "get_group"}, {"name", "developers"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"], (Json{{"name", "developers"},
                                     {"description", "They write code"},
                                     {"directory", "internal"},
                                     {"members", {"alice", "bob", "carol"}}}));
}

TEST_F(ProtocolOperations, GetGroupIgnoresCaseAndReturnsTheStoredSpelling) {
  add_group("Developers");

  auto response = send({{"op", "get_group"}, {"name", "DEVELOPERS"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"]["name"], "Developers");
}

TEST_F(ProtocolOperations, GetGroupOfAnUnknownGroupIsNotFound) {
  auto response = send({{"op", "get_group"}, {"name", "nosuchgroup"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(field_of(response), "name");
}

TEST_F(ProtocolOperations, ListGroupsReturnsEveryGroupWithItsMembersSortedByName) {
  arrange({{"op", "add_group"}, {"name", "developers"}, {"description", "They write code"}});
  add_group("Admins");
  add_user("bob");
  add_user("alice");
  add_member("developers", "bob");
  add_member("developers", "alice");

  auto response = send({{"op", "list_groups"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], (Json{{{"name", "Admins"},
                                       {"description", nullptr},
                                       {"directory", "internal"},
                                       {"members", Json::array()}},
                                      {{"name", "developers"},
                                       {"description", "They write code"},
                                       {"directory", "internal"},
                                       {"members", {"alice", "bob"}}}}));
}

TEST_F(ProtocolOperations, ListGroupsPagesFromTheNameAfterAfter) {
  for (const char* name : {"alpha", "beta", "gamma", "delta"}) add_group(name);

  auto first = send({{"op", "list_groups"}, {"limit", 2}});
  auto second = send({{"op", "list_groups"}, {"after", "BETA"}, {"limit", 2}});
  auto last = send({{"op", "list_groups"}, {"after", "gamma"}});

  ASSERT_EQ(outcome_of(first), "ok") << first;
  ASSERT_EQ(outcome_of(second), "ok") << second;
  ASSERT_EQ(outcome_of(last), "ok") << last;
  auto names = [](const Json& response) {
    std::vector<std::string> names;
    for (const auto& group : response["groups"]) names.push_back(group["name"]);
    return names;
  };
  EXPECT_EQ(names(first), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(names(second), (std::vector<std::string>{"delta", "gamma"}));
  EXPECT_EQ(names(last), std::vector<std::string>{});
}

TEST_F(ProtocolOperations, ListGroupsWithALimitOutsideOneToOneThousandIsBadRequest) {
  for (const int limit : {0, 1001}) {
    auto response = send({{"op", "list_groups"}, {"limit", limit}});

    EXPECT_EQ(outcome_of(response), "bad_request") << response;
    EXPECT_EQ(field_of(response), "limit");
  }
}

TEST_F(ProtocolOperations, GetUserGroupsReturnsTheGroupNamesSorted) {
  add_group("zeta");
  add_group("alpha");
  add_group("unrelated");
  add_user("alice");
  add_member("zeta", "alice");
  add_member("alpha", "alice");

  auto response = send({{"op", "get_user_groups"}, {"username", "alice"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], (Json{"alpha", "zeta"}));
}

TEST_F(ProtocolOperations, GetUserGroupsOfAnUnknownUserIsNotFound) {
  auto response = send({{"op", "get_user_groups"}, {"username", "nosuchuser"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

// --- signup_options -----------------------------------------------------------

TEST_F(ProtocolOperations, SignupOptionsByDefaultAreDisabledWithNoDomainsInternalManagementAndNoAccessRequests) {
  auto response = signup_options();

  EXPECT_EQ(response, (Json{{"id", 1},
                            {"ok", true},
                            {"mode", "disabled"},
                            {"domains", Json::array()},
                            {"user_management", "internal"},
                            {"access_requests", false}}));
}

// --- add_user -----------------------------------------------------------------

TEST_F(ProtocolOperations, AddUserWithEveryFieldReturnsTheStoredUser) {
  auto response = add_alice_with_every_field();

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const Json alice = {{"username", "alice"},    {"email", "alice@example.com"}, {"display_name", "Alice Liddell"},
                      {"first_name", "Alice"},  {"last_name", "Liddell"},       {"active", true},
                      {"directory", "internal"}};
  EXPECT_EQ(response["user"], alice);
  EXPECT_EQ(get_user("alice")["user"], alice);
}

TEST_F(ProtocolOperations, AddUserWithAPasswordLetsTheUserAuthenticate) {
  add_alice_with_every_field();

  auto response = authenticate("alice", kPassword);

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

TEST_F(ProtocolOperations, AddUserWithGroupsPutsTheUserInThem) {
  add_group("developers");
  add_group("admins");
  Json request = add_user_request("alice");
  request["groups"] = {"developers", "admins"};

  auto response = send(request);

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(send({{"op", "get_user_groups"}, {"username", "alice"}})["groups"], (Json{"admins", "developers"}));
}

TEST_F(ProtocolOperations, AddUserOfATakenUsernameIsConflict) {
  add_user("alice");
  Json again = add_user_request("alice");
  again["email"] = "other@example.com";

  auto response = send(again);

  EXPECT_EQ(outcome_of(response), "conflict") << response;
  EXPECT_EQ(field_of(response), "username");
}

TEST_F(ProtocolOperations, AddUserWithATakenEmailInAnyCaseIsConflictOnEmail) {
  add_user("alice");
  Json bob = add_user_request("bob");
  bob["email"] = "ALICE@example.com";

  auto response = send(bob);

  EXPECT_EQ(outcome_of(response), "conflict") << response;
  EXPECT_EQ(field_of(response), "email");
  EXPECT_EQ(outcome_of(get_user("bob")), "not_found");
}

TEST_F(ProtocolOperations, AddUserWithAUsernameOutsideThePatternIsInvalidUsername) {
  auto response = send(add_user_request("bad name"));

  EXPECT_EQ(outcome_of(response), "invalid_username") << response;
  EXPECT_EQ(field_of(response), "username");
}

TEST_F(ProtocolOperations, AddUserWithAMalformedEmailIsInvalidEmail) {
  for (const char* email : {"a@b@c", "x y@z.com", "no-at-sign", "alice@", "\"quoted\"@example.com"}) {
    SCOPED_TRACE(email);
    Json request = add_user_request("alice");
    request["email"] = email;

    auto response = send(request);

    EXPECT_EQ(outcome_of(response), "invalid_email") << response;
    EXPECT_EQ(field_of(response), "email");
  }
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
}

TEST_F(ProtocolOperations, AddUserWithAShortPasswordIsWeakPasswordAndCreatesNothing) {
  Json request = add_user_request("alice");
  request["password"] = "short";

  auto response = send(request);

  EXPECT_EQ(outcome_of(response), "weak_password") << response;
  EXPECT_EQ(field_of(response), "password");
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
}

TEST_F(ProtocolOperations, AddUserWithAnUnknownGroupIsNotFoundAndCreatesNoUser) {
  add_group("developers");
  Json request = add_user_request("alice");
  request["groups"] = {"developers", "nosuchgroup"};

  auto response = send(request);

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(field_of(response), "groups");
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], Json::array());
}

TEST_F(ProtocolOperations, AddUserWithoutPasswordThatWouldNotifyIsMailNotConfiguredAndCreatesNothing) {
  Json request = add_user_request("alice");
  request.erase("password");
  request.erase("notify");

  auto response = send(request);

  EXPECT_EQ(outcome_of(response), "mail_not_configured") << response;
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
}

TEST_F(ProtocolOperations, AddUserWithoutPasswordAndNotifyTrueIsMailNotConfigured) {
  Json request = add_user_request("alice");
  request.erase("password");
  request["notify"] = true;

  auto response = send(request);

  EXPECT_EQ(outcome_of(response), "mail_not_configured") << response;
}

TEST_F(ProtocolOperations, AddUserWithoutPasswordAndNotifyFalseCreatesAnAccountThatCannotLogIn) {
  Json request = add_user_request("alice");
  request.erase("password");

  auto response = send(request);

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"], expected_user("alice"));
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "invalid_credentials");
}

// --- update_user --------------------------------------------------------------

struct FieldChange {
  std::string field;
  Json value;
};

// How GoogleTest shows a case (a failure's "GetParam() = ..."): the change
// itself, not the struct's bytes.
void PrintTo(const FieldChange& change, std::ostream* out) { *out << change.field << " = " << change.value.dump(); }

class ProtocolUpdateUser : public ProtocolOperations, public ::testing::WithParamInterface<FieldChange> {};

TEST_P(ProtocolUpdateUser, UpdateUserChangesOnlyTheGivenField) {
  add_user("alice");
  const auto& change = GetParam();

  auto response = send({{"op", "update_user"}, {"username", "alice"}, {change.field, change.value}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  Json expected = expected_user("alice");
  expected[change.field] = change.value;
  EXPECT_EQ(response["user"], expected);
  EXPECT_EQ(get_user("alice")["user"], expected);
}

INSTANTIATE_TEST_SUITE_P(ProtocolFields, ProtocolUpdateUser,
                         ::testing::Values(FieldChange{"email", "alice.liddell@example.org"},
                                           FieldChange{"display_name", "Alice Liddell"},
                                           FieldChange{"first_name", "Alice"}, FieldChange{"last_name", "Liddell"},
                                           FieldChange{"active", false}),
                         [](const ::testing::TestParamInfo<FieldChange>& info) { return info.param.field; });

TEST_F(ProtocolOperations, UpdateUserOfTheEmailLetsTheUserBeFoundByTheNewEmailOnly) {
  add_user("alice");
  arrange({{"op", "update_user"}, {"username", "alice"}, {"email", "liddell@example.org"}});

  auto by_new = send({{"op", "get_user"}, {"email", "liddell@example.org"}});
  auto by_old = send({{"op", "get_user"}, {"email", "alice@example.com"}});

  EXPECT_EQ(by_new["user"]["username"], "alice") << by_new;
  EXPECT_EQ(outcome_of(by_old), "not_found") << by_old;
}

TEST_F(ProtocolOperations, UpdateUserWithNothingToChangeIsBadRequest) {
  add_user("alice");

  auto response = send({{"op", "update_user"}, {"username", "alice"}});

  EXPECT_EQ(outcome_of(response), "bad_request") << response;
}

TEST_F(ProtocolOperations, UpdateUserOfAnUnknownUserIsNotFound) {
  auto response = send({{"op", "update_user"}, {"username", "nosuchuser"}, {"display_name", "X"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

TEST_F(ProtocolOperations, UpdateUserWithAMalformedEmailIsInvalidEmail) {
  add_user("alice");

  auto response = send({{"op", "update_user"}, {"username", "alice"}, {"email", "a@b@c"}});

  EXPECT_EQ(outcome_of(response), "invalid_email") << response;
  EXPECT_EQ(get_user("alice")["user"]["email"], "alice@example.com");
}

TEST_F(ProtocolOperations, UpdateUserToAnotherUsersEmailIsConflictOnEmail) {
  add_user("alice");
  add_user("bob");

  auto response = send({{"op", "update_user"}, {"username", "bob"}, {"email", "alice@example.com"}});

  EXPECT_EQ(outcome_of(response), "conflict") << response;
  EXPECT_EQ(field_of(response), "email");
}

TEST_F(ProtocolOperations, UpdateUserToActiveAgainLetsTheUserAuthenticate) {
  add_user("alice");
  arrange({{"op", "update_user"}, {"username", "alice"}, {"active", false}});
  arrange({{"op", "update_user"}, {"username", "alice"}, {"active", true}});

  auto response = authenticate("alice", kPassword);

  EXPECT_EQ(outcome_of(response), "ok") << response;
}

// --- delete_user --------------------------------------------------------------

TEST_F(ProtocolOperations, DeleteUserRemovesTheUser) {
  add_user("alice");

  auto response = send({{"op", "delete_user"}, {"username", "alice"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(outcome_of(get_user("alice")), "not_found");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "invalid_credentials");
}

TEST_F(ProtocolOperations, DeleteUserRemovesItsMemberships) {
  add_group("developers");
  add_user("alice");
  add_user("bob");
  add_member("developers", "alice");
  add_member("developers", "bob");

  arrange({{"op", "delete_user"}, {"username", "alice"}});

  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], (Json{"bob"}));
}

TEST_F(ProtocolOperations, AUserCreatedAgainAfterDeleteHasNoneOfTheOldGroups) {
  add_group("developers");
  add_user("alice");
  add_member("developers", "alice");
  arrange({{"op", "delete_user"}, {"username", "alice"}});

  add_user("alice");

  EXPECT_EQ(send({{"op", "get_user_groups"}, {"username", "alice"}})["groups"], Json::array());
}

TEST_F(ProtocolOperations, DeleteUserOfAnUnknownUserIsNotFound) {
  auto response = send({{"op", "delete_user"}, {"username", "nosuchuser"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

// --- set_password / change_password -------------------------------------------

TEST_F(ProtocolOperations, SetPasswordReplacesThePassword) {
  add_user("alice");

  auto response = send({{"op", "set_password"}, {"username", "alice"}, {"password", "a brand new password"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(outcome_of(authenticate("alice", "a brand new password")), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "invalid_credentials");
}

TEST_F(ProtocolOperations, SetPasswordLetsAUserCreatedWithoutPasswordLogIn) {
  Json request = add_user_request("alice");
  request.erase("password");
  arrange(request);

  arrange({{"op", "set_password"}, {"username", "alice"}, {"password", kPassword}});

  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(ProtocolOperations, SetPasswordWithAShortPasswordIsWeakPassword) {
  add_user("alice");

  auto response = send({{"op", "set_password"}, {"username", "alice"}, {"password", "short"}});

  EXPECT_EQ(outcome_of(response), "weak_password") << response;
  EXPECT_EQ(field_of(response), "password");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(ProtocolOperations, SetPasswordOfAnUnknownUserIsNotFound) {
  auto response = send({{"op", "set_password"}, {"username", "nosuchuser"}, {"password", kPassword}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

TEST_F(ProtocolOperations, ChangePasswordWithTheRightOldPasswordReplacesIt) {
  add_user("alice");

  auto response = send({{"op", "change_password"},
                        {"username", "alice"},
                        {"old_password", kPassword},
                        {"new_password", "a brand new password"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(outcome_of(authenticate("alice", "a brand new password")), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "invalid_credentials");
}

TEST_F(ProtocolOperations, ChangePasswordWithAWrongOldPasswordIsInvalidCredentialsAndChangesNothing) {
  add_user("alice");

  auto response = send({{"op", "change_password"},
                        {"username", "alice"},
                        {"old_password", "not the password"},
                        {"new_password", "a brand new password"}});

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

TEST_F(ProtocolOperations, ChangePasswordToAWeakPasswordIsWeakPasswordAndChangesNothing) {
  add_user("alice");

  auto response =
      send({{"op", "change_password"}, {"username", "alice"}, {"old_password", kPassword}, {"new_password", "short"}});

  EXPECT_EQ(outcome_of(response), "weak_password") << response;
  EXPECT_EQ(field_of(response), "new_password");
  EXPECT_EQ(outcome_of(authenticate("alice", kPassword)), "ok");
}

// --- groups: changes ----------------------------------------------------------

TEST_F(ProtocolOperations, AddGroupReturnsTheNewEmptyGroup) {
  auto response = send({{"op", "add_group"}, {"name", "developers"}, {"description", "They write code"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const Json developers = {{"name", "developers"},
                           {"description", "They write code"},
                           {"directory", "internal"},
                           {"members", Json::array()}};
  EXPECT_EQ(response["group"], developers);
  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"], developers);
}

TEST_F(ProtocolOperations, AddGroupWithoutDescriptionHasANullDescription) {
  auto response = send({{"op", "add_group"}, {"name", "developers"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["group"]["description"], nullptr);
}

TEST_F(ProtocolOperations, AddGroupOfAnExistingNameInAnyCaseIsConflict) {
  add_group("developers");

  auto response = send({{"op", "add_group"}, {"name", "Developers"}});

  EXPECT_EQ(outcome_of(response), "conflict") << response;
  EXPECT_EQ(field_of(response), "name");
}

TEST_F(ProtocolOperations, DeleteGroupRemovesTheGroupAndItsMemberships) {
  add_group("developers");
  add_user("alice");
  add_member("developers", "alice");

  auto response = send({{"op", "delete_group"}, {"name", "developers"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(outcome_of(send({{"op", "get_group"}, {"name", "developers"}})), "not_found");
  EXPECT_EQ(send({{"op", "get_user_groups"}, {"username", "alice"}})["groups"], Json::array());
}

TEST_F(ProtocolOperations, DeleteGroupOfAnUnknownGroupIsNotFound) {
  auto response = send({{"op", "delete_group"}, {"name", "nosuchgroup"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

TEST_F(ProtocolOperations, AddMemberPutsTheUserInTheGroup) {
  add_group("developers");
  add_user("alice");

  auto response = send({{"op", "add_member"}, {"group", "developers"}, {"username", "alice"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], (Json{"alice"}));
}

TEST_F(ProtocolOperations, AddMemberToAnUnknownGroupIsNotFound) {
  add_user("alice");

  auto response = send({{"op", "add_member"}, {"group", "nosuchgroup"}, {"username", "alice"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

TEST_F(ProtocolOperations, AddMemberOfAnUnknownUserIsNotFound) {
  add_group("developers");

  auto response = send({{"op", "add_member"}, {"group", "developers"}, {"username", "nosuchuser"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], Json::array());
}

TEST_F(ProtocolOperations, RemoveMemberTakesTheUserOutOfTheGroup) {
  add_group("developers");
  add_user("alice");
  add_user("bob");
  add_member("developers", "alice");
  add_member("developers", "bob");

  auto response = send({{"op", "remove_member"}, {"group", "developers"}, {"username", "alice"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(send({{"op", "get_group"}, {"name", "developers"}})["group"]["members"], (Json{"bob"}));
}

TEST_F(ProtocolOperations, RemoveMemberFromAnUnknownGroupIsNotFound) {
  add_user("alice");

  auto response = send({{"op", "remove_member"}, {"group", "nosuchgroup"}, {"username", "alice"}});

  EXPECT_EQ(outcome_of(response), "not_found") << response;
}

// --- list_directories / reload ------------------------------------------------

TEST_F(ProtocolOperations, ListDirectoriesShowsTheInternalDirectoryUpWithItsUserCount) {
  add_user("alice");
  add_user("bob");

  auto response = send({{"op", "list_directories"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["directories"], (Json::array({{{"name", "internal"},
                                                    {"type", "internal"},
                                                    {"permissions", "read_write"},
                                                    {"status", "up"},
                                                    {"users", 2}}})));
}

TEST_F(ProtocolOperations, ReloadOfTheUnchangedFileSucceeds) {
  auto response = send({{"op", "reload"}});

  EXPECT_EQ(response, (Json{{"id", 1}, {"ok", true}}));
  EXPECT_EQ(outcome_of(send({{"op", "ping"}})), "ok");
}

// --- names in any case (a site pattern that admits capitals) -----------------

class ProtocolMixedCaseNames : public DaemonTest {
 protected:
  void SetUp() override {
    Json config = daemon_.default_config();
    config["accounts"]["username_pattern"] = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
    daemon_.start(config);
  }
};

TEST_F(ProtocolMixedCaseNames, GetUserIgnoresCaseAndReturnsTheStoredSpelling) {
  add_user("Alice");

  auto response = get_user("aLICE");

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["username"], "Alice");
}

TEST_F(ProtocolMixedCaseNames, AuthenticateIgnoresTheCaseOfTheUsername) {
  add_user("Alice");

  auto response = authenticate("ALICE", kPassword);

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["username"], "Alice");
}

TEST_F(ProtocolMixedCaseNames, AddUserOfATakenUsernameInAnotherCaseIsConflict) {
  add_user("alice");
  Json again = add_user_request("ALICE");
  again["email"] = "other@example.com";

  auto response = send(again);

  EXPECT_EQ(outcome_of(response), "conflict") << response;
  EXPECT_EQ(field_of(response), "username");
}

TEST_F(ProtocolMixedCaseNames, FindUsersSortsUsernamesIgnoringCase) {
  add_user("bob");
  add_user("Carol");
  add_user("alice");

  auto response = send({{"op", "find_users"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(usernames_of(response["users"]), (std::vector<std::string>{"alice", "bob", "Carol"}));
}

}  // namespace
}  // namespace dirproxy::integration
