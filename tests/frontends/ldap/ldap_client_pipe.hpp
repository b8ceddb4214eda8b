// A libldap client whose connection is one end of a socket pair: the tests
// let libldap build real requests (filters from their string form, controls,
// Password Modify values) and take the bytes it sent, and answer it with the
// codec's responses to see libldap parse them back.
#pragma once

#include <fcntl.h>
#include <ldap.h>
#include <openldap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dirproxy::ldap::test_support {

struct LdapMessageFree {
  void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
using LdapMessagePtr = std::unique_ptr<LDAPMessage, LdapMessageFree>;

class LdapClientPipe {
 public:
  LdapClientPipe() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
    server_fd_ = fds[1];
    fcntl(server_fd_, F_SETFL, O_NONBLOCK);
    if (ldap_init_fd(fds[0], LDAP_PROTO_TCP, "ldap://pipe", &ld_) != LDAP_SUCCESS) {
      throw std::runtime_error("ldap_init_fd");
    }
    int version = LDAP_VERSION3;
    ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
  }
  ~LdapClientPipe() {
    ldap_unbind_ext(ld_, /*sctrls=*/nullptr, /*cctrls=*/nullptr);
    close(server_fd_);
  }
  LdapClientPipe(const LdapClientPipe&) = delete;
  LdapClientPipe& operator=(const LdapClientPipe&) = delete;

  LDAP* ld() const { return ld_; }

  // Everything the client wrote since the last call.
  std::string sent() {
    std::string bytes;
    char chunk[65536];
    for (ssize_t n; (n = read(server_fd_, chunk, sizeof chunk)) > 0;) bytes.append(chunk, static_cast<size_t>(n));
    return bytes;
  }

  // Writes a server's answer, then lets libldap read the response to
  // `message_id`.
  LdapMessagePtr answer(std::string_view bytes, int message_id) {
    if (write(server_fd_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("write");
    }
    timeval timeout{5, 0};
    LDAPMessage* result = nullptr;
    ldap_result(ld_, message_id, LDAP_MSG_ALL, &timeout, &result);
    return LdapMessagePtr(result);
  }

 private:
  LDAP* ld_ = nullptr;
  int server_fd_ = -1;
};

}  // namespace dirproxy::ldap::test_support
