// `dirproxyctl hash-password`: the Argon2id string that an application's
// `ldap.password_hash` holds (docs/configuration.md, "applications"). It
// runs here, without the daemon, so that the configuration can be written
// before dirproxyd first starts, and the password never travels further
// than this process.
#include <sodium.h>

#include <string>

#include "config/config.hpp"
#include "ctl/commands.hpp"

namespace dirproxy::ctl {
namespace {

// The cost the daemon hashes its own users' passwords at by default
// (accounts.password_hash: interactive), so a service account's bind costs
// what a user's does.
Result<Json> hash_password(const std::string& password) {
  if (password.empty()) return fail(ErrorCode::bad_request, "the password is empty");
  // One line (read_password strips one line ending): a second line is far
  // likelier a file piped in by mistake than part of a password.
  if (password.find_first_of("\r\n") != std::string::npos) {
    return fail(ErrorCode::bad_request, "the password is more than one line");
  }
  if (::sodium_init() < 0) return fail(ErrorCode::internal_error, "libsodium cannot be initialised");
  const config::PasswordHash cost;
  char hash[crypto_pwhash_STRBYTES];
  // Argon2id named, not left to libsodium's default: the configuration
  // accepts nothing else.
  if (::crypto_pwhash_str_alg(hash, password.data(), password.size(), cost.opslimit, cost.memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return fail(ErrorCode::internal_error,
                "cannot hash the password: Argon2id needs " + std::to_string(cost.memlimit >> 20) + " MiB of memory");
  }
  return Json{{"password_hash", std::string(hash)}};
}

}  // namespace

void add_hash_password(CLI::App& app, Command& command) {
  app.add_subcommand("hash-password",
                     "Print the Argon2id string of a password read from stdin (for applications[].ldap.password_hash)")
      ->callback([&command] {
        command = Command{};
        command.password_input = PasswordInput::confirm_on_tty;
        command.offline = hash_password;
        command.print_human = [](const Json& result, std::ostream& out) {
          out << result.at("password_hash").get<std::string>() << '\n';
        };
      });
}

}  // namespace dirproxy::ctl
