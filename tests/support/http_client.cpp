#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dirproxy::testing {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> HttpAnswer::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (same_name(field, name)) return value;
  }
  return std::nullopt;
}

std::vector<std::string> HttpAnswer::all(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [field, value] : headers) {
    if (same_name(field, name)) values.push_back(value);
  }
  return values;
}

std::string http_request(std::string_view method, std::string_view target, const std::vector<std::string>& headers,
                         std::string_view body) {
  std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& header : headers) request += header + "\r\n";
  if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n";
  request += body;
  return request;
}

HttpClient::HttpClient(int port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  }
}

void HttpClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

bool HttpClient::receive(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("no answer in time; received so far: " + buffer_);
    pollfd wait{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&wait, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[16384];
    const ssize_t got = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == ECONNRESET) return false;
    if (got < 0) throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    if (got == 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(got));
    return true;
  }
}

HttpAnswer HttpClient::read(bool head) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::size_t end_of_head;
  while ((end_of_head = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!receive(deadline)) throw std::runtime_error("the connection closed before an answer; received: " + buffer_);
  }
  HttpAnswer answer;
  const std::string head_text = buffer_.substr(0, end_of_head);
  std::size_t line_end = head_text.find("\r\n");
  const std::string status_line = head_text.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    throw std::runtime_error("not an HTTP answer: " + status_line);
  }
  answer.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head_text.find("\r\n", start);
    const std::string line = head_text.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("a malformed header line: " + line);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    answer.headers.emplace_back(line.substr(0, colon), value);
  }
  buffer_.erase(0, end_of_head + 4);
  std::size_t length = 0;
  if (auto content_length = answer.header("Content-Length"); content_length && !head) {
    length = std::stoul(*content_length);
  }
  while (buffer_.size() < length) {
    if (!receive(deadline)) throw std::runtime_error("the connection closed within the body");
  }
  answer.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return answer;
}

HttpAnswer HttpClient::request(std::string_view method, std::string_view target,
                               const std::vector<std::string>& headers, std::string_view body) {
  send(http_request(method, target, headers, body));
  return read(method == "HEAD");
}

bool HttpClient::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    while (receive(deadline)) buffer_.clear();
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

HttpAnswer http_get(int port, std::string_view target, const std::vector<std::string>& headers) {
  HttpClient client(port);
  return client.request("GET", target, headers);
}

}  // namespace dirproxy::testing
