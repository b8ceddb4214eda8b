#include "accounts/reset_token_store.hpp"

namespace dirproxy {

std::string_view to_string(ResetPurpose purpose) {
  return purpose == ResetPurpose::new_user ? "new_user" : "password_reset";
}

Result<void> store_reset_token(const StateDatabase::Lease& lease, const IssuedToken& token, std::string_view username,
                               ResetPurpose purpose, std::int64_t now, std::int64_t expires_at) {
  auto insert = lease.prepare(
      "INSERT INTO reset_tokens (token_hash, username, purpose, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
      token.hash, username, to_string(purpose), now, expires_at);
  RETURN_IF_ERROR(insert);
  return insert->run();
}

Result<std::optional<UsableResetToken>> find_usable_reset_token(const StateDatabase::Lease& lease,
                                                                std::string_view token, std::int64_t now) {
  const std::string presented = token_hash(token);
  auto select = lease.prepare(
      "SELECT id, token_hash, username, purpose FROM reset_tokens"
      " WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
      presented, now);
  RETURN_IF_ERROR(select);
  auto row = select->step();
  RETURN_IF_ERROR(row);
  // The index finds the row; the stored hash is still compared in constant
  // time, as every token comparison is (docs/design.md).
  if (!*row || !same_token_hash(select->column_text(1), presented)) return std::optional<UsableResetToken>();
  UsableResetToken usable;
  usable.id = select->column_int64(0);
  usable.username = select->column_text(2);
  usable.purpose = select->column_text(3) == "new_user" ? ResetPurpose::new_user : ResetPurpose::password_reset;
  return std::optional<UsableResetToken>(std::move(usable));
}

Result<std::optional<ConsumedResetToken>> consume_reset_token(const StateDatabase::Lease& lease, std::string_view token,
                                                              std::int64_t now) {
  auto usable = find_usable_reset_token(lease, token, now);
  RETURN_IF_ERROR(usable);
  if (!usable->has_value()) return std::optional<ConsumedResetToken>();
  ConsumedResetToken consumed;
  consumed.id = (*usable)->id;
  consumed.username = std::move((*usable)->username);
  consumed.purpose = (*usable)->purpose;
  consumed.used_at = now;

  // The condition repeats the checks, so that of two redemptions racing
  // past the SELECT exactly one changes the row.
  auto update = lease.prepare(
      "UPDATE reset_tokens SET used_at = ?1 WHERE id = ?2 AND used_at IS NULL AND expires_at > ?1", now, consumed.id);
  RETURN_IF_ERROR(update);
  RETURN_IF_ERROR(update->run());
  if (lease.changes() != 1) return std::optional<ConsumedResetToken>();
  return std::optional<ConsumedResetToken>(std::move(consumed));
}

Result<void> restore_reset_token(const StateDatabase::Lease& lease, const ConsumedResetToken& consumed) {
  // Not when the user's links were invalidated meanwhile: invalidation ends
  // every link, used ones included (expires_at), so a link being redeemed
  // while an admin sets the password cannot come back to life.
  auto update =
      lease.prepare("UPDATE reset_tokens SET used_at = NULL WHERE id = ?1 AND used_at = ?2 AND expires_at > ?2",
                    consumed.id, consumed.used_at);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<void> invalidate_reset_tokens(const StateDatabase::Lease& lease, std::string_view username, std::int64_t now) {
  auto update = lease.prepare(
      "UPDATE reset_tokens SET used_at = COALESCE(used_at, ?2),"
      " expires_at = CASE WHEN expires_at < ?2 THEN expires_at ELSE ?2 END"
      " WHERE username = ?1",
      username, now);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<void> delete_reset_token(const StateDatabase::Lease& lease, std::string_view token_hash) {
  auto remove = lease.prepare("DELETE FROM reset_tokens WHERE token_hash = ?1", token_hash);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

Result<void> prune_reset_tokens(const StateDatabase::Lease& lease, std::int64_t cutoff) {
  auto remove = lease.prepare("DELETE FROM reset_tokens WHERE expires_at < ?1", cutoff);
  RETURN_IF_ERROR(remove);
  return remove->run();
}

}  // namespace dirproxy
