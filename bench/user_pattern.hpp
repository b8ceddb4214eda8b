// dirproxy-load's numbered usernames: --user-pattern "user%05d" with --range
// 1-10000 gives user00001 ... user10000. The pattern comes from the command
// line, so it is parsed here and never handed to printf as a format: a
// pattern with "%s" or two placeholders is refused at startup instead of
// reading arguments that are not there. It keeps printf's spelling for the
// one conversion it needs (%d, %Nd padded with spaces, %0Nd padded with
// zeros, %% for a '%'), so existing benchmark scripts keep working.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"

namespace dirproxy::bench {

class UserPattern final {
 public:
  // The widest padding accepted: dirproxyd refuses much shorter usernames.
  static constexpr std::size_t kMaxWidth = 255;

  // `text` as a pattern: any text with exactly one %d, %Nd or %0Nd (N from 1
  // to kMaxWidth) and %% for a literal '%'. bad_request saying what is wrong
  // otherwise.
  static Result<UserPattern> parse(std::string_view text) {
    constexpr std::string_view kPlaceholders = "%d, %Nd or %0Nd (e.g. user%05d)";
    UserPattern pattern;
    bool placeholder_seen = false;
    std::string literal;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '%') {
        literal += text[i];
        continue;
      }
      if (i + 1 < text.size() && text[i + 1] == '%') {
        literal += '%';
        ++i;
        continue;
      }
      // '%', an optional '0' flag, an optional width, 'd': what printf reads.
      const std::size_t start = i++;
      const bool zero_pad = i < text.size() && text[i] == '0';
      std::size_t width = 0;
      for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        width = std::min(width * 10 + static_cast<std::size_t>(text[i] - '0'), kMaxWidth + 1);
      }
      const std::string spec(text.substr(start, i < text.size() ? i + 1 - start : std::string_view::npos));
      if (i == text.size() || text[i] != 'd') {
        return fail(ErrorCode::bad_request,
                    "'" + spec + "' is not " + std::string(kPlaceholders) + "; write %% for a '%'");
      }
      if (width > kMaxWidth) {
        return fail(ErrorCode::bad_request,
                    "'" + spec + "' pads to more than " + std::to_string(kMaxWidth) + " characters");
      }
      if (placeholder_seen) {
        return fail(ErrorCode::bad_request, "more than one " + std::string(kPlaceholders));
      }
      placeholder_seen = true;
      pattern.prefix_ = std::exchange(literal, {});
      pattern.width_ = width;
      pattern.zero_pad_ = zero_pad;
    }
    if (!placeholder_seen) {
      return fail(ErrorCode::bad_request, "no " + std::string(kPlaceholders) + " for the number");
    }
    pattern.suffix_ = std::move(literal);
    return pattern;
  }

  // The username numbered `number`, as printf would print it.
  std::string format(std::int64_t number) const {
    std::string digits = std::to_string(number);
    const std::string sign = number < 0 ? "-" : "";
    if (number < 0) digits.erase(0, 1);
    const std::size_t length = sign.size() + digits.size();
    const std::string padding(length < width_ ? width_ - length : 0, zero_pad_ ? '0' : ' ');
    return prefix_ + (zero_pad_ ? sign + padding + digits : padding + sign + digits) + suffix_;
  }

 private:
  UserPattern() = default;

  std::string prefix_;  // the text before the placeholder, %% already a '%'
  std::string suffix_;  // and after it
  std::size_t width_ = 0;
  bool zero_pad_ = false;
};

}  // namespace dirproxy::bench
