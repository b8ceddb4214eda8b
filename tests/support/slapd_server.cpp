#include "support/slapd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "core/unique_fd.hpp"

namespace dirproxy::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kSlapd = "/usr/sbin/slapd";
constexpr const char* kSlapadd = "/usr/sbin/slapadd";
constexpr const char* kSchemaDir = "/etc/ldap/schema";
constexpr const char* kModuleDir = "/usr/lib/ldap";
// stats: connections, operations and their results, one line each.
constexpr const char* kDebugLevel = "256";
constexpr auto kReadyTimeout = 10s;
constexpr auto kStopTimeout = 10s;
constexpr auto kDestructorStopTimeout = 5s;
// Attempts at the first start when another process took a chosen port
// between choosing it and slapd binding it.
constexpr int kPortAttempts = 3;

std::string tail_lines(const std::string& text, std::size_t lines) {
  std::size_t at = text.size();
  if (at > 0 && text[at - 1] == '\n') --at;
  for (std::size_t seen = 0; at > 0; --at) {
    if (text[at - 1] == '\n' && ++seen == lines) break;
  }
  return text.substr(at);
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Runs a setup command and throws with its output when it fails.
std::string run_or_throw(const std::vector<std::string>& argv, const Environment& env = {}) {
  CommandResult result = run_command(argv, env);
  if (result.exit_code != 0) {
    std::string command;
    for (const auto& arg : argv) command += (command.empty() ? "" : " ") + arg;
    throw std::runtime_error(command + " failed (exit " + std::to_string(result.exit_code) + "):\n" + result.out +
                             result.err);
  }
  return result.out;
}

// This machine's name when it is a plain DNS name (it goes into the
// certificate: libldap checks a "localhost" URI against it).
std::optional<std::string> dns_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return std::nullopt;
  const std::string host = name;
  const bool plain = std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
  if (!plain || host == "localhost") return std::nullopt;
  return host;
}

std::string quoted(const std::string& value) { return "\"" + value + "\""; }

std::optional<std::string> decode_base64(std::string_view text) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  unsigned bits = 0;
  int pending = 0;
  for (char c : text) {
    if (c == '=') break;
    const auto at = kAlphabet.find(c);
    if (at == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(at);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      bytes.push_back(static_cast<char>((bits >> pending) & 0xff));
    }
  }
  return bytes;
}

// ldapsearch base64-encodes userPassword (and any value that is not plain
// text): "attr:: e1NTSEF9..." becomes "attr: {SSHA}..." wherever the value
// is printable ASCII, so that tests can look for a clear password.
std::string decode_printable_values(const std::string& ldif) {
  std::istringstream lines(ldif);
  std::string result;
  for (std::string line; std::getline(lines, line);) {
    const auto marker = line.find(":: ");
    if (marker != std::string::npos && line.find(':') == marker) {
      const auto value = decode_base64(std::string_view(line).substr(marker + 3));
      const bool printable =
          value && std::all_of(value->begin(), value->end(), [](char c) { return c >= 0x20 && c < 0x7f; });
      if (printable && !value->empty() && value->front() != ' ' && value->front() != ':' && value->front() != '<' &&
          value->back() != ' ') {
        line = line.substr(0, marker) + ": " + *value;
      }
    }
    result += line + "\n";
  }
  return result;
}

}  // namespace

// A TCP port on 127.0.0.1 that nothing listens on right now, chosen by the
// kernel. `keep` holds the socket so that a second call yields another port.
int free_port(std::vector<UniqueFd>& keep) {
  keep.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int fd = keep.back().get();
  if (fd < 0) throw_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) throw_errno("bind");
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw_errno("getsockname");
  }
  return ntohs(address.sin_port);
}

void make_test_certificates(const std::filesystem::path& tls) {
  std::filesystem::create_directories(tls);
  auto file = [&](const char* name) { return (tls / name).string(); };
  const std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

  std::vector<std::string> ca = {"openssl", "req", "-x509"};
  ca.insert(ca.end(), new_key.begin(), new_key.end());
  ca.insert(ca.end(),
            {"-keyout", file("ca.key"), "-out", file("ca.crt"), "-days", "30", "-subj", "/CN=dirproxy test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  run_or_throw(ca);

  std::vector<std::string> request = {"openssl", "req", "-new"};
  request.insert(request.end(), new_key.begin(), new_key.end());
  request.insert(request.end(), {"-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1"});
  run_or_throw(request);

  std::string names = "IP:127.0.0.1,DNS:localhost";
  if (auto host = dns_host_name()) names += ",DNS:" + *host;
  write_text_file(tls / "server.ext",
                  "basicConstraints=critical,CA:FALSE\n"
                  "keyUsage=critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=serverAuth\n"
                  "subjectAltName=" +
                      names + "\n");
  run_or_throw({"openssl", "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"),
                "-CAcreateserial", "-out", file("server.crt"), "-days", "30", "-extfile", file("server.ext")});
}


CommandResult run_command(const std::vector<std::string>& argv, const Environment& env,
                          std::chrono::milliseconds timeout) {
  if (argv.empty()) throw std::invalid_argument("run_command: empty argv");
  ChildOptions options;
  options.env = env;
  options.timeout = timeout;
  return run_child(argv, options);
}

SlapdServer::SlapdServer(Options options) : options_(std::move(options)) {
  char path[] = "/tmp/dps-XXXXXX";
  if (::mkdtemp(path) == nullptr) throw_errno("mkdtemp");
  dir_ = path;
  try {
    std::filesystem::create_directory(dir_ / "db");
    if (options_.tls) make_certificates();
    write_configuration();
    load_data();
    for (int attempt = 1;; ++attempt) {
      choose_ports();
      if (launch()) break;
      if (attempt == kPortAttempts) fail("slapd could not bind its ports");
    }
  } catch (...) {
    if (pid_ > 0) kill_and_reap(pid_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

SlapdServer::~SlapdServer() {
  if (::testing::Test::HasFailure()) {
    const std::string tail = log_tail();
    if (!tail.empty()) {
      std::cerr << "--- slapd log (" << (dir_ / "slapd.log").string() << ", tail) ---\n" << tail;
    }
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    if (!reap(kDestructorStopTimeout)) {
      kill_and_reap(pid_);
      pid_ = -1;
    }
  }
  if (::getenv("DIRPROXY_KEEP_TEST_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string SlapdServer::ca_file() const { return options_.tls ? (dir_ / "tls" / "ca.crt").string() : std::string(); }

void SlapdServer::choose_ports() {
  std::vector<UniqueFd> held;
  port_ = free_port(held);
  uri_ = "ldap://127.0.0.1:" + std::to_string(port_) + "/";
  if (options_.tls) {
    ldaps_port_ = free_port(held);
    ldaps_uri_ = "ldaps://127.0.0.1:" + std::to_string(ldaps_port_) + "/";
  }
}

void SlapdServer::make_certificates() const { make_test_certificates(dir_ / "tls"); }

void SlapdServer::write_configuration() const {
  std::ostringstream conf;
  conf << "# Generated by dirproxy's tests (tests/support/slapd_server.cpp).\n";
  for (const auto& schema : options_.schemas) {
    conf << "include " << kSchemaDir << "/" << schema << ".schema\n";
  }
  for (const auto& file : options_.extra_schema_files) conf << "include " << file.string() << "\n";
  conf << "modulepath " << kModuleDir << "\n"
       << "moduleload back_mdb\n"
       // Logging goes to stderr through -d; nothing to syslog.
       << "loglevel 0\n";
  if (options_.tls) {
    conf << "TLSCACertificateFile " << ca_file() << "\n"
         << "TLSCertificateFile " << (dir_ / "tls" / "server.crt").string() << "\n"
         << "TLSCertificateKeyFile " << (dir_ / "tls" / "server.key").string() << "\n";
  }
  for (const auto& line : options_.extra_global_config) conf << line << "\n";

  conf << "\ndatabase mdb\n"
       << "maxsize " << (64 << 20) << "\n"
       << "directory " << (dir_ / "db").string() << "\n"
       << "suffix " << quoted(options_.suffix) << "\n"
       << "rootdn " << quoted(root_dn()) << "\n"
       << "rootpw " << options_.root_password << "\n";
  // First: slapd applies the first "limits" and "access to" clause that
  // matches, so a test's own lines win over the fixture's below.
  for (const auto& line : options_.extra_database_config) conf << line << "\n";
  const auto& service = options_.service_account;
  if (service) {
    conf << "limits dn.exact=" << quoted(service->dn) << " size.prtotal=unlimited\n";
  }

  // The rootdn bypasses these. Binding needs only "auth" on userPassword.
  const std::string service_level = service && service->access == ServiceAccess::write ? "write" : "read";
  conf << "access to attrs=userPassword\n";
  if (service) conf << "  by dn.exact=" << quoted(service->dn) << " " << service_level << "\n";
  conf << "  by self write\n"
       << "  by anonymous auth\n"
       << "  by * none\n"
       << "access to *\n";
  if (service) conf << "  by dn.exact=" << quoted(service->dn) << " " << service_level << "\n";
  conf << "  by self read\n"
       << "  by users read\n";
  if (options_.anonymous_read) conf << "  by anonymous read\n";
  conf << "  by * none\n";
  write_text_file(dir_ / "slapd.conf", conf.str());
}

void SlapdServer::load_data() const {
  if (options_.ldif.empty()) return;
  const std::filesystem::path data = dir_ / "data.ldif";
  write_text_file(data, options_.ldif);
  run_or_throw({kSlapadd, "-q", "-f", (dir_ / "slapd.conf").string(), "-l", data.string()});
}

bool SlapdServer::launch() {
  std::string listeners = uri_;
  if (options_.tls) listeners += " " + ldaps_uri_;
  const std::string log_path = (dir_ / "slapd.log").string();
  UniqueFd log_fd(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log_fd) throw_errno("open " + log_path);
  const std::string banner = "=== SlapdServer: starting slapd on " + listeners + " ===\n";
  if (::write(log_fd.get(), banner.data(), banner.size()) < 0) throw_errno("write " + log_path);
  const std::vector<std::string> argv = {kSlapd, "-f",       (dir_ / "slapd.conf").string(), "-h", listeners,
                                         "-d",   kDebugLevel};
  pid_ = spawn_child(argv, /*env=*/{}, log_fd.get(), log_fd.get());
  paused_ = false;

  const auto deadline = Clock::now() + kReadyTimeout;
  for (;;) {
    if (auto status = reap(0ms)) {
      const std::string text = log();
      const auto this_start = text.rfind(banner);
      if (text.find("Address already in use", this_start) != std::string::npos) return false;
      fail("slapd exited during start-up with status " + std::to_string(*status));
    }
    const CommandResult probe =
        run_command({"ldapwhoami", "-x", "-H", uri_, "-D", root_dn(), "-w", options_.root_password}, {}, 2s);
    if (probe.exit_code == 0) return true;
    if (Clock::now() >= deadline) {
      kill_and_reap(pid_);
      pid_ = -1;
      fail("slapd did not answer ldapwhoami within 10 s (last: " + probe.err + ")");
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::optional<int> SlapdServer::reap(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto status = wait_for_child(pid_, timeout);
  if (status) {
    pid_ = -1;
    paused_ = false;
  }
  return status;
}

void SlapdServer::fail(const std::string& what) const {
  throw std::runtime_error("SlapdServer (" + dir_.string() + "): " + what + "\n--- slapd log tail ---\n" + log_tail());
}

void SlapdServer::start() {
  if (pid_ > 0) throw std::logic_error("SlapdServer::start: slapd is already running");
  if (!launch()) fail("slapd could not bind its ports again");
}

void SlapdServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  if (reap(kStopTimeout)) return;
  kill_and_reap(pid_);
  pid_ = -1;
  paused_ = false;
  fail("slapd did not exit within 10 s of SIGTERM; killed");
}

void SlapdServer::kill9() {
  if (pid_ <= 0) return;
  kill_and_reap(pid_);
  pid_ = -1;
  paused_ = false;
}

void SlapdServer::pause() {
  if (pid_ <= 0) throw std::logic_error("SlapdServer::pause: slapd is not running");
  if (::kill(pid_, SIGSTOP) != 0) throw_errno("SIGSTOP slapd");
  // The signal is not synchronous: until slapd has really stopped it may
  // still answer a request a test sends right after pause(). It is our
  // child, so waitpid(WUNTRACED) says when it has.
  int status = 0;
  pid_t stopped = -1;
  do {
    stopped = ::waitpid(pid_, &status, WUNTRACED);
  } while (stopped < 0 && errno == EINTR);
  if (stopped != pid_ || !WIFSTOPPED(status)) {
    if (stopped == pid_) pid_ = -1;  // it exited instead
    throw std::runtime_error("SlapdServer::pause: slapd did not stop\n" + log_tail());
  }
  paused_ = true;
}

void SlapdServer::resume() {
  if (pid_ <= 0) throw std::logic_error("SlapdServer::resume: slapd is not running");
  if (::kill(pid_, SIGCONT) != 0) throw_errno("SIGCONT slapd");
  paused_ = false;
}

std::string SlapdServer::log() const {
  std::ifstream in(dir_ / "slapd.log", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string SlapdServer::log_tail(std::size_t lines) const { return tail_lines(log(), lines); }

bool SlapdServer::wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (log().find(text) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

CommandResult SlapdServer::ldap_tool(const std::string& program, const std::vector<std::string>& args,
                                     const Environment& env, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {program, "-x", "-H", uri_};
  argv.insert(argv.end(), args.begin(), args.end());
  Environment full_env = env;
  if (options_.tls) full_env.emplace_back("LDAPTLS_CACERT", ca_file());
  return run_command(argv, full_env, timeout);
}

std::string SlapdServer::search(const std::string& base, const std::string& filter,
                                const std::vector<std::string>& attributes, const std::string& scope) const {
  std::vector<std::string> args = {
      "-D", root_dn(), "-w", options_.root_password, "-LLL", "-o", "ldif-wrap=no", "-s", scope, "-b", base, filter};
  args.insert(args.end(), attributes.begin(), attributes.end());
  CommandResult result = ldap_tool("ldapsearch", args);
  constexpr int kNoSuchObject = 32;
  if (result.exit_code == kNoSuchObject) return "";
  if (result.exit_code != 0) {
    throw std::runtime_error("ldapsearch -b '" + base + "' '" + filter + "' failed (exit " +
                             std::to_string(result.exit_code) + "): " + result.err);
  }
  return decode_printable_values(result.out);
}

CommandResult SlapdServer::whoami(const std::string& dn, const std::string& password) const {
  std::vector<std::string> args;
  if (!dn.empty() || !password.empty()) args = {"-D", dn, "-w", password};
  return ldap_tool("ldapwhoami", args);
}

void SlapdServer::modify(const std::string& ldif) const {
  static std::atomic<int> counter = 0;
  const std::filesystem::path file = dir_ / ("modify-" + std::to_string(++counter) + ".ldif");
  write_text_file(file, ldif);
  CommandResult result = ldap_tool("ldapmodify", {"-D", root_dn(), "-w", options_.root_password, "-f", file.string()});
  if (result.exit_code != 0) {
    throw std::runtime_error("ldapmodify failed (exit " + std::to_string(result.exit_code) + "): " + result.err + "\n" +
                             ldif);
  }
}

std::filesystem::path test_data_path(const std::filesystem::path& relative) {
  return std::filesystem::path(DIRPROXY_TEST_DATA_DIR) / relative;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

SlapdOptions openldap_test_options() {
  SlapdOptions options;
  options.suffix = "dc=example,dc=com";
  options.ldif = read_text_file(test_data_path("ldap/openldap.ldif"));
  options.service_account =
      ServiceAccount{"cn=dirproxy,ou=service,dc=example,dc=com", "dirproxy-service-password", ServiceAccess::read};
  return options;
}

SlapdOptions active_directory_test_options() {
  SlapdOptions options;
  options.suffix = "dc=corp,dc=example";
  options.extra_schema_files = {test_data_path("ldap/ad.schema")};
  options.ldif = read_text_file(test_data_path("ldap/ad.ldif"));
  options.service_account =
      ServiceAccount{"cn=svc-dirproxy,cn=Users,dc=corp,dc=example", "svc-dirproxy-password", ServiceAccess::read};
  return options;
}

std::string numbered_uid(std::string_view prefix, int n) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%04d", n);
  return std::string(prefix) + digits;
}

std::vector<std::string> numbered_user_dns(std::string_view base_dn, std::string_view prefix, int count) {
  std::vector<std::string> dns;
  dns.reserve(static_cast<std::size_t>(std::max(count, 0)));
  for (int n = 1; n <= count; ++n) {
    dns.push_back("uid=" + numbered_uid(prefix, n) + "," + std::string(base_dn));
  }
  return dns;
}

std::string make_users_ldif(std::string_view base_dn, std::string_view prefix, int count) {
  std::ostringstream ldif;
  for (int n = 1; n <= count; ++n) {
    const std::string uid = numbered_uid(prefix, n);
    ldif << "dn: uid=" << uid << "," << base_dn << "\n"
         << "objectClass: inetOrgPerson\n"
         << "uid: " << uid << "\n"
         << "cn: " << uid << "\n"
         << "sn: " << prefix << "\n"
         << "mail: " << uid << "@example.com\n"
         << "userPassword: " << uid << "-password\n\n";
  }
  return ldif.str();
}

std::string make_group_ldif(std::string_view group_dn, const std::vector<std::string>& member_dns) {
  if (group_dn.substr(0, 3) != "cn=") {
    throw std::invalid_argument("make_group_ldif: the RDN must be cn=: " + std::string(group_dn));
  }
  const std::string_view cn = group_dn.substr(3, group_dn.find(',') - 3);
  std::string ldif = "dn: " + std::string(group_dn) + "\nobjectClass: groupOfNames\ncn: " + std::string(cn) + "\n";
  for (const auto& member : member_dns) ldif += "member: " + member + "\n";
  return ldif + "\n";
}

}  // namespace dirproxy::testing
