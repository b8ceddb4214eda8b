// Argon2id password hashing through libsodium (crypto_pwhash_str). Only the
// encoded hash is ever stored. Verifies are bounded by a semaphore because
// each one takes `memlimit` bytes of memory (64 MiB at "interactive").
#pragma once

#include <cstdint>
#include <memory>
#include <semaphore>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace dirproxy {

class PasswordHasher final {
 public:
  // `max_concurrent` bounds simultaneous hash/verify calls (at least 1).
  PasswordHasher(std::uint64_t opslimit, std::size_t memlimit, unsigned max_concurrent);

  // The encoded Argon2id hash of `password` ("$argon2id$v=19$...").
  // Fails with internal_error only when the system is out of memory.
  Result<std::string> hash(std::string_view password) const;

  // True when `password` matches `encoded_hash`. A malformed hash is false.
  bool verify(std::string_view encoded_hash, std::string_view password) const;

  // The same work as verify() against a real hash, result discarded; used for
  // unknown users and accounts without a password, so that timing does not
  // tell them apart from a wrong password.
  void dummy_verify(std::string_view password) const;

  // True when `encoded_hash` was made with other limits than the configured ones.
  bool needs_rehash(std::string_view encoded_hash) const;

 private:
  std::uint64_t opslimit_;
  std::size_t memlimit_;
  std::unique_ptr<std::counting_semaphore<>> slots_;
  std::string dummy_hash_;
};

using PasswordHasherPtr = std::shared_ptr<const PasswordHasher>;

}  // namespace dirproxy
