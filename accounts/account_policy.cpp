#include "accounts/account_policy.hpp"

#include "config/email_address.hpp"
#include "core/readable_text.hpp"

namespace dirproxy {
namespace {

// Characters, not bytes: a UTF-8 continuation byte does not start one.
std::size_t count_characters(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace

AccountPolicy::AccountPolicy(const config::Accounts& accounts)
    : username_pattern_(accounts.username_pattern),
      password_min_length_(accounts.password_min_length),
      password_max_length_(accounts.password_max_length) {}

Result<void> AccountPolicy::check_username(std::string_view username) const {
  if (username.size() > max_username_bytes) {
    return fail(ErrorCode::invalid_username,
                "the username is longer than " + std::to_string(max_username_bytes) + " bytes", "username");
  }
  if (auto readable = check_readable_text(username, TextKind::name, "username"); !readable) {
    return fail(ErrorCode::invalid_username, readable.error().message, "username");
  }
  if (username.empty() || !username_pattern_.matches(username)) {
    return fail(ErrorCode::invalid_username, "the username does not match the site's username pattern", "username");
  }
  return {};
}

Result<std::string> AccountPolicy::check_email(std::string_view email) const {
  auto parsed = config::parse_email_address(email);
  if (!parsed) return fail(ErrorCode::invalid_email, "invalid email address: " + parsed.reason, "email");
  return parsed.address->address;
}

Result<void> AccountPolicy::check_password(std::string_view password, std::string_view field) const {
  const std::size_t length = count_characters(password);
  if (length < password_min_length_) {
    return fail(ErrorCode::weak_password,
                "the password must have at least " + std::to_string(password_min_length_) + " characters",
                std::string(field));
  }
  if (length > password_max_length_) {
    return fail(ErrorCode::weak_password,
                "the password must have at most " + std::to_string(password_max_length_) + " characters",
                std::string(field));
  }
  return {};
}

Result<NewUser> AccountPolicy::check_new_user(std::string username, std::string_view email,
                                              std::string display_name) const {
  NewUser user;
  user.username = std::move(username);
  RETURN_IF_ERROR(check_username(user.username));
  auto normalised = check_email(email);
  RETURN_IF_ERROR(normalised);
  user.email = std::move(*normalised);
  user.display_name = std::move(display_name);
  RETURN_IF_ERROR(check_required_name(user.display_name, "display_name"));
  return user;
}

}  // namespace dirproxy
