// DNS names and the domain patterns of the signup allow-list.
//
// Only ASCII names are valid: an internationalised domain must arrive as
// punycode ("xn--..."), so that two spellings of one domain cannot slip past
// a comparison. All comparisons are case-insensitive and work on whole labels,
// so "evilexample.com" never matches "example.com" or "*.example.com".
#pragma once

#include <string_view>

namespace dirproxy::config {

// True when `name` is a host name: dot-separated labels of 1 to 63 characters
// from [A-Za-z0-9-], no label starting or ending with '-', at most 253
// characters in all, no empty label (so no leading, trailing or double dot).
bool is_valid_dns_name(std::string_view name);

// True when `pattern` is a valid DNS name, optionally prefixed by "*.".
bool is_valid_domain_pattern(std::string_view pattern);

// True when `domain` is allowed by `pattern`: "example.com" matches exactly
// example.com; "*.example.com" matches any proper subdomain of example.com
// but not example.com itself. False when either is invalid.
bool domain_matches(std::string_view pattern, std::string_view domain);

}  // namespace dirproxy::config
