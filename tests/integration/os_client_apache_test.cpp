// Apache's mod_authnz_ldap against dirproxyd's LDAP front end
// (docs/ldap-server.md, "Client recipes"): the real apache2 (Debian's
// apache2-bin) with Basic authentication against the directory. mod_ldap
// binds as the application cn=apache,ou=services,BASE, searches the user by
// uid, binds as the user found to check the password, and `Require
// ldap-group` sends a Compare of the group's `member` with the user's DN.
//
// One dirproxyd and one Apache serve every case (ctest runs each TEST in a
// process of its own, so the cases are one TEST): Apache runs in the
// foreground (-X: one process, no children) with a configuration of its own
// in the harness's directory (ServerRoot, PidFile, ErrorLog, its pages), on
// a free port of 127.0.0.1; it never reads /etc/apache2. Curl asks for the
// pages with each user's name and password.
//
// What shows that the outcomes are dirproxyd's answers and not a
// misconfiguration that happens to answer 401 or 200: the right member gets
// the page's body and everyone else 401; Apache's error log (mod_authnz_ldap
// at debug level) names the Compare result the server sent (compareTrue for
// the members, compareFalse for the user outside the group), and
// dirproxyd's log has the refused bind of the wrong password. mod_ldap's
// caches (keyed by AuthLDAPURL, user and password) would answer a repeated
// question without asking the server, so each case that must reach the
// server is the first to ask it. For StartTLS, dirproxyd is reloaded with
// `plaintext_binds: never` before the last two cases: the member still gets
// the page through the TLS location, and a user of the clear-text one gets
// Apache's 500 (mod_authnz_ldap's answer to confidentialityRequired).
//
// Skipped only when /usr/sbin/apache2 is missing (scripts/install-deps test
// installs it). As root, Apache serves as nobody, as a real deployment runs
// it unprivileged (its built-in User, uid -1, does not exist); everything it
// reads after switching is readable by nobody.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "integration/ldap_test_support.hpp"

namespace dirproxy::integration {
namespace {

namespace fs = std::filesystem;
using dirproxy::testing::kill_and_reap;
using dirproxy::testing::spawn_child;
using dirproxy::testing::wait_for_child;

constexpr const char* kApache = "/usr/sbin/apache2";
constexpr const char* kModules = "/usr/lib/apache2/modules";
constexpr const char* kBase = "dc=example,dc=com";
constexpr const char* kServiceDn = "cn=apache,ou=services,dc=example,dc=com";
constexpr const char* kServicePassword = "apache service secret";
constexpr const char* kGroupDn = "cn=staff,ou=groups,dc=example,dc=com";
constexpr const char* kStaffPage = "staff only\n";
constexpr const char* kUsersPage = "any user\n";

std::string argon2id(const std::string& password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), 1, 8192) != 0) throw std::runtime_error("hash");
  return hash;
}

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// The file's text, or "" when there is none (yet).
std::string text_if_any(const fs::path& path) { return fs::exists(path) ? testing::read_text_file(path) : ""; }

// Whether something accepts TCP connections on 127.0.0.1:port.
bool accepts_connections(int port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

// One <Location> of the configuration, as docs/ldap-server.md's recipe has
// it: Basic authentication against the directory at `ldap_url` (with
// StartTLS when `tls`), and `require`.
std::string location(const std::string& path, const std::string& ldap_url, bool tls, const std::string& require) {
  std::string block;
  block += "<Location \"" + path + "\">\n";
  block += "  AuthType Basic\n";
  block += "  AuthName \"dirproxy\"\n";
  block += "  AuthBasicProvider ldap\n";
  block += "  AuthLDAPURL \"" + ldap_url + "/ou=people," + kBase + "?uid\"" + (tls ? " TLS" : "") + "\n";
  block += std::string("  AuthLDAPBindDN \"") + kServiceDn + "\"\n";
  block += std::string("  AuthLDAPBindPassword \"") + kServicePassword + "\"\n";
  block += "  AuthLDAPGroupAttribute member\n";
  block += "  AuthLDAPGroupAttributeIsDN on\n";
  block += "  Require " + require + "\n";
  block += "</Location>\n";
  return block;
}

// apache2 -X with the configuration `conf` (written to dir/httpd.conf,
// with ErrorLog dir/error.log); the constructor returns once it accepts
// connections on `port`. Killed with the test process if that dies first.
class Apache {
 public:
  Apache(const fs::path& dir, const std::string& conf, int port) : dir_(dir) {
    write_file(dir_ / "httpd.conf", conf);
    const std::string out_path = (dir_ / "apache2.out").string();
    const UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!out) throw std::runtime_error("cannot create " + out_path);
    pid_ = spawn_child({kApache, "-d", dir_.string(), "-f", (dir_ / "httpd.conf").string(), "-X"}, {}, out.get(),
                       out.get());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!accepts_connections(port)) {
      if (wait_for_child(pid_, 0ms).has_value()) {
        pid_ = -1;
        throw std::runtime_error("apache2 exited at start:\n" + text_if_any(out_path) + text_if_any(error_log()));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        stop();
        throw std::runtime_error("apache2 did not listen within 10 s:\n" + text_if_any(error_log()));
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  ~Apache() {
    stop();
    if (!::testing::Test::HasFailure()) return;
    const std::string text = text_if_any(error_log());
    const std::size_t keep = 8000;
    std::cerr << "--- apache2 error log (tail) ---\n" << (text.size() > keep ? text.substr(text.size() - keep) : text);
  }
  Apache(const Apache&) = delete;
  Apache& operator=(const Apache&) = delete;

  fs::path error_log() const { return dir_ / "error.log"; }

 private:
  // SIGTERM lets Apache shut down cleanly (pid file, locks); SIGKILL if it
  // does not end.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!wait_for_child(pid_, 5s).has_value()) kill_and_reap(pid_);
    pid_ = -1;
  }

  fs::path dir_;
  pid_t pid_ = -1;
};

// What curl got: the status code and the body.
struct HttpAnswer {
  int status = 0;
  std::string body;
  friend bool operator==(const HttpAnswer&, const HttpAnswer&) = default;
  friend std::ostream& operator<<(std::ostream& out, const HttpAnswer& answer) {
    return out << answer.status << " \"" << answer.body << "\"";
  }
};

class OsClientApacheTest : public DaemonTest {
 protected:
  void SetUp() override {
    if (::access(kApache, X_OK) != 0) GTEST_SKIP() << "needs " << kApache << " (apache2-bin)";
    std::vector<UniqueFd> held;
    ldap_port_ = testing::free_port(held);
    ldaps_port_ = testing::free_port(held);
    http_port_ = testing::free_port(held);
    tls_dir_ = daemon_.dir() + "/tls";
    testing::make_test_certificates(tls_dir_);
    apache_dir_ = fs::path(daemon_.dir()) / "apache";
  }

  // dirproxyd with the LDAP front end (StartTLS with the test CA, and
  // passwords in the clear from loopback, the default; its ldaps://
  // listener goes unused) and the `apache` application.
  void start_dirproxyd() {
    Json config = daemon_.default_config();
    config["ldap_server"] = ldap_server_section(kBase, ldap_port_, ldaps_port_, tls_dir_);
    config["applications"] =
        Json::array({{{"name", "apache"}, {"ldap", {{"password_hash", argon2id(kServicePassword)}}}}});
    config_ = config;
    daemon_.start(config);
  }

  // Three locations: /staff/ (the group's members) and /users/ (anyone
  // in the directory) over ldap://, and /staff-tls/ (the group's members)
  // over StartTLS with the test CA; each serves one page.
  std::string apache_conf() const {
    const std::string modules = kModules;
    const std::string dir = apache_dir_.string();
    const std::string url = "ldap://127.0.0.1:" + std::to_string(ldap_port_);
    std::string conf;
    conf += "ServerRoot \"" + dir + "\"\n";
    conf += "ServerName 127.0.0.1\n";
    conf += "Listen 127.0.0.1:" + std::to_string(http_port_) + "\n";
    conf += "PidFile \"" + dir + "/httpd.pid\"\n";
    conf += "DefaultRuntimeDir \"" + dir + "/run\"\n";
    conf += "ErrorLog \"" + dir + "/error.log\"\n";
    conf += "LogLevel warn authnz_ldap:debug ldap:debug\n";
    conf += "DocumentRoot \"" + dir + "/htdocs\"\n";
    if (::geteuid() == 0) conf += "User nobody\nGroup #" + std::to_string(nobody().gid) + "\n";
    for (const char* module :
         {"mpm_event", "authn_core", "authz_core", "authz_user", "auth_basic", "ldap", "authnz_ldap"}) {
      conf += std::string("LoadModule ") + module + "_module " + modules + "/mod_" + module + ".so\n";
    }
    conf += "LDAPTrustedGlobalCert CA_BASE64 \"" + tls_dir_ + "/ca.crt\"\n";
    conf += location("/staff/", url, false, std::string("ldap-group ") + kGroupDn);
    conf += location("/users/", url, false, "valid-user");
    conf += location("/staff-tls/", url, true, std::string("ldap-group ") + kGroupDn);
    return conf;
  }

  void start_apache() {
    write_file(apache_dir_ / "htdocs/staff/index.html", kStaffPage);
    write_file(apache_dir_ / "htdocs/staff-tls/index.html", kStaffPage);
    write_file(apache_dir_ / "htdocs/users/index.html", kUsersPage);
    fs::create_directories(apache_dir_ / "run");
    apache_ = std::make_unique<Apache>(apache_dir_, apache_conf(), http_port_);
  }

  // GET `path` with Basic credentials (none when `user` is empty).
  HttpAnswer get(const std::string& path, const std::string& user = "", const std::string& password = "") const {
    std::vector<std::string> args = {"-s", "-S", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20"};
    if (!user.empty()) args.insert(args.end(), {"-u", user + ":" + password});
    args.push_back("http://127.0.0.1:" + std::to_string(http_port_) + path);
    const auto result = run_program("curl", args);
    if (result.exit_code != 0) throw std::runtime_error("curl " + path + ": " + result.err);
    const auto newline = result.out.rfind('\n');
    HttpAnswer answer;
    answer.status = std::stoi(result.out.substr(newline + 1));
    answer.body = result.out.substr(0, newline);
    return answer;
  }

  // The error log's lines that contain `text`.
  std::vector<std::string> apache_log_lines(const std::string& text) const {
    std::vector<std::string> found;
    std::istringstream in(text_if_any(apache_->error_log()));
    for (std::string line; std::getline(in, line);) {
      if (line.find(text) != std::string::npos) found.push_back(line);
    }
    return found;
  }

  Json config_;  // dirproxyd's, as started
  int ldap_port_ = 0;
  int ldaps_port_ = 0;
  int http_port_ = 0;
  std::string tls_dir_;
  fs::path apache_dir_;
  std::unique_ptr<Apache> apache_;
};

TEST_F(OsClientApacheTest, RequireLdapGroupAndValidUserAnswerAsTheDirectorySays) {
  start_dirproxyd();
  add_group("staff");
  add_user("alice");  // in staff
  add_member("staff", "alice");
  add_user("bob");   // not in staff
  add_user("dave");  // in staff: the StartTLS case, with nothing cached for him
  add_member("staff", "dave");
  add_user("erin");  // in no group: the clear-text case after the reload
  start_apache();

  // A member with the right password: search, bind as alice, Compare true.
  EXPECT_EQ(get("/staff/index.html", "alice", kPassword), (HttpAnswer{200, kStaffPage}));
  // A member with a wrong password: the bind as alice is refused.
  EXPECT_EQ(get("/staff/index.html", "alice", "not alice's password").status, 401);
  // A user of the directory outside the group: Compare false (and no
  // nested group in staff either).
  EXPECT_EQ(get("/staff/index.html", "bob", kPassword).status, 401);
  EXPECT_EQ(get("/users/index.html", "bob", kPassword), (HttpAnswer{200, kUsersPage}));
  // Nobody of that name: the search finds nothing. No credentials at all.
  EXPECT_EQ(get("/users/index.html", "carol", kPassword).status, 401);
  EXPECT_EQ(get("/users/index.html").status, 401);

  // From now on dirproxyd refuses every password that arrives without TLS:
  // that dave gets the page over /staff-tls/ shows that Apache did StartTLS
  // (and verified the server against the test CA); erin's password, over
  // ldap:// without it, is refused with confidentialityRequired, which
  // mod_authnz_ldap answers with 500.
  config_["ldap_server"]["plaintext_binds"] = "never";
  daemon_.write_config(config_);
  arrange({{"op", "reload"}});
  EXPECT_EQ(get("/staff-tls/index.html", "dave", kPassword), (HttpAnswer{200, kStaffPage}));
  EXPECT_EQ(get("/users/index.html", "erin", kPassword).status, 500);

  // The group decisions were dirproxyd's Compare results: alice's and
  // dave's compareTrue, bob's compareFalse (none came from mod_ldap's
  // cache).
  const std::string compare_true =
      "authorization successful (attribute member) [Comparison true (adding to cache)][6 - Compare True]";
  const std::string compare_false =
      "didn't match with attr member [Comparison false (adding to cache)][5 - Compare False]";
  EXPECT_EQ(apache_log_lines(compare_true).size(), 2u);
  EXPECT_EQ(apache_log_lines(compare_false).size(), 1u);
  EXPECT_TRUE(daemon_.wait_for_log("bind as \"uid=alice,ou=people,dc=example,dc=com\" refused: invalid_credentials"))
      << daemon_.log_tail();
}

}  // namespace
}  // namespace dirproxy::integration
