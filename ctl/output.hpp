// dirproxyctl's human-readable output: protocol objects (docs/protocol.md,
// "Objects") rendered as aligned "key: value" blocks and column tables. Pure
// functions from JSON to text, so every shape of answer prints the same way
// wherever it appears. Missing and null fields print as "-": a daemon that
// sends less than expected still gets a readable answer, never a crash.
// Every value from the daemon goes through display_value (or format_json),
// which escapes the characters a terminal would act on: names stored before
// the daemon refused them, or read from an LDAP directory, cannot move the
// cursor, clear the screen or reorder the line.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontends/socket/protocol.hpp"

namespace dirproxy::ctl {

using protocol::Json;

// `text` safe to print to a terminal: every character that acts on the text
// around it (core/unicode_text.hpp: control characters, U+2028/U+2029,
// bidirectional formatting characters) written as \u and four hex digits
// ("\u001b", "\u202e"), and a byte that is not UTF-8 as \x and two
// ("\xff"); everything else as it is.
std::string terminal_safe(std::string_view text);

// A value as text, through terminal_safe: strings as they are, booleans as
// true/false, null or absent as "-", lists joined with ", ".
std::string display_value(const Json& value);

// The whole result for --json: indented JSON in which every character
// outside printable ASCII is a \u escape, so that it is still the same JSON
// to a script and shows nothing raw on a terminal.
std::string format_json(const Json& result);

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
// "state: BACKEND LOCATION" below the table, from list_directories' "state";
// "" when the daemon did not send one.
std::string format_state_line(const Json& state);

// NAME ACCESS GROUPS SOCKET USERS LDAP BASE DN MAY WRITE USERS, one row per
// application; no access groups reads "everyone", an application without
// an ldap section has "no" under LDAP and "-" under BASE DN and MAY WRITE.
std::string format_application_table(const Json& applications);

// get_user_access's answer: username, groups, applications ("-" for none).
std::string format_user_access(const Json& access);

// One name per line (a user's groups).
std::string format_name_list(const Json& names);

// "dirproxyd VERSION, up N s".
std::string format_ping(const Json& result);

// "backup written to PATH (N bytes)".
std::string format_backup(const Json& result);

}  // namespace dirproxy::ctl
