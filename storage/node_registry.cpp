#include "storage/node_registry.hpp"

#include <sodium.h>
#include <unistd.h>

#include <array>
#include <climits>

namespace dirproxy {
namespace {

std::string random_name() {
  // sodium_init is idempotent and thread-safe; -1 means libsodium cannot
  // work at all, and randombytes_buf would then abort rather than return
  // weak bytes.
  [[maybe_unused]] const int initialised = sodium_init();
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, 2 * 32 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return std::string(hex.data(), 2 * bytes.size());
}

std::string host_name() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return std::string(name.data());
}

}  // namespace

const std::string& this_process() {
  static const std::string name = random_name();
  return name;
}

Result<void> record_node_heartbeat(const StateDatabase::Lease& lease, std::string_view process, std::int64_t now) {
  static const std::string host = host_name();
  const auto pid = static_cast<std::int64_t>(::getpid());
  const std::int64_t forget_before = now - std::chrono::seconds(kDeadNodeRowKept).count();
  return lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<void> {
    auto upsert = lease.prepare(
        "INSERT INTO nodes (process, host, pid, started_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)"
        " ON CONFLICT (process) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        process, host, pid, now);
    RETURN_IF_ERROR(upsert);
    RETURN_IF_ERROR(upsert->run());
    auto forget = lease.prepare("DELETE FROM nodes WHERE last_seen_at < ?1", forget_before);
    RETURN_IF_ERROR(forget);
    return forget->run();
  });
}

Result<void> remove_node(const StateDatabase::Lease& lease, std::string_view process) {
  auto remove = lease.prepare("DELETE FROM nodes WHERE process = ?1", process);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

Result<std::vector<Node>> list_nodes(const StateDatabase::Lease& lease) {
  auto select = lease.prepare(
      "SELECT process, host, pid, started_at, last_seen_at FROM nodes ORDER BY started_at, process");
  RETURN_IF_ERROR(select);
  std::vector<Node> nodes;
  for (;;) {
    auto row = select->step();
    RETURN_IF_ERROR(row);
    if (!*row) return nodes;
    nodes.push_back(Node{select->column_text(0), select->column_text(1), select->column_int64(2),
                         select->column_int64(3), select->column_int64(4)});
  }
}

}  // namespace dirproxy
