#include "config/email_address.hpp"

#include "config/dns_name.hpp"
#include "core/names.hpp"

namespace dirproxy::config {

namespace {

constexpr std::size_t kMaxAddressLength = 254;  // RFC 5321's path limit minus the brackets
constexpr std::size_t kMaxLocalLength = 64;

// RFC 5322 "atext": what an unquoted local part may hold besides dots.
bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(c) != std::string_view::npos;
}

EmailAddressParse refuse(std::string reason) { return {std::nullopt, std::move(reason)}; }

// Why `local` is not an acceptable local part, or empty when it is.
std::string local_part_problem(std::string_view local) {
  if (local.empty()) return "empty local part";
  if (local.size() > kMaxLocalLength) return "local part longer than 64 characters";
  if (local.front() == '.') return "local part starts with '.'";
  if (local.back() == '.') return "local part ends with '.'";
  if (local.find("..") != std::string_view::npos) return "local part contains '..'";
  for (char c : local) {
    if (c == '.' || is_atext(c)) continue;
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) return "local part contains a non-ASCII character";
    if (c == '"') return "quoted local parts are not accepted";
    return "local part contains a character that is not allowed";
  }
  return {};
}

}  // namespace

EmailAddressParse parse_email_address(std::string_view text) {
  if (text.empty()) return refuse("empty address");
  // Checked first and over the whole text, so that no later step can be
  // confused by a line break smuggled into a mail header.
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return refuse("contains a control character");
    if (c == ' ') return refuse("contains a space");
  }
  if (text.size() > kMaxAddressLength) return refuse("longer than 254 characters");

  const std::size_t at = text.find('@');
  if (at == std::string_view::npos) return refuse("no '@'");
  if (text.find('@', at + 1) != std::string_view::npos) return refuse("more than one '@'");

  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  if (std::string problem = local_part_problem(local); !problem.empty()) return refuse(problem);
  if (domain.empty()) return refuse("empty domain");
  if (!is_valid_dns_name(domain)) {
    for (char c : domain) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        return refuse("domain is not ASCII (write internationalised domains as punycode)");
      }
    }
    return refuse("domain is not a valid DNS name");
  }

  EmailAddress address;
  address.local = std::string(local);
  address.domain = ascii_lower(domain);
  address.address = ascii_lower(local) + "@" + address.domain;
  return {std::move(address), {}};
}

}  // namespace dirproxy::config
