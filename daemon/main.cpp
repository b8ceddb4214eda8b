// dirproxyd: the user directory daemon. See README.md and docs/.
#include <iostream>

#include <CLI/CLI.hpp>

#include "daemon/daemon.hpp"
#include "daemon/state_migration.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dirproxyd: one user directory made of an internal directory and LDAP directories"};
  std::string config_path = "/etc/dirproxy/dirproxy.yaml";
  bool check_only = false;
  bool migrate_only = false;
  std::string sqlite_file;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  auto* check = app.add_flag("--check-config", check_only, "validate the configuration file and exit (0 valid, 1 not)");
  auto* migrate = app.add_flag("--migrate-state", migrate_only,
                               "copy the SQLite state of --from into the empty PostgreSQL database of the "
                               "configuration (state.backend postgresql) and exit (0 copied, 1 nothing copied)");
  auto* from = app.add_option("--from", sqlite_file, "the SQLite state file (dirproxy.db) for --migrate-state");
  migrate->needs(from)->excludes(check);
  from->needs(migrate);
  app.set_version_flag("--version", std::string("dirproxyd ") + DIRPROXY_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (check_only) return dirproxy::check_config(config_path);
  if (migrate_only) return dirproxy::migrate_state(config_path, sqlite_file, std::cout, std::cerr);
  return dirproxy::Daemon(config_path).run();
}
