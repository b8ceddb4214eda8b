// Set-password links: the link an admin-added user gets (new_user) and the
// password-reset link (password_reset). A link is made first (token, URL
// from site.links.password_reset, expiry from password_reset.ttl or
// new_user_ttl), then composed into its mail and stored in one write
// transaction with that mail, or handed to the admin as set_password_link.
// The token appears only in the link; neither is ever logged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "accounts/reset_token_store.hpp"
#include "mail/outbox.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

struct ResetLink {
  ResetPurpose purpose = ResetPurpose::password_reset;
  IssuedToken token;
  std::string url;  // site.links.password_reset with the token in it
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

// A fresh link of `purpose` under `config`, valid from `now` (Unix seconds,
// from the caller's Clock); nothing stored.
ResetLink make_reset_link(const config::Config& config, ResetPurpose purpose, std::int64_t now);

// The mail carrying `link` to `recipient` (template new_user or
// password_reset by the link's purpose). `runtime.mail` must be set.
Result<OutgoingMail> compose_reset_mail(const Runtime& runtime, const ResetLink& link, const std::string& recipient,
                                        std::string_view username, std::string_view display_name);

// Stores the link's token for `username` (inside the caller's transaction).
Result<void> store_reset_link(const StateDatabase::Lease& lease, const ResetLink& link, std::string_view username);

// In a write transaction of its own: every unused link of `username` stops
// working, as of the runtime's clock. Called after its password changed or
// the account was deleted.
Result<void> invalidate_reset_links(const Runtime& runtime, std::string_view username);

}  // namespace dirproxy
