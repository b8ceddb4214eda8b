// The ordered URIs of one ldap directory and what is known about each: up,
// or down until a retry time. This is the failover and backoff policy of
// LdapConnectionPool, kept apart from the connections so that it can be
// tested with a fake clock and without a server.
//
// A server that failed is skipped without a connection attempt until its
// backoff expires, so a dead server does not cost its connect timeout on
// every request. The backoff starts at retry_backoff and doubles with each
// consecutive failure up to 60 s; a success resets it. Once it expires, one
// attempt (the "retry") is let through while every other caller still skips
// the server: a hung server then holds up one request, not all of them.
// Servers are always tried in configured order, so the first one that is
// usable again wins back new connections (failback).
//
// Not thread-safe: LdapConnectionPool guards it with its mutex.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dirproxy {

class LdapServerList final {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // The time source of the backoff; tests pass a fake one.
  using Clock = std::function<TimePoint()>;

  // The ceiling of the doubling backoff (unless retry_backoff itself is larger).
  static constexpr std::chrono::milliseconds kMaxBackoff = std::chrono::seconds(60);

  // One connection attempt handed out by begin_attempt(); its outcome must be
  // reported with succeeded() or failed().
  struct Attempt {
    std::size_t server = 0;  // index into the configured URIs
    bool retry = false;      // the one attempt after the backoff expired
  };

  // What is known about one server, for status reports and tests.
  struct ServerState {
    std::string uri;
    bool up = true;  // no failure since the last success (or since start)
    unsigned consecutive_failures = 0;
    std::chrono::milliseconds backoff{0};  // of the current down period; 0 when up
    TimePoint retry_at{};                  // when down: skipped until then
    bool retry_in_progress = false;
    std::string last_error;      // of the last failure; kept after a recovery
    std::uint64_t attempts = 0;  // connection attempts ever begun
  };

  // `uris` in failover order (the loader requires at least one; with none,
  // begin_attempt() never offers a server). A default `now` is steady_clock.
  LdapServerList(std::vector<std::string> uris, std::chrono::milliseconds retry_backoff, Clock now = {});

  // The first server at index `first` or later that is worth a connection
  // attempt now: one that is up, or one whose backoff has expired and that no
  // other attempt is retrying already. nullopt when there is none.
  std::optional<Attempt> begin_attempt(std::size_t first = 0);
  // The attempt connected (and bound): the server is up, its backoff reset.
  void succeeded(const Attempt& attempt);
  // The attempt failed with `error`: the server is down for the next backoff.
  void failed(const Attempt& attempt, std::string error);
  // A connection to `server` that had been working broke (timeout, server
  // gone). Marks the server down unless it is down already: one outage
  // counts once, however many connections notice it.
  void connection_broke(std::size_t server, std::string error);

  // Whether `server` is in its backoff period now.
  bool is_down(std::size_t server) const;
  // Whether a new connection would now try a server listed before `server`
  // first: a connection to `server` is then not worth keeping idle.
  bool has_preferred_before(std::size_t server) const;
  // Whether some server is up (not failed since its last success).
  bool any_up() const;

  std::size_t size() const { return servers_.size(); }
  const std::string& uri(std::size_t server) const { return servers_.at(server).uri; }
  std::vector<ServerState> states() const;

  // "URI: error (retry in 400ms)" for every server that is not up, joined by
  // "; ", for error messages and status reports.
  std::string describe_failures() const;

 private:
  // The backoff after `consecutive_failures` (>= 1) failures in a row.
  std::chrono::milliseconds backoff_after(unsigned consecutive_failures) const;
  // Starts a down period for `server` at the next backoff.
  void mark_down(ServerState& server, std::string error);
  // Available for a new connection now (up, or backoff over and not retrying).
  bool is_usable(const ServerState& server, TimePoint now) const;
  TimePoint now() const;

  const std::chrono::milliseconds retry_backoff_;
  const Clock clock_;
  std::vector<ServerState> servers_;
};

}  // namespace dirproxy
