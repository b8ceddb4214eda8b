#include "directories/pending_lookup.hpp"

#include <memory>

namespace dirproxy {

awaitable<Result<std::optional<User>>> finish_lookup(PendingUserLookup& lookup) {
  using Descriptor = asio::posix::stream_descriptor;
  const auto executor = co_await asio::this_coro::executor;
  // The socket belongs to the lookup's connection: released, never closed,
  // when the wait ends (also when the coroutine is destroyed mid-wait).
  std::shared_ptr<Descriptor> socket(new Descriptor(executor, lookup.descriptor()), [](Descriptor* watched) {
    watched->release();
    delete watched;
  });
  // The timer's handler may run after this coroutine has ended (when it had
  // already fired): it holds the socket weakly.
  asio::steady_timer deadline(executor, lookup.deadline());
  deadline.async_wait([watched = std::weak_ptr<Descriptor>(socket)](const boost::system::error_code& error) {
    if (error) return;
    if (auto descriptor = watched.lock()) {
      boost::system::error_code ignored;
      descriptor->cancel(ignored);
    }
  });
  for (;;) {
    // The request has just been sent, so the first thing is to wait. An
    // answer that came before the socket was watched is not missed: the
    // reactor reports a socket that is readable when it starts watching it.
    // Readable, or cancelled at the deadline: poll() tells which.
    boost::system::error_code ignored;
    co_await socket->async_wait(Descriptor::wait_read, asio::redirect_error(use_awaitable, ignored));
    if (auto outcome = lookup.poll()) {
      deadline.cancel();
      co_return std::move(*outcome);
    }
  }
}

}  // namespace dirproxy
