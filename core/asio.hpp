// The one place that includes Boost.Asio. With g++ 12, <utility> must come
// before <boost/asio.hpp> (docs/design.md, Concurrency).
#pragma once

#include <utility>

#include <boost/asio.hpp>

namespace dirproxy {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
}  // namespace dirproxy
