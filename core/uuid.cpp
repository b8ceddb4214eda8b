#include "core/uuid.hpp"

#include "core/names.hpp"

namespace dirproxy {

std::string uuid_text(const UuidBytes& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 0x0f];
  }
  return text;
}

std::optional<std::string> uuid_from_guid_bytes(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  // Data1 (4 bytes), Data2 and Data3 (2 each) little-endian; Data4 in order.
  static constexpr std::size_t kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  UuidBytes ordered;
  for (std::size_t i = 0; i < ordered.size(); ++i) ordered[i] = static_cast<std::uint8_t>(bytes[kOrder[i]]);
  return uuid_text(ordered);
}

std::optional<std::string> normalized_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string lowered = ascii_lower(text);
  for (std::size_t i = 0; i < lowered.size(); ++i) {
    const char c = lowered[i];
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex_digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (dash_position ? c != '-' : !hex_digit) return std::nullopt;
  }
  return lowered;
}

}  // namespace dirproxy
