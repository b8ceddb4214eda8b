#include "accounts/account_creation_store.hpp"

#include "storage/string_list_column.hpp"

namespace dirproxy {

Result<std::int64_t> insert_creation_record(const StateDatabase::Lease& lease, const CreationRecord& record) {
  auto insert = lease.prepare(
      "INSERT INTO account_creations (username, groups, reset_token_hash, invitation_id, pending_signup_id, process,"
      " started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
      record.username, encode_string_list(record.groups), record.reset_token_hash, record.invitation_id,
      record.pending_signup_id, record.process, record.started_at);
  RETURN_IF_ERROR(insert);
  return insert->run_returning_id();
}

Result<bool> creation_recorded(const StateDatabase::Lease& lease, std::string_view username) {
  auto query = lease.prepare("SELECT 1 FROM account_creations WHERE username = ?1", username);
  RETURN_IF_ERROR(query);
  return query->step();
}

Result<std::vector<CreationRecord>> creation_records_of_gone_processes(const StateDatabase::Lease& lease,
                                                                       std::string_view process,
                                                                       std::int64_t live_since) {
  auto query = lease.prepare(
      "SELECT id, username, groups, reset_token_hash, invitation_id, pending_signup_id, process, started_at"
      " FROM account_creations c WHERE c.process <> ?1 AND NOT EXISTS"
      " (SELECT 1 FROM nodes n WHERE n.process = c.process AND n.last_seen_at >= ?2) ORDER BY c.id",
      process, live_since);
  RETURN_IF_ERROR(query);
  std::vector<CreationRecord> records;
  for (;;) {
    auto row = query->step();
    RETURN_IF_ERROR(row);
    if (!*row) return records;
    CreationRecord record;
    record.id = query->column_int64(0);
    record.username = query->column_text(1);
    record.groups = decode_string_list(query->column_text(2));
    record.reset_token_hash = query->column_optional_text(3);
    record.invitation_id = query->column_optional_int64(4);
    record.pending_signup_id = query->column_optional_int64(5);
    record.process = query->column_text(6);
    record.started_at = query->column_int64(7);
    records.push_back(std::move(record));
  }
}

Result<void> hand_over_creation_record(const StateDatabase::Lease& lease, std::int64_t id) {
  auto update = lease.prepare("UPDATE account_creations SET process = '' WHERE id = ?1", id);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<bool> delete_creation_record(const StateDatabase::Lease& lease, const CreationRecord& record) {
  auto remove = lease.prepare(
      "DELETE FROM account_creations WHERE id = ?1 AND process = ?2 AND started_at = ?3 RETURNING id", record.id,
      record.process, record.started_at);
  RETURN_IF_ERROR(remove);
  auto deleted = remove->step();
  RETURN_IF_ERROR(deleted);
  RETURN_IF_ERROR(remove->run());
  return *deleted;
}

}  // namespace dirproxy
