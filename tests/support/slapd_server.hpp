// A throwaway OpenLDAP server for tests that need a real LDAP directory.
// SlapdServer runs Debian's /usr/sbin/slapd as a child of the test process:
// a private directory /tmp/dps-XXXXXX holds a generated slapd.conf (mdb
// backend, the requested schemas, rootdn cn=admin,<suffix>, ACLs for an
// optional service account), the database loaded with slapadd from the
// test's LDIF, optional TLS material (a fresh CA and a server certificate
// for 127.0.0.1), and slapd's log. slapd listens on free ports of 127.0.0.1
// only, so it never meets a system slapd on port 389.
//
// slapd runs in the foreground with stats logging (-d 256) into log(): every
// connection, bind, search and modification it receives is a line there, so
// a test can assert which operations reached the server.
//
// The fixture can stop, restart (same data, same ports), pause (SIGSTOP: a
// server that accepts connections and never answers) and crash the server,
// and lets tests check what a write left behind with search() and whoami().
// The destructor always ends slapd and removes the directory (kept when
// DIRPROXY_KEEP_TEST_DIR is set); when the test has failed, the log's tail
// goes to stderr first.
//
// Errors (slapadd rejects the data, slapd does not come up within 10 s, an
// openssl or ldap-utils call fails) throw std::runtime_error with the
// relevant output: gtest reports it as a failure of the test.
//
// The standard data sets live in tests/data/ldap (DIRPROXY_TEST_DATA_DIR):
// openldap_test_options() and active_directory_test_options() load them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"

namespace dirproxy::testing {

// What a finished command left behind (see ChildResult).
using CommandResult = ChildResult;

// Runs argv[0] (a path, or a name looked up on PATH and then in /usr/sbin and
// /sbin) with the given arguments and an empty stdin, and waits for it,
// killing it after `timeout` (run_child). Throws only when it cannot be
// started.
CommandResult run_command(const std::vector<std::string>& argv, const Environment& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A TCP port on 127.0.0.1 that nothing listens on right now, chosen by the
// kernel. `keep` holds the socket so that a second call yields another port.
int free_port(std::vector<UniqueFd>& keep);

// A fresh test CA and a server certificate signed by it for 127.0.0.1,
// localhost and this host's name, in `dir` (created): ca.crt, ca.key,
// server.crt, server.key. Throws when openssl fails.
void make_test_certificates(const std::filesystem::path& dir);

// What the service account may do besides reading everything.
enum class ServiceAccess {
  read,   // read every entry and attribute (userPassword included)
  write,  // also add, modify and delete entries and set passwords
};

// The account the code under test binds as. Its entry (with this password)
// must be in the LDIF; the fixture only writes the ACLs and limits for it.
struct ServiceAccount {
  std::string dn;
  std::string password;
  ServiceAccess access = ServiceAccess::read;
};

// Aggregate: set members one by one (g++ 12 warns about designated
// initializers that leave members out, and warnings are errors).
struct SlapdOptions {
  std::string suffix = "dc=example,dc=com";
  // Debian's schema files by name (/etc/ldap/schema/NAME.schema), in order.
  std::vector<std::string> schemas = {"core", "cosine", "inetorgperson", "nis"};
  // More schema files (slapd.conf syntax), by path, loaded after `schemas`.
  std::vector<std::filesystem::path> extra_schema_files;
  // Loaded with slapadd before the first start; it should hold the suffix's
  // own entry. Empty: an empty database.
  std::string ldif;
  std::string root_password = "admin-password";
  // Also serve ldaps:// on a second port and offer StartTLS on the ldap://
  // one, with a certificate for 127.0.0.1 (and localhost, and this host's
  // name: libldap checks "localhost" against the host name) signed by a
  // fresh CA, ca_file().
  bool tls = false;
  // Gets ACLs for `access` and no limit on the total size of a paged search
  // (slapd's default caps that at the 500-entry size limit, which plain
  // searches still have).
  std::optional<ServiceAccount> service_account;
  // Lets anonymous clients read all but passwords (for anonymous-bind
  // configurations). Otherwise only authenticated users read: themselves and
  // every entry, never another user's password.
  bool anonymous_read = false;
  // slapd.conf lines added to the global section (after the schemas) and to
  // the database section (before the fixture's "limits" and "access to"
  // lines: slapd applies the first that matches, so a test's own win).
  std::vector<std::string> extra_global_config;
  std::vector<std::string> extra_database_config;
};

class SlapdServer final {
 public:
  using Options = SlapdOptions;

  // Creates the directory, writes the configuration (and certificates),
  // loads the LDIF and starts slapd; returns when it answers ldapwhoami as
  // the rootdn.
  explicit SlapdServer(Options options);
  // Ends slapd (SIGCONT, SIGTERM, then SIGKILL after 5 s) and removes the
  // directory.
  ~SlapdServer();
  SlapdServer(const SlapdServer&) = delete;
  SlapdServer& operator=(const SlapdServer&) = delete;

  // ldap://127.0.0.1:PORT/ (StartTLS available when options.tls).
  const std::string& uri() const { return uri_; }
  // ldaps://127.0.0.1:PORT/; empty without options.tls.
  const std::string& ldaps_uri() const { return ldaps_uri_; }
  int port() const { return port_; }
  // 0 without options.tls.
  int ldaps_port() const { return ldaps_port_; }
  // The CA certificate that signed the server's (PEM); empty without tls.
  std::string ca_file() const;

  const std::string& suffix() const { return options_.suffix; }
  std::string root_dn() const { return "cn=admin," + options_.suffix; }
  const std::string& root_password() const { return options_.root_password; }
  // The service account from the options; nullopt when there is none.
  const std::optional<ServiceAccount>& service_account() const { return options_.service_account; }

  // The private directory (slapd.conf, db/, tls/, slapd.log).
  const std::filesystem::path& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }

  // Starts slapd again after stop() or kill9(), on the same data and ports;
  // returns when it is ready. Throws when it already runs.
  void start();
  // SIGTERM (after SIGCONT when paused) and waits for the exit. Throws, after
  // SIGKILL, when slapd has not exited within 10 s. No-op when stopped.
  void stop();
  // SIGKILL and reap: a crash. No-op when stopped.
  void kill9();
  // SIGSTOP: connections are still accepted by the kernel, nothing answers.
  void pause();
  // SIGCONT after pause().
  void resume();

  // Everything slapd logged so far, across restarts.
  std::string log() const;
  // The last `lines` lines of log().
  std::string log_tail(std::size_t lines = 40) const;
  // Waits up to `timeout` for `text` to appear in log() (stats lines are
  // written a moment after the operation is answered).
  bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  // ldapsearch as the rootdn; the LDIF it prints (-LLL, lines not wrapped),
  // with base64 values that decode to printable ASCII written out plainly:
  // "userPassword: {SSHA}…", never "userPassword:: e1NTSEF9…". Other values
  // stay "attr:: <base64>". Empty when `base` does not exist. Throws on any
  // other failure.
  // `scope`: base, one, sub or children.
  std::string search(const std::string& base, const std::string& filter = "(objectClass=*)",
                     const std::vector<std::string>& attributes = {}, const std::string& scope = "sub") const;
  // ldapwhoami as `dn` with `password` (anonymous when both are empty):
  // exit_code 0 and out "dn:<dn>\n" on success, 49 on invalid credentials.
  CommandResult whoami(const std::string& dn, const std::string& password) const;
  // ldapmodify as the rootdn with `ldif` (changetype records allowed), for
  // changes made behind the back of the code under test. Throws on failure.
  void modify(const std::string& ldif) const;
  // Runs ldap-utils `program` (e.g. "ldappasswd") with `-x -H uri()` and
  // `args`, adding LDAPTLS_CACERT=ca_file() to the environment when tls is
  // on. The caller adds -D/-w. Killed after `timeout` (exit_code -1): a
  // paused server never answers.
  CommandResult ldap_tool(const std::string& program, const std::vector<std::string>& args, const Environment& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 private:
  void write_configuration() const;
  void make_certificates() const;
  void load_data() const;
  void choose_ports();
  // Starts slapd and waits until it answers; false when it exited because a
  // port was taken (the caller may choose others). Throws on other failures.
  bool launch();
  std::optional<int> reap(std::chrono::milliseconds timeout);
  [[noreturn]] void fail(const std::string& what) const;

  Options options_;
  std::filesystem::path dir_;
  std::string uri_;
  std::string ldaps_uri_;
  int port_ = 0;
  int ldaps_port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

// tests/data (DIRPROXY_TEST_DATA_DIR) / relative.
std::filesystem::path test_data_path(const std::filesystem::path& relative);
// The whole file; throws when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// tests/data/ldap/openldap.ldif: suffix dc=example,dc=com, service account
// cn=dirproxy,ou=service,dc=example,dc=com ("dirproxy-service-password",
// read access), no TLS. See the LDIF for the users and groups.
SlapdOptions openldap_test_options();
// tests/data/ldap/ad.ldif with ad.schema: suffix dc=corp,dc=example, service
// account cn=svc-dirproxy,cn=Users,dc=corp,dc=example
// ("svc-dirproxy-password", read access), no TLS.
SlapdOptions active_directory_test_options();

// "<prefix><n>" with n zero-padded to four digits: numbered_uid("user", 7)
// is "user0007".
std::string numbered_uid(std::string_view prefix, int n);
// LDIF for inetOrgPerson entries uid=<prefix>0001 … <prefix><count> under
// `base_dn` (which must exist): cn <uid>, sn <prefix>, mail <uid>@example.com,
// userPassword "<uid>-password".
std::string make_users_ldif(std::string_view base_dn, std::string_view prefix, int count);
// The DNs of those entries, in order.
std::vector<std::string> numbered_user_dns(std::string_view base_dn, std::string_view prefix, int count);
// LDIF for a groupOfNames entry `group_dn` (its RDN must be cn=<plain value>)
// with `member_dns` (at least one: groupOfNames requires a member).
std::string make_group_ldif(std::string_view group_dn, const std::vector<std::string>& member_dns);

}  // namespace dirproxy::testing
