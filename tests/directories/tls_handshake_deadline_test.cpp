// TlsHandshakeDeadline on a socket pair: a read blocked past the deadline
// ends because the socket is shut down; a call that returns in time leaves
// the socket alone.
#include "directories/ldap/tls_handshake_deadline.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace dirproxy {
namespace {

using std::chrono::milliseconds;

// Two connected stream sockets, closed at the end of the test.
class SocketPair final {
 public:
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sockets_) != 0) {
      throw std::runtime_error("socketpair failed");
    }
  }
  ~SocketPair() {
    ::close(sockets_[0]);
    ::close(sockets_[1]);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  int ours() const { return sockets_[0]; }
  int peers() const { return sockets_[1]; }

 private:
  int sockets_[2] = {-1, -1};
};

TEST(TlsHandshakeDeadline, ReadBlockedPastTheDeadlineEndsAndReportsExpiry) {
  SocketPair sockets;
  char byte = 0;
  ssize_t received = -2;
  bool expired = false;
  const auto started = std::chrono::steady_clock::now();
  {
    TlsHandshakeDeadline deadline(milliseconds(100));
    deadline.watch(sockets.ours());

    received = ::read(sockets.ours(), &byte, 1);  // the peer never writes
    expired = deadline.expired();
  }
  const auto took = std::chrono::steady_clock::now() - started;

  EXPECT_EQ(received, 0);  // end of stream: shut down
  EXPECT_TRUE(expired);
  EXPECT_GE(took, milliseconds(100));
  EXPECT_LT(took, milliseconds(5000));
}

TEST(TlsHandshakeDeadline, CallThatReturnsInTimeLeavesTheSocketUsable) {
  SocketPair sockets;
  {
    TlsHandshakeDeadline deadline(milliseconds(50));
    deadline.watch(sockets.ours());
    EXPECT_FALSE(deadline.expired());
  }
  std::this_thread::sleep_for(milliseconds(100));  // well past the deadline

  const char sent = 'x';
  ASSERT_EQ(::write(sockets.peers(), &sent, 1), 1);
  char byte = 0;
  EXPECT_EQ(::read(sockets.ours(), &byte, 1), 1);
  EXPECT_EQ(byte, 'x');
}

TEST(TlsHandshakeDeadline, DeadlineWithoutASocketTouchesNothing) {
  SocketPair sockets;
  bool expired = true;
  {
    TlsHandshakeDeadline deadline(milliseconds(10));
    std::this_thread::sleep_for(milliseconds(50));
    expired = deadline.expired();
  }

  const char sent = 'y';
  EXPECT_FALSE(expired);
  EXPECT_EQ(::write(sockets.ours(), &sent, 1), 1);
}

}  // namespace
}  // namespace dirproxy
