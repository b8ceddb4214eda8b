// The site's rules for account input (accounts.* in the configuration):
// username pattern, email syntax, password length. Used by every operation
// that creates or changes an account, so the rules live in one place. The
// names and other text people read follow core/readable_text.hpp.
#pragma once

#include <regex>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/result.hpp"
#include "directories/directory.hpp"

namespace dirproxy {

class AccountPolicy final {
 public:
  explicit AccountPolicy(const config::Accounts& accounts);

  // invalid_username unless the whole name matches accounts.username_pattern.
  Result<void> check_username(std::string_view username) const;
  // invalid_email unless the address parses strictly; the normalised
  // (lower-cased) address to store.
  Result<std::string> check_email(std::string_view email) const;
  // weak_password unless its length in characters is within
  // [password_min_length, password_max_length].
  Result<void> check_password(std::string_view password, std::string_view field = "password") const;
  // A new account's username, email and display name, checked in that order
  // (the first failing check's error); the email normalised. Everything
  // else of the NewUser is left unset.
  Result<NewUser> check_new_user(std::string username, std::string_view email, std::string display_name) const;

 private:
  std::regex username_pattern_;
  std::size_t password_min_length_;
  std::size_t password_max_length_;
};

}  // namespace dirproxy
