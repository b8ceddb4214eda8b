// A raw HTTP/1.1 client for the web front end's integration tests: it sends
// exactly the bytes a test writes (half a request, an oversized head, a
// forged X-Forwarded-For) and reads answers one by one on the same
// connection, so keep-alive, limits and timeouts can be observed; what a
// browser hides. http:// on 127.0.0.1 only (https:// is tested with curl).
//
// Failures (cannot connect, no answer in time, a malformed answer) throw
// std::runtime_error: gtest reports it as a failure of the test.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/unique_fd.hpp"

namespace dirproxy::testing {

struct HttpAnswer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;

  // The first value of header `name` (any case), if sent.
  std::optional<std::string> header(std::string_view name) const;
  // Every value of header `name` (any case), in order.
  std::vector<std::string> all(std::string_view name) const;
};

// "METHOD TARGET HTTP/1.1" with Host, `headers` ("Name: value" each), a
// Content-Length when `body` is not empty, and the body.
std::string http_request(std::string_view method, std::string_view target,
                         const std::vector<std::string>& headers = {}, std::string_view body = {});

class HttpClient {
 public:
  // Connects to 127.0.0.1:`port`; each read waits up to `timeout`.
  explicit HttpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends `bytes` as they are.
  void send(std::string_view bytes);
  // Reads one answer (head, then Content-Length bytes of body; none after
  // HEAD). Throws when the connection closes or nothing comes in time.
  HttpAnswer read(bool head = false);
  // send(http_request(...)), then read().
  HttpAnswer request(std::string_view method, std::string_view target, const std::vector<std::string>& headers = {},
                     std::string_view body = {});

  // Whether the server closes the connection within `timeout` (end of
  // file or a reset; bytes it sends meanwhile are dropped).
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  // Appends what arrives within `deadline` to buffer_; false at end of file.
  bool receive(std::chrono::steady_clock::time_point deadline);

  UniqueFd fd_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

// One request on a connection of its own.
HttpAnswer http_get(int port, std::string_view target, const std::vector<std::string>& headers = {});

}  // namespace dirproxy::testing
