#include "daemon/reset_link.hpp"

#include <chrono>
#include <ctime>

#include "daemon/account_token.hpp"
#include "daemon/mail/mail_composer.hpp"

namespace dirproxy {
namespace {

// RFC 3339 in UTC, for the {{expires}} placeholder.
std::string rfc3339(std::int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ResetLink make_reset_link(const config::Config& config, ResetPurpose purpose) {
  const config::Duration ttl =
      purpose == ResetPurpose::new_user ? config.password_reset.new_user_ttl : config.password_reset.ttl;
  ResetLink link;
  link.purpose = purpose;
  link.token = issue_token();
  link.url = site_link(config.site.links.password_reset, config.site.base_url, link.token.token);
  link.created_at = unix_now();
  // At least one second, so that a ttl below a second still gives a link
  // that works for a moment rather than one born expired.
  link.expires_at =
      link.created_at + std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(ttl).count());
  return link;
}

Result<OutgoingMail> compose_reset_mail(const Runtime& runtime, const ResetLink& link, const std::string& recipient,
                                        std::string_view username, std::string_view display_name) {
  MailValues values;
  values.link = link.url;
  values.username = std::string(username);
  values.display_name = std::string(display_name);
  values.email = recipient;
  values.expires = rfc3339(link.expires_at);
  return runtime.mail->compose(link.purpose == ResetPurpose::new_user ? "new_user" : "password_reset", recipient,
                               values);
}

Result<void> store_reset_link(const StateDatabase::Lease& lease, const ResetLink& link, std::string_view username) {
  return store_reset_token(lease, link.token, username, link.purpose, link.created_at, link.expires_at);
}

Result<void> invalidate_reset_links(const Runtime& runtime, std::string_view username) {
  auto lease = runtime.database->acquire();
  auto transaction = lease.begin(TransactionMode::write);
  if (!transaction) return std::move(transaction).error();
  if (auto done = invalidate_reset_tokens(lease, username, unix_now()); !done) return done;
  return transaction->commit();
}

}  // namespace dirproxy
