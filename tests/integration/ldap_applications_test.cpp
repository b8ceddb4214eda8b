// Applications on the LDAP front end (APPLICATIONS.md, docs/ldap-server.md):
// a bound application with access_groups sees only the users it admits,
// and an application's own tree (ldap.base_dn) holds only them and admits
// only them to a user bind under it. ldap-utils and python3-ldap3 against a
// real dirproxyd.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/daemon_harness.hpp"
#include "integration/ldap_test_support.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kBase = "dc=example,dc=com";
constexpr const char* kGrafanaBase = "dc=grafana,dc=example,dc=org";
constexpr const char* kPassword = "service secret 1";

std::string service_dn(const std::string& name, const std::string& base = kBase) {
  return "cn=" + name + ",ou=services," + base;
}
std::string user_dn(const std::string& name, const std::string& base = kBase) {
  return "uid=" + name + ",ou=people," + base;
}

class LdapApplicationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<UniqueFd> held;
    port_ = testing::free_port(held);
    ldaps_port_ = testing::free_port(held);
    tls_dir_ = daemon_.dir() + "/tls";
    testing::make_test_certificates(tls_dir_);
  }

  // grafana admits the members of grafana-users and has a tree of its own;
  // nslcd admits everyone (and may write).
  Json config(const Json& grafana_groups = Json::array({"grafana-users"})) const {
    Json config = daemon_.default_config();
    config["ldap_server"] = ldap_server_section(kBase, port_, ldaps_port_, tls_dir_);
    config["ldap_server"]["limits"] = {{"size_limit", 20}};
    config["applications"] = Json::array(
        {{{"name", "grafana"},
          {"access_groups", grafana_groups},
          {"ldap", {{"password_hash", application_password_hash(kPassword)}, {"base_dn", kGrafanaBase}}}},
         {{"name", "nslcd"},
          {"ldap", {{"password_hash", application_password_hash(kPassword)}, {"may_write", true}}}}});
    return config;
  }

  // alice and carol are in grafana-users, bob is not; staff holds alice and bob.
  void start_with_users() {
    daemon_.start(config());
    add_group("grafana-users");
    add_group("staff");
    add_user("alice", {"grafana-users", "staff"});
    add_user("bob", {"staff"});
    add_user("carol", {"grafana-users"});
  }

  std::string uri() const { return "ldap://127.0.0.1:" + std::to_string(port_); }

  ProcessOutput tool(const std::string& program, std::vector<std::string> args) const {
    RunOptions options;
    options.env = {{"LDAPTLS_CACERT", tls_dir_ + "/ca.crt"}, {"LDAPTLS_REQCERT", "demand"}, {"LDAPCONF", "/dev/null"},
                   {"LDAPRC", "/dev/null"}};
    options.timeout = 30s;
    return run_program(program, args, options);
  }

  ProcessOutput search(const std::string& dn, const std::string& base, const std::vector<std::string>& rest) const {
    std::vector<std::string> args = {"-x", "-LLL", "-o", "ldif-wrap=no", "-H", uri(), "-b", base};
    if (!dn.empty()) args.insert(args.end(), {"-D", dn, "-w", dn.find("uid=") == 0 ? password_of(dn) : kPassword});
    args.insert(args.end(), rest.begin(), rest.end());
    return tool("ldapsearch", args);
  }

  ProcessOutput modify(const std::string& dn, const std::string& ldif) const {
    RunOptions options;
    options.env = {{"LDAPCONF", "/dev/null"}, {"LDAPRC", "/dev/null"}};
    options.stdin_text = ldif;
    return run_program("ldapmodify", {"-x", "-H", uri(), "-D", dn, "-w", kPassword}, options);
  }

  ProcessOutput who_am_i(const std::string& dn, const std::string& password) const {
    return tool("ldapwhoami", {"-x", "-H", uri(), "-D", dn, "-w", password});
  }

  static std::string password_of(const std::string& dn) {
    return dn.substr(4, dn.find(',') - 4) + " password 1";
  }

  void add_user(const std::string& name, const std::vector<std::string>& groups) {
    Json request = {{"op", "add_user"}, {"username", name}, {"email", name + "@example.com"}, {"display_name", name},
                    {"password", name + " password 1"}, {"notify", false}, {"groups", groups}};
    const Json response = daemon_.call(request);
    ASSERT_EQ(response.value("ok", false), true) << response.dump();
  }

  void add_group(const std::string& name) {
    const Json response = daemon_.call({{"op", "add_group"}, {"name", name}});
    ASSERT_EQ(response.value("ok", false), true) << response.dump();
  }

  DaemonHarness daemon_;
  int port_ = 0;
  int ldaps_port_ = 0;
  std::string tls_dir_;
};

TEST_F(LdapApplicationsTest, ARestrictedApplicationFindsOnlyTheUsersItAdmits) {
  start_with_users();
  const std::string grafana = service_dn("grafana");
  // By uid: a member is found, a non-member is not there.
  const auto alice = search(grafana, kBase, {"(uid=alice)", "uid"});
  ASSERT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(lines_with(alice.out, "dn:"), std::vector<std::string>{"dn: " + user_dn("alice")});
  const auto bob = search(grafana, kBase, {"(|(uid=bob)(mail=bob@example.com))", "uid"});
  ASSERT_EQ(bob.exit_code, 0) << bob.err;
  EXPECT_TRUE(lines_with(bob.out, "dn:").empty()) << bob.out;
  // Enumerated, and a page at a time.
  const auto all = search(grafana, std::string("ou=people,") + kBase, {"-s", "one", "(objectClass=person)", "uid"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(lines_with(all.out, "uid:"), (std::vector<std::string>{"uid: alice", "uid: carol"}));
  const auto paged = search(grafana, kBase, {"-E", "pr=1/noprompt", "(objectClass=inetOrgPerson)", "uid"});
  ASSERT_EQ(paged.exit_code, 0) << paged.err;
  EXPECT_EQ(lines_with(paged.out, "uid:"), (std::vector<std::string>{"uid: alice", "uid: carol"}));
  // A sizeLimit of 2 is not exceeded by users it does not see.
  const auto limited = search(grafana, kBase, {"-z", "2", "(objectClass=inetOrgPerson)", "uid"});
  EXPECT_EQ(limited.exit_code, 0) << limited.err;
  // A base read of a non-member's entry: no such object.
  EXPECT_EQ(search(grafana, user_dn("bob"), {"-s", "base", "(objectClass=*)"}).exit_code, 32);
  // Groups are all there, with the members it admits.
  const auto staff = search(grafana, kBase, {"(cn=staff)", "member", "memberUid"});
  ASSERT_EQ(staff.exit_code, 0) << staff.err;
  EXPECT_EQ(lines_with(staff.out, "member:"), std::vector<std::string>{"member: " + user_dn("alice")});
  EXPECT_EQ(lines_with(staff.out, "memberUid:"), std::vector<std::string>{"memberUid: alice"});
  // (member=bob's DN) finds no group for it; a Compare says bob is not a member.
  const auto of_bob = search(grafana, kBase, {"(member=" + user_dn("bob") + ")", "cn"});
  ASSERT_EQ(of_bob.exit_code, 0) << of_bob.err;
  EXPECT_TRUE(lines_with(of_bob.out, "dn:").empty()) << of_bob.out;
  const std::string staff_dn = std::string("cn=staff,ou=groups,") + kBase;
  EXPECT_EQ(tool("ldapcompare", {"-x", "-H", uri(), "-D", grafana, "-w", kPassword, staff_dn,
                                 "member:" + user_dn("bob")})
                .exit_code,
            5);  // compareFalse
  EXPECT_EQ(tool("ldapcompare", {"-x", "-H", uri(), "-D", grafana, "-w", kPassword, user_dn("bob"), "uid:bob"})
                .exit_code,
            32);
  // An application that admits everyone sees bob and all of staff.
  const auto nslcd = search(service_dn("nslcd"), kBase, {"(cn=staff)", "memberUid"});
  ASSERT_EQ(nslcd.exit_code, 0) << nslcd.err;
  EXPECT_EQ(lines_with(nslcd.out, "memberUid:"), (std::vector<std::string>{"memberUid: alice", "memberUid: bob"}));
}

TEST_F(LdapApplicationsTest, AWritingApplicationCannotChangeUsersItDoesNotAdmit) {
  Json writing = config();
  writing["applications"][0]["ldap"]["may_write"] = true;
  daemon_.start(writing);
  add_group("grafana-users");
  add_user("alice", {"grafana-users"});
  add_user("bob", {});
  const std::string grafana = service_dn("grafana");
  const auto change = [](const std::string& name) {
    return "dn: " + user_dn(name) + "\nchangetype: modify\nreplace: displayName\ndisplayName: Changed\n";
  };
  // bob does not exist for grafana: not changed, not deleted, no new password.
  EXPECT_EQ(modify(grafana, change("bob")).exit_code, 32);
  EXPECT_EQ(modify(grafana, "dn: " + user_dn("bob") + "\nchangetype: delete\n").exit_code, 32);
  const auto password = tool(
      "ldappasswd", {"-x", "-H", uri(), "-D", grafana, "-w", kPassword, "-s", "new bob password 1", user_dn("bob")});
  EXPECT_NE(password.exit_code, 0);
  EXPECT_NE((password.out + password.err).find("No such object (32)"), std::string::npos) << password.err;
  const Json bob = daemon_.call({{"op", "get_user"}, {"username", "bob"}});
  EXPECT_EQ(bob["user"]["display_name"], "bob") << bob.dump();
  EXPECT_EQ(who_am_i(user_dn("bob"), password_of(user_dn("bob"))).exit_code, 0);
  // alice, whom it admits, it may change.
  EXPECT_EQ(modify(grafana, change("alice")).exit_code, 0);
  const Json alice = daemon_.call({{"op", "get_user"}, {"username", "alice"}});
  EXPECT_EQ(alice["user"]["display_name"], "Changed") << alice.dump();
}

TEST_F(LdapApplicationsTest, TheApplicationsTreeHoldsOnlyItsUsersUnderItsBase) {
  start_with_users();
  const auto root = search("", "", {"-s", "base", "namingContexts"});
  ASSERT_EQ(root.exit_code, 0) << root.err;
  EXPECT_EQ(lines_with(root.out, "namingContexts:"),
            (std::vector<std::string>{std::string("namingContexts: ") + kBase,
                                      std::string("namingContexts: ") + kGrafanaBase}));
  // Any reader with access to the tree (here the unrestricted nslcd) sees
  // only grafana's users under grafana's base, with DNs under it.
  const auto users = search(service_dn("nslcd"), kGrafanaBase, {"(objectClass=inetOrgPerson)", "memberOf"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  EXPECT_EQ(lines_with(users.out, "dn:"),
            (std::vector<std::string>{"dn: " + user_dn("alice", kGrafanaBase), "dn: " + user_dn("carol", kGrafanaBase)}));
  const auto member_of = lines_with(users.out, "memberOf:");
  ASSERT_FALSE(member_of.empty()) << users.out;
  EXPECT_EQ(member_of.front(), std::string("memberOf: cn=grafana-users,ou=groups,") + kGrafanaBase);
  const auto staff = search(service_dn("nslcd"), kGrafanaBase, {"(cn=staff)", "member"});
  ASSERT_EQ(staff.exit_code, 0) << staff.err;
  EXPECT_EQ(lines_with(staff.out, "member:"), std::vector<std::string>{"member: " + user_dn("alice", kGrafanaBase)});
  // Anonymous clients read it no more than the main tree.
  EXPECT_EQ(search("", kGrafanaBase, {"(uid=alice)"}).exit_code, 50);
  // A user reading itself under the base (user_read: self).
  const auto own = search(user_dn("alice", kGrafanaBase), kGrafanaBase, {"(uid=*)", "uid"});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(lines_with(own.out, "uid:"), std::vector<std::string>{"uid: alice"});
  // The application binds under its own base too, and sees its own entry there.
  const auto self = search(service_dn("grafana", kGrafanaBase), std::string("ou=services,") + kGrafanaBase,
                           {"-s", "one", "(objectClass=*)", "cn"});
  ASSERT_EQ(self.exit_code, 0) << self.err;
  EXPECT_EQ(lines_with(self.out, "dn:"), std::vector<std::string>{"dn: " + service_dn("grafana", kGrafanaBase)});
  // Another application does not bind under grafana's base.
  EXPECT_EQ(who_am_i(service_dn("nslcd", kGrafanaBase), kPassword).exit_code, 49);
  // Writes go to the main tree.
  EXPECT_EQ(tool("ldapdelete", {"-x", "-H", uri(), "-D", service_dn("nslcd"), "-w", kPassword,
                                user_dn("alice", kGrafanaBase)})
                .exit_code,
            53);
}

TEST_F(LdapApplicationsTest, AUserBindUnderTheApplicationsBaseNeedsItsAccessGroups) {
  start_with_users();
  const auto alice = who_am_i(user_dn("ALICE", "DC=Grafana, dc=example,dc=org"), "alice password 1");
  EXPECT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(alice.out, "dn:" + user_dn("alice", kGrafanaBase) + "\n");
  const auto bob = who_am_i(user_dn("bob", kGrafanaBase), "bob password 1");
  EXPECT_EQ(bob.exit_code, 49);
  EXPECT_NE(bob.err.find("user 'bob' may not use application 'grafana'"), std::string::npos) << bob.err;
  const auto wrong = who_am_i(user_dn("bob", kGrafanaBase), "wrong password");
  EXPECT_EQ(wrong.exit_code, 49);
  EXPECT_EQ(wrong.err.find("may not use"), std::string::npos) << wrong.err;
  // Under the main base, and by name, bob is through no application.
  EXPECT_EQ(who_am_i(user_dn("bob"), "bob password 1").exit_code, 0);
  EXPECT_EQ(who_am_i("bob", "bob password 1").exit_code, 0);
}

TEST_F(LdapApplicationsTest, GrafanasLoginFlowUnderItsBaseChecksAccessWithoutAFilterOfItsOwn) {
  start_with_users();
  // ldap.toml: bind_dn cn=grafana,...; search_base_dns [dc=grafana,...];
  // search_filter (|(uid=%s)(mail=%s)); then a bind as the DN found.
  for (const std::string name : {"alice", "bob"}) {
    const auto found = search(service_dn("grafana"), kGrafanaBase,
                              {"(|(uid=" + name + ")(mail=" + name + "))", "dn", "mail", "memberOf"});
    ASSERT_EQ(found.exit_code, 0) << found.err;
    const auto dns = lines_with(found.out, "dn: ");
    if (name == "bob") {
      EXPECT_TRUE(dns.empty()) << found.out;  // Grafana: user not found
      continue;
    }
    ASSERT_EQ(dns, std::vector<std::string>{"dn: " + user_dn(name, kGrafanaBase)});
    EXPECT_EQ(who_am_i(dns.front().substr(4), name + " password 1").exit_code, 0);
  }
  // Had Grafana found bob's DN some other way, the bind refuses him.
  EXPECT_EQ(who_am_i(user_dn("bob", kGrafanaBase), "bob password 1").exit_code, 49);
}

TEST_F(LdapApplicationsTest, AReloadThatChangesAccessGroupsAppliesToTheNextSearchOnAnOpenConnection) {
  start_with_users();
  const std::string go = daemon_.dir() + "/go";
  const std::string first_done = daemon_.dir() + "/first-done";
  // One connection bound as grafana: a search for bob, then (after the
  // reload) the same search again.
  const std::string script = R"(
import os, sys, time, ldap3
port, dn, password, base, first_done, go = sys.argv[1:]
conn = ldap3.Connection(ldap3.Server('127.0.0.1', port=int(port)), dn, password, auto_bind=True)
counts = []
conn.search(base, '(uid=bob)', attributes=['uid'])
counts.append(len(conn.entries))
open(first_done, 'w').close()
for _ in range(200):
    if os.path.exists(go):
        break
    time.sleep(0.1)
conn.search(base, '(uid=bob)', attributes=['uid'])
counts.append(len(conn.entries))
print(counts)
)";
  ProcessOutput result;
  std::thread client([&] {
    RunOptions options;
    options.timeout = 60s;
    result = run_program("/usr/bin/python3", {"-c", script, std::to_string(port_), service_dn("grafana"), kPassword,
                                             kBase, first_done, go},
                         options);
  });
  for (int i = 0; i < 300 && !std::filesystem::exists(first_done); ++i) std::this_thread::sleep_for(100ms);
  daemon_.write_config(config(Json::array({"grafana-users", "staff"})));
  daemon_.signal(SIGHUP);
  const bool reloaded = daemon_.wait_for_log("configuration reloaded", 10s);
  std::ofstream(go).close();
  client.join();
  ASSERT_TRUE(reloaded) << daemon_.log_tail();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[0, 1]\n") << result.err;
}

// Grafana's flow under the main base on one connection: bound as grafana,
// it searches, then binds as the user it found. That login is made by
// grafana, so grafana's access groups apply to it.
TEST_F(LdapApplicationsTest, AUserBindOnAConnectionBoundAsAnApplicationIsALoginThroughIt) {
  start_with_users();
  const std::string script = R"(
import sys, ldap3
port, dn, password, base = sys.argv[1:]
for user in ('alice', 'bob'):
    conn = ldap3.Connection(ldap3.Server('127.0.0.1', port=int(port)), dn, password, auto_bind=True)
    conn.search(base, '(uid=%s)' % user, attributes=['uid'])
    found = len(conn.entries)
    conn.rebind('uid=%s,ou=people,%s' % (user, base), '%s password 1' % user)
    print(user, found, conn.result['result'], conn.result['message'])
    conn.unbind()
# Without the application's bind first, bob is through no application.
conn = ldap3.Connection(ldap3.Server('127.0.0.1', port=int(port)), 'uid=bob,ou=people,%s' % base, 'bob password 1')
print('bob alone', conn.bind())
)";
  RunOptions options;
  options.timeout = 60s;
  const auto result =
      run_program("/usr/bin/python3", {"-c", script, std::to_string(port_), service_dn("grafana"), kPassword, kBase},
                  options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "alice 1 0 \n"
            "bob 0 49 user 'bob' may not use application 'grafana'\n"
            "bob alone True\n")
      << result.err;
}

TEST_F(LdapApplicationsTest, OverlappingBasesAreRefusedAtStartAndAtReload) {
  Json overlapping = config();
  overlapping["applications"][0]["ldap"]["base_dn"] = "ou=grafana,DC=Example, dc=com";
  daemon_.write_config(overlapping);
  daemon_.spawn();
  const auto status = daemon_.wait_exit(10s);
  ASSERT_TRUE(status.has_value()) << daemon_.log_tail();
  EXPECT_NE(*status, 0);
  EXPECT_NE(daemon_.log().find("grafana's ldap.base_dn 'ou=grafana,DC=Example, dc=com' is, is under or is above "
                               "ldap_server.base_dn 'dc=example,dc=com'"),
            std::string::npos)
      << daemon_.log_tail();

  daemon_.start(config());
  Json two_alike = config();
  two_alike["applications"][1]["ldap"]["base_dn"] = std::string("ou=x,") + kGrafanaBase;
  daemon_.write_config(two_alike);
  daemon_.signal(SIGHUP);
  EXPECT_TRUE(daemon_.wait_for_log("nslcd's ldap.base_dn 'ou=x,dc=grafana,dc=example,dc=org' is, is under or is "
                                   "above grafana's ldap.base_dn",
                                   10s))
      << daemon_.log_tail();
  // The running configuration stays: grafana's tree is still served.
  const auto root = search("", "", {"-s", "base", "namingContexts"});
  EXPECT_EQ(lines_with(root.out, "namingContexts:").size(), 2U) << root.out;
}

}  // namespace
}  // namespace dirproxy::integration
