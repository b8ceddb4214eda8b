// A list of strings kept in one TEXT column as a JSON array (an invitation's
// groups). The encoding is the state database's business, so the stores above
// never see JSON.
#pragma once

#include <string>
#include <vector>

namespace dirproxy {

// `values` as the column's text, e.g. ["developers","ops"].
std::string encode_string_list(const std::vector<std::string>& values);

// The strings of a column written by encode_string_list; a value that is not
// such a list, or entries that are not strings, are left out (empty list).
std::vector<std::string> decode_string_list(const std::string& text);

}  // namespace dirproxy
