#include "frontends/socket/server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>
#include <vector>

#include "core/logging.hpp"

namespace dirproxy {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("server");
  return logger;
}

std::string errno_text(int error) { return std::system_category().message(error); }

// True when something accepts connections on `path` (another daemon).
bool someone_listens(const std::filesystem::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  bool listening = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return listening;
}

Result<gid_t> group_id(const std::string& name) {
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return fail(ErrorCode::bad_request, "server.socket_group: no group '" + name + "'");
  }
  return entry.gr_gid;
}

}  // namespace

Server::Server(asio::io_context& io, IoThreads& connection_threads, WorkerPool& pool, RequestDispatcher& dispatcher,
               std::function<RuntimePtr()> runtime, metrics::Registry* metrics)
    : io_(io),
      connection_threads_(connection_threads),
      pool_(pool),
      dispatcher_(dispatcher),
      runtime_(std::move(runtime)),
      acceptor_(io),
      refusals_(runtime_()->clock, kRefusalLogInterval) {
  if (metrics == nullptr) return;
  refused_ = &metrics
                  ->counter("dirproxy_connections_refused_total",
                            "Connections refused for want of a place (server.max_connections, or only the places kept "
                            "for admins left), answered rate_limited, by front end.",
                            {"frontend"})
                  .with({"socket"});
  auto& open = metrics->gauge("dirproxy_connections_open", "Client connections open now, by front end.", {"frontend"})
                   .with({"socket"});
  count_open_ = metrics->on_scrape([this, &open] { open.set(static_cast<double>(connection_count())); });
}

Server::~Server() { remove_socket_file(); }

Result<void> Server::listen(const config::Server& settings) {
  const auto& path = settings.socket;
  if (path.native().size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fail(ErrorCode::bad_request, "server.socket: the path " + path.string() + " is too long for a Unix socket");
  }
  std::error_code fs_error;
  std::filesystem::create_directories(path.parent_path(), fs_error);
  if (fs_error) {
    return fail(ErrorCode::internal_error,
                "cannot create the directory of " + path.string() + ": " + fs_error.message());
  }

  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return fail(ErrorCode::internal_error, path.string() + " exists and is not a socket; not replacing it");
    }
    if (someone_listens(path)) {
      return fail(ErrorCode::internal_error, "another process is listening on " + path.string());
    }
    log()->info("removing stale socket {}", path.string());
    ::unlink(path.c_str());
  }

  boost::system::error_code ec;
  asio::local::stream_protocol::endpoint endpoint(path.string());
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    // No one may connect before the mode and group are right: bind with a
    // umask that leaves the owner only, then widen to the configured mode.
    mode_t previous = ::umask(0177);
    acceptor_.bind(endpoint, ec);
    ::umask(previous);
  }
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::internal_error, "cannot listen on " + path.string() + ": " + ec.message());
  socket_path_ = path;

  if (!settings.socket_group.empty()) {
    auto gid = group_id(settings.socket_group);
    RETURN_IF_ERROR(gid);
    if (::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
      return fail(ErrorCode::internal_error,
                  "cannot give " + path.string() + " to group " + settings.socket_group + ": " + errno_text(errno));
    }
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(settings.socket_mode)) != 0) {
    return fail(ErrorCode::internal_error, "cannot chmod " + path.string() + ": " + errno_text(errno));
  }
  log()->info("listening on {}", path.string());
  return {};
}

Result<void> Server::adopt(int listening_fd) {
  int type = 0;
  int listening = 0;
  socklen_t length = sizeof(type);
  sockaddr_un address{};
  socklen_t address_length = sizeof(address);
  if (::getsockopt(listening_fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM ||
      (length = sizeof(listening), ::getsockopt(listening_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length)) != 0 ||
      listening == 0 || ::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0 ||
      address.sun_family != AF_UNIX) {
    return fail(ErrorCode::internal_error, "the socket passed by systemd is not a listening Unix stream socket");
  }
  boost::system::error_code ec;
  acceptor_.assign(asio::local::stream_protocol(), listening_fd, ec);
  if (ec) return fail(ErrorCode::internal_error, "cannot use the socket passed by systemd: " + ec.message());
  log()->info("listening on the socket passed by systemd ({})", address.sun_path);
  return {};
}

void Server::start() {
  accepting_ = true;
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

awaitable<void> Server::accept_loop() {
  while (accepting_) {
    boost::system::error_code ec;
    // The new socket belongs to the connection thread that will serve it.
    asio::io_context& connection_context = connection_threads_.next();
    UnixSocket socket = co_await acceptor_.async_accept(connection_context, asio::redirect_error(use_awaitable, ec));
    if (!accepting_) break;
    if (ec) {
      log()->warn("accept failed: {}", ec.message());
      co_await pause_after_failed_accept(io_, ec);
      continue;
    }
    asio::co_spawn(connection_context, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> Server::serve(UnixSocket socket) {
  RuntimePtr runtime = runtime_();
  const auto& settings = runtime->config->server;
  Peer peer;
  peer.connection = connections_.new_id();
  peer.credentials = peer_credentials(socket.native_handle());
  const std::uint64_t id = peer.connection;

  std::optional<bool> admin;
  bool admitted = take_place(id, settings, /*admin=*/false);
  if (!admitted && any_place_left(settings)) {
    // Only places kept for admins are left. The peer takes one only once it
    // is known to be an admin, so that others waiting for the answer never
    // hold one.
    admin = co_await admin_check(peer, settings);
    admitted = *admin && take_place(id, settings, /*admin=*/true);
  }
  if (!admitted) {
    co_await refuse(std::move(socket), settings);
    co_return;
  }
  if (!admin) admin = co_await admin_check(peer, settings);
  peer.admin = *admin;
  log()->debug("conn={} accepted from pid={} uid={} admin={}", peer.connection,
               peer.credentials ? peer.credentials->pid : 0,
               peer.credentials ? static_cast<long>(peer.credentials->uid) : -1L, peer.admin);

  ConnectionLimits limits{settings.max_request_bytes, settings.idle_timeout};
  auto connection = std::make_shared<Connection>(std::move(socket), peer, limits, dispatcher_);
  connections_.hold(id, connection);
  connection->start([this, id] { connections_.release(id); });
  // A shutdown that began while the admin check ran did not see this one.
  if (!accepting_) connection->stop();
}

awaitable<void> Server::shutdown(std::chrono::milliseconds grace) {
  accepting_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  remove_socket_file();
  connections_.stop_all();
  const std::size_t left =
      co_await wait_for_connections_to_close(io_, [this] { return connection_count(); }, grace);
  if (left > 0) {
    log()->warn("{} connection(s) still busy after {} ms; closing them", left, grace.count());
  }
}

awaitable<bool> Server::admin_check(const Peer& peer, const config::Server& settings) {
  if (!peer.credentials) co_return false;
  // Group and user lookups may go over the network (NSS): not on the io thread.
  auto check = [credentials = *peer.credentials, admins = settings.admins] { return is_admin(credentials, admins); };
  co_return co_await pool_.run(check);
}

bool Server::take_place(std::uint64_t id, const config::Server& settings, bool admin) {
  // The loader keeps the reserve below max_connections; a Config built in
  // code might not.
  const std::size_t reserved = std::min(settings.admin_reserved_connections, settings.max_connections);
  const std::size_t limit = admin ? settings.max_connections : settings.max_connections - reserved;
  return connections_.take_place(id, limit);
}

bool Server::any_place_left(const config::Server& settings) const {
  return connections_.size() < settings.max_connections;
}

awaitable<void> Server::refuse(UnixSocket socket, const config::Server& settings) {
  // A flood of refusals would be a flood of lines: the first is logged, the
  // rest counted and logged once per interval.
  if (refused_ != nullptr) refused_->increment();
  const LogThrottle::Report report = refusals_.record();
  if (report.events > 0) {
    log()->warn(
        "refused {} connection(s): server.max_connections ({}) reached, {} of them kept for admins; refusals "
        "are logged at most every {} s",
        report.events, settings.max_connections, settings.admin_reserved_connections, refusals_.interval().count());
  }
  if (report.flush_due) asio::co_spawn(io_, log_held_back_refusals(), asio::detached);

  std::string refusal =
      protocol::error_line(nullptr, make_error(ErrorCode::rate_limited, "too many connections; try again later"),
                           {{"retry_after", 1}}) +
      "\n";
  boost::system::error_code ignored;
  co_await asio::async_write(socket, asio::buffer(refusal), asio::redirect_error(use_awaitable, ignored));
  socket.close(ignored);
}

awaitable<void> Server::log_held_back_refusals() {
  asio::steady_timer interval_end(io_, refusals_.interval());
  boost::system::error_code ignored;
  co_await interval_end.async_wait(asio::redirect_error(use_awaitable, ignored));
  if (const std::uint64_t held_back = refusals_.flush(); held_back > 0) {
    const auto& settings = runtime_()->config->server;
    log()->warn(
        "refused {} more connection(s) in the last {} s: server.max_connections ({}) reached, {} of them "
        "kept for admins",
        held_back, refusals_.interval().count(), settings.max_connections, settings.admin_reserved_connections);
  }
}

std::size_t Server::connection_count() const { return connections_.size(); }

void Server::remove_socket_file() {
  if (socket_path_.empty()) return;
  ::unlink(socket_path_.c_str());
  socket_path_.clear();
}

}  // namespace dirproxy
