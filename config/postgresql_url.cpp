#include "config/postgresql_url.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>

#include "core/names.hpp"

namespace dirproxy::config {

namespace {

constexpr std::string_view kPasswordRefusal = "must not hold a password: put it in password_file";

struct ConninfoOptionsFree {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using ConninfoOptions = std::unique_ptr<PQconninfoOption, ConninfoOptionsFree>;

struct LibpqMemoryFree {
  void operator()(char* memory) const { PQfreemem(memory); }
};
using LibpqMessage = std::unique_ptr<char, LibpqMemoryFree>;

// Whether an unparsable text may still carry a password, so that libpq's
// message (which can quote a component of it) is not repeated: "user:...@"
// in the authority, or the word password anywhere.
bool may_hold_password(std::string_view text) {
  if (ascii_lower(text).find("password") != std::string::npos) return true;
  const std::size_t start = text.find("://");
  if (start == std::string_view::npos) return false;
  std::string_view authority = text.substr(start + 3);
  authority = authority.substr(0, authority.find_first_of("/?"));
  const std::size_t at = authority.rfind('@');
  return at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos;
}

// Each of libpq's comma-separated ports is empty (the default) or 1 to 65535.
bool valid_ports(std::string_view ports) {
  while (true) {
    const std::size_t comma = ports.find(',');
    const std::string_view port = ports.substr(0, comma);
    if (!port.empty()) {
      if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
      }
      const int number = std::stoi(std::string(port));
      if (number < 1 || number > 65535) return false;
    }
    if (comma == std::string_view::npos) return true;
    ports.remove_prefix(comma + 1);
  }
}

PostgresqlUrlParse refuse(std::string reason) { return PostgresqlUrlParse{std::nullopt, std::move(reason)}; }

}  // namespace

PostgresqlUrlParse parse_postgresql_url(std::string_view text) {
  // In lower case, as libpq spells them.
  if (!text.starts_with("postgresql://") && !text.starts_with("postgres://")) {
    return refuse("expected a URI starting with postgresql:// or postgres://");
  }
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; })) {
    return refuse("must not contain spaces or control characters (percent-encode them)");
  }
  const std::string uri(text);
  char* raw_message = nullptr;
  ConninfoOptions options(PQconninfoParse(uri.c_str(), &raw_message));
  const LibpqMessage message(raw_message);
  if (!options) {
    if (may_hold_password(text)) return refuse(std::string(kPasswordRefusal));
    std::string why = message ? message.get() : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return refuse("not a valid libpq URI: " + why);
  }
  PostgresqlUrl url;
  bool has_password = false;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    const std::string_view keyword = option->keyword;
    if (keyword == "password") has_password = true;
    if (keyword == "host") url.host = option->val;
    if (keyword == "port") url.port = option->val;
    if (keyword == "dbname") url.dbname = option->val;
    if (keyword == "user") url.user = option->val;
  }
  if (has_password) return refuse(std::string(kPasswordRefusal));
  if (url.dbname.empty()) return refuse("must name the database: postgresql://HOST[:PORT]/DATABASE");
  if (!valid_ports(url.port)) return refuse("a port must be a number from 1 to 65535");
  return PostgresqlUrlParse{std::move(url), ""};
}

}  // namespace dirproxy::config
