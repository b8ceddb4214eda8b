#include "directories/ldap/crypt_password.hpp"

#include <crypt.h>

#include <cstring>
#include <memory>

namespace dirproxy {

Result<std::string> crypt_user_password(std::string_view password) {
  if (password.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::internal_error, "a password with a NUL byte cannot be stored as {CRYPT}");
  }
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // rbytes = NULL: libxcrypt draws the salt from the operating system.
  if (crypt_gensalt_rn("$6$", /*count=*/0, /*rbytes=*/nullptr, /*nrbytes=*/0, salt, sizeof salt) == nullptr) {
    return fail(ErrorCode::internal_error, "cannot make a crypt(3) salt");
  }
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const std::string secret(password);
  const char* hashed = crypt_r(secret.c_str(), salt, data.get());
  if (hashed == nullptr || hashed[0] == '*') {
    return fail(ErrorCode::internal_error, "crypt(3) could not hash the password");
  }
  std::string value = std::string("{CRYPT}") + hashed;
  std::memset(data.get(), 0, sizeof(crypt_data));
  return value;
}

}  // namespace dirproxy
