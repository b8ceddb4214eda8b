#include "daemon/ctl/commands.hpp"

namespace dirproxy::ctl {

void add_mail_commands(CLI::App&, Command&) {}

}  // namespace dirproxy::ctl
