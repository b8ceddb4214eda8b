#include "daemon/ctl/commands.hpp"

namespace dirproxy::ctl {

void add_account_commands(CLI::App&, Command&) {}

}  // namespace dirproxy::ctl
