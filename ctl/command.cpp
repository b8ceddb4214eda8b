#include "ctl/command.hpp"

#include <utility>

namespace dirproxy::ctl {

Command public_command(Json request) {
  Command command;
  command.request = std::move(request);
  return command;
}

Command admin_command(Json request) {
  Command command = public_command(std::move(request));
  command.admin = true;
  return command;
}

PrintHuman confirm(std::string message) {
  return [message = std::move(message)](const Json&, std::ostream& out) { out << message << '\n'; };
}

}  // namespace dirproxy::ctl
