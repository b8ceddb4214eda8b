#include "mail/mail_encoding.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <vector>

namespace dirproxy::mail_encoding {
namespace {

constexpr std::string_view kHex = "0123456789ABCDEF";
constexpr std::size_t kMaxLine = 78;         // RFC 5322 2.1.1 "SHOULD"
constexpr std::size_t kMaxEncodedWord = 75;  // RFC 2047 2
constexpr std::size_t kMaxQpLine = 76;       // RFC 2045 6.7 (5)

bool is_printable_ascii(unsigned char c) { return c >= 0x20 && c < 0x7f; }

bool all_printable_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (!is_printable_ascii(c)) return false;
  }
  return true;
}

// The length of the UTF-8 sequence starting with `lead`; 1 for a byte that
// cannot start one, so malformed input still advances.
std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// RFC 2047 encoded-words for `text`, joined by CRLF SPACE; each word carries
// whole UTF-8 sequences, so every word decodes on its own. RFC 2047 limits a
// line holding encoded-words to 76 characters, so the first word leaves room
// for "Name: " before it (the header's name is at most `name_length`).
std::string encoded_words(std::string_view text, std::size_t name_length) {
  constexpr std::string_view kPrefix = "=?UTF-8?B?";
  constexpr std::string_view kSuffix = "?=";
  const std::size_t line_budget = std::min(kMaxEncodedWord, 76 - std::min<std::size_t>(name_length + 2, 40));
  // Whole groups of 4 base64 characters: 3 bytes each, so no padding
  // inside a run of words ("Subject": 39 bytes, a 64-character word).
  const std::size_t kMaxBytes = (line_budget - kPrefix.size() - kSuffix.size()) / 4 * 3;
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = start;
    while (end < text.size()) {
      const std::size_t next = end + utf8_sequence_length(static_cast<unsigned char>(text[end]));
      if (next - start > kMaxBytes) break;
      end = next;
    }
    if (end == start) end = std::min(text.size(), start + kMaxBytes);  // unreachable for valid UTF-8
    words.push_back(std::string(kPrefix) + base64(text.substr(start, end - start)) + std::string(kSuffix));
    start = end;
  }
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out += "\r\n ";
    out += word;
  }
  return out;
}

}  // namespace

std::string single_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  return out;
}

std::string unstructured_header(std::string_view header_name, std::string_view text) {
  const std::string value = single_line(text);
  const bool fits = header_name.size() + 2 + value.size() <= kMaxLine;
  if (fits && all_printable_ascii(value) && value.find("=?") == std::string::npos) return value;
  return encoded_words(value, header_name.size());
}

std::string display_name_phrase(std::string_view text) {
  constexpr std::string_view kHeaderName = "From";
  const std::string value = single_line(text);
  if (!all_printable_ascii(value) || value.find("=?") != std::string::npos) {
    return encoded_words(value, kHeaderName.size());
  }
  constexpr std::string_view kAtextSpecials = "!#$%&'*+-/=?^_`{|}~ ";
  bool atoms_only = true;
  for (unsigned char c : value) {
    if (!std::isalnum(c) && kAtextSpecials.find(static_cast<char>(c)) == std::string_view::npos) {
      atoms_only = false;
    }
  }
  std::string phrase = atoms_only ? value : "\"";
  if (!atoms_only) {
    for (char c : value) {
      if (c == '"' || c == '\\') phrase += '\\';
      phrase += c;
    }
    phrase += '"';
  }
  // A phrase is not folded, so a long one (mail.from's name has no limit of
  // its own) would make a line longer than RFC 5322 allows (998 octets);
  // encoded-words fold.
  if (kHeaderName.size() + 2 + phrase.size() > kMaxLine) return encoded_words(value, kHeaderName.size());
  return phrase;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  std::string line;  // the encoded line being built, without its CRLF
  auto soft_break = [&] {
    out += line + "=\r\n";
    line.clear();
  };
  // Appends one encoded unit (a character or =XX), breaking first when the
  // unit and the soft break's '=' would not fit.
  auto put = [&](std::string_view unit) {
    if (line.size() + unit.size() > kMaxQpLine - 1) soft_break();
    line += unit;
  };
  auto hard_break = [&] {
    out += line + "\r\n";
    line.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      hard_break();
      continue;
    }
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
    const bool literal =
        (c >= 33 && c <= 126 && c != '=' && !(c == '.' && line.empty())) || ((c == ' ' || c == '\t') && !at_line_end);
    if (literal) {
      // The last character of a line may take the 76th column only when no
      // soft break follows it.
      if (at_line_end && line.size() + 1 <= kMaxQpLine) {
        line += static_cast<char>(c);
      } else {
        put(std::string(1, static_cast<char>(c)));
      }
    } else {
      const char encoded[3] = {'=', kHex[c >> 4], kHex[c & 0xf]};
      if (at_line_end && line.size() + 3 <= kMaxQpLine) {
        line.append(encoded, 3);
      } else {
        put(std::string_view(encoded, 3));
      }
    }
  }
  if (!line.empty()) hard_break();
  return out;
}

std::string rfc5322_date(std::chrono::system_clock::time_point when) {
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char time_of_day[32];
  std::snprintf(time_of_day, sizeof time_of_day, "%02d %s %04d %02d:%02d:%02d", utc.tm_mday,
                std::string(kMonths[utc.tm_mon]).c_str(), utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return std::string(kDays[utc.tm_wday]) + ", " + time_of_day + " +0000";
}

}  // namespace dirproxy::mail_encoding
