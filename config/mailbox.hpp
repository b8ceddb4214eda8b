// A mailbox as mail.from spells it: a bare "address" or "Name <address>"
// (RFC 5322's addr-spec and name-addr, without comments or groups). The
// loader checks mail.from with it, and the mail composer (the From header)
// and the SMTP client (the envelope sender) take the checked value apart
// with it, so that all three read the same name and the same address.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dirproxy::config {

struct Mailbox {
  // The name before "<", without the spaces before "<" and without the
  // quotes of a "quoted name"; empty for a bare address.
  std::string display_name;
  // What is between "<" and ">", or the whole text for a bare address; not
  // checked (parse_email_address does that).
  std::string address;
};

// `text` taken apart: text that does not end with '>' is a bare address;
// otherwise the address is what follows the last '<'. nullopt when text ends
// with '>' but has no '<', or the name holds a '<' or '>'.
std::optional<Mailbox> parse_mailbox(std::string_view text);

}  // namespace dirproxy::config
