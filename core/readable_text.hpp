// The one rule for text that people read and that dirproxy stores or mails:
// display, first and last names, group names, group descriptions, and the
// messages of invitations and access requests. Such text is valid UTF-8,
// holds no character that acts on the text around it (unicode_text.hpp:
// control characters, line and paragraph separators, bidirectional
// formatting characters) -- except that a message may have line breaks (\n)
// and tabs -- and is at most a fixed number of bytes for its kind. Every
// operation that takes such a field checks it here, so the rule and its
// limits (docs/protocol.md, "Input rules") are the same everywhere.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.hpp"

namespace dirproxy {

enum class TextKind {
  name,         // display, first and last names, group names: one line, at most 256 bytes
  description,  // a group's description: one line, at most 1024 bytes
  message,      // an invitation's or access request's message: lines and tabs, at most 2000 bytes
};

// The most bytes (of UTF-8) a text of `kind` may have.
constexpr std::size_t max_bytes(TextKind kind) {
  switch (kind) {
    case TextKind::name: return 256;
    case TextKind::description: return 1024;
    case TextKind::message: return 2000;
  }
  return 0;
}

// bad_request naming `field` (in the message too) unless `text` follows the
// rule for `kind`; the message says what is wrong and, for a refused
// character, which one ("'first_name' must not contain U+001B, a control
// character"). An empty text passes: whether a field may be empty is the
// caller's rule.
Result<void> check_readable_text(std::string_view text, TextKind kind, std::string_view field);

// check_readable_text for a name that must be given (a display name, a group
// name): also bad_request when it is empty.
Result<void> check_required_name(std::string_view name, std::string_view field);

}  // namespace dirproxy
