#include "frontends/web/form_token.hpp"

#include <sodium.h>

#include <array>

namespace dirproxy::web {
namespace {

constexpr std::size_t kTokenBytes = 32;

bool well_formed(std::string_view token) {
  return token.size() == 2 * kTokenBytes && token.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string random_token() {
  std::array<unsigned char, kTokenBytes> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string hex(2 * kTokenBytes + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  hex.pop_back();
  return hex;
}

std::string form_token(const Request& request, Response& response) {
  if (const auto found = request.cookies.find(std::string(kFormCookie));
      found != request.cookies.end() && well_formed(found->second)) {
    return found->second;
  }
  std::string token = random_token();
  response.cookies.push_back(SetCookie{std::string(kFormCookie), token, kFormCookieMaxAgeS});
  return token;
}

bool form_token_matches(const Request& request) {
  const auto found = request.cookies.find(std::string(kFormCookie));
  if (found == request.cookies.end() || !well_formed(found->second)) return false;
  return tokens_equal(request.form.value(kCsrfField), found->second);
}

bool tokens_equal(std::string_view token, std::string_view expected) {
  if (token.empty() || expected.empty() || token.size() != expected.size()) return false;
  return sodium_memcmp(token.data(), expected.data(), token.size()) == 0;
}

}  // namespace dirproxy::web
