// The site's rules for account input (accounts.* in the configuration):
// username pattern, email syntax, password length. Used by every operation
// that creates or changes an account, so the rules live in one place. The
// names and other text people read follow core/readable_text.hpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/result.hpp"
#include "directories/directory.hpp"

namespace dirproxy {

class AccountPolicy final {
 public:
  // The longest username, in bytes, whatever accounts.username_pattern
  // allows: Linux tools take 32 (useradd) or fewer, Active Directory 20,
  // the default pattern 64; room is left for names that are email addresses.
  static constexpr std::size_t max_username_bytes = 128;

  explicit AccountPolicy(const config::Accounts& accounts);

  // invalid_username unless the name is at most max_username_bytes long,
  // follows core/readable_text.hpp's rule for names (so that no pattern can
  // let control or bidirectional characters into a username) and matches
  // accounts.username_pattern as a whole; checked in that order, so the
  // pattern never sees a longer name.
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
  config::UsernamePattern username_pattern_;
  std::size_t password_min_length_;
  std::size_t password_max_length_;
};

}  // namespace dirproxy
