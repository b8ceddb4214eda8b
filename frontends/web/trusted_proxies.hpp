// The proxies whose X-Forwarded-For and X-Forwarded-Proto the web front end
// believes (web.trusted_proxies): addresses and networks, IPv4 and IPv6. A
// browser's address decides its rate limits and is written in audit lines,
// so a header that any client can send is believed only from these.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/asio.hpp"
#include "core/result.hpp"

namespace dirproxy::web {

// `address` with an IPv4-mapped IPv6 address (::ffff:192.0.2.7, what a
// dual-stack socket reports) turned into the IPv4 address it carries.
asio::ip::address unmapped(const asio::ip::address& address);

class TrustedProxies final {
 public:
  TrustedProxies() = default;

  // From web.trusted_proxies: "192.0.2.7", "2001:db8::1", "10.0.0.0/8",
  // "fd00::/8". bad_request naming the entry that is neither (the
  // configuration loader has checked them already).
  static Result<TrustedProxies> parse(const std::vector<std::string>& entries);

  // Whether `address` is one of the addresses or in one of the networks;
  // an IPv4 address matches its IPv4-mapped IPv6 form and back.
  bool contains(const asio::ip::address& address) const;

  bool empty() const { return networks_.empty(); }

 private:
  // Every network as IPv6: an IPv4 one as its IPv4-mapped form, prefix + 96.
  struct Network {
    asio::ip::address_v6::bytes_type base{};
    unsigned prefix = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace dirproxy::web
