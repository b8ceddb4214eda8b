// Bind (RFC 4511 §4.2, RFC 4513 §5): who the connection is. The name may be
// a user's DN, a bare username, an email address, or an application's DN
// under ou=services; the password is checked by the service (the chain's
// authenticate with its lockout and audit, or the application's hash).
#include "core/logging.hpp"
#include "core/names.hpp"
#include "frontends/ldap/ldap_connection.hpp"
#include "frontends/ldap/ldap_results.hpp"
#include "service/application_requests.hpp"

namespace dirproxy::ldap {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("ldap");
  return logger;
}

// The answer to a failed authentication: whatever the reason (unknown,
// wrong, locked, inactive, not a name at all), invalidCredentials, so that
// it tells nothing; only a directory that is down, a rate limit and an
// internal error say so, and a user an application does not admit (the
// password was right: the message tells the user why).
LdapResult refusal(const Error& error) {
  LdapResult result = result_of(error);
  if (result.code == ResultCode::unavailable || result.code == ResultCode::busy || result.code == ResultCode::other ||
      error.code == ErrorCode::access_denied) {
    return result;
  }
  return {ResultCode::invalid_credentials, "", "invalid credentials"};
}

}  // namespace

bool Connection::plaintext_bind_allowed(const FrontEndState& state) const {
  if (transport_.secure()) return true;
  switch (state.settings.plaintext_binds) {
    case config::PlaintextBinds::always: return true;
    case config::PlaintextBinds::loopback: return peer_loopback_;
    case config::PlaintextBinds::never: return false;
  }
  return false;
}

awaitable<void> Connection::bind(int message_id, const BindRequest& request, std::shared_ptr<Running> running) {
  const FrontEndStatePtr current = state();
  const TreeSettings& tree = current->tree;
  std::optional<BoundIdentity> bound;
  LdapResult result;
  // A user bind on a connection bound as an application is a login that
  // application makes (Grafana's and Apache's search-then-bind on one
  // connection): its access groups apply.
  const std::string binding_for = bound_.kind == BoundIdentity::Kind::application ? bound_.name : std::string();
  // Anonymous from the moment a Bind begins until one succeeds (RFC 4511
  // §4.2.1): what the service audits of the attempt is not the old identity.
  bound_ = BoundIdentity{};
  if (request.version != 3) {
    result = {ResultCode::protocol_error, "", "only LDAPv3 is supported"};
  } else if (!request.simple) {
    result = {ResultCode::auth_method_not_supported, "", "SASL is not supported; use a simple bind"};
  } else if (request.name.empty() && request.password.empty()) {
    bound = BoundIdentity{};  // anonymous
  } else if (request.name.empty() || request.password.empty()) {
    // RFC 4513 §5.1.2: an unauthenticated bind (a name without a password)
    // would "succeed" as anonymous in a careless server.
    result = {ResultCode::unwilling_to_perform, "",
              request.name.empty() ? "a password needs a name" : "a name needs a password"};
  } else if (!plaintext_bind_allowed(*current)) {
    result = {ResultCode::confidentiality_required, "", "a password needs TLS here: use StartTLS or ldaps://"};
  } else {
    result = co_await bind_user(tree, request.name, request.password, binding_for, bound);
  }
  bound_ = bound.value_or(BoundIdentity{});
  const auto& limits = current->settings.limits;
  reader_.set_max_pdu_bytes(bound_.kind == BoundIdentity::Kind::anonymous ? limits.max_request_bytes_anonymous
                                                                          : limits.max_request_bytes);
  paged_.clear();
  std::string message = encode_result(message_id, ResponseType::bind, result);
  co_await send(*running, std::move(message));
}

awaitable<LdapResult> Connection::bind_user(const TreeSettings& tree, const std::string& name,
                                            const std::string& password, const std::string& binding_for,
                                            std::optional<BoundIdentity>& bound) {
  Service& service = shared_->service;
  const DnTarget target = classify_dn(tree, name);
  // A DN under an application's base (applications[].ldap.base_dn) is a
  // login through that application: the service refuses users it does not
  // admit. Any other name is a login through the application the
  // connection was bound as (`binding_for`), or through none.
  Caller reader = caller();
  if (!target.application.empty()) {
    reader.application = target.application;
  } else if (!binding_for.empty() && target.kind != DnTarget::Kind::service) {
    reader.application = binding_for;
  }
  const TreeSettings view = application_view(tree, target.application);
  if (target.kind == DnTarget::Kind::service) {
    AuthenticateApplicationRequest request{ascii_lower(target.name), password};
    auto application = co_await service.call(reader, request);
    if (!application) co_return refusal(application.error());
    // Under an application's base, ou=services holds that application alone.
    if (!target.application.empty() && application->name != target.application) {
      co_return LdapResult{ResultCode::invalid_credentials, "", "invalid credentials"};
    }
    bound = BoundIdentity{BoundIdentity::Kind::application, application->name, service_dn(view, application->name),
                          application->may_write};
    co_return LdapResult{};
  }
  // A user: by DN, else the name is a username or an email address. Any
  // other DN is no one, checked with the same work as a wrong password.
  std::string username;
  if (target.kind == DnTarget::Kind::user) {
    username = target.name;
  } else if (target.kind == DnTarget::Kind::invalid && name.find('@') != std::string::npos) {
    GetUserRequest by_email;
    by_email.email = name;
    auto user = co_await service.call(reader, by_email);
    if (!user && user.error().code == ErrorCode::directory_unavailable) co_return result_of(user.error());
    username = user ? user->username : name;
  } else {
    username = name;
  }
  // Its groups are not needed: a user bound is the user, no more (a search
  // or compare asks for them when it needs them).
  AuthenticateRequest request{.username = username, .password = password, .groups = false};
  auto user = co_await service.call(reader, request);
  if (!user) {
    log()->debug("conn={} bind as {} refused: {}", id_, logging::quoted(name), to_string(user.error().code));
    co_return refusal(user.error());
  }
  bound = BoundIdentity{BoundIdentity::Kind::user, user->user.username, user_dn(view, user->user.username), false};
  co_return LdapResult{};
}

}  // namespace dirproxy::ldap
