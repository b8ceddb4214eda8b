// dirproxyctl's human-readable output: protocol objects (docs/protocol.md,
// "Objects") rendered as aligned "key: value" blocks and column tables. Pure
// functions from JSON to text, so every shape of answer prints the same way
// wherever it appears. Missing and null fields print as "-": a daemon that
// sends less than expected still gets a readable answer, never a crash.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "frontends/socket/protocol.hpp"

namespace dirproxy::ctl {

using protocol::Json;

// A value as text: strings as they are, booleans as true/false, null or
// absent as "-", lists joined with ", ".
std::string display_value(const Json& value);

// The member `key` of `object`; null when `object` has no such member (or
// is no object).
const Json& member(const Json& object, const char* key);

// The member `key` of `object` as text; "-" when `object` has no such member.
std::string display_member(const Json& object, const char* key);

// "key: value" lines, the values aligned one space after the longest key.
std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// A header row and the rows, columns padded to their widest cell and
// separated by two spaces; no trailing blanks.
std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// A user object; "groups" is shown only when present (authenticate adds it).
std::string format_user(const Json& user);

// USERNAME EMAIL DISPLAY NAME DIRECTORY ACTIVE, one row per user.
std::string format_user_table(const Json& users);

// A group object: its fields, then "members:" and one member per line.
std::string format_group(const Json& group);

// NAME TYPE PERMISSIONS STATUS USERS DETAIL, one row per directory.
std::string format_directory_table(const Json& directories);

// One name per line (a user's groups).
std::string format_name_list(const Json& names);

// "dirproxyd VERSION, up N s".
std::string format_ping(const Json& result);

// "backup written to PATH (N bytes)".
std::string format_backup(const Json& result);

}  // namespace dirproxy::ctl
