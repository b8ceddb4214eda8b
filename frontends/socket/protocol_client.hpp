// A blocking client of the local socket protocol (docs/protocol.md), for
// dirproxyctl and the integration tests. One object is one connection to
// dirproxyd's Unix socket. call() is the normal path (one request line out,
// one response line back); send_raw() and read_line() exist so that tests can
// send broken or pipelined input and read the answers one by one.
//
// A failed Result from this class always means the transport failed (could
// not connect, connection closed, timed out, unreadable response), never that
// the daemon refused a request: a refusal is a response with "ok": false.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/unique_fd.hpp"
#include "frontends/socket/protocol.hpp"

namespace dirproxy::protocol {

class ProtocolClient final {
 public:
  using Timeout = std::optional<std::chrono::milliseconds>;  // nullopt = wait forever

  // Connects to the socket at `socket_path`. On failure the message names the
  // path and the reason, e.g. "cannot connect to /run/dirproxy/dirproxy.sock:
  // No such file or directory". `receive_timeout` bounds every wait for a
  // response (call() and read_line() without an explicit timeout).
  static Result<ProtocolClient> connect(const std::string& socket_path, Timeout receive_timeout = std::nullopt);

  // Sends `request` as one line and returns the next response line, parsed.
  // The response may be a refusal ("ok": false). Fails when the request cannot
  // be encoded (bad_request: not valid UTF-8; nothing is sent) or the
  // connection breaks, closes or times out before a whole line arrives
  // (internal_error; the message names the socket path).
  Result<Json> call(const Json& request);

  // Writes `bytes` exactly as given (no newline is added), all of them, even
  // across partial writes and signals. Fails when the connection is broken.
  Result<void> send_raw(std::string_view bytes);

  // The next line received, without its '\n'. nullopt when the peer closed
  // the connection before a whole line arrived (eof() is then true), when
  // `timeout` (default: the connection's receive timeout) expired, or on a
  // socket error.
  std::optional<std::string> read_line(Timeout timeout);
  std::optional<std::string> read_line() { return read_line(receive_timeout_); }

  // True once the peer has closed its side of the connection.
  bool eof() const { return eof_; }

  // Closes the connection now (the destructor does it otherwise).
  void close() { fd_.reset(); }

  const std::string& socket_path() const { return socket_path_; }
  int native_handle() const { return fd_.get(); }

 private:
  ProtocolClient(UniqueFd fd, std::string socket_path, Timeout receive_timeout)
      : fd_(std::move(fd)), socket_path_(std::move(socket_path)), receive_timeout_(receive_timeout) {}

  // Why the last read_line() returned nullopt, for call()'s error message.
  enum class ReadFailure { none, eof, timeout, error };

  UniqueFd fd_;
  std::string socket_path_;
  Timeout receive_timeout_;
  std::string buffer_;  // bytes received after the last returned line
  bool eof_ = false;
  ReadFailure last_failure_ = ReadFailure::none;
  int last_errno_ = 0;
};

}  // namespace dirproxy::protocol
