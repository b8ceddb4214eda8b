// Turns one request line into one response line: parses it, finds the
// operation, checks its parameters and decodes them into the service's typed
// request, calls the service, and renders the result (docs/protocol.md).
// The rules (who may run what, audit, what an operation does) are the
// service's; this file only translates. The io thread only parses and
// formats; the service awaits what blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/asio.hpp"
#include "frontends/socket/peer_credentials.hpp"
#include "frontends/socket/socket_operation.hpp"
#include "service/service.hpp"

namespace dirproxy {

// What the dispatcher knows of the connection a request came on.
struct Peer {
  std::uint64_t connection = 0;
  std::optional<PeerCredentials> credentials;
  bool admin = false;
};

// A request line after the checks that need no directory: either the answer
// is already known (a malformed line, an unknown op, a forbidden or ill-formed
// request), or the operation is ready to execute.
struct PreparedRequest {
  std::optional<std::string> answer;  // the response line, when known already
  protocol::Request request;
  Caller caller;
  const SocketOperation* operation = nullptr;
  bool writes = false;
};

class RequestDispatcher final {
 public:
  explicit RequestDispatcher(Service& service);

  // Parses and checks one request line; cheap, never blocks (io thread).
  PreparedRequest prepare(std::string_view line, const Peer& peer) const;

  // The response line (without '\n') of a prepared request.
  awaitable<std::string> execute(const PreparedRequest& prepared);

  // The response line when it is known without blocking or awaiting: the
  // request was refused by prepare(), or the service answers it from memory
  // (Service::answer_now). nullopt: execute() it. For the io thread.
  std::optional<std::string> answer_now(const PreparedRequest& prepared);

  // prepare() then execute().
  awaitable<std::string> handle(std::string_view line, const Peer& peer);

 private:
  // The response line of an executed operation.
  std::string finish(const PreparedRequest& prepared, const Result<protocol::Json>& result) const;

  Service& service_;
  std::unordered_map<std::string_view, SocketOperation> operations_;
};

}  // namespace dirproxy
