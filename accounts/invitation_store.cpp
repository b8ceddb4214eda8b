#include "accounts/invitation_store.hpp"

#include "accounts/account_token.hpp"
#include "core/timestamp.hpp"
#include "storage/string_list_column.hpp"

namespace dirproxy {
namespace {

constexpr std::string_view kColumns =
    "id, email, groups, message, created_at, expires_at, used_at, used_by, revoked_at, access_request_id, "
    "token_hash";

std::optional<std::int64_t> optional_int(const SqlStatement& row, int index) {
  if (row.column_is_null(index)) return std::nullopt;
  return row.column_int64(index);
}

Invitation read_row(const SqlStatement& row) {
  Invitation invitation;
  invitation.id = row.column_int64(0);
  invitation.email = row.column_optional_text(1);
  invitation.groups = decode_string_list(row.column_text(2));
  invitation.message = row.column_optional_text(3);
  invitation.created_at = row.column_int64(4);
  invitation.expires_at = row.column_int64(5);
  invitation.used_at = optional_int(row, 6);
  invitation.used_by = row.column_optional_text(7);
  invitation.revoked_at = optional_int(row, 8);
  invitation.access_request_id = optional_int(row, 9);
  return invitation;
}

Result<std::vector<Invitation>> read_all(SqlStatement& statement) {
  std::vector<Invitation> invitations;
  while (true) {
    auto row = statement.step();
    RETURN_IF_ERROR(row);
    if (!*row) return invitations;
    invitations.push_back(read_row(statement));
  }
}

}  // namespace

std::string Invitation::status(std::int64_t now) const {
  if (used_at) return "used";
  if (revoked_at) return "revoked";
  if (expires_at <= now) return "expired";
  return "pending";
}

Result<Invitation> insert_invitation(const StateDatabase::Lease& lease, const NewInvitation& invitation,
                                     std::int64_t now) {
  const std::string groups = encode_string_list(invitation.groups);
  auto insert = lease.prepare(
      "INSERT INTO invitations (token_hash, email, groups, message, created_at, expires_at, access_request_id)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
      invitation.token_hash, invitation.email, groups, invitation.message, now, now + invitation.ttl_s,
      invitation.access_request_id);
  RETURN_IF_ERROR(insert);
  auto id = insert->run_returning_id();
  RETURN_IF_ERROR(id);
  auto stored = find_invitation(lease, *id);
  RETURN_IF_ERROR(stored);
  if (!stored->has_value()) return fail(ErrorCode::internal_error, "an inserted invitation is missing");
  return std::move(**stored);
}

Result<std::optional<Invitation>> find_invitation(const StateDatabase::Lease& lease, std::int64_t id) {
  auto query = lease.prepare("SELECT " + std::string(kColumns) + " FROM invitations WHERE id = ?1", id);
  RETURN_IF_ERROR(query);
  auto row = query->step();
  RETURN_IF_ERROR(row);
  if (!*row) return std::optional<Invitation>();
  return std::optional<Invitation>(read_row(*query));
}

Result<std::optional<Invitation>> find_usable_invitation(const StateDatabase::Lease& lease, std::string_view token,
                                                         std::int64_t now) {
  const std::string hash = token_hash(token);
  auto query = lease.prepare("SELECT " + std::string(kColumns) +
                                 " FROM invitations WHERE token_hash = ?1 AND used_at IS NULL"
                                 " AND revoked_at IS NULL AND expires_at > ?2",
                             hash, now);
  RETURN_IF_ERROR(query);
  auto row = query->step();
  RETURN_IF_ERROR(row);
  // The index found the row; the constant-time compare is what decides.
  if (!*row || !same_token_hash(query->column_text(10), hash)) return std::optional<Invitation>();
  return std::optional<Invitation>(read_row(*query));
}

Result<bool> claim_invitation(const StateDatabase::Lease& lease, std::int64_t id, std::string_view username,
                              std::int64_t now) {
  auto update = lease.prepare(
      "UPDATE invitations SET used_at = ?2, used_by = ?3"
      " WHERE id = ?1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?2",
      id, now, username);
  RETURN_IF_ERROR(update);
  RETURN_IF_ERROR(update->run());
  return lease.changes() == 1;
}

Result<void> unclaim_invitation(const StateDatabase::Lease& lease, std::int64_t id, std::string_view username) {
  auto update = lease.prepare("UPDATE invitations SET used_at = NULL, used_by = NULL WHERE id = ?1 AND used_by = ?2",
                              id, username);
  RETURN_IF_ERROR(update);
  return update->run();
}

Result<std::vector<Invitation>> list_invitations(const StateDatabase::Lease& lease, bool include_used,
                                                 std::int64_t now) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM invitations";
  if (!include_used) sql += " WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > ?1";
  sql += " ORDER BY id DESC";
  auto query = include_used ? lease.prepare(sql) : lease.prepare(sql, now);
  RETURN_IF_ERROR(query);
  return read_all(*query);
}

Result<bool> revoke_invitation(const StateDatabase::Lease& lease, std::int64_t id, std::int64_t now) {
  auto update = lease.prepare(
      "UPDATE invitations SET revoked_at = ?2 WHERE id = ?1 AND used_at IS NULL AND revoked_at IS NULL", id, now);
  RETURN_IF_ERROR(update);
  RETURN_IF_ERROR(update->run());
  return lease.changes() == 1;
}

Result<bool> replace_invitation_token(const StateDatabase::Lease& lease, std::int64_t id, std::string_view token_hash,
                                      std::int64_t created_at, std::int64_t expires_at) {
  auto update = lease.prepare(
      "UPDATE invitations SET token_hash = ?2, created_at = ?3, expires_at = ?4"
      " WHERE id = ?1 AND used_at IS NULL AND revoked_at IS NULL",
      id, token_hash, created_at, expires_at);
  RETURN_IF_ERROR(update);
  RETURN_IF_ERROR(update->run());
  return lease.changes() == 1;
}

}  // namespace dirproxy
