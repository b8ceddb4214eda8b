#include <algorithm>

#include "service/application_requests.hpp"

namespace dirproxy {

Result<ApplicationIdentity> run(const OperationContext& op, const AuthenticateApplicationRequest& request) {
  const auto& applications = op.runtime.config->applications;
  const auto found = std::find_if(applications.begin(), applications.end(),
                                  [&request](const config::Application& application) {
                                    return application.name == request.name && application.ldap.has_value();
                                  });
  const auto wrong = [] { return fail(ErrorCode::invalid_credentials, "invalid credentials"); };
  if (request.password.empty()) return wrong();
  if (found == applications.end()) {
    op.runtime.hasher->dummy_verify(request.password);
    return wrong();
  }
  if (!op.runtime.hasher->verify(found->ldap->password_hash, request.password)) return wrong();
  return ApplicationIdentity{found->name, found->ldap->may_write};
}

}  // namespace dirproxy
