// dirproxy-load: a load generator for dirproxyd's socket protocol.
//
// It opens N connections to the daemon's Unix socket and keeps D requests in
// flight on each (pipelining; answers come back in order, so the oldest send
// time of a connection belongs to the next answer). Each request is drawn
// from an operation mix (get_user, authenticate, get_user_groups) and a key
// chosen uniformly or by a Zipf law from a user list. After a warm-up it
// measures for a fixed duration and prints the throughput and the p50, p95,
// p99 and max latency of the answers received in that window.
//
// By default one thread drives every connection with epoll, and one thread
// handles 512 connections as easily as one. --threads T spreads the
// connections over T such threads, each with its own epoll: ldclt, the
// reference the benchmark compares with, runs one thread per connection,
// and on a small virtual machine a single client thread that sleeps in
// epoll_wait between answers adds its own wake-up latency to every request
// (a sleeping virtual CPU is slow to wake).
//
// Every answer must be "ok": true with the id that was sent. Anything else
// (a refusal, an answer out of order, a connection the daemon closed) is
// counted as an error, the first few are printed, and the exit status is 1.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/user_pattern.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

enum class Op { get_user, authenticate, get_user_groups };

struct Account {
  std::string username;
  std::string password;
};

// Draws an index in [0, n): uniformly, with P(k) proportional to
// 1 / (k + 1)^s (Zipf, by binary search in the cumulative distribution), or
// 0, 1, 2, ... in turn (sequential: to visit every key once, e.g. to fill a
// cache).
class KeyChooser {
 public:
  static KeyChooser uniform(std::size_t n, std::uint64_t seed) { return KeyChooser(n, seed); }

  static KeyChooser zipf(std::size_t n, double exponent, std::uint64_t seed) {
    KeyChooser chooser(n, seed);
    chooser.zipf_ = true;
    chooser.build_zipf(exponent);
    return chooser;
  }

  // From `first` on: threads that share a sequential pass start at their
  // own part of the list.
  static KeyChooser sequential(std::size_t n, std::size_t first = 0) {
    KeyChooser chooser(n, 1);
    chooser.sequential_ = true;
    chooser.next_ = first;
    return chooser;
  }

  std::size_t next() {
    if (sequential_) return next_++ % n_;
    if (!zipf_) return uniform_(random_);
    const double u = unit_(random_);
    const auto at = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
    return std::min<std::size_t>(static_cast<std::size_t>(at - cumulative_.begin()), n_ - 1);
  }

  std::mt19937_64& random() { return random_; }

 private:
  KeyChooser(std::size_t n, std::uint64_t seed) : n_(n), random_(seed), uniform_(0, n - 1) {}

  void build_zipf(double exponent) {
    cumulative_.reserve(n_);
    double sum = 0;
    for (std::size_t k = 0; k < n_; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), exponent);
      cumulative_.push_back(sum);
    }
    for (double& value : cumulative_) value /= sum;
  }

  std::size_t n_;
  bool zipf_ = false;
  bool sequential_ = false;
  std::size_t next_ = 0;
  std::mt19937_64 random_;
  std::uniform_int_distribution<std::size_t> uniform_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::vector<double> cumulative_;
};

// The operation mix, e.g. "get_user=80,authenticate=10,get_user_groups=10".
class OperationMix {
 public:
  explicit OperationMix(const std::string& text) {
    std::stringstream parts(text);
    for (std::string part; std::getline(parts, part, ',');) {
      const auto equals = part.find('=');
      const std::string name = part.substr(0, equals);
      const double weight = equals == std::string::npos ? 1.0 : std::stod(part.substr(equals + 1));
      Op op;
      if (name == "get_user") {
        op = Op::get_user;
      } else if (name == "authenticate") {
        op = Op::authenticate;
      } else if (name == "get_user_groups") {
        op = Op::get_user_groups;
      } else {
        throw std::invalid_argument("unknown operation in --mix: '" + name + "'");
      }
      if (weight < 0) throw std::invalid_argument("negative weight in --mix");
      if (weight == 0) continue;
      total_ += weight;
      ops_.push_back(op);
      cumulative_.push_back(total_);
    }
    if (ops_.empty()) throw std::invalid_argument("--mix names no operation with a weight above 0");
  }

  Op next(std::mt19937_64& random) {
    const double u = std::uniform_real_distribution<double>(0.0, total_)(random);
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (u < cumulative_[i]) return ops_[i];
    }
    return ops_.back();
  }

 private:
  std::vector<Op> ops_;
  std::vector<double> cumulative_;
  double total_ = 0;
};

// JSON string content: usernames and passwords from the user list are
// escaped as nlohmann would.
std::string json_string(const std::string& text) { return Json(text).dump(); }

std::string request_line(Op op, std::uint64_t id, const Account& account) {
  std::string line = "{\"id\":" + std::to_string(id);
  switch (op) {
    case Op::get_user: line += ",\"op\":\"get_user\",\"username\":" + json_string(account.username); break;
    case Op::get_user_groups:
      line += ",\"op\":\"get_user_groups\",\"username\":" + json_string(account.username);
      break;
    case Op::authenticate:
      line += ",\"op\":\"authenticate\",\"username\":" + json_string(account.username) +
              ",\"password\":" + json_string(account.password);
      break;
  }
  line += "}\n";
  return line;
}

struct Pending {
  std::uint64_t id;
  Clock::time_point sent;
};

struct Connection {
  int fd = -1;
  std::string output;         // bytes not yet written
  std::size_t output_at = 0;  // how much of output is written
  std::string input;          // bytes received after the last complete line
  std::deque<Pending> pending;
  bool want_write = false;
};

struct Options {
  std::string socket;
  unsigned connections = 8;
  unsigned threads = 1;
  unsigned depth = 1;
  std::string mix = "get_user";
  std::string distribution = "uniform";
  double zipf_exponent = 1.0;
  std::string users_file;
  std::string user_pattern;
  std::string range;
  std::string password;
  std::string password_pattern;
  double duration_s = 10;
  double warmup_s = 1;
  std::uint64_t seed = 1;
  std::uint64_t count = 0;
  bool json = false;
  std::string label;
  unsigned max_errors_shown = 5;
};

// "user%05d" with "1-10000" gives user00001 … user10000.
std::vector<Account> accounts_from_pattern(const Options& options) {
  const auto pattern = dirproxy::bench::UserPattern::parse(options.user_pattern);
  if (!pattern) throw std::invalid_argument("--user-pattern: " + pattern.error().message);
  const auto dash = options.range.find('-');
  if (dash == std::string::npos) throw std::invalid_argument("--range must be FIRST-LAST");
  const long first = std::stol(options.range.substr(0, dash));
  const long last = std::stol(options.range.substr(dash + 1));
  if (first > last) throw std::invalid_argument("--range: FIRST is greater than LAST");
  std::vector<Account> accounts;
  accounts.reserve(static_cast<std::size_t>(last - first + 1));
  for (long n = first; n <= last; ++n) accounts.push_back({pattern->format(n), ""});
  return accounts;
}

// One account a line: "username" or "username password" (split at the first
// space or tab).
std::vector<Account> accounts_from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Account> accounts;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto space = line.find_first_of(" \t");
    if (space == std::string::npos) {
      accounts.push_back({line, ""});
    } else {
      accounts.push_back({line.substr(0, space), line.substr(space + 1)});
    }
  }
  return accounts;
}

void fill_passwords(std::vector<Account>& accounts, const Options& options) {
  for (auto& account : accounts) {
    if (!account.password.empty()) continue;
    if (!options.password_pattern.empty()) {
      std::string password = options.password_pattern;
      const auto at = password.find("{user}");
      if (at != std::string::npos) password.replace(at, 6, account.username);
      account.password = password;
    } else {
      account.password = options.password;
    }
  }
}

int connect_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("cannot connect to " + path + ": " + std::strerror(error));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

double percentile(const std::vector<std::uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)]) / 1000.0;  // ns -> µs
}

// Errors printed so far, over every thread: only the first few are.
std::atomic<std::uint64_t> errors_shown{0};

// What one thread's connections measured.
struct Outcome {
  std::vector<std::uint64_t> latencies_ns;
  std::uint64_t errors = 0;
  double elapsed_s = 0;
};

// The part of the run one thread drives: `connections` connections, and with
// --count, `count` requests.
struct Share {
  unsigned thread = 0;
  unsigned connections = 0;
  std::uint64_t count = 0;
};

class LoadRun {
 public:
  LoadRun(const Options& options, const std::vector<Account>& accounts, Share share)
      : options_(options),
        share_(share),
        accounts_(accounts),
        chooser_(make_chooser(options, share, accounts_.size())),
        mix_(options.mix) {}

  static KeyChooser make_chooser(const Options& options, Share share, std::size_t n) {
    if (options.distribution == "zipf") {
      return KeyChooser::zipf(n, options.zipf_exponent, options.seed + share.thread);
    }
    if (options.distribution == "sequential") return KeyChooser::sequential(n, n * share.thread / options.threads);
    return KeyChooser::uniform(n, options.seed + share.thread);
  }

  Outcome run() {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    connections_.resize(share_.connections);
    open_ = connections_.size();
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      connections_[i].fd = connect_socket(options_.socket);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = i;
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, connections_[i].fd, &event);
    }

    const auto started = Clock::now();
    if (share_.count > 0) {
      // Every answer counts; the run ends when the last one arrives.
      measure_from_ = started;
      measure_until_ = Clock::time_point::max();
    } else {
      measure_from_ = started + to_duration(options_.warmup_s);
      measure_until_ = measure_from_ + to_duration(options_.duration_s);
    }
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      for (unsigned d = 0; d < options_.depth && may_send(); ++d) enqueue(i);
      flush(i);
    }

    std::vector<epoll_event> events(std::max<std::size_t>(64, connections_.size()));
    // Bounded: the loop ends at measure_until_ (with --count: when every
    // request is answered), or sooner when every connection is gone.
    while (Clock::now() < measure_until_ && open_ > 0 && (share_.count == 0 || answered_ < share_.count)) {
      const int ready = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
      }
      for (int e = 0; e < ready; ++e) {
        const std::size_t i = events[e].data.u64;
        if (connections_[i].fd < 0) continue;
        if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) receive(i);
        if (connections_[i].fd >= 0 && (events[e].events & EPOLLOUT)) flush(i);
      }
    }
    for (auto& connection : connections_) {
      if (connection.fd >= 0) ::close(connection.fd);
    }
    ::close(epoll_);
    Outcome outcome;
    outcome.elapsed_s =
        share_.count > 0 ? std::chrono::duration<double>(Clock::now() - started).count() : options_.duration_s;
    outcome.latencies_ns = std::move(latencies_ns_);
    outcome.errors = errors_;
    return outcome;
  }

 private:
  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  bool may_send() const { return share_.count == 0 || next_id_ < share_.count; }

  void enqueue(std::size_t i) {
    Connection& connection = connections_[i];
    const Op op = mix_.next(chooser_.random());
    const Account& account = accounts_[chooser_.next()];
    const std::uint64_t id = ++next_id_;
    connection.output += request_line(op, id, account);
    connection.pending.push_back({id, Clock::now()});
  }

  void flush(std::size_t i) {
    Connection& connection = connections_[i];
    while (connection.output_at < connection.output.size()) {
      const ssize_t sent = ::send(connection.fd, connection.output.data() + connection.output_at,
                                  connection.output.size() - connection.output_at, MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        fail_connection(i, std::string("send: ") + std::strerror(errno));
        return;
      }
      connection.output_at += static_cast<std::size_t>(sent);
    }
    if (connection.output_at == connection.output.size()) {
      connection.output.clear();
      connection.output_at = 0;
    }
    const bool want_write = !connection.output.empty();
    if (want_write != connection.want_write) {
      connection.want_write = want_write;
      epoll_event event{};
      event.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
      event.data.u64 = i;
      ::epoll_ctl(epoll_, EPOLL_CTL_MOD, connection.fd, &event);
    }
  }

  void receive(std::size_t i) {
    Connection& connection = connections_[i];
    char buffer[65536];
    for (;;) {
      const ssize_t got = ::recv(connection.fd, buffer, sizeof buffer, 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        fail_connection(i, std::string("recv: ") + std::strerror(errno));
        return;
      }
      if (got == 0) {
        fail_connection(i, "the daemon closed the connection");
        return;
      }
      connection.input.append(buffer, static_cast<std::size_t>(got));
      if (static_cast<std::size_t>(got) < sizeof buffer) break;
    }
    const auto now = Clock::now();
    std::size_t start = 0;
    unsigned answered = 0;
    for (;;) {
      const auto end = connection.input.find('\n', start);
      if (end == std::string::npos) break;
      answer(i, std::string_view(connection.input).substr(start, end - start), now);
      if (connection.fd < 0) return;
      start = end + 1;
      ++answered;
    }
    connection.input.erase(0, start);
    if (now < measure_until_) {
      for (unsigned n = 0; n < answered && may_send(); ++n) enqueue(i);
      flush(i);
    }
  }

  void answer(std::size_t i, std::string_view line, Clock::time_point now) {
    Connection& connection = connections_[i];
    if (connection.pending.empty()) {
      error(i, "an answer to no request: " + std::string(line));
      return;
    }
    const Pending pending = connection.pending.front();
    connection.pending.pop_front();
    ++answered_;
    // nlohmann writes the keys in alphabetical order ("groups" comes before
    // "id"), and a quote inside a string value is escaped, so the first
    // "id": is the answer's own and "ok" follows it.
    const std::string expected = "\"id\":" + std::to_string(pending.id) + ",\"ok\":true";
    const auto at = line.find("\"id\":");
    if (at == std::string_view::npos || line.substr(at, expected.size()) != expected) {
      error(i, "unexpected answer to request " + std::to_string(pending.id) + ": " + std::string(line.substr(0, 400)));
      return;
    }
    if (pending.sent >= measure_from_ && now <= measure_until_) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - pending.sent).count();
      latencies_ns_.push_back(static_cast<std::uint64_t>(ns));
    }
  }

  void error(std::size_t, const std::string& what) {
    ++errors_;
    if (errors_shown++ < options_.max_errors_shown) std::cerr << "dirproxy-load: " << what << "\n";
  }

  void fail_connection(std::size_t i, const std::string& what) {
    Connection& connection = connections_[i];
    error(i, "connection " + std::to_string(i) + ": " + what);
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, connection.fd, nullptr);
    ::close(connection.fd);
    connection.fd = -1;
    --open_;
  }

  const Options& options_;
  const Share share_;
  const std::vector<Account>& accounts_;
  KeyChooser chooser_;
  OperationMix mix_;
  std::vector<Connection> connections_;
  std::vector<std::uint64_t> latencies_ns_;
  std::uint64_t next_id_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t answered_ = 0;
  std::size_t open_ = 0;
  int epoll_ = -1;
  Clock::time_point measure_from_;
  Clock::time_point measure_until_;
};

// Prints the merged figures of every thread; the exit status: 0 when every
// answer was right and there was at least one.
int report(const Options& options, std::size_t keys, std::vector<Outcome> outcomes) {
  std::vector<std::uint64_t> latencies_ns;
  std::uint64_t errors = 0;
  double seconds = 0;
  for (auto& outcome : outcomes) {
    latencies_ns.insert(latencies_ns.end(), outcome.latencies_ns.begin(), outcome.latencies_ns.end());
    errors += outcome.errors;
    seconds = std::max(seconds, outcome.elapsed_s);
  }
  std::sort(latencies_ns.begin(), latencies_ns.end());
  const double throughput = static_cast<double>(latencies_ns.size()) / seconds;
  const double p50 = percentile(latencies_ns, 50), p95 = percentile(latencies_ns, 95),
               p99 = percentile(latencies_ns, 99);
  const double max = latencies_ns.empty() ? 0 : static_cast<double>(latencies_ns.back()) / 1000.0;
  if (options.json) {
    Json out = {{"label", options.label},
                {"connections", options.connections},
                {"threads", options.threads},
                {"depth", options.depth},
                {"mix", options.mix},
                {"distribution", options.distribution},
                {"keys", keys},
                {"duration_s", seconds},
                {"operations", latencies_ns.size()},
                {"throughput", throughput},
                {"p50_us", p50},
                {"p95_us", p95},
                {"p99_us", p99},
                {"max_us", max},
                {"errors", errors}};
    std::cout << out.dump() << "\n";
  } else {
    std::printf("%s%sconnections %u, threads %u, depth %u, mix %s, %s keys (%zu), %.1f s\n", options.label.c_str(),
                options.label.empty() ? "" : ": ", options.connections, options.threads, options.depth,
                options.mix.c_str(), options.distribution.c_str(), keys, seconds);
    std::printf("  throughput %.0f ops/s (%zu operations)\n", throughput, latencies_ns.size());
    std::printf("  latency    p50 %.1f us  p95 %.1f us  p99 %.1f us  max %.1f us\n", p50, p95, p99, max);
    std::printf("  errors     %llu\n", static_cast<unsigned long long>(errors));
  }
  return errors == 0 && !latencies_ns.empty() ? 0 : 1;
}

// Splits the connections (and a --count) over the threads as evenly as
// they go, runs every thread, and reports their figures together.
int run_threads(const Options& options, const std::vector<Account>& accounts) {
  std::vector<Outcome> outcomes(options.threads);
  std::vector<std::exception_ptr> failures(options.threads);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < options.threads; ++t) {
    Share share{t, options.connections / options.threads + (t < options.connections % options.threads ? 1 : 0),
                options.count / options.threads + (t < options.count % options.threads ? 1 : 0)};
    threads.emplace_back([&, share] {
      try {
        LoadRun run(options, accounts, share);
        outcomes[share.thread] = run.run();
      } catch (...) {
        failures[share.thread] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
  return report(options, accounts.size(), std::move(outcomes));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"dirproxy-load: throughput and latency of dirproxyd's socket protocol"};
  app.add_option("--socket", options.socket, "dirproxyd's Unix socket")->required();
  app.add_option("-c,--connections", options.connections, "connections (default 8)")->check(CLI::Range(1u, 65536u));
  app.add_option("--threads", options.threads, "client threads, each driving its share of the connections (default 1)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("-d,--depth", options.depth, "requests in flight per connection (default 1)")
      ->check(CLI::Range(1u, 128u));
  app.add_option("--mix", options.mix,
                 "operation weights, e.g. get_user=80,authenticate=10,get_user_groups=10 "
                 "(default get_user)");
  app.add_option("--distribution", options.distribution, "key choice: uniform, zipf or sequential (default uniform)")
      ->check(CLI::IsMember({"uniform", "zipf", "sequential"}));
  app.add_option("--zipf-exponent", options.zipf_exponent, "Zipf exponent s (default 1.0)");
  auto* file = app.add_option("--users", options.users_file, "user list: one 'username' or 'username password' a line");
  auto* pattern =
      app.add_option("--user-pattern", options.user_pattern,
                     "usernames: text with one %d, %Nd or %0Nd for the number, e.g. user%05d (with --range)");
  app.add_option("--range", options.range, "FIRST-LAST numbers for --user-pattern, e.g. 1-10000");
  app.add_option("--password", options.password, "password for accounts without one in the list");
  app.add_option("--password-pattern", options.password_pattern,
                 "password for accounts without one, {user} replaced by the username");
  app.add_option("-t,--duration", options.duration_s, "seconds measured (default 10)");
  app.add_option("--warmup", options.warmup_s, "seconds of load before measuring (default 1)");
  app.add_option("--count", options.count,
                 "send this many requests and stop when all are answered, instead of --duration");
  app.add_option("--seed", options.seed, "random seed (default 1)");
  app.add_option("--label", options.label, "a name for this run in the output");
  app.add_flag("--json", options.json, "print one JSON object instead of text");
  file->excludes(pattern);
  CLI11_PARSE(app, argc, argv);

  try {
    if (options.users_file.empty() == options.user_pattern.empty()) {
      throw std::invalid_argument("give exactly one of --users and --user-pattern");
    }
    auto accounts =
        options.users_file.empty() ? accounts_from_pattern(options) : accounts_from_file(options.users_file);
    if (accounts.empty()) throw std::invalid_argument("the user list is empty");
    fill_passwords(accounts, options);
    if (options.duration_s <= 0 || options.warmup_s < 0) {
      throw std::invalid_argument("--duration must be > 0 and --warmup >= 0");
    }
    if (options.threads > options.connections) {
      throw std::invalid_argument("--threads must not exceed --connections");
    }
    if (options.count > 0 && options.count < options.threads) {
      throw std::invalid_argument("--count must be at least --threads");
    }
    return run_threads(options, accounts);
  } catch (const std::exception& e) {
    std::cerr << "dirproxy-load: " << e.what() << "\n";
    return 2;
  }
}
