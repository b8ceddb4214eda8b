// Delivers one composed message to one recipient over SMTP with libcurl:
// smtp:// with STARTTLS never / when offered / required (required never
// falls back to plaintext), smtps://, AUTH with mail.username and the
// password from mail.password_file, certificate verification against the
// system's CAs or mail.tls_ca_file, and mail.timeout for the connection and
// for the whole exchange. It blocks: the mail sender calls it on its own
// thread, never on the request workers.
#pragma once

#include <atomic>
#include <string>

#include "config/config.hpp"

namespace dirproxy {

enum class DeliveryOutcome {
  sent,
  // Worth retrying: the server is unreachable or slow, TLS or AUTH failed
  // (a configuration an admin can fix), or the server answered 4xx.
  temporary_failure,
  // The server refused this message or recipient for good (5xx to MAIL FROM,
  // RCPT TO or DATA): retrying cannot help.
  permanent_failure,
};

struct DeliveryResult {
  DeliveryOutcome outcome = DeliveryOutcome::temporary_failure;
  // What went wrong, for the log and last_error: libcurl's description and
  // the server's reply code. Never the message text (it may hold a token).
  std::string error;
};

class SmtpClient final {
 public:
  // `mail` must outlive the client (it is the Runtime's configuration).
  // `abort` (optional) ends a delivery in progress within about a second
  // when it becomes true, so that shutdown never waits for a hung server.
  explicit SmtpClient(const config::Mail& mail, const std::atomic<bool>* abort = nullptr);

  // Sends `message` (a whole RFC 5322 text with CRLF line ends) to
  // `recipient`, with the envelope sender taken from mail.from.
  DeliveryResult deliver(const std::string& recipient, const std::string& message) const;

 private:
  const config::Mail& mail_;
  const std::atomic<bool>* abort_;
};

}  // namespace dirproxy
