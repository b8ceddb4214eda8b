// dirproxyd: the user directory daemon. See README.md and docs/.
#include <iostream>

#include <CLI/CLI.hpp>

#include "daemon/daemon.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dirproxyd: one user directory made of an internal directory and LDAP directories"};
  std::string config_path = "/etc/dirproxy/dirproxy.yaml";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--check-config", check_only, "validate the configuration file and exit (0 valid, 1 not)");
  app.set_version_flag("--version", std::string("dirproxyd ") + DIRPROXY_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (check_only) return dirproxy::check_config(config_path);
  return dirproxy::Daemon(config_path).run();
}
