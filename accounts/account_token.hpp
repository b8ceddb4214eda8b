// The tokens of the account life cycle (docs/design.md, Security rules):
// invitation, signup-confirmation and password-reset tokens are 32 random
// bytes from libsodium, written URL-safe (base64url without padding). Only
// their hash is stored; a presented token is looked up by its hash and the
// stored hash compared in constant time. The shared invitation token is not
// stored at all: it is derived, an HMAC of a generation counter under a key
// kept in the state database, so that it can be shown again and "reset" is
// an increment of the counter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dirproxy {

// A fresh token and the hash to store for it.
struct IssuedToken {
  std::string token;  // goes into the link, never into the database or a log
  std::string hash;   // token_hash(token)
};

// 32 bytes from randombytes_buf, base64url without padding (43 characters).
IssuedToken issue_token();

// The stored form of a token: hex of crypto_generichash (32 bytes). Any text
// hashes, so a malformed token simply matches nothing.
std::string token_hash(std::string_view token);

// Constant-time comparison of two stored hashes (sodium_memcmp); false when
// their lengths differ.
bool same_token_hash(std::string_view a, std::string_view b);

// A new random HMAC key for the shared invitation token, as hex.
std::string new_shared_invitation_key();

// The shared invitation token of `generation` under `key_hex`
// (crypto_auth_hmacsha256 of the generation's decimal text), base64url
// without padding. An empty string when `key_hex` is not a 32-byte hex key.
std::string shared_invitation_token(std::string_view key_hex, std::int64_t generation);

// A link of site.links: `pattern` with {base_url} and {token} replaced. The
// token is base64url, so it needs no further escaping in a URL.
std::string site_link(std::string_view pattern, std::string_view base_url, std::string_view token);

}  // namespace dirproxy
