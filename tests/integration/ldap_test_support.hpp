// Shared by the LDAP integration tests (ldap_chain_test, ldap_availability_test,
// ldap_writes_test): configuration entries for ldap directories that read the
// throwaway slapd servers of tests/support/slapd_server, a port that refuses
// connections (a "dead" URI), and bounded polling. Every ldap directory made
// here has short timeouts (connect 500ms, operation 1s, retry_backoff 200ms)
// so that a test of an outage stays fast.
#pragma once

#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "protocol_test_support.hpp"
#include "support/slapd_server.hpp"

namespace dirproxy::integration {

using dirproxy::testing::ServiceAccess;
using dirproxy::testing::SlapdOptions;
using dirproxy::testing::SlapdServer;

// The data sets' users (tests/data/ldap/*.ldif) by DN, for checks made
// straight against slapd.
constexpr const char* kPeopleBase = "ou=people,dc=example,dc=com";
constexpr const char* kGroupsBase = "ou=groups,dc=example,dc=com";
constexpr const char* kAliceDn = "uid=alice,ou=people,dc=example,dc=com";

// The OpenLDAP-style data set, served to a service account that may also
// write (add, modify, delete entries and set passwords).
inline SlapdOptions writable_openldap_options() {
  SlapdOptions options = dirproxy::testing::openldap_test_options();
  options.service_account->access = ServiceAccess::write;
  return options;
}

// A configuration entry for an ldap directory named `name` reading `server`
// as its service account. The service password is written to a file in the
// harness's directory (bind_password_file). schema openldap with the
// OpenLDAP data set's layout (ou=people, ou=groups) unless `active_directory`,
// which uses the AD preset and the AD data set's cn=Users container.
inline Json ldap_directory(const DaemonHarness& daemon, const std::string& name, const SlapdServer& server,
                           bool active_directory = false) {
  const auto& account = server.service_account();
  if (!account) throw std::runtime_error("the slapd server has no service account");
  const std::string password_file = daemon.dir() + "/" + name + ".bind-password";
  {
    std::ofstream out(password_file, std::ios::binary | std::ios::trunc);
    out << account->password << "\n";
    if (!out) throw std::runtime_error("cannot write " + password_file);
  }
  Json directory = {{"name", name},
                    {"type", "ldap"},
                    {"permissions", "read_only"},
                    {"schema", active_directory ? "active_directory" : "openldap"},
                    {"uri", Json::array({server.uri()})},
                    {"bind_dn", account->dn},
                    {"bind_password_file", password_file},
                    {"base_dn", server.suffix()},
                    {"timeouts", {{"connect", "500ms"}, {"operation", "1s"}}},
                    {"retry_backoff", "200ms"},
                    {"pool_size", 2}};
  if (active_directory) {
    directory["users"] = {{"base", "cn=Users"}};
    directory["groups"] = {{"base", "cn=Users"}};
  }
  return directory;
}

// The harness's default configuration with `directories` as the chain.
inline Json config_with_directories(const DaemonHarness& daemon, Json directories) {
  Json config = daemon.default_config();
  config["directories"] = std::move(directories);
  return config;
}

// The ldap_server section of a dirproxyd that serves `base_dn` on
// ldap://127.0.0.1:PORT (StartTLS offered) and ldaps://127.0.0.1:LDAPS_PORT
// with the certificate and key that testing::make_test_certificates wrote
// to `tls_dir`.
inline Json ldap_server_section(const std::string& base_dn, int port, int ldaps_port, const std::string& tls_dir) {
  return {
      {"listen", {"ldap://127.0.0.1:" + std::to_string(port), "ldaps://127.0.0.1:" + std::to_string(ldaps_port)}},
      {"base_dn", base_dn},
      {"tls", {{"certificate_file", tls_dir + "/server.crt"}, {"key_file", tls_dir + "/server.key"}}},
  };
}

// An Argon2id hash of `password` for applications[].ldap.password_hash,
// made with the cheapest parameters so that tests bind fast.
inline std::string application_password_hash(const std::string& password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), 1, 8192) != 0) {
    throw std::runtime_error("crypto_pwhash_str failed");
  }
  return hash;
}

// The internal directory entry of the default configuration.
inline Json internal_directory(std::string permissions = "read_write") {
  return {{"name", "internal"}, {"type", "internal"}, {"permissions", std::move(permissions)}};
}

// A TCP port on 127.0.0.1 that refuses connections for as long as this
// object lives: the socket is bound (so no other process gets the port) but
// never listens, so the kernel answers every connect with RST.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot bind a port on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  int port() const { return port_; }
  std::string uri() const { return "ldap://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int fd_;
  int port_ = 0;
};

// Calls `attempt` every 50 ms until it returns true or `timeout` has passed;
// whether it ever did.
inline bool eventually(const std::function<bool()>& attempt, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (attempt()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

// How often `needle` occurs in `text`.
inline std::size_t count_occurrences(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// The entry of `name` in a list_directories response; null when absent.
inline Json directory_entry(const Json& list_response, const std::string& name) {
  for (const auto& entry : list_response.value("directories", Json::array())) {
    if (entry.value("name", std::string()) == name) return entry;
  }
  return nullptr;
}

// A test fixture with a dirproxyd (DaemonTest) and two slapd servers shared
// by every test of a suite, started when a test first asks for them: the
// OpenLDAP-style data set (openldap()) and the AD-shaped one
// (active_directory()). For tests that only read from the servers; tests
// that write, stop or pause a server start their own.
class LdapReadOnlyTest : public DaemonTest {
 protected:
  static void TearDownTestSuite() {
    openldap_.reset();
    active_directory_.reset();
  }

  static SlapdServer& openldap() {
    if (!openldap_) openldap_ = std::make_unique<SlapdServer>(dirproxy::testing::openldap_test_options());
    return *openldap_;
  }
  static SlapdServer& active_directory() {
    if (!active_directory_) {
      active_directory_ = std::make_unique<SlapdServer>(dirproxy::testing::active_directory_test_options());
    }
    return *active_directory_;
  }

  // "corp" on the OpenLDAP-style server and "ad" on the AD-shaped one.
  Json corp() { return ldap_directory(daemon_, "corp", openldap()); }
  Json ad() { return ldap_directory(daemon_, "ad", active_directory(), /*active_directory=*/true); }

  void start_with(Json directories, Json extra = Json::object()) {
    Json config = config_with_directories(daemon_, std::move(directories));
    config.update(extra);
    daemon_.start(config);
  }

  // Rewrites the configuration file with `directories` and asks the running
  // daemon to reload it.
  void reload_with(Json directories, Json extra = Json::object()) {
    Json config = config_with_directories(daemon_, std::move(directories));
    config.update(extra);
    daemon_.write_config(config);
    arrange({{"op", "reload"}});
  }

 private:
  static inline std::unique_ptr<SlapdServer> openldap_;
  static inline std::unique_ptr<SlapdServer> active_directory_;
};

// The lines of `text` (ldapsearch's LDIF, a log) that begin with `prefix`.
inline std::vector<std::string> lines_with(const std::string& text, const std::string& prefix) {
  std::vector<std::string> found;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line.rfind(prefix, 0) == 0) found.push_back(line);
    start = end + 1;
  }
  return found;
}

}  // namespace dirproxy::integration
