#include <algorithm>

#include "core/names.hpp"
#include "service/application_requests.hpp"

namespace dirproxy {
namespace {

// Users of the chain are counted page by page, so that memory stays bounded
// whatever the size of the directories.
constexpr std::size_t kUserPage = 500;

}  // namespace

Result<ApplicationIdentity> run(const OperationContext& op, const AuthenticateApplicationRequest& request) {
  const config::Application* found = find_application(*op.runtime.config, request.name);
  if (found != nullptr && !found->ldap) found = nullptr;
  const auto wrong = [] { return fail(ErrorCode::invalid_credentials, "invalid credentials"); };
  if (request.password.empty()) return wrong();
  if (found == nullptr) {
    op.runtime.hasher->dummy_verify(request.password);
    return wrong();
  }
  if (!op.runtime.hasher->verify(found->ldap->password_hash, request.password)) return wrong();
  return ApplicationIdentity{found->name, found->ldap->may_write};
}

const config::Application* find_application(const config::Config& config, std::string_view name) {
  const auto& applications = config.applications;
  const auto found = std::find_if(applications.begin(), applications.end(),
                                  [name](const config::Application& application) { return application.name == name; });
  return found == applications.end() ? nullptr : &*found;
}

const config::Application* acting_application(const OperationContext& op) {
  if (!op.caller.application) return nullptr;
  return find_application(*op.runtime.config, *op.caller.application);
}

std::optional<std::string> socket_application(const config::Config& config, uid_t uid) {
  for (const auto& application : config.applications) {
    if (std::find(application.socket_uids.begin(), application.socket_uids.end(), uid) !=
        application.socket_uids.end()) {
      return application.name;
    }
  }
  return std::nullopt;
}

bool admits(const config::Application& application, const std::vector<std::string>& groups) {
  if (application.access_groups.empty()) return true;
  return std::any_of(groups.begin(), groups.end(), [&application](const std::string& group) {
    const std::string folded = fold_name(group);
    return std::any_of(application.access_groups.begin(), application.access_groups.end(),
                       [&folded](const std::string& access) { return fold_name(access) == folded; });
  });
}

Result<void> check_access(const OperationContext& op, const AuthenticatedUser& user) {
  const config::Application* application = acting_application(op);
  if (application == nullptr || admits(*application, user.groups)) return {};
  return fail(ErrorCode::access_denied,
              "user '" + user.user.username + "' may not use application '" + application->name + "'");
}

Result<std::vector<ApplicationSummary>> run(const OperationContext& op, const ListApplicationsRequest&) {
  const auto& applications = op.runtime.config->applications;
  std::vector<ApplicationSummary> summaries;
  summaries.reserve(applications.size());
  for (const auto& application : applications) {
    ApplicationSummary summary{
        .name = application.name,
        .access_groups = application.access_groups,
        .socket_users = application.socket_users,
        .ldap = application.ldap.has_value(),
        .base_dn = application.ldap ? application.ldap->base_dn : std::string(),
        .may_write = application.ldap && application.ldap->may_write,
    };
    summaries.push_back(std::move(summary));
  }
  if (summaries.empty()) return summaries;
  std::string after;
  for (;;) {
    auto users = op.runtime.chain->list_users(after, kUserPage);
    RETURN_IF_ERROR(users);
    for (const User& user : *users) {
      auto groups = op.runtime.chain->user_groups(user);
      RETURN_IF_ERROR(groups);
      for (std::size_t i = 0; i < applications.size(); ++i) {
        if (admits(applications[i], *groups)) ++summaries[i].admitted_users;
      }
    }
    if (users->size() < kUserPage) break;
    after = users->back().username;
  }
  return summaries;
}

Result<UserAccess> run(const OperationContext& op, const GetUserAccessRequest& request) {
  auto user = op.runtime.chain->find_user(request.username);
  RETURN_IF_ERROR(user);
  if (!user->has_value()) {
    return fail(ErrorCode::not_found, "no user '" + request.username + "'", "username");
  }
  auto groups = op.runtime.chain->user_groups(**user);
  RETURN_IF_ERROR(groups);
  UserAccess access{.username = (*user)->username, .groups = std::move(*groups), .applications = {}};
  for (const auto& application : op.runtime.config->applications) {
    if (admits(application, access.groups)) access.applications.push_back(application.name);
  }
  return access;
}

}  // namespace dirproxy
