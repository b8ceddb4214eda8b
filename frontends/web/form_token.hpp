// The CSRF tokens of the web forms (WEB.md "Rules"). A public form (signup,
// forgot password ...) carries the value of a short-lived cookie of its own,
// __Host-dirproxy-form, in a hidden field named "csrf"; a POST is taken only
// when the two match. Another site can make a browser send the cookie
// (SameSite=Strict stops even that) but cannot read it, so it cannot put it
// in the form. Admin forms carry their session's token instead
// (admin_session.hpp). Origin is not checked: with Referrer-Policy:
// no-referrer browsers send "Origin: null".
#pragma once

#include <string>

#include "frontends/web/web_page.hpp"

namespace dirproxy::web {

inline constexpr std::string_view kFormCookie = "__Host-dirproxy-form";
inline constexpr std::string_view kCsrfField = "csrf";
// How long a public form can be left open before its POST is refused.
inline constexpr std::int64_t kFormCookieMaxAgeS = 2 * 3600;

// A new random token: 32 bytes from libsodium, hex.
std::string random_token();

// The token to put in a public form answered by `response`: the request's
// form cookie when it has a well-formed one, else a new one, set on
// `response`.
std::string form_token(const Request& request, Response& response);

// Whether a POST's "csrf" field matches its form cookie (in constant time).
bool form_token_matches(const Request& request);

// Whether `token` equals `expected`, in constant time; false when either is
// empty.
bool tokens_equal(std::string_view token, std::string_view expected);

}  // namespace dirproxy::web
