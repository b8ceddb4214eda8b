// The one place that includes Boost.Asio. With g++ 12, <utility> must come
// before <boost/asio.hpp> (docs/design.md, Concurrency).
#pragma once

#include <utility>

// Boost 1.74 recognises clang's coroutines only in their Technical
// Specification form (<experimental/coroutine>); clang 14 has the C++20
// ones that g++ uses, with libstdc++'s <coroutine>. Clang builds the fuzz
// targets (docs/hardening.md).
#if defined(__clang__) && !defined(BOOST_ASIO_HAS_CO_AWAIT) && defined(__cpp_impl_coroutine)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <boost/asio.hpp>

#include <chrono>

namespace dirproxy {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// For an accept loop, after a failed accept: when the process is out of file
// descriptors or buffers, accepting again at once would fail again and spin,
// so this waits 100 ms first; after any other error it returns at once.
inline awaitable<void> pause_after_failed_accept(asio::io_context& io, boost::system::error_code ec) {
  if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
    asio::steady_timer pause(io, std::chrono::milliseconds(100));
    co_await pause.async_wait(use_awaitable);
  }
}
// For a server's shutdown: waits, looking every 10 ms, until `open()` (the
// connections still open) is 0 or `grace` has passed, and returns what
// `open()` says then.
template <typename OpenConnections>
awaitable<std::size_t> wait_for_connections_to_close(asio::io_context& io, OpenConnections open,
                                                     std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer poll(io);
  boost::system::error_code ignored;
  while (open() > 0 && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
  co_return open();
}
}  // namespace dirproxy
