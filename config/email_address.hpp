// Strict parsing of email addresses, as docs/design.md requires for everything
// that decides where mail goes or which signup domain an address belongs to.
//
// Accepted: local@domain with exactly one '@'; a local part of 1 to 64
// characters from RFC 5322's unquoted "atext" set plus single dots (no quoted
// local parts, comments, whitespace, control or non-ASCII characters); a
// domain that is a valid ASCII DNS name (IDN only as punycode); at most 254
// characters in all. Anything a lenient parser would have to guess about is
// refused, because two parsers disagreeing on an address is how mail ends up
// at an attacker's domain.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dirproxy::config {

struct EmailAddress {
  std::string local;    // as written
  std::string domain;   // lower-cased
  std::string address;  // local@domain, all lower-cased: compare and store this
};

// An address, or why the text is not one.
struct EmailAddressParse {
  std::optional<EmailAddress> address;  // set when the text is a valid address
  std::string reason;                   // e.g. "more than one '@'"; empty on success

  explicit operator bool() const { return address.has_value(); }
};

// Parses `text` (the whole text must be the address; no surrounding spaces,
// no "Name <...>" form).
EmailAddressParse parse_email_address(std::string_view text);

}  // namespace dirproxy::config
