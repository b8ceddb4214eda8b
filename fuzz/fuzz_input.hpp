// What the fuzz targets share: the input taken apart into fields, so that a
// seed stays readable ("one value\0another value\0...") and the fuzzer can
// change one field without moving the others, and a check that stops the
// run with a message when a property the code promises does not hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace dirproxy::fuzz {

// `data` split at NUL bytes into at most `count` fields; the last field keeps
// the rest (NULs included), and missing fields are empty.
inline std::vector<std::string_view> fields(const std::uint8_t* data, std::size_t size, std::size_t count) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> out;
  while (out.size() + 1 < count) {
    const auto nul = rest.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  out.push_back(rest);
  out.resize(count);
  return out;
}

// A broken promise is a finding like a crash: abort() so libFuzzer keeps the
// input. `detail` (the offending value) is printed with every byte that is
// not printable ASCII as \xNN.
inline void require(bool holds, const char* promise, std::string_view detail = {}) {
  if (holds) return;
  std::fprintf(stderr, "fuzz: broken promise: %s\n", promise);
  if (!detail.empty()) {
    std::fprintf(stderr, "fuzz: offending value: ");
    for (unsigned char c : detail) {
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        std::fputc(c, stderr);
      } else {
        std::fprintf(stderr, "\\x%02x", c);
      }
    }
    std::fprintf(stderr, "\n");
  }
  std::abort();
}

}  // namespace dirproxy::fuzz
