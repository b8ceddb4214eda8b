// The userPassword value dirproxy writes when a server lacks the Password
// Modify extended operation (RFC 3062): "{CRYPT}" and a SHA-512 crypt(3)
// hash made by libxcrypt with a random salt, a scheme slapd verifies by
// default. A clear password is never written to an entry.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace dirproxy {

// "{CRYPT}$6$<salt>$<hash>"; internal_error when libxcrypt cannot hash
// (for example a password containing a NUL byte, which crypt(3) cannot take).
Result<std::string> crypt_user_password(std::string_view password);

}  // namespace dirproxy
