// The socket form of the operations on applications
// (service/application_requests.hpp): list_applications and get_user_access,
// their parameters decoded into the typed requests and their results
// rendered as the response's members (docs/protocol.md).
#include "frontends/socket/params.hpp"
#include "frontends/socket/socket_operation.hpp"
#include "service/application_requests.hpp"

namespace dirproxy {
namespace {

using protocol::Json;

// {name, access_groups, socket_users, ldap: null or {base_dn, may_write},
// admitted_users}; an empty base_dn is null.
Json application_object(const ApplicationSummary& application) {
  Json ldap = nullptr;
  if (application.ldap) {
    ldap = {{"base_dn", application.base_dn.empty() ? Json(nullptr) : Json(application.base_dn)},
            {"may_write", application.may_write}};
  }
  return {{"name", application.name},
          {"access_groups", application.access_groups},
          {"socket_users", application.socket_users},
          {"ldap", std::move(ldap)},
          {"admitted_users", application.admitted_users}};
}

}  // namespace

Json render(const ListApplicationsRequest&, const std::vector<ApplicationSummary>& applications) {
  Json list = Json::array();
  for (const auto& application : applications) list.push_back(application_object(application));
  return {{"applications", std::move(list)}};
}

void decode(const Json& params, GetUserAccessRequest& request) {
  request.username = protocol::required_string(params, "username");
}
Json render(const GetUserAccessRequest&, const UserAccess& access) {
  return {{"username", access.username}, {"groups", access.groups}, {"applications", access.applications}};
}

const std::vector<SocketOperation>& application_socket_operations() {
  using enum protocol::ParamType;
  using enum protocol::Presence;
  static const std::vector<SocketOperation> operations = {
      socket_operation<ListApplicationsRequest>({}),
      socket_operation<GetUserAccessRequest>({{"username", string, required}}),
  };
  return operations;
}

}  // namespace dirproxy
