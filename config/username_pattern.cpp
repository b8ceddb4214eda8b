#include "config/username_pattern.hpp"

#include <re2/re2.h>

namespace dirproxy::config {
namespace {

constexpr std::string_view kDefaultPattern = "^[a-z0-9][a-z0-9._-]{0,63}$";

std::shared_ptr<const re2::RE2> compiled(std::string_view pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);  // the reason goes into the configuration error instead
  return std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
}

}  // namespace

UsernamePattern::UsernamePattern() {
  // Compiled once per process: every Config starts with the default.
  static const auto default_pattern = compiled(kDefaultPattern);
  text_ = std::string(kDefaultPattern);
  compiled_ = default_pattern;
}

UsernamePattern::UsernamePattern(std::string text, std::shared_ptr<const re2::RE2> compiled)
    : text_(std::move(text)), compiled_(std::move(compiled)) {}

Result<UsernamePattern> UsernamePattern::compile(std::string_view pattern) {
  auto regex = compiled(pattern);
  if (!regex->ok()) return fail(ErrorCode::bad_request, regex->error());
  return UsernamePattern(std::string(pattern), std::move(regex));
}

bool UsernamePattern::matches(std::string_view username) const {
  return re2::RE2::FullMatch(re2::StringPiece(username.data(), username.size()), *compiled_);
}

}  // namespace dirproxy::config
