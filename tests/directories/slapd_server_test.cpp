// The slapd fixture itself: the data sets load, the servers answer over
// ldap://, StartTLS and ldaps://, and the fault controls (stop, start,
// kill9, pause, resume) do what the LDAP directory tests rely on.
#include "support/slapd_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dirproxy::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAlice = "uid=alice,ou=people,dc=example,dc=com";
constexpr const char* kFrank = "uid=frank\\2C jr,ou=people,dc=example,dc=com";
constexpr const char* kService = "cn=dirproxy,ou=service,dc=example,dc=com";

std::size_t count_entries(const std::string& ldif) {
  std::size_t count = ldif.rfind("dn: ", 0) == 0 ? 1 : 0;
  for (auto at = ldif.find("\ndn: "); at != std::string::npos; at = ldif.find("\ndn: ", at + 1)) {
    ++count;
  }
  return count;
}

SlapdOptions openldap_with_tls() {
  SlapdOptions options = openldap_test_options();
  options.tls = true;
  return options;
}

TEST(SlapdServer, AnswersTheRootDnAndUsersOfTheOpenLdapDataSet) {
  SlapdServer server(openldap_test_options());

  CommandResult root = server.whoami(server.root_dn(), server.root_password());
  CommandResult alice = server.whoami(kAlice, "alice-password");
  CommandResult service = server.whoami(kService, "dirproxy-service-password");
  CommandResult wrong = server.whoami(kAlice, "not-alice-password");

  EXPECT_EQ(root.exit_code, 0) << root.err;
  EXPECT_EQ(root.out, "dn:cn=admin,dc=example,dc=com\n");
  EXPECT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(alice.out, std::string("dn:") + kAlice + "\n");
  EXPECT_EQ(service.exit_code, 0) << service.err;
  EXPECT_EQ(wrong.exit_code, 49);  // invalidCredentials
}

TEST(SlapdServer, FindsAndAuthenticatesTheUserWhoseDnNeedsEscaping) {
  SlapdServer server(openldap_test_options());

  std::string found = server.search("ou=people,dc=example,dc=com", "(uid=frank, jr)", {"uid"});
  CommandResult frank = server.whoami(kFrank, "frank-password");

  EXPECT_EQ(found, std::string("dn: ") + kFrank + "\nuid: frank, jr\n\n");
  EXPECT_EQ(frank.exit_code, 0) << frank.err;
}

TEST(SlapdServer, StoresFilterSpecialsInUsernamesLiterally) {
  SlapdServer server(openldap_test_options());

  // RFC 4515 escapes: \2a is '*', \29 ')', \28 '(', \5c '\'.
  std::string star = server.search("ou=people,dc=example,dc=com", "(uid=st\\2ar)", {"uid"});
  std::string paren = server.search("ou=people,dc=example,dc=com", "(uid=paren\\29\\28x)", {"uid"});
  std::string backslash = server.search("ou=people,dc=example,dc=com", "(uid=back\\5cslash)", {"uid"});

  EXPECT_EQ(star, "dn: uid=st*r,ou=people,dc=example,dc=com\nuid: st*r\n\n");
  EXPECT_EQ(paren, "dn: uid=paren)(x,ou=people,dc=example,dc=com\nuid: paren)(x\n\n");
  EXPECT_EQ(backslash, "dn: uid=back\\5Cslash,ou=people,dc=example,dc=com\nuid: back\\slash\n\n");
}

TEST(SlapdServer, LoadsNestedAndCyclicGroupsAndMemberUidGroups) {
  SlapdServer server(openldap_test_options());

  std::string staff = server.search("cn=staff,ou=groups,dc=example,dc=com", "(objectClass=*)", {"member"}, "base");
  std::string cycle_b = server.search("cn=cycle-b,ou=groups,dc=example,dc=com", "(objectClass=*)", {"member"}, "base");
  std::string unixers = server.search("ou=posix,dc=example,dc=com", "(cn=unixers)", {"memberUid"});

  EXPECT_NE(staff.find("member: cn=developers,ou=groups,dc=example,dc=com\n"), std::string::npos);
  EXPECT_NE(cycle_b.find("member: cn=cycle-a,ou=groups,dc=example,dc=com\n"), std::string::npos);
  EXPECT_EQ(unixers, "dn: cn=unixers,ou=posix,dc=example,dc=com\nmemberUid: alice\nmemberUid: dave\n\n");
}

TEST(SlapdServer, ActiveDirectoryDataSetMatchesSamAccountNameAndDisabledBit) {
  SlapdServer server(active_directory_test_options());

  std::string ada = server.search("cn=Users,dc=corp,dc=example", "(sAMAccountName=ADA)", {"1.1"});
  // AD's bitwise-AND rule: accounts with ACCOUNTDISABLE (2) set.
  std::string disabled =
      server.search("cn=Users,dc=corp,dc=example", "(userAccountControl:1.2.840.113556.1.4.803:=2)", {"1.1"});
  std::string engineers =
      server.search("dc=corp,dc=example", "(memberOf=cn=Engineers,cn=Users,dc=corp,dc=example)", {"1.1"});
  CommandResult grace = server.whoami("cn=Hopper\\2C Grace,cn=Users,dc=corp,dc=example", "grace-password");
  CommandResult service = server.whoami("cn=svc-dirproxy,cn=Users,dc=corp,dc=example", "svc-dirproxy-password");

  EXPECT_EQ(ada, "dn: cn=Ada Lovelace,cn=Users,dc=corp,dc=example\n\n");
  EXPECT_EQ(disabled, "dn: cn=Dan Disabled,cn=Users,dc=corp,dc=example\n\n");
  EXPECT_EQ(count_entries(engineers), 3u);
  EXPECT_EQ(grace.exit_code, 0) << grace.err;
  EXPECT_EQ(service.exit_code, 0) << service.err;
}

TEST(SlapdServer, StartTlsVerifiesTheServerWithTheGeneratedCa) {
  SlapdServer server(openldap_with_tls());

  CommandResult trusted = server.ldap_tool("ldapwhoami", {"-ZZ", "-D", kAlice, "-w", "alice-password"});
  // The system's CA bundle does not know the test CA.
  CommandResult untrusted = server.ldap_tool("ldapwhoami", {"-ZZ", "-D", kAlice, "-w", "alice-password"},
                                             {{"LDAPTLS_CACERT", "/etc/ssl/certs/ca-certificates.crt"}});

  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  EXPECT_EQ(trusted.out, std::string("dn:") + kAlice + "\n");
  EXPECT_NE(untrusted.exit_code, 0);
}

TEST(SlapdServer, LdapsAnswersOnItsOwnPort) {
  SlapdServer server(openldap_with_tls());

  CommandResult result =
      run_command({"ldapwhoami", "-x", "-H", server.ldaps_uri(), "-D", kAlice, "-w", "alice-password"},
                  {{"LDAPTLS_CACERT", server.ca_file()}});

  EXPECT_NE(server.ldaps_port(), server.port());
  EXPECT_EQ(server.ldaps_uri(), "ldaps://127.0.0.1:" + std::to_string(server.ldaps_port()) + "/");
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST(SlapdServer, PausedServerAcceptsButNeverAnswersUntilResumed) {
  SlapdServer server(openldap_test_options());

  server.pause();
  CommandResult while_paused = server.ldap_tool("ldapwhoami", {"-D", kAlice, "-w", "alice-password"}, {}, 500ms);
  server.resume();
  CommandResult after = server.whoami(kAlice, "alice-password");

  EXPECT_EQ(while_paused.exit_code, -1);  // killed at its timeout
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

TEST(SlapdServer, RestartKeepsDataAndPort) {
  SlapdServer server(openldap_test_options());
  const std::string uri = server.uri();
  server.modify(
      "dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modify\n"
      "replace: mail\nmail: alice@new.example.com\n");

  server.stop();
  CommandResult while_stopped = server.whoami(kAlice, "alice-password");
  server.start();
  std::string alice = server.search(kAlice, "(objectClass=*)", {"mail"}, "base");

  EXPECT_EQ(while_stopped.exit_code, 255);  // cannot contact the server
  EXPECT_EQ(server.uri(), uri);
  EXPECT_EQ(alice, std::string("dn: ") + kAlice + "\nmail: alice@new.example.com\n\n");
}

TEST(SlapdServer, StartsAgainAfterACrash) {
  SlapdServer server(openldap_test_options());

  server.kill9();
  EXPECT_FALSE(server.running());
  server.start();
  CommandResult alice = server.whoami(kAlice, "alice-password");

  EXPECT_EQ(alice.exit_code, 0) << alice.err;
}

TEST(SlapdServer, LogRecordsTheOperationsThatReachedTheServer) {
  SlapdServer server(openldap_test_options());

  server.whoami(kAlice, "alice-password");

  EXPECT_TRUE(server.wait_for_log(std::string("BIND dn=\"") + kAlice + "\" method=128")) << server.log_tail();
}

TEST(SlapdServer, ServiceAccountPagesPastTheSizeLimitButPlainSearchesStopThere) {
  SlapdOptions options = openldap_test_options();
  options.ldif += "\n" + make_users_ldif("ou=people,dc=example,dc=com", "user", 600);
  SlapdServer server(std::move(options));
  const std::vector<std::string> as_service = {
      "-D", kService, "-w", "dirproxy-service-password", "-LLL", "-b", "ou=people,dc=example,dc=com"};

  std::vector<std::string> paged_args = as_service;
  paged_args.insert(paged_args.end(), {"-E", "pr=500/noprompt", "(uid=user*)", "1.1"});
  CommandResult paged = server.ldap_tool("ldapsearch", paged_args);
  std::vector<std::string> plain_args = as_service;
  plain_args.insert(plain_args.end(), {"(uid=user*)", "1.1"});
  CommandResult plain = server.ldap_tool("ldapsearch", plain_args);

  EXPECT_EQ(paged.exit_code, 0) << paged.err;
  EXPECT_EQ(count_entries(paged.out), 600u);
  EXPECT_EQ(plain.exit_code, 4);  // sizeLimitExceeded
}

TEST(SlapdServer, ServiceAccountWritesOnlyWithWriteAccess) {
  const std::string change = "dn: uid=bob,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: sn\nsn: Changed\n";
  SlapdOptions writable = openldap_test_options();
  writable.service_account->access = ServiceAccess::write;
  SlapdServer read_only_server(openldap_test_options());
  SlapdServer writable_server(std::move(writable));
  auto modify_as_service = [&](const SlapdServer& server) {
    const std::filesystem::path file = server.dir() / "change.ldif";
    std::ofstream(file) << change;
    return server.ldap_tool("ldapmodify", {"-D", kService, "-w", "dirproxy-service-password", "-f", file.string()});
  };

  CommandResult refused = modify_as_service(read_only_server);
  CommandResult accepted = modify_as_service(writable_server);

  EXPECT_EQ(refused.exit_code, 50);  // insufficientAccessRights
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  EXPECT_NE(writable_server.search("uid=bob,ou=people,dc=example,dc=com", "(sn=Changed)").find("sn: Changed"),
            std::string::npos);
}

TEST(SlapdServer, WritableServiceAccountSetsPasswordsThatTheServerHashes) {
  SlapdOptions options = openldap_test_options();
  options.service_account->access = ServiceAccess::write;
  SlapdServer server(std::move(options));
  const std::string bob = "uid=bob,ou=people,dc=example,dc=com";

  // The Password Modify extended operation (RFC 3062).
  CommandResult changed = server.ldap_tool(
      "ldappasswd", {"-D", kService, "-w", "dirproxy-service-password", "-s", "bob-new-password", bob});
  std::string stored = server.search(bob, "(objectClass=*)", {"userPassword"}, "base");
  CommandResult with_new = server.whoami(bob, "bob-new-password");

  EXPECT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(stored.rfind("dn: " + bob + "\nuserPassword: {SSHA}", 0), 0u) << stored;
  EXPECT_EQ(stored.find("bob-new-password"), std::string::npos);
  EXPECT_EQ(with_new.exit_code, 0) << with_new.err;
}

TEST(SlapdServer, GeneratedGroupsAndUsersLoad) {
  SlapdOptions options = openldap_test_options();
  const auto members = numbered_user_dns("ou=people,dc=example,dc=com", "bulk", 3);
  options.ldif += "\n" + make_users_ldif("ou=people,dc=example,dc=com", "bulk", 3) +
                  make_group_ldif("cn=bulk,ou=groups,dc=example,dc=com", members);
  SlapdServer server(std::move(options));

  std::string group = server.search("cn=bulk,ou=groups,dc=example,dc=com", "(objectClass=*)", {"member"}, "base");
  CommandResult user = server.whoami(members[2], "bulk0003-password");

  EXPECT_EQ(group,
            "dn: cn=bulk,ou=groups,dc=example,dc=com\n"
            "member: uid=bulk0001,ou=people,dc=example,dc=com\n"
            "member: uid=bulk0002,ou=people,dc=example,dc=com\n"
            "member: uid=bulk0003,ou=people,dc=example,dc=com\n\n");
  EXPECT_EQ(user.exit_code, 0) << user.err;
}

TEST(SlapdServer, SearchOfAMissingBaseIsEmpty) {
  SlapdServer server(openldap_test_options());

  EXPECT_EQ(server.search("uid=nobody,ou=people,dc=example,dc=com"), "");
}

}  // namespace
}  // namespace dirproxy::testing
