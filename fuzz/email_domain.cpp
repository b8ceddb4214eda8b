// Fuzz target email_domain: email addresses (config/email_address.hpp), DNS
// names and the signup allow-list's domain patterns (config/dns_name.hpp), and
// the signup decision on them (accounts/signup_policy.hpp). An address
// decides where mail goes and whether a signup is admitted, so two readings
// of one address must never differ.
//
// Input: "ADDRESS\0PATTERN\0DOMAIN" (fuzz_input.hpp's fields).
//
// Properties checked besides "no crash": a parsed address is lower-cased
// local@domain of at most 254 printable ASCII characters whose domain is a
// valid DNS name, and parses again to itself; a pattern matches only valid
// names, whatever their case; a signup is admitted for a domain exactly when
// the pattern matches the parsed address's domain.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "accounts/signup_policy.hpp"
#include "config/dns_name.hpp"
#include "config/email_address.hpp"
#include "config/mailbox.hpp"
#include "core/names.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

using dirproxy::fuzz::require;
namespace config = dirproxy::config;

void check_address(std::string_view text) {
  const config::EmailAddressParse parse = config::parse_email_address(text);
  require(parse.address.has_value() == parse.reason.empty(), "an address parses or says why not");
  if (!parse) return;
  const config::EmailAddress& address = *parse.address;
  require(address.address == dirproxy::ascii_lower(address.local) + "@" + address.domain,
          "the address is local@domain, lower-cased", address.address);
  require(address.domain == dirproxy::ascii_lower(address.domain), "the domain is lower-cased");
  require(address.address.size() <= 254, "an address has at most 254 characters");
  for (char c : address.address) {
    require(c > ' ' && c < 0x7f, "an address is printable ASCII without spaces");
  }
  require(config::is_valid_dns_name(address.domain), "an address's domain is a valid DNS name");
  const config::EmailAddressParse again = config::parse_email_address(address.address);
  require(again && again.address->address == address.address, "a parsed address parses again to itself",
          address.address);
}

void check_pattern(std::string_view pattern, std::string_view domain) {
  const bool matches = config::domain_matches(pattern, domain);
  if (matches) {
    require(config::is_valid_domain_pattern(pattern) && config::is_valid_dns_name(domain),
            "only a valid pattern matches, and only a valid name");
  }
  require(config::domain_matches(pattern, dirproxy::ascii_lower(domain)) == matches, "domain matching ignores case");
}

void check_signup(std::string_view address_text, std::string_view pattern) {
  const std::vector<std::string> domains{std::string(pattern)};
  const auto admitted = dirproxy::check_signup_domain(domains, address_text);
  const config::EmailAddressParse parse = config::parse_email_address(address_text);
  require(admitted.has_value() == (parse && config::domain_matches(pattern, parse.address->domain)),
          "a signup is admitted exactly when the pattern matches the parsed domain");

  config::Signup restricted;
  restricted.mode = config::SignupMode::restricted;
  restricted.domains = domains;
  const auto path = dirproxy::signup_path(restricted, address_text, /*valid_invitation=*/false);
  require(path.has_value() == admitted.has_value(), "restricted signup follows the domain check");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = dirproxy::fuzz::fields(data, size, 3);
  check_address(input[0]);
  check_pattern(input[1], input[2]);
  check_signup(input[0], input[1]);
  // mail.from's "Name <address>" form, which the loader and the composer
  // take apart with it.
  if (auto mailbox = config::parse_mailbox(input[0])) check_address(mailbox->address);
  return 0;
}
