// dirproxyctl, the admin command line of dirproxyd: turns one command line
// into one protocol request (commands.cpp), sends it over the daemon's Unix
// socket, and prints the answer for a human (output.cpp) or, with --json, for
// a script. The exit code says which of success, refusal, usage error or
// unreachable daemon happened (exit_code.hpp). A command that needs no
// daemon (hash-password) runs here instead and prints the same way.
#include <pwd.h>
#include <unistd.h>

#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "ctl/command.hpp"
#include "ctl/commands.hpp"
#include "ctl/exit_code.hpp"
#include "ctl/output.hpp"
#include "ctl/password_input.hpp"
#include "frontends/socket/protocol_client.hpp"

namespace dirproxy::ctl {
namespace {

constexpr const char* kDefaultSocket = "/run/dirproxy/dirproxy.sock";

int complain(const std::string& message, ExitCode code) {
  std::cerr << "dirproxyctl: " << message << '\n';
  return to_int(code);
}

// Recorded by the daemon in the audit log as the "actor" of admin ops. The
// daemon authorises by the socket's peer credentials, not by this name.
std::string login_name() {
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) return entry->pw_name;
  return std::to_string(::getuid());
}

std::string refusal_message(const Json& response) {
  const Json& error = member(response, "error");
  std::string message = display_member(error, "code") + ": " + display_member(error, "message");
  if (response.contains("retry_after")) {
    message += " (retry after " + display_member(response, "retry_after") + " s)";
  }
  return message;
}

Result<std::string> read_command_password(const Command& command) {
  return read_password("Password: ", command.password_input == PasswordInput::confirm_on_tty);
}

int print_result(const Command& command, const Json& result, bool json_output) {
  if (json_output) {
    std::cout << format_json(result);
  } else if (command.print_human) {
    command.print_human(result, std::cout);
  }
  std::cout.flush();
  return to_int(ExitCode::success);
}

int run_offline(const Command& command, bool json_output) {
  std::string password;
  if (command.password_input != PasswordInput::none) {
    auto read = read_command_password(command);
    if (!read) return complain(read.error().message, ExitCode::usage);
    password = std::move(*read);
  }
  auto result = command.offline(password);
  if (!result) {
    return complain(result.error().message,
                    result.error().code == ErrorCode::bad_request ? ExitCode::usage : ExitCode::refused);
  }
  return print_result(command, *result, json_output);
}

int run(const Command& command, const std::string& socket_path, bool json_output) {
  if (command.offline) return run_offline(command, json_output);

  // Connect before asking for a password: nobody should type one for a
  // daemon that is not there.
  auto client = protocol::ProtocolClient::connect(socket_path);
  if (!client) return complain(client.error().message, ExitCode::unreachable);

  Json request = command.request;
  request["id"] = 1;
  if (command.admin) request["actor"] = login_name();
  if (command.password_input != PasswordInput::none) {
    auto password = read_command_password(command);
    if (!password) return complain(password.error().message, ExitCode::usage);
    request[command.password_field] = std::move(*password);
  }

  auto response = client->call(request);
  if (!response) {
    // bad_request: the request could not even be encoded; nothing was sent.
    bool unsendable = response.error().code == ErrorCode::bad_request;
    return complain(response.error().message, unsendable ? ExitCode::usage : ExitCode::unreachable);
  }
  auto ok = response->find("ok");
  if (ok == response->end() || !ok->is_boolean()) {
    return complain("invalid response from " + socket_path + ": no \"ok\" member", ExitCode::unreachable);
  }
  if (!ok->get<bool>()) return complain(refusal_message(*response), ExitCode::refused);

  Json result = std::move(*response);
  result.erase("id");
  result.erase("ok");
  return print_result(command, result, json_output);
}

}  // namespace
}  // namespace dirproxy::ctl

int main(int argc, char** argv) {
  using namespace dirproxy::ctl;

  std::string socket_path = kDefaultSocket;
  bool json_output = false;

  CLI::App app{"Administer dirproxyd through its local socket.", "dirproxyctl"};
  app.set_version_flag("--version", "dirproxyctl " DIRPROXY_VERSION);
  app.add_option("--socket", socket_path, "dirproxyd's socket")->envname("DIRPROXY_SOCKET")->capture_default_str();
  app.add_flag("--json", json_output, "Print the result as JSON");
  app.require_subcommand(1);
  // Lets --socket and --json also follow the subcommand: "user show bob --json".
  app.fallthrough();
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    std::string problem = e.what();
    // CLI11 reports "dirproxyctl frob" as a missing subcommand; name the word
    // it did not understand instead.
    if (auto unparsed = failed->remaining(/*recurse=*/true);
        !unparsed.empty() && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      problem = "unknown command or argument '" + unparsed.front() + "'";
    }
    return "dirproxyctl: " + problem + "\nRun 'dirproxyctl --help' for usage.\n";
  });

  Command command;
  add_commands(app, command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0; every real
    // parse error is a usage error, whatever CLI11's own code for it is.
    return app.exit(e) == 0 ? to_int(ExitCode::success) : to_int(ExitCode::usage);
  }

  try {
    return run(command, socket_path, json_output);
  } catch (const std::exception& e) {
    // Only a response of an unexpected shape can get here.
    return complain(std::string("unexpected response: ") + e.what(), ExitCode::unreachable);
  }
}
