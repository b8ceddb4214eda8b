#include "service/reset_link.hpp"

#include "accounts/account_token.hpp"
#include "core/timestamp.hpp"
#include "mail/mail_composer.hpp"

namespace dirproxy {
ResetLink make_reset_link(const config::Config& config, ResetPurpose purpose, std::int64_t now) {
  const config::Duration ttl =
      purpose == ResetPurpose::new_user ? config.password_reset.new_user_ttl : config.password_reset.ttl;
  ResetLink link;
  link.purpose = purpose;
  link.token = issue_token();
  link.url = site_link(config.site.links.password_reset, config.site.base_url, link.token.token);
  link.created_at = now;
  link.expires_at = link.created_at + whole_seconds(ttl);
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
                               values, runtime.clock->unix_seconds());
}

Result<void> store_reset_link(const StateDatabase::Lease& lease, const ResetLink& link, std::string_view username) {
  return store_reset_token(lease, link.token, username, link.purpose, link.created_at, link.expires_at);
}

Result<void> invalidate_reset_links(const Runtime& runtime, std::string_view username) {
  const std::int64_t now = runtime.clock->unix_seconds();
  return runtime.database->acquire().write_transaction(
      [&](const StateDatabase::Lease& lease) { return invalidate_reset_tokens(lease, username, now); });
}

}  // namespace dirproxy
