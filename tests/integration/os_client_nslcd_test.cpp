// The operating system's own LDAP client against dirproxyd's LDAP front end
// (docs/ldap-server.md, "Client recipes"): nslcd with libnss-ldapd and
// libpam-ldapd, exactly as a Debian machine runs them. getent and id resolve
// users and groups of dirproxyd's internal directory through NSS, and
// pamtester logs in and changes a password through pam_ldap; nslcd binds as
// the application cn=nslcd,ou=services,BASE over StartTLS (and ldaps://)
// with the test CA, and dirproxyd refuses any password that arrives without
// TLS (plaintext_binds: never), so nothing here works over a clear channel.
//
// How the machine's own NSS and PAM are left alone: nslcd only reads
// /etc/nslcd.conf, libnss_ldap only /etc/nsswitch.conf and /run/nslcd/socket,
// and PAM only /etc/pam.d, so the test's copies must be at those paths, and
// only for the programs under test. tests/support/nslcd_namespace.sh, started
// with `unshare --mount --propagation private --fork --kill-child`,
// bind-mounts the test directory's files over them and a tmpfs over /run,
// then execs `nslcd -d`: the namespace lives exactly as long as that nslcd.
// Each command (getent, id, pamtester) runs in it through
// `nsenter --target PID --mount`, one run_program call each.
//
// Why a long-lived namespace entered per command rather than one script that
// runs the whole scenario and reports JSON lines: the assertions stay in C++
// next to the command they check, with the exact stdout, stderr and exit
// code of each; the expected values are computed from what dirproxyd says
// (ldapsearch outside the namespace reads the numbers it allocated) between
// commands; and no output needs escaping in shell. Cleanup is one process:
// NslcdNamespace's destructor ends nslcd (SIGTERM, then SIGKILL of unshare,
// whose --kill-child takes nslcd along), and unshare itself dies with the
// test process (PR_SET_PDEATHSIG), so a failing or crashing test leaves no
// nslcd behind and the mounts vanish with it.
//
// User private groups: a user's gidNumber defaults to its uidNumber, and no
// group has that number here, so `id` shows the primary gid as a bare number
// (NSS cannot name it). The test reads each user's uidNumber and gidNumber
// and each group's gidNumber from dirproxyd first and expects `id`'s exact
// line from them: the primary group is named only if some group has its
// number. Users count from 10000 and groups from 50000 (the split
// docs/ldap-server.md recommends for NSS clients), so no user's private gid
// is mistaken for a real group whatever the allocator does.
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "integration/ldap_test_support.hpp"
#include "support/slapd_server.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::kill_and_reap;
using dirproxy::testing::spawn_child;
using dirproxy::testing::wait_for_child;

constexpr const char* kBase = "dc=example,dc=com";
constexpr const char* kNslcdDn = "cn=nslcd,ou=services,dc=example,dc=com";
// nslcd.conf's bindpw is the rest of its line; one word keeps it simple.
constexpr const char* kNslcdPassword = "nslcd-service-secret";
constexpr const char* kPamService = "dirproxy-test";
constexpr const char* kNewPassword = "a brand new passphrase";
// The application nslcd binds as when root changes a password
// (rootpwmoddn): it may write, which nslcd's reading account need not.
constexpr const char* kPasswordsDn = "cn=nslcd-passwords,ou=services,dc=example,dc=com";
constexpr const char* kPasswordsPassword = "nslcd-passwords-secret";

const std::string kNamespaceScript = std::string(DIRPROXY_SOURCE_DIR) + "/tests/support/nslcd_namespace.sh";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
  }
  if (::chmod(path.c_str(), mode) != 0) throw std::runtime_error("cannot chmod " + path);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A group(5) line with its member list sorted: dirproxyd does not promise
// an order of memberUid values, and NSS passes on whatever it got.
std::string with_sorted_members(const std::string& group_line) {
  const std::size_t last_colon = group_line.rfind(':');
  if (last_colon == std::string::npos) return group_line;
  std::vector<std::string> members;
  std::istringstream list(group_line.substr(last_colon + 1));
  for (std::string member; std::getline(list, member, ',');) members.push_back(member);
  std::sort(members.begin(), members.end());
  std::string line = group_line.substr(0, last_colon + 1);
  for (std::size_t i = 0; i < members.size(); ++i) line += (i == 0 ? "" : ",") + members[i];
  return line;
}

// The lines of getent's output, sorted (group lines with sorted members):
// an enumeration's order is the local files', then the directory's.
std::vector<std::string> sorted_entries(const std::string& getent_output) {
  std::vector<std::string> lines;
  for (const std::string& line : split_lines(getent_output)) lines.push_back(with_sorted_members(line));
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Why the test cannot run here, or empty: it needs root (nslcd, mount) and a
// working `unshare --mount`.
std::string missing_prerequisite() {
  if (::geteuid() != 0) return "needs root: nslcd and the private mounts of its namespace";
  try {
    const ProcessOutput probe = run_program("unshare", {"--mount", "--propagation", "private", "true"});
    if (probe.exit_code != 0) return "unshare --mount does not work here: " + probe.err;
    run_program("nsenter", {"--version"});
  } catch (const std::exception& error) {
    return std::string("unshare or nsenter is unavailable: ") + error.what();
  }
  return "";
}

// A user's numbers as dirproxyd serves them.
struct PosixNumbers {
  std::string uid_number;
  std::string gid_number;
};

// nslcd in a private mount namespace that sees the files of `dir`
// (nslcd.conf, nsswitch.conf, pam.d/) instead of the system's; see the
// header comment. The constructor returns once nslcd's socket exists.
class NslcdNamespace {
 public:
  explicit NslcdNamespace(const std::string& dir) : dir_(dir), log_path_(dir + "/nslcd.log") {
    const UniqueFd log(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!log) throw std::runtime_error("cannot create " + log_path_);
    unshare_pid_ = spawn_child({"unshare", "--mount", "--propagation", "private", "--fork", "--kill-child", "--", "sh",
                                kNamespaceScript, dir_},
                               {}, log.get(), log.get());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      if (nslcd_pid_ <= 0) nslcd_pid_ = read_pid();
      if (nslcd_pid_ > 0 && std::filesystem::exists("/proc/" + std::to_string(nslcd_pid_) + "/root/run/nslcd/socket")) {
        return;
      }
      if (wait_for_child(unshare_pid_, 0ms).has_value()) {
        unshare_pid_ = -1;
        throw std::runtime_error("nslcd's namespace ended at start:\n" + log_text());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        stop();
        throw std::runtime_error("nslcd did not open its socket within 10 s:\n" + log_text());
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  ~NslcdNamespace() {
    stop();
    if (!::testing::Test::HasFailure()) return;
    // nslcd -d logs every search; the last ones are what a failure needs.
    const std::vector<std::string> lines = split_lines(log_text());
    std::cerr << "--- nslcd -d (" << log_path_ << ", tail) ---\n";
    for (std::size_t i = lines.size() > 80 ? lines.size() - 80 : 0; i < lines.size(); ++i)
      std::cerr << lines[i] << "\n";
  }
  NslcdNamespace(const NslcdNamespace&) = delete;
  NslcdNamespace& operator=(const NslcdNamespace&) = delete;

  // Runs `argv` in the namespace (so with the test's NSS and PAM), as root
  // or, given `as_user`, with that uidNumber and gidNumber.
  ProcessOutput run(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                    const std::optional<PosixNumbers>& as_user = std::nullopt) const {
    std::vector<std::string> args = {"--target", std::to_string(nslcd_pid_), "--mount"};
    if (as_user) args.insert(args.end(), {"--setuid", as_user->uid_number, "--setgid", as_user->gid_number});
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
    RunOptions options;
    options.stdin_text = stdin_text;
    options.timeout = 30s;
    return run_program("nsenter", args, options);
  }

  std::string log_text() const { return read_text(log_path_); }

 private:
  pid_t read_pid() const {
    std::ifstream in(dir_ + "/nslcd.pid");
    pid_t pid = -1;
    return (in >> pid) ? pid : -1;
  }

  // SIGTERM lets nslcd end by itself (unshare then exits with it); SIGKILL
  // of unshare, whose --kill-child kills nslcd, if it does not.
  void stop() {
    if (unshare_pid_ <= 0) return;
    if (nslcd_pid_ > 0) ::kill(nslcd_pid_, SIGTERM);
    if (!wait_for_child(unshare_pid_, 5s).has_value()) kill_and_reap(unshare_pid_);
    unshare_pid_ = -1;
  }

  std::string dir_;
  std::string log_path_;
  pid_t unshare_pid_ = -1;
  pid_t nslcd_pid_ = -1;
};

class OsClientNslcdTest : public DaemonTest {
 protected:
  void SetUp() override {
    const std::string reason = missing_prerequisite();
    if (!reason.empty()) GTEST_SKIP() << reason;
    {
      std::vector<UniqueFd> held;  // two different ports; released for dirproxyd
      port_ = dirproxy::testing::free_port(held);
      ldaps_port_ = dirproxy::testing::free_port(held);
    }
    tls_dir_ = daemon_.dir() + "/tls";
    dirproxy::testing::make_test_certificates(tls_dir_);
    // nslcd reads the CA after dropping to its own user.
    ::chmod((tls_dir_ + "/ca.crt").c_str(), 0644);
    ::chmod(tls_dir_.c_str(), 0755);
    daemon_.start(config());
  }

  Json config() const {
    Json config = daemon_.default_config();
    Json& ldap_server = config["ldap_server"] = ldap_server_section(kBase, port_, ldaps_port_, tls_dir_);
    ldap_server["plaintext_binds"] = "never";
    ldap_server["posix"] = {{"uid_number_min", 10000}, {"gid_number_min", 50000}};
    // Smaller than the number of users: an enumeration without paging would
    // stop at sizeLimitExceeded.
    ldap_server["limits"] = {{"size_limit", 3}};
    config["applications"] =
        Json::array({{{"name", "nslcd"}, {"ldap", {{"password_hash", argon2id(kNslcdPassword)}}}},
                     {{"name", "nslcd-passwords"},
                      {"ldap", {{"password_hash", argon2id(kPasswordsPassword)}, {"may_write", true}}}}});
    return config;
  }

  static std::string argon2id(const std::string& password) {
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password.data(), password.size(), 1, 8192) != 0) throw std::runtime_error("hash");
    return hash;
  }

  std::string ldap_uri() const { return "ldap://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::string ldaps_uri() const { return "ldaps://127.0.0.1:" + std::to_string(ldaps_port_) + "/"; }

  // nslcd.conf as the recipe in docs/ldap-server.md has it, with this
  // test's URI and CA; `ssl start_tls`, or `ssl on` for an ldaps:// URI.
  std::string nslcd_conf(const std::string& uri) const {
    std::string conf = "uid nslcd\ngid nslcd\nuri " + uri + "\nbase " + kBase + "\nbinddn " + kNslcdDn + "\nbindpw " +
                       kNslcdPassword + "\n";
    conf += uri.rfind("ldaps://", 0) == 0 ? "ssl on\n" : "ssl start_tls\n";
    conf += "tls_reqcert demand\ntls_cacertfile " + tls_dir_ + "/ca.crt\n";
    // Pages of 2 against a size limit of 3: every enumeration takes pages.
    conf += "pagesize 2\n";
    return conf;
  }

  // Writes the namespace's files and starts nslcd in it; `more_conf` is
  // added to nslcd.conf.
  std::unique_ptr<NslcdNamespace> start_nslcd(const std::string& uri, const std::string& more_conf = "") const {
    const std::string dir = daemon_.dir() + "/nslcd";
    std::filesystem::create_directories(dir + "/pam.d");
    write_text(dir + "/nslcd.conf", nslcd_conf(uri) + more_conf, 0600);
    write_text(dir + "/nsswitch.conf", "passwd: files ldap\ngroup: files ldap\nshadow: files\nhosts: files\n", 0644);
    write_text(dir + "/pam.d/" + kPamService,
               "auth required pam_ldap.so\naccount required pam_ldap.so\npassword required pam_ldap.so\n", 0644);
    return std::make_unique<NslcdNamespace>(dir);
  }

  // alice (staff, devs), bob (staff), carol and dave (no group): four users,
  // more than one page and more than the size limit. Every password is
  // kPassword.
  void add_people() {
    add_group("staff");
    add_group("devs");
    for (const char* name : {"alice", "bob", "carol", "dave"}) add_user(name);
    add_member("staff", "alice");
    add_member("devs", "alice");
    add_member("staff", "bob");
  }

  // The value of `attribute` in the one entry at `dn`, read by ldapsearch as
  // the nslcd service account over StartTLS.
  std::string attribute_of(const std::string& dn, const std::string& attribute) const {
    RunOptions options;
    options.env = {{"LDAPTLS_CACERT", tls_dir_ + "/ca.crt"},
                   {"LDAPTLS_REQCERT", "demand"},
                   {"LDAPCONF", "/dev/null"},
                   {"LDAPRC", "/dev/null"}};
    const ProcessOutput result = run_program("ldapsearch",
                                             {"-x", "-ZZ", "-LLL", "-H", ldap_uri(), "-D", kNslcdDn, "-w",
                                              kNslcdPassword, "-b", dn, "-s", "base", attribute},
                                             options);
    if (result.exit_code != 0) throw std::runtime_error("ldapsearch " + dn + ": " + result.err);
    for (const std::string& line : split_lines(result.out)) {
      if (line.rfind(attribute + ": ", 0) == 0) return line.substr(attribute.size() + 2);
    }
    throw std::runtime_error(dn + " has no " + attribute + ":\n" + result.out);
  }

  PosixNumbers user_numbers(const std::string& name) const {
    const std::string dn = "uid=" + name + ",ou=people," + kBase;
    return {attribute_of(dn, "uidNumber"), attribute_of(dn, "gidNumber")};
  }
  std::string group_number(const std::string& name) const {
    return attribute_of("cn=" + name + ",ou=groups," + kBase, "gidNumber");
  }

  // The exit code of ldapwhoami -ZZ bound as `name` with `password`.
  int whoami(const std::string& name, const std::string& password) const {
    RunOptions options;
    options.env = {{"LDAPTLS_CACERT", tls_dir_ + "/ca.crt"},
                   {"LDAPTLS_REQCERT", "demand"},
                   {"LDAPCONF", "/dev/null"},
                   {"LDAPRC", "/dev/null"}};
    return run_program("ldapwhoami", {"-x", "-ZZ", "-H", ldap_uri(), "-D", name, "-w", password}, options).exit_code;
  }

  // The passwd line nslcd builds for a user of add_people(). The password
  // field is "*": dirproxyd never serves userPassword, and pam_ldap checks
  // passwords by binding.
  std::string passwd_line(const std::string& name) const {
    const PosixNumbers numbers = user_numbers(name);
    return name + ":*:" + numbers.uid_number + ":" + numbers.gid_number + ":User " + name + ":/home/" + name +
           ":/bin/bash";
  }

  int port_ = 0;
  int ldaps_port_ = 0;
  std::string tls_dir_;
};

TEST_F(OsClientNslcdTest, GetentFindsUsersAndGroupsByNameAndNumber) {
  add_people();
  const auto nslcd = start_nslcd(ldap_uri());

  const ProcessOutput alice = nslcd->run({"getent", "passwd", "alice"});
  EXPECT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(alice.out, passwd_line("alice") + "\n");
  const ProcessOutput by_number = nslcd->run({"getent", "passwd", user_numbers("alice").uid_number});
  EXPECT_EQ(by_number.out, passwd_line("alice") + "\n") << by_number.err;

  // Debian has a local group "staff" (gid 50), which `files` answers first;
  // -s ldap asks nslcd alone. "devs" goes through the whole nsswitch.conf.
  const std::string staff_line = "staff:*:" + group_number("staff") + ":alice,bob";
  const ProcessOutput staff = nslcd->run({"getent", "-s", "ldap", "group", "staff"});
  EXPECT_EQ(staff.exit_code, 0) << staff.err;
  EXPECT_EQ(with_sorted_members(staff.out.substr(0, staff.out.find('\n'))), staff_line) << staff.out;
  const ProcessOutput staff_by_number = nslcd->run({"getent", "group", group_number("staff")});
  EXPECT_EQ(sorted_entries(staff_by_number.out), std::vector<std::string>{staff_line}) << staff_by_number.err;
  const ProcessOutput devs = nslcd->run({"getent", "group", "devs"});
  EXPECT_EQ(devs.exit_code, 0) << devs.err;
  EXPECT_EQ(devs.out, "devs:*:" + group_number("devs") + ":alice\n");

  // Unknown names are "not found" (exit 2), not errors.
  EXPECT_EQ(nslcd->run({"getent", "passwd", "nosuchuser"}).exit_code, 2);
  EXPECT_EQ(nslcd->run({"getent", "group", "nosuchgroup"}).exit_code, 2);
}

TEST_F(OsClientNslcdTest, EnumerationPagesThroughEveryUserAndGroup) {
  add_people();
  const auto nslcd = start_nslcd(ldap_uri());
  // The local files' entries, then every directory entry once: four users
  // over pages of two, where one search of more than three entries would
  // end in sizeLimitExceeded.
  const ProcessOutput local_users = nslcd->run({"getent", "-s", "files", "passwd"});
  const ProcessOutput users = nslcd->run({"getent", "passwd"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  std::string expected_users = local_users.out;
  for (const char* name : {"alice", "bob", "carol", "dave"}) expected_users += passwd_line(name) + "\n";
  EXPECT_EQ(sorted_entries(users.out), sorted_entries(expected_users));

  const ProcessOutput local_groups = nslcd->run({"getent", "-s", "files", "group"});
  const ProcessOutput groups = nslcd->run({"getent", "group"});
  ASSERT_EQ(groups.exit_code, 0) << groups.err;
  const std::string expected_groups = local_groups.out + "staff:*:" + group_number("staff") + ":alice,bob\n" +
                                      "devs:*:" + group_number("devs") + ":alice\n";
  EXPECT_EQ(sorted_entries(groups.out), sorted_entries(expected_groups));
}

TEST_F(OsClientNslcdTest, IdShowsThePrimaryAndSupplementaryGroups) {
  add_people();
  const auto nslcd = start_nslcd(ldap_uri());
  const PosixNumbers alice = user_numbers("alice");
  const std::string staff = group_number("staff");
  const std::string devs = group_number("devs");
  // The user private gid names no group (see the header comment), so id
  // prints it as a bare number.
  ASSERT_NE(alice.gid_number, staff);
  ASSERT_NE(alice.gid_number, devs);
  EXPECT_EQ(nslcd->run({"getent", "group", alice.gid_number}).exit_code, 2);

  // The primary group first, then the others in the order nslcd found them
  // (the directory's: either is right).
  const ProcessOutput id = nslcd->run({"id", "alice"});
  EXPECT_EQ(id.exit_code, 0) << id.err;
  EXPECT_EQ(id.err, "");
  const std::string prefix =
      "uid=" + alice.uid_number + "(alice) gid=" + alice.gid_number + " groups=" + alice.gid_number + ",";
  EXPECT_TRUE(id.out == prefix + staff + "(staff)," + devs + "(devs)\n" ||
              id.out == prefix + devs + "(devs)," + staff + "(staff)\n")
      << id.out;

  const ProcessOutput numbers = nslcd->run({"id", "-G", "alice"});
  EXPECT_EQ(numbers.exit_code, 0) << numbers.err;
  std::istringstream listed(numbers.out);
  const std::multiset<std::string> gids{std::istream_iterator<std::string>(listed),
                                        std::istream_iterator<std::string>()};
  EXPECT_EQ(gids, (std::multiset<std::string>{alice.gid_number, staff, devs}));
  EXPECT_EQ(nslcd->run({"id", "-u", "alice"}).out, alice.uid_number + "\n");
  EXPECT_EQ(nslcd->run({"id", "-g", "alice"}).out, alice.gid_number + "\n");

  // bob: staff only; carol: no group but her own.
  const PosixNumbers bob = user_numbers("bob");
  EXPECT_EQ(nslcd->run({"id", "bob"}).out, "uid=" + bob.uid_number + "(bob) gid=" + bob.gid_number +
                                               " groups=" + bob.gid_number + "," + staff + "(staff)\n");
  const PosixNumbers carol = user_numbers("carol");
  EXPECT_EQ(nslcd->run({"id", "carol"}).out,
            "uid=" + carol.uid_number + "(carol) gid=" + carol.gid_number + " groups=" + carol.gid_number + "\n");
}

TEST_F(OsClientNslcdTest, PamLoginAcceptsTheRightPasswordOnly) {
  add_people();
  const auto nslcd = start_nslcd(ldap_uri());
  const ProcessOutput right =
      nslcd->run({"pamtester", kPamService, "alice", "authenticate"}, std::string(kPassword) + "\n");
  EXPECT_EQ(right.exit_code, 0) << right.out << right.err;
  // pamtester writes the prompts to stderr, its verdict to stdout.
  EXPECT_EQ(right.err, "Password: ");
  EXPECT_EQ(right.out, "pamtester: successfully authenticated\n");
  const ProcessOutput account = nslcd->run({"pamtester", kPamService, "alice", "acct_mgmt"});
  EXPECT_EQ(account.exit_code, 0) << account.out << account.err;

  const ProcessOutput wrong = nslcd->run({"pamtester", kPamService, "alice", "authenticate"}, "not her password\n");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out << wrong.err;
  EXPECT_EQ(wrong.err, "Password: pamtester: Authentication failure\n");
  const ProcessOutput unknown = nslcd->run({"pamtester", kPamService, "nosuchuser", "authenticate"}, "whatever\n");
  EXPECT_EQ(unknown.exit_code, 1) << unknown.out << unknown.err;
  EXPECT_EQ(unknown.err, "Password: pamtester: User not known to the underlying authentication module\n");
}

TEST_F(OsClientNslcdTest, PamChauthtokChangesThePasswordInDirproxy) {
  add_people();
  const auto nslcd = start_nslcd(ldap_uri());
  // alice runs it herself, as passwd(1) would: pam_ldap asks for her current
  // password, then the new one twice, and nslcd binds as her and sends a
  // Password Modify (RFC 3062). (As root, pam_ldap would use nslcd.conf's
  // rootpwmoddn instead.)
  const PosixNumbers alice = user_numbers("alice");
  const ProcessOutput changed =
      nslcd->run({"pamtester", kPamService, "alice", "chauthtok"},
                 std::string(kPassword) + "\n" + kNewPassword + "\n" + kNewPassword + "\n", alice);
  EXPECT_EQ(changed.exit_code, 0) << changed.out << changed.err;
  EXPECT_EQ(changed.err, "(current) LDAP Password: New password: Retype new password: ");
  EXPECT_EQ(changed.out, "pamtester: authentication token altered successfully.\n");

  EXPECT_EQ(whoami("alice", kNewPassword), 0);
  EXPECT_EQ(whoami("alice", kPassword), 49);  // invalidCredentials
  const ProcessOutput login =
      nslcd->run({"pamtester", kPamService, "alice", "authenticate"}, std::string(kNewPassword) + "\n");
  EXPECT_EQ(login.exit_code, 0) << login.out << login.err;
}

TEST_F(OsClientNslcdTest, PamChauthtokRefusesAWrongCurrentPassword) {
  add_people();
  const auto nslcd = start_nslcd(ldap_uri());
  const PosixNumbers alice = user_numbers("alice");
  const ProcessOutput refused =
      nslcd->run({"pamtester", kPamService, "alice", "chauthtok"},
                 std::string("not her password\n") + kNewPassword + "\n" + kNewPassword + "\n", alice);
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_EQ(whoami("alice", kPassword), 0);
  EXPECT_EQ(whoami("alice", kNewPassword), 49);
}

TEST_F(OsClientNslcdTest, RootSetsAPasswordThroughRootpwmoddn) {
  add_people();
  const auto nslcd = start_nslcd(
      ldap_uri(), std::string("rootpwmoddn ") + kPasswordsDn + "\nrootpwmodpw " + kPasswordsPassword + "\n");
  // As root, pam_ldap asks for no current password: nslcd binds as
  // rootpwmoddn and sends a Password Modify without the old one, which an
  // application that may write is allowed.
  const ProcessOutput changed = nslcd->run({"pamtester", kPamService, "bob", "chauthtok"},
                                           std::string(kNewPassword) + "\n" + kNewPassword + "\n");
  EXPECT_EQ(changed.exit_code, 0) << changed.out << changed.err;
  EXPECT_EQ(changed.err, "New password: Retype new password: ");
  EXPECT_EQ(whoami("bob", kNewPassword), 0);
  EXPECT_EQ(whoami("bob", kPassword), 49);
}

TEST_F(OsClientNslcdTest, AnInactiveAccountIsListedButCannotLogIn) {
  add_people();
  arrange({{"op", "update_user"}, {"username", "carol"}, {"active", false}});
  const auto nslcd = start_nslcd(ldap_uri());
  const ProcessOutput carol = nslcd->run({"getent", "passwd", "carol"});
  EXPECT_EQ(carol.out, passwd_line("carol") + "\n") << carol.err;
  const ProcessOutput login =
      nslcd->run({"pamtester", kPamService, "carol", "authenticate"}, std::string(kPassword) + "\n");
  EXPECT_EQ(login.exit_code, 1) << login.out << login.err;
  EXPECT_EQ(login.err, "Password: pamtester: Authentication failure\n");
}

TEST_F(OsClientNslcdTest, LdapsUriWorksTheSame) {
  add_people();
  const auto nslcd = start_nslcd(ldaps_uri());
  const ProcessOutput alice = nslcd->run({"getent", "passwd", "alice"});
  EXPECT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(alice.out, passwd_line("alice") + "\n");
  const ProcessOutput login =
      nslcd->run({"pamtester", kPamService, "bob", "authenticate"}, std::string(kPassword) + "\n");
  EXPECT_EQ(login.exit_code, 0) << login.out << login.err;
}

}  // namespace
}  // namespace dirproxy::integration
