#include "directories/password_hasher.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace dirproxy {

namespace {

// sodium_init() is thread-safe and idempotent; the static makes it run once
// per process anyway so the hot path does not call into it.
void initialise_sodium() {
  static const int result = sodium_init();
  if (result < 0) {
    throw std::runtime_error("libsodium could not be initialised");
  }
}

// Holds one of the hasher's slots for the duration of a hash or verify.
class SlotGuard final {
 public:
  explicit SlotGuard(std::counting_semaphore<>& slots) : slots_(slots) { slots_.acquire(); }
  ~SlotGuard() { slots_.release(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  std::counting_semaphore<>& slots_;
};

// libsodium tolerates a null pointer only with length 0; an empty
// string_view may carry one, so hand it a real (empty) string instead.
const char* password_bytes(std::string_view password) { return password.empty() ? "" : password.data(); }

constexpr std::string_view kArgon2idPrefix = "$argon2id$";

}  // namespace

PasswordHasher::PasswordHasher(std::uint64_t opslimit, std::size_t memlimit, unsigned max_concurrent)
    : opslimit_(opslimit),
      memlimit_(memlimit),
      slots_(std::make_unique<std::counting_semaphore<>>(static_cast<std::ptrdiff_t>(std::max(max_concurrent, 1U)))) {
  initialise_sodium();
  // A hash of a password nobody knows, made with the configured limits, so
  // that dummy_verify costs exactly what a real verify costs.
  std::array<unsigned char, 32> secret{};
  randombytes_buf(secret.data(), secret.size());
  auto dummy = hash(std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()));
  sodium_memzero(secret.data(), secret.size());
  if (!dummy) {
    throw std::runtime_error("cannot compute an Argon2id hash with opslimit " + std::to_string(opslimit) +
                             " and memlimit " + std::to_string(memlimit) + ": " + dummy.error().message);
  }
  dummy_hash_ = std::move(dummy).value();
}

Result<std::string> PasswordHasher::hash(std::string_view password) const {
  std::array<char, crypto_pwhash_STRBYTES> encoded{};
  int rc = 0;
  {
    SlotGuard slot(*slots_);
    rc = crypto_pwhash_str_alg(encoded.data(), password_bytes(password), password.size(), opslimit_, memlimit_,
                               crypto_pwhash_ALG_ARGON2ID13);
  }
  if (rc != 0) {
    // Limits are validated when the configuration is loaded, so the only
    // remaining cause is a failed allocation of `memlimit` bytes.
    return fail(ErrorCode::internal_error, "Argon2id hashing failed (out of memory or invalid limits)");
  }
  return std::string(encoded.data());
}

bool PasswordHasher::verify(std::string_view encoded_hash, std::string_view password) const {
  // crypto_pwhash_str_verify reads a NUL-terminated string of at most
  // crypto_pwhash_STRBYTES; anything longer or with an inner NUL is not ours.
  if (encoded_hash.size() >= crypto_pwhash_STRBYTES || encoded_hash.find('\0') != std::string_view::npos) {
    return false;
  }
  const std::string terminated(encoded_hash);
  SlotGuard slot(*slots_);
  return crypto_pwhash_str_verify(terminated.c_str(), password_bytes(password), password.size()) == 0;
}

void PasswordHasher::dummy_verify(std::string_view password) const { static_cast<void>(verify(dummy_hash_, password)); }

bool PasswordHasher::needs_rehash(std::string_view encoded_hash) const {
  // libsodium answers "no" for an argon2i hash with the same limits; we want
  // every stored hash to be Argon2id, so another algorithm is a rehash too.
  if (!encoded_hash.starts_with(kArgon2idPrefix) || encoded_hash.size() >= crypto_pwhash_STRBYTES ||
      encoded_hash.find('\0') != std::string_view::npos) {
    return true;
  }
  const std::string terminated(encoded_hash);
  // 1 = other limits, -1 = malformed: both are best replaced by a fresh hash.
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), opslimit_, memlimit_) != 0;
}

}  // namespace dirproxy
