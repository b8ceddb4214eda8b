// Turns one request line into one response line: parses it, finds the
// operation, checks that the peer may run it and that its parameters are
// right, runs it on the worker pool, and logs it (redacted) and audits it.
// The io thread only parses and formats; everything that blocks is awaited.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/asio.hpp"
#include "service/operation.hpp"
#include "frontends/socket/peer_credentials.hpp"
#include "core/worker_pool.hpp"

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
  const Operation* operation = nullptr;
  bool writes = false;
};

class RequestDispatcher final {
 public:
  // Re-reads the configuration; an error leaves the running one in place.
  using ReloadFunction = std::function<awaitable<Result<void>>()>;

  RequestDispatcher(WorkerPool& pool, std::function<RuntimePtr()> runtime, ReloadFunction reload);

  // Parses and checks one request line; cheap, never blocks (io thread).
  PreparedRequest prepare(std::string_view line, const Peer& peer) const;

  // The response line (without '\n') of a prepared request.
  awaitable<std::string> execute(const PreparedRequest& prepared, const Peer& peer);

  // The response line when it is known without blocking or awaiting: the
  // request was refused by prepare(), or its operation answers it from
  // memory (Operation::answer_from_memory). nullopt: execute() it. Same
  // answer, logs and audit as execute(); for the io thread.
  std::optional<std::string> answer_now(const PreparedRequest& prepared, const Peer& peer);

  // prepare() then execute().
  awaitable<std::string> handle(std::string_view line, const Peer& peer);

 private:
  awaitable<Result<protocol::Json>> run(const Operation& operation, const protocol::Request& request,
                                        const RuntimePtr& runtime);
  void audit(const protocol::Request& request, const Peer& peer, const Result<protocol::Json>& result) const;
  // The response line of an executed operation, audited.
  std::string finish(const Operation& operation, const protocol::Request& request, const Peer& peer,
                     const Result<protocol::Json>& result) const;

  WorkerPool& pool_;
  std::function<RuntimePtr()> runtime_;
  ReloadFunction reload_;
  std::chrono::steady_clock::time_point started_;
  std::unordered_map<std::string_view, Operation> operations_;
};

}  // namespace dirproxy
