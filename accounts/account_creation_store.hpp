// The record of an account creation that writes to directories outside the
// state database (table account_creations): when an LDAP directory holds the
// new user or one of its groups, the creation cannot commit in one
// transaction, so it is recorded first, with the groups the account joins
// and what the creation claimed, and the record goes when the creation is
// complete or undone. A record that outlives its process (a crash) tells the
// next start, or another node sharing the database, what to finish or undo. A username has at most one record: a
// second creation of it meanwhile is a conflict.
//
// Every function runs on the caller's lease, inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/state_database.hpp"

namespace dirproxy {

struct CreationRecord {
  std::int64_t id = 0;
  std::string username;
  std::vector<std::string> groups;  // joined by the account, in this order
  // What the creation claimed, given back when it is undone.
  std::optional<std::string> reset_token_hash;    // a set-password token stored for the account
  std::optional<std::int64_t> invitation_id;      // a single-use invitation marked used by it
  std::optional<std::int64_t> pending_signup_id;  // the pending signup it confirms, marked claimed
  std::string process;                            // the dirproxyd run that made the record
  std::int64_t started_at = 0;                    // Unix seconds
};

// Inserts `record` (its id is ignored) and returns the row's id; conflict
// when the username has a record already.
Result<std::int64_t> insert_creation_record(const StateDatabase::Lease& lease, const CreationRecord& record);

// Whether a creation of `username` is recorded.
Result<bool> creation_recorded(const StateDatabase::Lease& lease, std::string_view username);

// The records whose creation nobody runs any more, oldest first: made by
// another process than `process` that has no row in nodes
// (storage/node_registry.hpp) seen at or after `live_since`, that is a run
// that stopped, died or handed the record over (process ''). Records of
// other nodes that are alive are theirs and are left alone.
Result<std::vector<CreationRecord>> creation_records_of_gone_processes(const StateDatabase::Lease& lease,
                                                                       std::string_view process,
                                                                       std::int64_t live_since);

// Marks record `id` as run by no process: its process gave up on it, and
// the recovery of records of other processes settles it.
Result<void> hand_over_creation_record(const StateDatabase::Lease& lease, std::int64_t id);

// Deletes `record` (the row with its id, process and started_at): its
// creation is complete or undone. false when there was no such row: someone
// settled it already. Not the id alone: SQLite hands a deleted row's id to
// the next row, which may be a new creation of the same username.
Result<bool> delete_creation_record(const StateDatabase::Lease& lease, const CreationRecord& record);

}  // namespace dirproxy
