// A scripted LDAP server that answers as Active Directory does, for the
// behaviours slapd cannot stand in for (ranged attribute values, the in-chain
// matching rule, unicodePwd and userAccountControl rules): AdServer runs
// tests/support/ad_server.py (pyasn1 with python3-ldap3's RFC 4511
// definitions) as a child of the test process, on a free port of 127.0.0.1,
// speaking LDAPS with a certificate from make_test_certificates(). The
// script's header says which AD behaviour each answer reproduces and from
// which Microsoft document.
//
// The directory it serves is the JSON the test gives (entries with their
// attributes and passwords, and the service account). Every request is
// logged as one JSON line (requests()), and the state after each write
// (entries and current passwords) can be read back (state()), so a test
// checks what was written and in which order. The destructor ends the server
// and removes its directory (kept when DIRPROXY_KEEP_TEST_DIR is set).
// Setup failures throw std::runtime_error.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace dirproxy::testing {

class AdServer final {
 public:
  // `data_json`: {"entries": [{"dn", "attributes": {name: [values]},
  // "password"?}], "service": {"dn", "password"}}.
  explicit AdServer(const std::string& data_json);
  ~AdServer();
  AdServer(const AdServer&) = delete;
  AdServer& operator=(const AdServer&) = delete;

  // ldaps://127.0.0.1:PORT
  std::string uri() const;
  // The CA certificate that signed the server's (PEM).
  std::string ca_file() const;
  const std::filesystem::path& dir() const { return dir_; }

  // The requests so far, one JSON object a line, in the order received.
  std::string requests() const;
  // Forgets the requests logged so far.
  void clear_requests() const;
  // {"entries": {DN: {attribute: [values]}}, "passwords": {normalised DN:
  // current password}} as of the last write.
  std::string state() const;
  // The server's stdout and stderr.
  std::string output() const;

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace dirproxy::testing
