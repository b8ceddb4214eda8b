#include "accounts/pending_signup_store.hpp"

#include "accounts/account_token.hpp"

namespace dirproxy {

Result<void> purge_expired_signups(const StateDatabase::Lease& lease, std::int64_t now) {
  auto remove = lease.prepare("DELETE FROM pending_signups WHERE expires_at <= ?1", now);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

Result<bool> username_pending(const StateDatabase::Lease& lease, std::string_view username, std::int64_t now) {
  auto query =
      lease.prepare("SELECT 1 FROM pending_signups WHERE username = ?1 AND expires_at > ?2 LIMIT 1", username, now);
  RETURN_IF_ERROR(query);
  return query->step();
}

Result<std::int64_t> insert_pending_signup(const StateDatabase::Lease& lease, const PendingSignup& signup) {
  auto insert = lease.prepare(
      "INSERT INTO pending_signups (token_hash, username, email, display_name, password_hash, created_at, expires_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
      signup.token_hash, signup.username, signup.email, signup.display_name, signup.password_hash, signup.created_at,
      signup.expires_at);
  RETURN_IF_ERROR(insert);
  return insert->run_returning_id();
}

Result<std::optional<PendingSignup>> find_pending_signup(const StateDatabase::Lease& lease, std::string_view token,
                                                         std::int64_t now) {
  const std::string hash = token_hash(token);
  auto query = lease.prepare(
      "SELECT id, token_hash, username, email, display_name, password_hash, created_at, expires_at"
      " FROM pending_signups WHERE token_hash = ?1 AND expires_at > ?2 AND claimed = 0",
      hash, now);
  RETURN_IF_ERROR(query);
  auto row = query->step();
  RETURN_IF_ERROR(row);
  // The index found the row; the constant-time compare is what decides.
  if (!*row || !same_token_hash(query->column_text(1), hash)) return std::optional<PendingSignup>();
  PendingSignup signup;
  signup.id = query->column_int64(0);
  signup.token_hash = query->column_text(1);
  signup.username = query->column_text(2);
  signup.email = query->column_text(3);
  signup.display_name = query->column_text(4);
  signup.password_hash = query->column_text(5);
  signup.created_at = query->column_int64(6);
  signup.expires_at = query->column_int64(7);
  return std::optional<PendingSignup>(std::move(signup));
}

Result<bool> claim_pending_signup(const StateDatabase::Lease& lease, std::int64_t id) {
  auto claim = lease.prepare("UPDATE pending_signups SET claimed = 1 WHERE id = ?1 AND claimed = 0", id);
  RETURN_IF_ERROR(claim);
  RETURN_IF_ERROR(claim->run());
  return lease.changes() == 1;
}

Result<void> unclaim_pending_signup(const StateDatabase::Lease& lease, std::int64_t id) {
  auto unclaim = lease.prepare("UPDATE pending_signups SET claimed = 0 WHERE id = ?1", id);
  RETURN_IF_ERROR(unclaim);
  return unclaim->run();
}

Result<void> delete_pending_signup(const StateDatabase::Lease& lease, std::int64_t id) {
  auto remove = lease.prepare("DELETE FROM pending_signups WHERE id = ?1", id);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

}  // namespace dirproxy
