#include "accounts/shared_invitation.hpp"

#include <cstdint>
#include <optional>

#include "accounts/account_token.hpp"

namespace dirproxy {
namespace {

constexpr std::string_view kKey = "shared_invitation_key";
constexpr std::string_view kGeneration = "shared_invitation_generation";

Result<std::optional<std::string>> read_setting(const StateDatabase::Lease& lease, std::string_view key) {
  auto query = lease.prepare("SELECT value FROM settings WHERE key = ?1", key);
  RETURN_IF_ERROR(query);
  auto row = query->step();
  RETURN_IF_ERROR(row);
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(query->column_text(0));
}

Result<void> write_setting(const StateDatabase::Lease& lease, std::string_view key, std::string_view value) {
  auto upsert = lease.prepare(
      "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key,
      value);
  RETURN_IF_ERROR(upsert);
  return upsert->run();
}

struct SharedKey {
  std::string key;
  std::int64_t generation = 0;
};

// The stored key and generation, or nullopt before the first use.
Result<std::optional<SharedKey>> read_shared_key(const StateDatabase::Lease& lease) {
  auto key = read_setting(lease, kKey);
  RETURN_IF_ERROR(key);
  auto generation = read_setting(lease, kGeneration);
  RETURN_IF_ERROR(generation);
  if (!key->has_value() || !generation->has_value()) return std::optional<SharedKey>();
  try {
    return std::optional<SharedKey>(SharedKey{**key, std::stoll(**generation)});
  } catch (const std::exception&) {
    return fail(ErrorCode::internal_error, "the stored shared invitation generation is not a number");
  }
}

// In a write transaction: the key (made when missing) with the generation
// advanced by `advance`.
Result<std::string> shared_token(const StateDatabase::Lease& lease, std::int64_t advance) {
  auto current = lease.write_transaction([&](const StateDatabase::Lease& lease) -> Result<SharedKey> {
    auto stored = read_shared_key(lease);
    RETURN_IF_ERROR(stored);
    SharedKey shared = stored->has_value() ? **stored : SharedKey{new_shared_invitation_key(), 1};
    if (stored->has_value()) shared.generation += advance;
    if (!stored->has_value() || advance != 0) {
      RETURN_IF_ERROR(write_setting(lease, kKey, shared.key));
      RETURN_IF_ERROR(write_setting(lease, kGeneration, std::to_string(shared.generation)));
    }
    return shared;
  });
  RETURN_IF_ERROR(current);
  auto token = shared_invitation_token(current->key, current->generation);
  if (token.empty()) return fail(ErrorCode::internal_error, "the stored shared invitation key is malformed");
  return token;
}

}  // namespace

Result<std::string> current_shared_invitation_token(const StateDatabase::Lease& lease) {
  return shared_token(lease, 0);
}

Result<std::string> reset_shared_invitation_token(const StateDatabase::Lease& lease) { return shared_token(lease, 1); }

Result<bool> is_shared_invitation_token(const StateDatabase::Lease& lease, std::string_view token) {
  auto stored = read_shared_key(lease);
  RETURN_IF_ERROR(stored);
  if (!stored->has_value()) return false;
  const auto current = shared_invitation_token((*stored)->key, (*stored)->generation);
  if (current.empty()) return false;
  return same_token_hash(token_hash(token), token_hash(current));
}

}  // namespace dirproxy
