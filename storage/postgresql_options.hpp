// How to reach the PostgreSQL state database (state.postgresql in the
// configuration; the daemon copies it here, so storage/ needs no config/).
#pragma once

#include <chrono>
#include <string>

namespace dirproxy {

struct PostgresqlOptions {
  std::string url;       // a libpq connection URI without a password
  std::string password;  // "" = none (peer, ~/.pgpass, client certificates)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{10000};
};

}  // namespace dirproxy
