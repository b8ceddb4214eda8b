#include "frontends/web/trusted_proxies.hpp"

#include <charconv>

namespace dirproxy::web {
namespace {

asio::ip::address_v6::bytes_type as_v6_bytes(const asio::ip::address& address) {
  if (address.is_v4()) return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

bool same_prefix(const asio::ip::address_v6::bytes_type& a, const asio::ip::address_v6::bytes_type& b,
                 unsigned prefix) {
  for (std::size_t i = 0; prefix > 0; ++i) {
    const unsigned bits = prefix < 8 ? prefix : 8;
    const auto mask = static_cast<unsigned char>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    prefix -= bits;
  }
  return true;
}

}  // namespace

asio::ip::address unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

Result<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries) {
  TrustedProxies proxies;
  for (const std::string& entry : entries) {
    const auto slash = entry.find('/');
    boost::system::error_code ec;
    const auto address = unmapped(asio::ip::make_address(entry.substr(0, slash), ec));
    const unsigned width = address.is_v4() ? 32 : 128;
    unsigned prefix = width;
    if (!ec && slash != std::string::npos) {
      const std::string_view digits = std::string_view(entry).substr(slash + 1);
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || prefix > width) {
        ec = asio::error::invalid_argument;
      }
    }
    if (ec) {
      return fail(ErrorCode::bad_request,
                  "web.trusted_proxies: '" + entry + "' is neither an IP address nor a network like 10.0.0.0/8");
    }
    proxies.networks_.push_back(Network{as_v6_bytes(address), address.is_v4() ? prefix + 96 : prefix});
  }
  return proxies;
}

bool TrustedProxies::contains(const asio::ip::address& address) const {
  const auto bytes = as_v6_bytes(unmapped(address));
  for (const Network& network : networks_) {
    if (same_prefix(bytes, network.base, network.prefix)) return true;
  }
  return false;
}

}  // namespace dirproxy::web
