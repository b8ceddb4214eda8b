// Fuzz target socket_request: bytes as a client writes them to the socket,
// through what the connection does with each line (frontends/socket/
// connection.cpp): split at '\n', a trailing '\r' dropped, then
// RequestDispatcher::prepare — parse_request, the debug log line through
// request_redaction, the operation's check_params and authorisation — for an
// admin and for a non-admin peer, and the decoding into the service's typed
// request of each line that passes. No daemon and no directory: prepare()
// never reaches the service's operations.
//
// Properties checked besides "no crash": every answer is one line of JSON
// with "ok" (a response with a raw newline would break the protocol's
// framing), and the redacted form of a request leaves no value under a secret
// name.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/null_sink.h>

#include "core/logging.hpp"
#include "core/worker_pool.hpp"
#include "frontends/socket/protocol.hpp"
#include "frontends/socket/request_dispatcher.hpp"
#include "frontends/socket/request_redaction.hpp"
#include "fuzz/fuzz_input.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

struct Harness {
  WorkerPool pool{1};
  Service service{pool, [] { return RuntimePtr{}; }, []() -> awaitable<Result<void>> { co_return Result<void>{}; }};
  RequestDispatcher dispatcher{service};

  Harness() {
    // At debug, prepare() logs every request through the redaction, as the
    // daemon does at log.level debug; the lines are formatted, then dropped.
    logging::apply(spdlog::level::debug, std::make_unique<spdlog::pattern_formatter>("%v"), /*audit=*/true);
    for (const char* component : {"request", "audit", "server"}) {
      logging::logger(component)->sinks() = {std::make_shared<spdlog::sinks::null_sink_mt>()};
    }
  }
};

void check_response_line(const std::string& line) {
  fuzz::require(line.find('\n') == std::string::npos, "a response is one line", line);
  const Json response = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  fuzz::require(response.is_object() && response.contains("ok") && response["ok"].is_boolean(),
                "a response is a JSON object with a boolean \"ok\"", line);
}

// No secret name keeps its value, however deep it stands.
void check_redacted(const Json& value) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (is_secret_parameter(key)) {
        fuzz::require(item == "<redacted>", "a secret parameter is <redacted>");
      } else {
        check_redacted(item);
      }
    }
  } else if (value.is_array()) {
    for (const auto& item : value) check_redacted(item);
  }
}

void run_line(Harness& harness, std::string_view line) {
  static const Peer admin{1, PeerCredentials{1, 0, 0}, true};
  static const Peer application{2, PeerCredentials{2, 1000, 1000}, false};
  for (const Peer* peer : {&admin, &application}) {
    PreparedRequest prepared = harness.dispatcher.prepare(line, *peer);
    if (prepared.answer) {
      check_response_line(*prepared.answer);
      continue;
    }
    // What execute() decodes before it calls the service.
    (void)prepared.operation->audit_target(prepared.request.params);
    check_response_line(protocol::success_line(prepared.request.id, Json::object()));
  }
  Json id;
  if (auto request = protocol::parse_request(line, &id)) {
    check_redacted(Json::parse(redacted_request(request->params)));
  }
}

}  // namespace
}  // namespace dirproxy

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dirproxy::Harness harness;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // As Connection::read_requests: lines end in '\n'; a partial last line is
  // dropped at EOF, but it is still a line worth parsing here.
  while (!input.empty()) {
    const auto end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    dirproxy::run_line(harness, line);
  }
  return 0;
}
