#include "accounts/access_request_store.hpp"

#include "core/timestamp.hpp"

namespace dirproxy {
namespace {

constexpr std::string_view kSelect =
    "SELECT id, email, display_name, message, created_at, status, decided_at FROM access_requests";

AccessRequest read_row(const SqlStatement& row) {
  AccessRequest request;
  request.id = row.column_int64(0);
  request.email = row.column_text(1);
  request.display_name = row.column_text(2);
  request.message = row.column_optional_text(3);
  request.created_at = row.column_int64(4);
  request.status = row.column_text(5);
  if (!row.column_is_null(6)) request.decided_at = row.column_int64(6);
  return request;
}

}  // namespace

Result<std::int64_t> insert_access_request(const StateDatabase::Lease& lease, std::string_view email,
                                           std::string_view display_name, const std::optional<std::string>& message,
                                           std::int64_t now) {
  auto insert =
      lease.prepare("INSERT INTO access_requests (email, display_name, message, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                    email, display_name, message, now);
  RETURN_IF_ERROR(insert);
  return insert->run_returning_id();
}

Result<std::vector<AccessRequest>> list_access_requests(const StateDatabase::Lease& lease) {
  auto query = lease.prepare(std::string(kSelect) + " ORDER BY id");
  RETURN_IF_ERROR(query);
  std::vector<AccessRequest> requests;
  while (true) {
    auto row = query->step();
    RETURN_IF_ERROR(row);
    if (!*row) return requests;
    requests.push_back(read_row(*query));
  }
}

Result<std::optional<AccessRequest>> find_access_request(const StateDatabase::Lease& lease, std::int64_t id) {
  auto query = lease.prepare(std::string(kSelect) + " WHERE id = ?1", id);
  RETURN_IF_ERROR(query);
  auto row = query->step();
  RETURN_IF_ERROR(row);
  if (!*row) return std::optional<AccessRequest>();
  return std::optional<AccessRequest>(read_row(*query));
}

Result<bool> decide_access_request(const StateDatabase::Lease& lease, std::int64_t id, std::string_view status,
                                   std::int64_t now) {
  auto update = lease.prepare(
      "UPDATE access_requests SET status = ?2, decided_at = ?3 WHERE id = ?1 AND status = 'pending'", id, status, now);
  RETURN_IF_ERROR(update);
  RETURN_IF_ERROR(update->run());
  return lease.changes() == 1;
}

}  // namespace dirproxy
