// The admin console's sessions (service/admin_session_requests.hpp).
#include <algorithm>

#include "core/names.hpp"
#include "service/account_operation_support.hpp"
#include "service/admin_session_requests.hpp"

namespace dirproxy {
namespace {

std::int64_t idle_cutoff(const OperationContext& op) {
  const auto& web = op.runtime.config->web;
  const std::int64_t ttl_s = web ? std::chrono::duration_cast<std::chrono::seconds>(web->session_ttl).count() : 0;
  return op.now() - ttl_s;
}

// The admin's groups now, or nullopt when the account is gone or
// deactivated (it may not use the console either way).
Result<std::optional<std::vector<std::string>>> current_groups(const OperationContext& op,
                                                               const std::string& username) {
  auto user = op.runtime.chain->find_user(username);
  RETURN_IF_ERROR(user);
  if (!user->has_value() || !(*user)->active) return std::optional<std::vector<std::string>>();
  auto groups = op.runtime.chain->user_groups(**user);
  RETURN_IF_ERROR(groups);
  return std::optional<std::vector<std::string>>(std::move(*groups));
}

}  // namespace

bool is_admin_member(const config::Config& config, const std::vector<std::string>& groups) {
  if (!config.web) return false;
  return std::any_of(config.web->admin_groups.begin(), config.web->admin_groups.end(), [&](const std::string& admin) {
    return std::any_of(groups.begin(), groups.end(), [&](const std::string& group) { return same_name(group, admin); });
  });
}

Result<StartedAdminSession> run(const OperationContext& op, const StartAdminSessionRequest& request) {
  RETURN_IF_ERROR(admit_client(op));
  auto user = authenticate_with_lockout(op, request.username, request.password);
  RETURN_IF_ERROR(user);
  auto groups = op.runtime.chain->user_groups(*user);
  RETURN_IF_ERROR(groups);
  if (!is_admin_member(*op.runtime.config, *groups)) {
    return fail(ErrorCode::forbidden, "this account may not use the admin console", "username");
  }
  auto lease = op.runtime.database->acquire();
  RETURN_IF_ERROR(prune_admin_sessions(lease, idle_cutoff(op)));
  auto created = create_admin_session(lease, user->username, *groups, op.now());
  RETURN_IF_ERROR(created);
  return StartedAdminSession{std::move(created->session_id), std::move(created->csrf_token), user->username};
}

Result<std::optional<AdminSession>> run(const OperationContext& op, const ResumeAdminSessionRequest& request) {
  auto lease = op.runtime.database->acquire();
  auto found = find_admin_session(lease, request.session_id, idle_cutoff(op));
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return std::optional<AdminSession>();
  AdminSessionRecord& session = **found;
  if (op.now() - session.groups_checked_at >= kAdminGroupsCheckInterval_s) {
    auto groups = current_groups(op, session.username);
    RETURN_IF_ERROR(groups);
    if (!groups->has_value()) {
      RETURN_IF_ERROR(delete_admin_session(lease, session.id));
      return std::optional<AdminSession>();
    }
    session.groups = std::move(**groups);
    RETURN_IF_ERROR(store_admin_session_groups(lease, session.id, session.groups, op.now()));
  }
  if (!is_admin_member(*op.runtime.config, session.groups)) {
    RETURN_IF_ERROR(delete_admin_session(lease, session.id));
    return std::optional<AdminSession>();
  }
  RETURN_IF_ERROR(touch_admin_session(lease, session.id, op.now()));
  AdminSession resumed{std::move(session.username), std::move(session.csrf_token), std::nullopt};
  if (request.take_notice && session.notice) {
    RETURN_IF_ERROR(set_admin_notice(lease, session.id, std::nullopt));
    resumed.notice = std::move(session.notice);
  }
  return std::optional<AdminSession>(std::move(resumed));
}

Result<void> run(const OperationContext& op, const SetAdminNoticeRequest& request) {
  auto lease = op.runtime.database->acquire();
  auto found = find_admin_session(lease, request.session_id, idle_cutoff(op));
  RETURN_IF_ERROR(found);
  if (!found->has_value()) return {};
  return set_admin_notice(lease, (*found)->id, request.notice);
}

Result<void> run(const OperationContext& op, const EndAdminSessionRequest& request) {
  return delete_admin_session(op.runtime.database->acquire(), request.session_id);
}

}  // namespace dirproxy
