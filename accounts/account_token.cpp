#include "accounts/account_token.hpp"

#include <sodium.h>

#include <array>
#include <vector>

namespace dirproxy {
namespace {

constexpr std::size_t kTokenBytes = 32;

// sodium_init() is thread-safe and idempotent; every entry point that draws
// random bytes calls this first.
void ensure_sodium() {
  static const int initialised = sodium_init();
  (void)initialised;
}

std::string base64url(const unsigned char* bytes, std::size_t length) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(length, kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, length, kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string hex(const unsigned char* bytes, std::size_t length) {
  std::string out(length * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, length);
  out.resize(length * 2);
  return out;
}

}  // namespace

IssuedToken issue_token() {
  ensure_sodium();
  std::array<unsigned char, kTokenBytes> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  IssuedToken issued;
  issued.token = base64url(bytes.data(), bytes.size());
  sodium_memzero(bytes.data(), bytes.size());
  issued.hash = token_hash(issued.token);
  return issued;
}

std::string token_hash(std::string_view token) {
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                     /*key=*/nullptr, /*keylen=*/0);
  return hex(digest.data(), digest.size());
}

bool same_token_hash(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string new_shared_invitation_key() {
  ensure_sodium();
  std::array<unsigned char, crypto_auth_hmacsha256_KEYBYTES> key{};
  crypto_auth_hmacsha256_keygen(key.data());
  std::string out = hex(key.data(), key.size());
  sodium_memzero(key.data(), key.size());
  return out;
}

std::string shared_invitation_token(std::string_view key_hex, std::int64_t generation) {
  std::array<unsigned char, crypto_auth_hmacsha256_KEYBYTES> key{};
  std::size_t key_length = 0;
  if (sodium_hex2bin(key.data(), key.size(), key_hex.data(), key_hex.size(), /*ignore=*/nullptr, &key_length,
                     /*hex_end=*/nullptr) != 0 ||
      key_length != key.size()) {
    return {};
  }
  const std::string message = "shared-invitation:" + std::to_string(generation);
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256(mac.data(), reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         key.data());
  sodium_memzero(key.data(), key.size());
  return base64url(mac.data(), mac.size());
}

std::string site_link(std::string_view pattern, std::string_view base_url, std::string_view token) {
  std::string link;
  std::size_t position = 0;
  while (position < pattern.size()) {
    if (pattern.substr(position).starts_with("{base_url}")) {
      link += base_url;
      position += 10;
    } else if (pattern.substr(position).starts_with("{token}")) {
      link += token;
      position += 7;
    } else {
      link += pattern[position++];
    }
  }
  return link;
}

}  // namespace dirproxy
