#include "accounts/admin_session_store.hpp"

#include "accounts/account_token.hpp"
#include "storage/string_list_column.hpp"

namespace dirproxy {

Result<NewAdminSession> create_admin_session(const StateDatabase::Lease& lease, std::string_view username,
                                             const std::vector<std::string>& groups, std::int64_t now) {
  const IssuedToken session = issue_token();
  NewAdminSession created{session.token, issue_token().token};
  auto insert = lease.prepare(
      "INSERT INTO admin_sessions (session_hash, username, csrf_token, groups, groups_checked_at, created_at,"
      " last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5)",
      session.hash, username, created.csrf_token, encode_string_list(groups), now);
  RETURN_IF_ERROR(insert);
  RETURN_IF_ERROR(insert->run());
  return created;
}

Result<std::optional<AdminSessionRecord>> find_admin_session(const StateDatabase::Lease& lease,
                                                             std::string_view session_id, std::int64_t idle_cutoff) {
  if (session_id.empty()) return std::optional<AdminSessionRecord>();
  const std::string presented = token_hash(session_id);
  auto select = lease.prepare(
      "SELECT id, session_hash, username, csrf_token, groups, groups_checked_at, notice, notice_is_error,"
      " created_at, last_seen_at FROM admin_sessions WHERE session_hash = ?1",
      presented);
  RETURN_IF_ERROR(select);
  auto row = select->step();
  RETURN_IF_ERROR(row);
  // The index finds the row; the stored hash is still compared in constant
  // time, as every token comparison is (docs/design.md).
  if (!*row || !same_token_hash(select->column_text(1), presented)) return std::optional<AdminSessionRecord>();
  AdminSessionRecord session;
  session.id = select->column_int64(0);
  session.username = select->column_text(2);
  session.csrf_token = select->column_text(3);
  session.groups = decode_string_list(select->column_text(4));
  session.groups_checked_at = select->column_int64(5);
  if (auto notice = select->column_optional_text(6)) {
    session.notice = AdminNotice{std::move(*notice), select->column_int64(7) != 0};
  }
  session.created_at = select->column_int64(8);
  session.last_seen_at = select->column_int64(9);
  if (session.last_seen_at < idle_cutoff) {
    RETURN_IF_ERROR(delete_admin_session(lease, session.id));
    return std::optional<AdminSessionRecord>();
  }
  return std::optional<AdminSessionRecord>(std::move(session));
}

Result<void> touch_admin_session(const StateDatabase::Lease& lease, std::int64_t id, std::int64_t now) {
  // Never backwards (two requests of one session finishing out of order);
  // plain SQL, so that another database can run it too.
  auto update =
      lease.prepare("UPDATE admin_sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2", id, now);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<void> store_admin_session_groups(const StateDatabase::Lease& lease, std::int64_t id,
                                        const std::vector<std::string>& groups, std::int64_t now) {
  auto update = lease.prepare("UPDATE admin_sessions SET groups = ?2, groups_checked_at = ?3 WHERE id = ?1", id,
                              encode_string_list(groups), now);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<void> set_admin_notice(const StateDatabase::Lease& lease, std::int64_t id,
                              const std::optional<AdminNotice>& notice) {
  const std::optional<std::string> text = notice ? std::optional<std::string>(notice->text) : std::nullopt;
  const std::int64_t is_error = notice && notice->is_error ? 1 : 0;
  auto update =
      lease.prepare("UPDATE admin_sessions SET notice = ?2, notice_is_error = ?3 WHERE id = ?1", id, text, is_error);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<void> delete_admin_session(const StateDatabase::Lease& lease, std::string_view session_id) {
  auto remove = lease.prepare("DELETE FROM admin_sessions WHERE session_hash = ?1", token_hash(session_id));
  RETURN_IF_ERROR(remove);
  return remove->run();
}

Result<void> delete_admin_session(const StateDatabase::Lease& lease, std::int64_t id) {
  auto remove = lease.prepare("DELETE FROM admin_sessions WHERE id = ?1", id);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

Result<void> prune_admin_sessions(const StateDatabase::Lease& lease, std::int64_t idle_cutoff) {
  auto remove = lease.prepare("DELETE FROM admin_sessions WHERE last_seen_at < ?1", idle_cutoff);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

}  // namespace dirproxy
