#include "frontends/socket/protocol_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace dirproxy::protocol {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

Result<ProtocolClient> ProtocolClient::connect(const std::string& socket_path, Timeout receive_timeout) {
  auto failure = [&](const std::string& reason) {
    return fail(ErrorCode::internal_error, "cannot connect to " + socket_path + ": " + reason);
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // sun_path must hold the terminating NUL as well.
  if (socket_path.empty() || socket_path.size() >= sizeof(address.sun_path)) {
    return failure(errno_text(ENAMETOOLONG));
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return failure(errno_text(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno != EINTR) return failure(errno_text(errno));
    // An interrupted connect() goes on in the background (calling it again
    // would say EALREADY): wait for it to finish and fetch its outcome.
    pollfd writable{fd.get(), POLLOUT, 0};
    while (::poll(&writable, 1, /*timeout=*/-1) < 0) {
      if (errno != EINTR) return failure(errno_text(errno));
    }
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) return failure(errno_text(error));
  }
  return ProtocolClient(std::move(fd), socket_path, receive_timeout);
}

Result<void> ProtocolClient::send_raw(std::string_view bytes) {
  if (!fd_) return fail(ErrorCode::internal_error, "connection to " + socket_path_ + " is closed");
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a daemon that went away must be an error value, not SIGPIPE.
    ssize_t sent = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::internal_error, "cannot send to " + socket_path_ + ": " + errno_text(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return {};
}

std::optional<std::string> ProtocolClient::read_line(Timeout timeout) {
  last_failure_ = ReadFailure::none;
  const auto deadline = timeout ? std::optional(Clock::now() + *timeout) : std::nullopt;
  for (;;) {
    if (auto newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (eof_) {
      last_failure_ = ReadFailure::eof;
      return std::nullopt;
    }
    if (!fd_) {
      last_failure_ = ReadFailure::error;
      last_errno_ = EBADF;
      return std::nullopt;
    }

    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      wait_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
    pollfd readable{fd_.get(), POLLIN, 0};
    int ready = ::poll(&readable, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;  // the deadline is recomputed above
      last_failure_ = ReadFailure::error;
      last_errno_ = errno;
      return std::nullopt;
    }
    if (ready == 0) {
      last_failure_ = ReadFailure::timeout;
      return std::nullopt;
    }

    char chunk[16384];
    ssize_t received = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (received < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      // A reset connection is, for the caller, a closed one.
      if (errno == ECONNRESET) {
        eof_ = true;
        continue;
      }
      last_failure_ = ReadFailure::error;
      last_errno_ = errno;
      return std::nullopt;
    }
    if (received == 0) {
      eof_ = true;
      continue;
    }
    buffer_.append(chunk, static_cast<std::size_t>(received));
  }
}

Result<Json> ProtocolClient::call(const Json& request) {
  std::string line;
  try {
    line = request.dump();
  } catch (const Json::type_error&) {
    // nlohmann refuses to encode strings that are not valid UTF-8.
    return fail(ErrorCode::bad_request, "the request contains text that is not valid UTF-8");
  }
  line += '\n';
  RETURN_IF_ERROR(send_raw(line));

  auto response_line = read_line();
  if (!response_line) {
    switch (last_failure_) {
      case ReadFailure::timeout:
        return fail(ErrorCode::internal_error, "no response from " + socket_path_ + " in time");
      case ReadFailure::error:
        return fail(ErrorCode::internal_error, "cannot read from " + socket_path_ + ": " + errno_text(last_errno_));
      case ReadFailure::eof:
      case ReadFailure::none: break;
    }
    return fail(ErrorCode::internal_error, "connection to " + socket_path_ + " closed before a response arrived");
  }
  Json response = Json::parse(*response_line, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (!response.is_object()) {
    return fail(ErrorCode::internal_error, "invalid response from " + socket_path_);
  }
  return response;
}

}  // namespace dirproxy::protocol
