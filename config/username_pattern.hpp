// accounts.username_pattern: the regular expression a new account's
// username must match as a whole. It is RE2 syntax, run by RE2, whose
// matching time grows linearly with the input whatever the pattern: a
// pattern such as "^(a+)+$", which sends a backtracking engine into
// exponential time, cannot stall the daemon, and no input can make it
// recurse. The pattern is compiled once, when the configuration is read (an
// invalid one is an error of that setting), and shared by every copy.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace re2 {
class RE2;
}

namespace dirproxy::config {

class UsernamePattern final {
 public:
  // The default, "^[a-z0-9][a-z0-9._-]{0,63}$".
  UsernamePattern();

  // `pattern` compiled; bad_request with RE2's reason (e.g. "missing ]:
  // [a-z") when it is not an RE2 regular expression.
  static Result<UsernamePattern> compile(std::string_view pattern);

  // Whether all of `username` matches, in time linear in its length.
  bool matches(std::string_view username) const;

  // The pattern as written in the configuration.
  const std::string& text() const { return text_; }

  bool operator==(const UsernamePattern& other) const { return text_ == other.text_; }

 private:
  UsernamePattern(std::string text, std::shared_ptr<const re2::RE2> compiled);

  std::string text_;
  std::shared_ptr<const re2::RE2> compiled_;
};

}  // namespace dirproxy::config
