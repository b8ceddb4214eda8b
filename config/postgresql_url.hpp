// state.postgresql.url: a libpq connection URI (SCALE.md), checked with
// libpq's own parser (PQconninfoParse) so that the daemon accepts exactly
// what libpq will connect with: several hosts ("db1:5432,db2:5432"), a Unix
// socket directory as a percent-encoded host, and libpq's query parameters
// (target_session_attrs, sslmode, ...). The password never sits in the URI
// (the file is meant to be world-readable): it comes from password_file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dirproxy::config {

// The parts of a valid URI the daemon reports (readiness line, dirproxyctl
// directories), as libpq holds them.
struct PostgresqlUrl {
  std::string host;    // "db1,db2" for several hosts; "" = libpq's default (its Unix socket)
  std::string port;    // "5432,5432"; "" = libpq's default
  std::string dbname;  // never empty
  std::string user;    // "" = libpq's default (the local account's name)
};

// A URI, or why the text is not one.
struct PostgresqlUrlParse {
  std::optional<PostgresqlUrl> url;  // set when the text is acceptable
  std::string reason;                // e.g. "must name the database"; empty on success

  explicit operator bool() const { return url.has_value(); }
};

// Parses `text`, which must start with postgresql:// or postgres:// (in lower
// case, as libpq wants them), hold no password (neither "user:password@" nor
// a password parameter), name the database, and give ports as numbers from 1
// to 65535. A reason never quotes the text, which may hold a password; it
// may quote the part libpq complains about once no password can be there.
PostgresqlUrlParse parse_postgresql_url(std::string_view text);

}  // namespace dirproxy::config
