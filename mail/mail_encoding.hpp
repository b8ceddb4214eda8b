// The pieces of RFC 5322 / RFC 2045 / RFC 2047 text that dirproxy writes
// itself, because the outbox stores each message as its complete text:
// header values that are safe to place after "Name: " (no line break from a
// user's value can start a new header; non-ASCII goes into encoded-words),
// quoted-printable bodies, and the Date header's format. Kept apart from the
// composer so each rule is tested on its own.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace dirproxy::mail_encoding {

// Replaces every control character (CR, LF, TAB, DEL, ...) with a space, so
// that a value taken from a user stays on its header line.
std::string single_line(std::string_view text);

// The value of an unstructured header (Subject) for a header named
// `header_name`: the text itself when it is printable ASCII, fits on one line
// of 78 characters and holds no "=?"; otherwise RFC 2047 "B" encoded-words of
// UTF-8, at most 75 characters each, never splitting a UTF-8 sequence,
// folded with CRLF SPACE. Control characters become spaces first.
std::string unstructured_header(std::string_view header_name, std::string_view text);

// A "phrase" (the display name before <address>): the text when it is made
// only of RFC 5322 atext and spaces, a quoted-string when it is other printable
// ASCII, and encoded-words (folded like unstructured_header's) otherwise or
// when the first would not fit on a line of 78 characters after "From: ".
std::string display_name_phrase(std::string_view text);

// Quoted-printable (RFC 2045 6.7) of UTF-8 text whose lines end in "\n"
// (a "\r\n" or lone "\r" counts as "\n" too): every output line ends in CRLF
// and is at most 76 characters, soft line breaks ("=" CRLF) split long lines,
// '=' and every non-ASCII or control byte are =XX, spaces and tabs before a
// line end are encoded, and a line starting with '.' has it encoded so no
// SMTP server can mistake it for the end of data.
std::string quoted_printable(std::string_view text);

// RFC 5322 date-time in UTC, e.g. "Tue, 01 Dec 2026 03:02:17 +0000",
// independent of the process locale.
std::string rfc5322_date(std::chrono::system_clock::time_point when);

}  // namespace dirproxy::mail_encoding
