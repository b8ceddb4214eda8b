// UUIDs as text (RFC 4122: 8-4-4-4-12 hex digits, lower case), the form
// every layer stores and compares: the identities dirproxy allocates, an
// LDAP server's entryUUID and Active Directory's binary objectGUID.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dirproxy {

using UuidBytes = std::array<std::uint8_t, 16>;

// The 16 bytes in order as RFC 4122 text, lower case.
std::string uuid_text(const UuidBytes& bytes);

// The text form of a Microsoft GUID in its 16-byte binary form (Active
// Directory's objectGUID), whose first three fields are little-endian;
// nullopt unless `bytes` has 16 bytes.
std::optional<std::string> uuid_from_guid_bytes(std::string_view bytes);

// `text` in lower case when it is a UUID's text form (any case); nullopt
// otherwise.
std::optional<std::string> normalized_uuid(std::string_view text);

}  // namespace dirproxy
