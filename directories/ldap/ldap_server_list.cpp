#include "directories/ldap/ldap_server_list.hpp"

#include <algorithm>
#include <utility>

#include "config/duration.hpp"

namespace dirproxy {

LdapServerList::LdapServerList(std::vector<std::string> uris, std::chrono::milliseconds retry_backoff, Clock now)
    : retry_backoff_(retry_backoff), clock_(std::move(now)) {
  servers_.reserve(uris.size());
  for (std::string& uri : uris) {
    ServerState server;
    server.uri = std::move(uri);
    servers_.push_back(std::move(server));
  }
}

LdapServerList::TimePoint LdapServerList::now() const { return clock_ ? clock_() : std::chrono::steady_clock::now(); }

std::chrono::milliseconds LdapServerList::backoff_after(unsigned consecutive_failures) const {
  const std::chrono::milliseconds ceiling = std::max(kMaxBackoff, retry_backoff_);
  std::chrono::milliseconds backoff = retry_backoff_;
  // Doubling stops at the ceiling, so this neither overflows nor loops long.
  for (unsigned failure = 1; failure < consecutive_failures && backoff < ceiling; ++failure) {
    backoff *= 2;
  }
  return std::min(backoff, ceiling);
}

bool LdapServerList::is_usable(const ServerState& server, TimePoint now) const {
  return server.up || (now >= server.retry_at && !server.retry_in_progress);
}

std::optional<LdapServerList::Attempt> LdapServerList::begin_attempt(std::size_t first) {
  const TimePoint now = this->now();
  for (std::size_t index = first; index < servers_.size(); ++index) {
    ServerState& server = servers_[index];
    if (!is_usable(server, now)) {
      continue;
    }
    ++server.attempts;
    if (server.up) {
      return Attempt{index, /*retry=*/false};
    }
    server.retry_in_progress = true;
    return Attempt{index, /*retry=*/true};
  }
  return std::nullopt;
}

void LdapServerList::succeeded(const Attempt& attempt) {
  ServerState& server = servers_.at(attempt.server);
  // Also for an attempt that began before another one marked the server
  // down: the newest outcome is the best knowledge there is.
  server.up = true;
  server.consecutive_failures = 0;
  server.backoff = std::chrono::milliseconds(0);
  server.retry_at = TimePoint{};
  if (attempt.retry) {
    server.retry_in_progress = false;
  }
}

void LdapServerList::failed(const Attempt& attempt, std::string error) {
  ServerState& server = servers_.at(attempt.server);
  if (attempt.retry) {
    server.retry_in_progress = false;
    mark_down(server, std::move(error));
  } else {
    connection_broke(attempt.server, std::move(error));
  }
}

void LdapServerList::connection_broke(std::size_t index, std::string error) {
  ServerState& server = servers_.at(index);
  if (server.up) {
    mark_down(server, std::move(error));
  } else {
    // Another connection reported this outage first; keep its retry time
    // (counting it again would double the backoff for one outage) but
    // remember the newest error.
    server.last_error = std::move(error);
  }
}

void LdapServerList::mark_down(ServerState& server, std::string error) {
  server.up = false;
  ++server.consecutive_failures;
  server.backoff = backoff_after(server.consecutive_failures);
  server.retry_at = now() + server.backoff;
  server.last_error = std::move(error);
}

bool LdapServerList::is_down(std::size_t index) const {
  const ServerState& server = servers_.at(index);
  return !server.up && now() < server.retry_at;
}

bool LdapServerList::has_preferred_before(std::size_t index) const {
  const TimePoint now = this->now();
  const std::size_t end = std::min(index, servers_.size());
  for (std::size_t earlier = 0; earlier < end; ++earlier) {
    if (is_usable(servers_[earlier], now)) {
      return true;
    }
  }
  return false;
}

bool LdapServerList::any_up() const {
  return std::any_of(servers_.begin(), servers_.end(), [](const ServerState& server) { return server.up; });
}

std::vector<LdapServerList::ServerState> LdapServerList::states() const { return servers_; }

std::string LdapServerList::describe_failures() const {
  const TimePoint now = this->now();
  std::string text;
  for (const ServerState& server : servers_) {
    if (server.up) {
      continue;
    }
    if (!text.empty()) {
      text += "; ";
    }
    text += server.uri + ": " + server.last_error;
    if (server.retry_in_progress) {
      text += " (retrying now)";
    } else if (now < server.retry_at) {
      // Rounded up, so that "retry in 0ms" never shows for a pending retry.
      const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(server.retry_at - now);
      text += " (retry in " + config::format_duration(remaining) + ")";
    } else {
      text += " (retry at the next request)";
    }
  }
  return text;
}

}  // namespace dirproxy
