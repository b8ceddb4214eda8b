// Active Directory behaviours that slapd cannot stand in for, against the
// scripted AD server of tests/support/ad_server.py (AdServer), driving the
// real dirproxyd through its socket protocol. Each test names the behaviour
// it reproduces and the Microsoft document that specifies it:
//
// - unicodePwd writes (MS-ADTS 3.1.1.3.1.5): the quoted UTF-16LE value, a
//   reset as replace, a change as delete-old/add-new, AD's policy refusals;
// - account creation with userAccountControl (MS-ADTS 2.2.16): added
//   disabled, password set, then enabled, and undone when AD refuses;
// - range retrieval of attribute values (MS-ADTS 3.1.1.3.1.3.3);
// - LDAP_MATCHING_RULE_IN_CHAIN (MS-ADTS 3.1.1.3.4.4.4).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "ldap_test_support.hpp"
#include "support/ad_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::AdServer;

constexpr const char* kDomain = "DC=corp,DC=example,DC=com";
constexpr const char* kServiceDn = "CN=svc-dirproxy,CN=Users,DC=corp,DC=example,DC=com";
constexpr const char* kServicePassword = "service-password-1";
constexpr const char* kAdaDn = "CN=Ada Lovelace,CN=Users,DC=corp,DC=example,DC=com";
constexpr const char* kAdaPassword = "Ada-Old-Password-1";
// Long enough for dirproxy's own policy (10) and the scripted domain's (14).
constexpr const char* kNewPassword = "Ada-New-Password-2";
// Long enough for dirproxy (10), too short for the domain (14).
constexpr const char* kShortForAd = "Short-Pw-123";
constexpr int kBigGroupSize = 5000;

std::string in_users(const std::string& cn) { return "CN=" + cn + ",CN=Users," + kDomain; }

Json user_entry(const std::string& cn, const std::string& username, const std::string& password = "") {
  Json entry = {{"dn", in_users(cn)},
                {"attributes",
                 {{"objectClass", {"top", "person", "organizationalPerson", "user"}},
                  {"cn", {cn}},
                  {"sAMAccountName", {username}},
                  {"displayName", {cn}},
                  {"mail", {username + "@corp.example.com"}},
                  {"userAccountControl", {"512"}}}}};
  if (!password.empty()) entry["password"] = password;
  return entry;
}

Json group_entry(const std::string& cn, const std::vector<std::string>& member_dns) {
  return {{"dn", in_users(cn)},
          {"attributes", {{"objectClass", {"top", "group"}}, {"cn", {cn}}, {"member", member_dns}}}};
}

// The domain: Ada in Staff, Staff in Everyone, Everyone in Engineering (three
// levels of nesting), an unrelated group, and Big with kBigGroupSize members.
std::string domain_data() {
  Json entries = Json::array();
  entries.push_back({{"dn", kDomain}, {"attributes", {{"objectClass", {"top", "domain"}}}}});
  entries.push_back({{"dn", std::string("CN=Users,") + kDomain}, {"attributes", {{"objectClass", {"top", "container"}}}}});
  entries.push_back(user_entry("svc-dirproxy", "svc-dirproxy"));
  entries.push_back(user_entry("Ada Lovelace", "ada", kAdaPassword));
  entries.push_back(group_entry("Staff", {kAdaDn}));
  entries.push_back(group_entry("Everyone", {in_users("Staff")}));
  entries.push_back(group_entry("Engineering", {in_users("Everyone")}));
  entries.push_back(group_entry("Unrelated", {in_users("svc-dirproxy")}));
  std::vector<std::string> big;
  for (int i = 0; i < kBigGroupSize; ++i) {
    const std::string cn = "Member " + std::to_string(i);
    entries.push_back(user_entry(cn, "member" + std::to_string(i)));
    big.push_back(in_users(cn));
  }
  entries.push_back(group_entry("Big", big));
  return Json({{"entries", entries}, {"service", {{"dn", kServiceDn}, {"password", kServicePassword}}}}).dump();
}

// The requests the server logged, one JSON object each.
std::vector<Json> requests_of(const AdServer& server) {
  std::vector<Json> requests;
  std::istringstream lines(server.requests());
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) requests.push_back(Json::parse(line));
  }
  return requests;
}

std::vector<Json> requests_named(const AdServer& server, const std::string& op) {
  std::vector<Json> found;
  for (auto& request : requests_of(server)) {
    if (request["op"] == op) found.push_back(std::move(request));
  }
  return found;
}

class ActiveDirectory : public DaemonTest {
 protected:
  void SetUp() override {
    const std::string password_file = daemon_.dir() + "/ad.bind-password";
    {
      std::ofstream out(password_file);
      out << kServicePassword << "\n";
    }
    Json ad = {{"name", "ad"},
               {"type", "ldap"},
               {"permissions", "read_write"},
               {"schema", "active_directory"},
               {"uri", Json::array({server_.uri()})},
               {"tls_ca_file", server_.ca_file()},
               {"bind_dn", kServiceDn},
               {"bind_password_file", password_file},
               {"base_dn", kDomain},
               {"users", {{"base", "CN=Users"}}},
               {"groups", {{"base", "CN=Users"}}},
               {"nested_groups", true},
               {"timeouts", {{"connect", "2s"}, {"operation", "10s"}}},
               {"pool_size", 2}};
    daemon_.start(config_with_directories(daemon_, Json::array({ad, internal_directory()})));
    server_.clear_requests();
  }

  Json state() const { return Json::parse(server_.state()); }
  std::string password_of(const std::string& dn) const {
    return state()["passwords"].value(ascii_lower_dn(dn), std::string("(none)"));
  }
  static std::string ascii_lower_dn(std::string dn) {
    for (char& c : dn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return dn;
  }
  // The modify requests of unicodePwd, as [operation, attribute] lists.
  std::vector<Json> password_modifies() const {
    std::vector<Json> found;
    for (auto& request : requests_named(server_, "modify")) {
      if (request["changes"][0][1] == "unicodePwd") found.push_back(request["changes"]);
    }
    return found;
  }

  Json add_grace(const std::string& password) {
    return send({{"op", "add_user"},
                 {"username", "grace"},
                 {"email", "grace@corp.example.com"},
                 {"display_name", "Grace Hopper"},
                 {"password", password},
                 {"notify", false}});
  }

  AdServer server_{domain_data()};
};

// MS-ADTS 3.1.1.3.1.5: an administrator's reset is a replace of unicodePwd
// with the quoted UTF-16LE password (the server refuses any other form).
TEST_F(ActiveDirectory, SetPasswordReplacesUnicodePwd) {
  auto response = send({{"op", "set_password"}, {"username", "ada"}, {"password", kNewPassword}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(password_of(kAdaDn), kNewPassword);
  EXPECT_EQ(password_modifies(), std::vector<Json>{Json::parse(R"([["replace","unicodePwd"]])")});
  EXPECT_EQ(outcome_of(authenticate("ada", kNewPassword)), "ok");
}

// MS-ADTS 3.1.1.3.1.5: a user's own change deletes the old value and adds
// the new one in one Modify, and AD checks the old one.
TEST_F(ActiveDirectory, ChangePasswordDeletesTheOldValueAndAddsTheNewOne) {
  auto response = send(
      {{"op", "change_password"}, {"username", "ada"}, {"old_password", kAdaPassword}, {"new_password", kNewPassword}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(password_of(kAdaDn), kNewPassword);
  EXPECT_EQ(password_modifies(), std::vector<Json>{Json::parse(R"([["delete","unicodePwd"],["add","unicodePwd"]])")});
}

// MS-ADTS 3.1.1.3.1.5 and MS-SAMR 3.1.1.7.1: a password that breaks the
// domain's policy is refused with constraintViolation and 0000052D; dirproxy
// answers weak_password with AD's reason.
TEST_F(ActiveDirectory, SetPasswordThatBreaksTheDomainPolicyIsWeakPasswordWithADsReason) {
  auto response = send({{"op", "set_password"}, {"username", "ada"}, {"password", kShortForAd}});

  ASSERT_EQ(outcome_of(response), "weak_password") << response;
  EXPECT_EQ(field_of(response), "password");
  EXPECT_NE(response["error"]["message"].get<std::string>().find(
                "check_password_restrictions: the password does not meet the complexity requirements"),
            std::string::npos)
      << response;
  EXPECT_EQ(password_of(kAdaDn), kAdaPassword);
}

// MS-ADTS 3.1.1.3.1.5: the history applies to a change; a password used
// before is refused with 0000052D.
TEST_F(ActiveDirectory, ChangeToAPasswordInTheHistoryIsWeakPassword) {
  auto response = send(
      {{"op", "change_password"}, {"username", "ada"}, {"old_password", kAdaPassword}, {"new_password", kAdaPassword}});

  ASSERT_EQ(outcome_of(response), "weak_password") << response;
  EXPECT_EQ(field_of(response), "new_password");
  EXPECT_NE(response["error"]["message"].get<std::string>().find("in history"), std::string::npos) << response;
}

// A wrong old password never reaches AD's Modify: dirproxy's bind refuses it.
TEST_F(ActiveDirectory, ChangePasswordWithAWrongOldPasswordIsInvalidCredentials) {
  auto response = send({{"op", "change_password"},
                        {"username", "ada"},
                        {"old_password", "not-her-password"},
                        {"new_password", kNewPassword}});

  EXPECT_EQ(outcome_of(response), "invalid_credentials") << response;
  EXPECT_TRUE(password_modifies().empty());
  EXPECT_EQ(password_of(kAdaDn), kAdaPassword);
}

// MS-ADTS 2.2.16: an account is added disabled (514), given its password,
// then enabled (512), since AD will not enable an account without a
// password its policy accepts.
TEST_F(ActiveDirectory, AddUserAddsDisabledThenSetsThePasswordThenEnables) {
  auto response = add_grace(kNewPassword);

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["directory"], "ad");
  EXPECT_EQ(response["user"]["active"], true);
  std::vector<std::string> steps;
  for (const auto& request : requests_of(server_)) {
    if (request["op"] == "add") steps.push_back("add uac=" + request["userAccountControl"].get<std::string>());
    if (request["op"] == "modify") {
      steps.push_back(request["changes"][0][0].get<std::string>() + " " +
                      request["changes"][0][1].get<std::string>() + " " +
                      request.value("userAccountControl", std::string()));
    }
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"add uac=514", "replace unicodePwd ", "replace userAccountControl 512"}));
  const Json entry = state()["entries"]["cn=grace,CN=Users,DC=corp,DC=example,DC=com"];
  EXPECT_EQ(entry["sAMAccountName"], Json({"grace"}));
  EXPECT_EQ(entry["userPrincipalName"], Json({"grace@corp.example.com"}));
  EXPECT_EQ(entry["userAccountControl"], Json({"512"}));
  EXPECT_EQ(password_of("cn=grace,CN=Users,DC=corp,DC=example,DC=com"), kNewPassword);
  EXPECT_EQ(outcome_of(authenticate("grace", kNewPassword)), "ok");
}

// MS-ADTS 2.2.16 and 3.1.1.3.1.5: an account added without a password (the
// user sets one through a set-password link) is enabled too, with a random
// password nobody knows; the link's set is then a replace of it.
TEST_F(ActiveDirectory, AddUserWithoutAPasswordIsEnabledWithARandomOneTheLinkReplaces) {
  auto response = send({{"op", "add_user"},
                        {"username", "grace"},
                        {"email", "grace@corp.example.com"},
                        {"display_name", "Grace Hopper"},
                        {"notify", false}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["user"]["active"], true);
  const std::string dn = "cn=grace,CN=Users,DC=corp,DC=example,DC=com";
  EXPECT_EQ(state()["entries"][dn]["userAccountControl"], Json({"512"}));
  const std::string initial = password_of(dn);
  EXPECT_GE(initial.size(), 40u);
  const std::string link = response.value("set_password_link", "");
  ASSERT_NE(link.find("token="), std::string::npos) << response;
  const std::string token = link.substr(link.find("token=") + 6);
  auto set = send({{"op", "reset_password"}, {"token", token}, {"password", kNewPassword}});
  ASSERT_EQ(outcome_of(set), "ok") << set;
  EXPECT_EQ(password_of(dn), kNewPassword);
  EXPECT_EQ(outcome_of(authenticate("grace", kNewPassword)), "ok");
}

// MS-ADTS 3.1.1.3.1.5: when AD refuses the new account's password, the
// disabled entry is deleted again: no half-created user.
TEST_F(ActiveDirectory, AddUserWhosePasswordADRefusesLeavesNoEntry) {
  auto response = add_grace(kShortForAd);

  ASSERT_EQ(outcome_of(response), "weak_password") << response;
  EXPECT_FALSE(state()["entries"].contains("cn=grace,CN=Users,DC=corp,DC=example,DC=com"));
  ASSERT_EQ(requests_named(server_, "delete").size(), 1u);
  EXPECT_EQ(requests_named(server_, "delete")[0]["dn"], "cn=grace,CN=Users,DC=corp,DC=example,DC=com");
  EXPECT_EQ(outcome_of(get_user("grace")), "not_found");
}

// MS-ADTS 3.1.1.3.1.3.3: a group of 5,000 members comes back as
// member;range=0-1499; the rest is asked for range by range until the range
// that ends in '*'.
TEST_F(ActiveDirectory, GroupOfFiveThousandMembersIsReadRangeByRange) {
  auto response = send({{"op", "get_group"}, {"name", "Big"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  const auto& members = response["group"]["members"];
  ASSERT_EQ(members.size(), static_cast<std::size_t>(kBigGroupSize));
  std::set<std::string> distinct(members.begin(), members.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kBigGroupSize));
  EXPECT_TRUE(distinct.contains("member0") && distinct.contains("member4999"));
  std::vector<std::string> ranges;
  for (const auto& request : requests_named(server_, "search")) {
    for (const auto& attribute : request["attributes"]) {
      if (attribute.get<std::string>().find(";range=") != std::string::npos) ranges.push_back(attribute);
    }
  }
  EXPECT_EQ(ranges, (std::vector<std::string>{"member;range=1500-*", "member;range=3000-*", "member;range=4500-*"}));
}

// MS-ADTS 3.1.1.3.4.4.4: with nested_groups, a user's groups through any
// depth of nesting are one search with LDAP_MATCHING_RULE_IN_CHAIN.
TEST_F(ActiveDirectory, NestedGroupsOfAUserAreOneInChainSearch) {
  auto response = send({{"op", "get_user_groups"}, {"username", "ada"}});

  ASSERT_EQ(outcome_of(response), "ok") << response;
  EXPECT_EQ(response["groups"], Json({"Engineering", "Everyone", "Staff"}));
  std::size_t group_searches = 0;
  std::size_t in_chain = 0;
  for (const auto& request : requests_named(server_, "search")) {
    if (request["attributes"] != Json({"1.1"})) continue;  // the user's own lookup
    ++group_searches;
    if (request.contains("filter_parts") &&
        std::find(request["filter_parts"].begin(), request["filter_parts"].end(), "extensibleMatch") !=
            request["filter_parts"].end()) {
      ++in_chain;
    }
  }
  EXPECT_EQ(group_searches, 1u);
  EXPECT_EQ(in_chain, 1u);
}

}  // namespace
}  // namespace dirproxy::integration
