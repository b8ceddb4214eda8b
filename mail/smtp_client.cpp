#include "mail/smtp_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>

#include "config/email_address.hpp"
#include "config/mailbox.hpp"

namespace dirproxy {
namespace {

struct CurlEasyCleanup {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyCleanup>;

struct CurlSlistFree {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistFree>;

// curl_global_init is thread-safe since 7.84, but once is all it needs.
void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The upload: libcurl pulls the message text from here.
struct Upload {
  const std::string& text;
  std::size_t sent = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t length = std::min(size * count, upload->text.size() - upload->sent);
  std::memcpy(buffer, upload->text.data() + upload->sent, length);
  upload->sent += length;
  return length;
}

// Called about once a second while a transfer runs; non-zero aborts it.
int check_abort(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<const std::atomic<bool>*>(user);
  return abort != nullptr && abort->load() ? 1 : 0;
}

// With credentials to send, "opportunistic" means "required": a network
// attacker who strips STARTTLS from the server's greeting must not get the
// SMTP password in clear text. Only an explicit "none" sends AUTH unencrypted.
curl_usessl use_ssl(config::StartTls starttls, bool sends_credentials) {
  switch (starttls) {
    case config::StartTls::none: return CURLUSESSL_NONE;
    case config::StartTls::opportunistic: return sends_credentials ? CURLUSESSL_ALL : CURLUSESSL_TRY;
    case config::StartTls::required: return CURLUSESSL_ALL;
  }
  return CURLUSESSL_ALL;
}

// Replies that mean "this configuration cannot send" rather than "this
// message is refused": 530 authentication or STARTTLS required, 534/535/538
// AUTH problems. An admin fixes those, so the mail waits for them.
bool configuration_reply(long code) { return code == 530 || code == 534 || code == 535 || code == 538; }

// The bare address of mail.from, for MAIL FROM. The loader refused a
// mail.from that parse_mailbox cannot take apart.
std::string envelope_sender(const std::string& from) {
  return config::parse_mailbox(from).value_or(config::Mailbox{{}, from}).address;
}

}  // namespace

SmtpClient::SmtpClient(const config::Mail& mail, const std::atomic<bool>* abort) : mail_(mail), abort_(abort) {
  ensure_curl_initialised();
}

DeliveryResult SmtpClient::deliver(const std::string& recipient, const std::string& message) const {
  // Recipients come from directories (an LDAP mail attribute a user may edit
  // themselves): one that is not a strictly parsed address, say with a CR LF
  // and SMTP commands in it, never reaches RCPT TO.
  if (auto parsed = config::parse_email_address(recipient); !parsed) {
    return {DeliveryOutcome::permanent_failure, "not a valid recipient address: " + parsed.reason};
  }
  CurlEasyPtr curl(curl_easy_init());
  if (!curl) return {DeliveryOutcome::temporary_failure, "libcurl could not create a handle"};
  CURL* handle = curl.get();
  const long timeout_ms =
      static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(mail_.timeout).count());
  const std::string sender = "<" + envelope_sender(mail_.from) + ">";
  CurlSlistPtr recipients(curl_slist_append(nullptr, ("<" + recipient + ">").c_str()));
  if (!recipients) return {DeliveryOutcome::temporary_failure, "out of memory"};
  Upload upload{message};
  char error_buffer[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_URL, mail_.smtp_url.c_str());
  // Only SMTP, also after a redirect-like surprise in a hand-edited URL.
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  // Signals are how the daemon stops; timeouts must not use them (threads).
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_USE_SSL, static_cast<long>(use_ssl(mail_.starttls, !mail_.username.empty())));
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!mail_.tls_ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, mail_.tls_ca_file.c_str());
  if (!mail_.username.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, mail_.username.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, mail_.password.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_MAIL_FROM, sender.c_str());
  curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, check_abort);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(abort_));

  const CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_OK) return {DeliveryOutcome::sent, {}};

  long reply = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply);
  std::string error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  if (reply != 0) error += " (server reply " + std::to_string(reply) + ")";
  const bool refused = reply >= 500 && reply < 600 && code != CURLE_LOGIN_DENIED && !configuration_reply(reply);
  return {refused ? DeliveryOutcome::permanent_failure : DeliveryOutcome::temporary_failure, std::move(error)};
}

}  // namespace dirproxy
