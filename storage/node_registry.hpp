// The dirproxyd processes ("nodes") that share one state database (table
// nodes). Each run of dirproxyd has a random name, this_process(), under
// which it records what it leaves in the database while working on it (an
// account creation in progress, an outbox message it is delivering). Its row
// says it still runs: the daemon refreshes it every kNodeHeartbeatInterval
// and deletes it at a clean shutdown. Work left under the name of a node
// whose row is missing or older than kNodeStaleAfter belongs to a node that
// died, and the others settle it; work of a live node is its own business.
//
// Every function runs on the caller's lease: record_node_heartbeat in a
// write transaction of its own (so not inside another), the others inside
// the caller's transaction or on their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

// How often a running node refreshes its row.
inline constexpr std::chrono::seconds kNodeHeartbeatInterval{10};

// How old a node's row may get before the node counts as dead: six missed
// heartbeats, so that a node that is only slow for a while (its worker pool
// busy, the database failing over within its statement_timeout, a clock a
// few seconds apart from the others') is never taken for dead while it
// still works on what it recorded.
inline constexpr std::chrono::seconds kNodeStaleAfter{60};

// How long the row of a node that died without deleting it is kept: long
// after it stopped mattering (kNodeStaleAfter), so an admin can still see it.
inline constexpr std::chrono::hours kDeadNodeRowKept{24};

// One node as its row has it.
struct Node {
  std::string process;           // its run's random name
  std::string host;              // gethostname() of its machine
  std::int64_t pid = 0;
  std::int64_t started_at = 0;   // Unix seconds: its first heartbeat
  std::int64_t last_seen_at = 0; // Unix seconds: its latest heartbeat
};

// This run's name: 32 random bytes as hex, made on first use and the same
// for the whole run, so that a recorded name other than one's own always
// belongs to another run (on this host or another).
const std::string& this_process();

// Records that node `process` (this run: this_process()) is alive at `now`:
// inserts its row with this machine's host name and this process's pid, or
// refreshes last_seen_at of the row it has. Also deletes the rows of nodes
// not seen for kDeadNodeRowKept.
Result<void> record_node_heartbeat(const StateDatabase::Lease& lease, std::string_view process, std::int64_t now);

// Deletes the row of node `process` (a clean shutdown); none is fine.
Result<void> remove_node(const StateDatabase::Lease& lease, std::string_view process);

// Every node's row, oldest start first.
Result<std::vector<Node>> list_nodes(const StateDatabase::Lease& lease);

}  // namespace dirproxy
