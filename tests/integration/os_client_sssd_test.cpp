// SSSD against dirproxyd's LDAP front end (docs/ldap-server.md, "Client
// recipes"): the real sssd (monitor, sssd_be, sssd_nss, sssd_pam) with one
// LDAP domain that binds as an application of dirproxyd over StartTLS, and
// the real clients: getent and id through NSS's sss module, pamtester
// through pam_sss.
//
// SSSD reads fixed paths (/etc/sssd, /var/lib/sss, /var/log/sssd, /run) and
// NSS and PAM read /etc/nsswitch.conf and /etc/pam.d, which this machine's
// own logins use. So each scenario runs as one shell script
// (tests/support/sssd_namespace.sh) inside `unshare --mount --propagation
// private --pid --fork --kill-child --mount-proc`: it bind-mounts the
// private copies this test writes over those paths, starts `sssd -i`, runs
// the steps the test gives it, and prints each step's output and exit code
// as lines that the test parses and asserts on exactly. One script rather
// than a process per command because a mount namespace belongs to a
// process tree: sssd and every client must live in the same one, and the
// gtest process (threads, the daemon harness) must stay outside it. The
// pid namespace is what kills sssd and its children on every exit path:
// the script is its pid 1, and the kernel ends every process in it when
// pid 1 exits, or when unshare dies with the test (--kill-child). The
// host's sssd is never started or touched. On failure the test prints the
// tails of SSSD's logs (each LDAP search with its filter and result).
//
// Skipped only when not root (mounts need it) or unshare is missing; CI
// runs as root with SSSD, pamtester and libnss-sss installed.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "integration/daemon_harness.hpp"
#include "integration/ldap_test_support.hpp"
#include "integration/protocol_test_support.hpp"
#include "support/slapd_server.hpp"

namespace dirproxy::integration {
namespace {

namespace fs = std::filesystem;

constexpr const char* kBase = "dc=example,dc=com";
constexpr const char* kServiceDn = "cn=sssd,ou=services,dc=example,dc=com";
constexpr const char* kServicePassword = "sssd service secret";
constexpr const char* kAlicePassword = kPassword;  // add_user_request's
constexpr const char* kPamService = "dirproxy-sssd-test";

// The names this test resolves: a local account or group of the same name
// (Debian has a `staff` group) is left out of the namespace's private
// /etc/passwd and /etc/group, so that `files sss` reaches SSSD for them.
const std::vector<std::string> kTestNames = {"alice", "bob", "staff"};

bool unshare_available() {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
    if (::access((std::string(dir) + "/unshare").c_str(), X_OK) == 0) return true;
  }
  return false;
}

void write_file(const fs::path& path, const std::string& text, fs::perms mode = fs::perms(0644)) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  fs::permissions(path, mode);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `file` (an /etc/passwd or /etc/group) without the lines of kTestNames.
std::string without_test_names(const std::string& file) {
  std::istringstream in(read_text(file));
  std::string kept;
  for (std::string line; std::getline(in, line);) {
    const std::string name = line.substr(0, line.find(':'));
    if (std::find(kTestNames.begin(), kTestNames.end(), name) == kTestNames.end()) kept += line + "\n";
  }
  return kept;
}

// The value of `attribute` in ldapsearch -LLL output (the first one), or "".
std::string ldif_value(const std::string& ldif, const std::string& attribute) {
  std::istringstream in(ldif);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(attribute + ": ", 0) == 0) return line.substr(attribute.size() + 2);
  }
  return "";
}

// What the namespace script reported for one step.
struct Step {
  int exit_code = -1000;  // -1000: the step never ran
  std::vector<std::string> out;
  std::vector<std::string> err;
};

struct Scenario {
  ProcessOutput process;
  std::map<std::string, Step> steps;

  const Step& step(const std::string& name) const {
    static const Step missing;
    auto found = steps.find(name);
    return found == steps.end() ? missing : found->second;
  }
};

Scenario parse_scenario(ProcessOutput process) {
  Scenario scenario;
  std::istringstream in(process.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string kind;
    std::string name;
    words >> kind >> name;
    std::string rest;
    if (line.size() > kind.size() + name.size() + 2) rest = line.substr(kind.size() + name.size() + 2);
    if (kind == "out") scenario.steps[name].out.push_back(rest);
    if (kind == "err") scenario.steps[name].err.push_back(rest);
    if (kind == "exit") scenario.steps[name].exit_code = std::stoi(rest);
  }
  scenario.process = std::move(process);
  return scenario;
}

// One line of output, as the tests expect it.
std::vector<std::string> one_line(std::string line) { return {std::move(line)}; }

class OsClientSssdTest : public DaemonTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: SSSD runs in a private mount namespace";
    if (!unshare_available()) GTEST_SKIP() << "needs unshare (util-linux)";
    std::vector<UniqueFd> held;
    port_ = testing::free_port(held);
    ldaps_port_ = testing::free_port(held);
    tls_dir_ = daemon_.dir() + "/tls";
    testing::make_test_certificates(tls_dir_);
    root_ = daemon_.dir() + "/root";
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (const char* log : {"sssd.out", "var/log/sssd/sssd_dirproxy.log", "var/log/sssd/sssd_nss.log",
                            "var/log/sssd/sssd_pam.log", "var/log/sssd/sssd.log"}) {
      const std::string text = read_text(root_ / log);
      const std::size_t keep = 6000;
      std::cerr << "--- " << log << " (tail) ---\n" << (text.size() > keep ? text.substr(text.size() - keep) : text);
    }
  }

  // dirproxyd with the LDAP front end (SSSD uses its StartTLS with the test
  // CA, not its ldaps:// port) and the `sssd` application; users from 10000
  // and groups from 50000, apart, as docs/ldap-server.md advises for SSSD.
  void start_dirproxyd() {
    Json config = daemon_.default_config();
    config["ldap_server"] = ldap_server_section(kBase, port_, ldaps_port_, tls_dir_);
    config["ldap_server"]["posix"] = {{"uid_number_min", 10000}, {"gid_number_min", 50000}};
    config["applications"] =
        Json::array({{{"name", "sssd"}, {"ldap", {{"password_hash", application_password_hash(kServicePassword)}}}}});
    daemon_.start(config);
  }

  // The entry at `dn` as the sssd application reads it (ldapsearch -LLL).
  std::string read_entry(const std::string& dn) const {
    RunOptions options;
    options.env = {{"LDAPTLS_CACERT", tls_dir_ + "/ca.crt"}, {"LDAPCONF", "/dev/null"}, {"LDAPRC", "/dev/null"}};
    const auto result = run_program("ldapsearch",
                                    {"-x", "-ZZ", "-LLL", "-o", "ldif-wrap=no", "-H", uri(), "-D", kServiceDn, "-w",
                                     kServicePassword, "-b", dn, "-s", "base", "(objectClass=*)", "*", "+"},
                                    options);
    if (result.exit_code != 0) throw std::runtime_error("ldapsearch " + dn + ": " + result.err);
    return result.out;
  }

  std::string uri() const { return "ldap://127.0.0.1:" + std::to_string(port_); }

  // The domain as docs/ldap-server.md's SSSD recipe has it, pointed at
  // this dirproxyd and the test CA.
  std::string sssd_conf(const std::string& schema) const {
    return "[sssd]\n"
           "services = nss, pam\n"
           "domains = dirproxy\n"
           "\n"
           "[nss]\n"
           "\n"
           "[pam]\n"
           "\n"
           "[domain/dirproxy]\n"
           "id_provider = ldap\n"
           "auth_provider = ldap\n"
           "ldap_uri = " +
           uri() +
           "\n"
           "ldap_search_base = " +
           kBase +
           "\n"
           "ldap_default_bind_dn = " +
           kServiceDn +
           "\n"
           "ldap_default_authtok = " +
           kServicePassword +
           "\n"
           "ldap_id_use_start_tls = true\n"
           "ldap_tls_reqcert = demand\n"
           "ldap_tls_cacert = " +
           tls_dir_ + "/ca.crt\n" + "ldap_schema = " + schema +
           "\n"
           "enumerate = false\n"
           "cache_credentials = false\n";
  }

  // The private files the namespace script mounts over the real ones.
  void write_private_root(const std::string& schema) const {
    write_file(root_ / "etc/sssd/sssd.conf", sssd_conf(schema), fs::perms(0600));
    fs::create_directories(root_ / "etc/sssd/conf.d");
    write_file(root_ / "etc/nsswitch.conf",
               "passwd: files sss\n"
               "group: files sss\n"
               "shadow: files\n"
               "hosts: files\n");
    write_file(root_ / "etc/passwd", without_test_names("/etc/passwd"));
    write_file(root_ / "etc/group", without_test_names("/etc/group"));
    write_file(root_ / "etc/pam.d" / kPamService,
               "auth required pam_sss.so\n"
               "account required pam_sss.so\n"
               "password required pam_sss.so\n");
    for (const char* dir :
         {"var/lib/sss/db", "var/lib/sss/pipes/private", "var/lib/sss/mc", "var/lib/sss/pubconf",
          "var/lib/sss/gpo_cache", "var/lib/sss/secrets", "var/lib/sss/keytabs", "var/log/sssd", "run/sssd"}) {
      fs::create_directories(root_ / dir);
    }
    fs::permissions(root_ / "var/lib/sss/db", fs::perms(0700));
    fs::permissions(root_ / "var/lib/sss/pipes/private", fs::perms(0700));
  }

  // Runs `steps` (lines "NAME MODE INPUT COMMAND ARGS...", see the script)
  // in the namespace with SSSD up, after waiting until bob resolves.
  Scenario run_scenario(const std::string& schema, const std::string& steps) const {
    write_private_root(schema);
    write_file(root_ / "steps", "ready until-ok - getent passwd bob\n" + steps);
    RunOptions options;
    options.timeout = 120s;
    return parse_scenario(
        run_program("unshare",
                    {"--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--mount-proc", "sh",
                     std::string(DIRPROXY_SOURCE_DIR) + "/tests/support/sssd_namespace.sh", root_.string(),
                     (root_ / "steps").string()},
                    options));
  }

  // Alice (in staff) and bob, the readiness probe, in dirproxyd's internal
  // directory; their numbers as dirproxyd serves them.
  void add_alice_bob_and_staff() {
    add_group("staff");
    add_user("alice");
    add_member("staff", "alice");
    add_user("bob");
    const std::string alice = read_entry(std::string("uid=alice,ou=people,") + kBase);
    const std::string staff = read_entry(std::string("cn=staff,ou=groups,") + kBase);
    alice_uid_ = ldif_value(alice, "uidNumber");
    alice_gid_ = ldif_value(alice, "gidNumber");
    alice_gecos_ = ldif_value(alice, "gecos");
    alice_home_ = ldif_value(alice, "homeDirectory");
    alice_shell_ = ldif_value(alice, "loginShell");
    staff_gid_ = ldif_value(staff, "gidNumber");
    ASSERT_FALSE(alice_uid_.empty()) << alice;
    ASSERT_FALSE(alice_gid_.empty()) << alice;
    ASSERT_FALSE(staff_gid_.empty()) << staff;
  }

  // What getent and id print for alice and staff, from the numbers read.
  std::string alice_passwd_line() const {
    return "alice:*:" + alice_uid_ + ":" + alice_gid_ + ":" + alice_gecos_ + ":" + alice_home_ + ":" + alice_shell_;
  }
  std::string staff_group_line() const { return "staff:*:" + staff_gid_ + ":alice"; }
  // alice's primary group is her own number (a user private group), which
  // no group entry has: id prints it without a name.
  std::string alice_id_line() const {
    return "uid=" + alice_uid_ + "(alice) gid=" + alice_gid_ + " groups=" + alice_gid_ + "," + staff_gid_ + "(staff)";
  }

  static void expect_ran(const Scenario& scenario) {
    EXPECT_EQ(scenario.process.exit_code, 0) << scenario.process.out << scenario.process.err;
    EXPECT_EQ(scenario.step("ready").exit_code, 0) << "SSSD never resolved bob";
  }

  int port_ = 0;
  int ldaps_port_ = 0;
  std::string tls_dir_;
  fs::path root_;
  std::string alice_uid_, alice_gid_, alice_gecos_, alice_home_, alice_shell_, staff_gid_;
};

TEST_F(OsClientSssdTest, Rfc2307bisResolvesUsersAndGroupsWithDirproxysNumbers) {
  start_dirproxyd();
  add_alice_bob_and_staff();
  const Scenario scenario = run_scenario("rfc2307bis",
                                         "passwd once - getent passwd alice\n"
                                         "passwd_by_number once - getent passwd " +
                                             alice_uid_ +
                                             "\n"
                                             "group once - getent group staff\n"
                                             "group_by_number once - getent group " +
                                             staff_gid_ +
                                             "\n"
                                             "id once - id alice\n"
                                             "unknown once - getent passwd carol\n");
  expect_ran(scenario);
  EXPECT_EQ(scenario.step("passwd").exit_code, 0);
  EXPECT_EQ(scenario.step("passwd").out, one_line(alice_passwd_line()));
  EXPECT_EQ(scenario.step("passwd_by_number").out, one_line(alice_passwd_line()));
  EXPECT_EQ(scenario.step("group").exit_code, 0);
  EXPECT_EQ(scenario.step("group").out, one_line(staff_group_line()));
  EXPECT_EQ(scenario.step("group_by_number").out, one_line(staff_group_line()));
  EXPECT_EQ(scenario.step("id").exit_code, 0);
  EXPECT_EQ(scenario.step("id").out, one_line(alice_id_line()));
  EXPECT_EQ(scenario.step("unknown").exit_code, 2);  // getent: not found
  EXPECT_EQ(scenario.step("unknown").out, std::vector<std::string>());
  // Outside the namespace nothing changed: this machine's NSS has no alice.
  EXPECT_EQ(run_program("getent", {"passwd", "alice"}).exit_code, 2);
}

// rfc2307: a group's members are its memberUid values, and initgroups asks
// (&(memberuid=alice)(objectClass=posixGroup)...).
TEST_F(OsClientSssdTest, Rfc2307ResolvesGroupMembershipByMemberUid) {
  start_dirproxyd();
  add_alice_bob_and_staff();
  const Scenario scenario = run_scenario("rfc2307",
                                         "group once - getent group staff\n"
                                         "id once - id alice\n");
  expect_ran(scenario);
  EXPECT_EQ(scenario.step("group").exit_code, 0);
  EXPECT_EQ(scenario.step("group").out, one_line(staff_group_line()));
  EXPECT_EQ(scenario.step("id").exit_code, 0);
  EXPECT_EQ(scenario.step("id").out, one_line(alice_id_line()));
}

// pam_sss -> sssd_pam -> sssd_be, which binds to dirproxyd as alice's DN
// after StartTLS: the chain's authenticate decides.
TEST_F(OsClientSssdTest, PamSssAcceptsTheRightPasswordAndRefusesAWrongOne) {
  start_dirproxyd();
  add_alice_bob_and_staff();
  write_file(root_ / "right-password", std::string(kAlicePassword) + "\n");
  write_file(root_ / "wrong-password", "not alice's password\n");
  const std::string pamtester = std::string(" pamtester ") + kPamService + " alice authenticate acct_mgmt\n";
  const Scenario scenario =
      run_scenario("rfc2307bis", "wrong once " + (root_ / "wrong-password").string() + pamtester + "right once " +
                                     (root_ / "right-password").string() + pamtester);
  expect_ran(scenario);
  EXPECT_EQ(scenario.step("wrong").exit_code, 1);
  EXPECT_EQ(scenario.step("wrong").err, one_line("Password: pamtester: Authentication failure"));
  EXPECT_EQ(scenario.step("right").exit_code, 0);
  EXPECT_EQ(scenario.step("right").out,
            std::vector<std::string>({"pamtester: successfully authenticated", "pamtester: account management done."}));
  EXPECT_TRUE(daemon_.wait_for_log("bind as \"uid=alice,ou=people,dc=example,dc=com\" refused: invalid_credentials"))
      << daemon_.log_tail();
}

// passwd's path: pam_sss's chauthtok, run as alice (who exists only inside
// the namespace, through NSS), makes sssd_be bind as alice with the old
// password and send Password Modify (RFC 3062) with the old and new ones;
// the internal directory stores the new password.
TEST_F(OsClientSssdTest, PamSssChangesThePasswordThroughPasswordModify) {
  start_dirproxyd();
  add_alice_bob_and_staff();
  const std::string new_password = "alice password 2, changed";
  write_file(root_ / "change", std::string(kAlicePassword) + "\n" + new_password + "\n" + new_password + "\n");
  write_file(root_ / "new-password", new_password + "\n");
  write_file(root_ / "old-password", std::string(kAlicePassword) + "\n");
  const std::string as_alice = " setpriv --reuid=" + alice_uid_ + " --regid=" + alice_gid_ + " --clear-groups";
  const std::string pamtester = std::string(" pamtester ") + kPamService + " alice ";
  const Scenario scenario =
      run_scenario("rfc2307bis", "change once " + (root_ / "change").string() + as_alice + pamtester + "chauthtok\n" +
                                     "new once " + (root_ / "new-password").string() + pamtester + "authenticate\n" +
                                     "old once " + (root_ / "old-password").string() + pamtester + "authenticate\n");
  expect_ran(scenario);
  EXPECT_EQ(scenario.step("change").exit_code, 0) << scenario.process.out;
  EXPECT_EQ(scenario.step("change").out, one_line("pamtester: authentication token altered successfully."));
  EXPECT_EQ(scenario.step("new").exit_code, 0);
  EXPECT_EQ(scenario.step("old").exit_code, 1);
  // The chain itself has the new password.
  EXPECT_EQ(outcome_of(authenticate("alice", new_password)), "ok");
  EXPECT_EQ(outcome_of(authenticate("alice", kAlicePassword)), "invalid_credentials");
}

}  // namespace
}  // namespace dirproxy::integration
