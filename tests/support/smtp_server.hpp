// A throwaway SMTP server for integration tests that send mail. SmtpServer
// runs tests/support/smtp_capture.py (aiosmtpd, Debian's python3-aiosmtpd,
// under /usr/bin/python3) as a child of the test process, listening on a free
// port of 127.0.0.1, in a private directory /tmp/dsm-XXXXXX that holds the
// captured messages, the server's log and, with TLS, a fresh CA and a
// certificate for 127.0.0.1 and localhost signed by it (ca_file()).
//
// Every message the server accepts is captured: messages() returns them in
// the order received, each with its envelope, its headers and its subject
// and body decoded by Python's email package (quoted-printable or base64,
// RFC 2047), so tests check what a mail reader would show and follow the
// links in it. The server can be stopped and started again on the same port
// (an outage), paused (accepts connections, never answers), and told to
// answer RCPT TO with 451 (temporary) or 550 (permanent).
//
// The destructor ends the server and removes the directory (kept when
// DIRPROXY_KEEP_TEST_DIR is set); when the test has failed, the log's tail
// goes to stderr first. Setup failures throw std::runtime_error.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dirproxy::testing {

enum class SmtpTls {
  none,               // plain SMTP, no STARTTLS offered
  starttls,           // STARTTLS offered, plain mail accepted too
  starttls_required,  // mail refused (530) before STARTTLS
  implicit,           // smtps: TLS from the first byte
};

// Aggregate: set members one by one.
struct SmtpServerOptions {
  SmtpTls tls = SmtpTls::none;
  // When set, AUTH PLAIN/LOGIN with exactly these credentials is required
  // before MAIL FROM; wrong ones get 535.
  std::optional<std::string> auth_username;
  std::string auth_password;
};

// One message as the server received it.
struct CapturedMail {
  std::string envelope_from;             // MAIL FROM
  std::vector<std::string> envelope_to;  // RCPT TO, in order
  bool tls = false;                      // the session was encrypted
  std::optional<std::string> auth_user;  // who authenticated, if anyone
  // Every header as received (folded lines joined), keyed by the name as
  // written; header() looks one up case-insensitively.
  std::map<std::string, std::string> headers;
  std::string subject;               // decoded (RFC 2047)
  std::string body;                  // decoded text (transfer encoding and charset undone)
  std::vector<std::string> defects;  // what Python's parser found wrong; empty for a sound message
  std::string raw;                   // the message exactly as received

  // The header's value, or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

class SmtpServer final {
 public:
  using Options = SmtpServerOptions;

  // Creates the directory (and certificates) and starts the server; returns
  // when it listens.
  explicit SmtpServer(Options options = {});
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  int port() const { return port_; }
  // smtp://127.0.0.1:PORT, or smtps://… for SmtpTls::implicit.
  std::string url() const;
  // The CA certificate that signed the server's (PEM); empty without TLS.
  std::string ca_file() const;
  const std::filesystem::path& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }

  // Starts the server again after stop(), on the same port; returns when it
  // listens. Throws when it already runs.
  void start();
  // SIGTERM (after SIGCONT when paused) and waits for the exit. No-op when
  // stopped.
  void stop();
  // stop() then start(): an outage of no length.
  void restart();
  // SIGSTOP: connections are accepted by the kernel, nothing answers.
  void pause();
  // SIGCONT after pause().
  void resume();

  // While on, every RCPT TO gets 451 (a temporary failure).
  void set_temporary_failure(bool on);
  // While on, every RCPT TO gets 550 (a permanent failure).
  void set_permanent_failure(bool on);

  // Every message captured so far, in the order received.
  std::vector<CapturedMail> messages() const;
  // Waits up to `timeout` until at least `count` messages were captured and
  // returns them all (fewer when the time ran out).
  std::vector<CapturedMail> wait_for_messages(std::size_t count,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // The server's log (its stdout and stderr), across restarts.
  std::string log() const;

 private:
  void make_certificates() const;
  // Starts the child and waits for its ready line; false when the port was
  // taken (the caller may choose another). Throws on other failures.
  bool launch();
  [[noreturn]] void fail(const std::string& what) const;

  Options options_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

// The first http:// or https:// link in `text` (up to the first whitespace
// or '>'), or nullopt.
std::optional<std::string> first_link(std::string_view text);

}  // namespace dirproxy::testing
