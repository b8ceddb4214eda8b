// The extended operations: StartTLS (RFC 4511 §4.14), Who am I (RFC 4532)
// and Password Modify (RFC 3062). Any other is protocolError.
#include "core/logging.hpp"
#include "core/names.hpp"
#include "frontends/ldap/ldap_connection.hpp"
#include "frontends/ldap/ldap_results.hpp"

namespace dirproxy::ldap {
namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("ldap");
  return logger;
}

constexpr std::chrono::seconds kHandshakeTimeout{10};

awaitable<void> pause(asio::steady_timer& timer) {
  timer.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
}

}  // namespace

awaitable<void> Connection::extended(int message_id, const ExtendedRequest& request, std::shared_ptr<Running> running) {
  if (request.name == oid::who_am_i) {
    const std::string authz = bound_.kind == BoundIdentity::Kind::anonymous ? "" : "dn:" + bound_.dn;
    std::string message = encode_extended_response(message_id, {}, std::nullopt, authz);
    co_await send(*running, std::move(message));
  } else if (request.name == oid::password_modify) {
    const LdapResult result = co_await password_modify(request);
    std::string message = encode_extended_response(message_id, result, std::nullopt, std::nullopt);
    co_await send(*running, std::move(message));
  } else {
    std::string message = encode_extended_response(
        message_id, {ResultCode::protocol_error, "", "unsupported extended operation " + request.name}, std::nullopt,
        std::nullopt);
    co_await send(*running, std::move(message));
  }
}

awaitable<void> Connection::start_tls(int message_id) {
  auto self = shared_from_this();
  Running running;
  TlsContextPtr context = state()->tls;
  auto answer = [&](LdapResult result) -> awaitable<void> {
    std::string message = encode_extended_response(message_id, result, std::string(oid::start_tls), std::nullopt);
    co_await send(running, std::move(message));
  };
  if (transport_.secure()) {
    co_await answer(make_result(ResultCode::operations_error, "TLS is already established"));
    co_return;
  }
  if (!context) {
    co_await answer(make_result(ResultCode::unavailable, "TLS is not configured (ldap_server.tls)"));
    co_return;
  }
  if (!running_.empty() || reader_.buffered() > 0) {
    // RFC 4511 §4.14.1: no other operation may be outstanding.
    co_await answer(make_result(ResultCode::operations_error, "other operations are outstanding"));
    co_return;
  }
  co_await answer(make_result(ResultCode::success, ""));
  // The answer goes in the clear; the handshake starts once it is written.
  while (outgoing_bytes_ > 0 && !closed_) co_await pause(drained_);
  if (closed_) co_return;
  asio::steady_timer limit(transport_.socket().get_executor(), kHandshakeTimeout);
  limit.async_wait([self](const boost::system::error_code& error) {
    if (!error && !self->transport_.secure()) self->close();
  });
  boost::system::error_code ec;
  co_await transport_.start_tls(std::move(context), ec);
  limit.cancel();
  if (ec) {
    log()->debug("conn={} StartTLS handshake failed: {}", id_, ec.message());
    close();
  }
}

awaitable<LdapResult> Connection::password_modify(const ExtendedRequest& request) {
  // Named: a temporary in a co_await expression is a g++ 12 hazard.
  const Caller reader = caller();
  const Caller writing = writer();
  const auto modify = decode_password_modify(request.value.value_or(""));
  if (!modify) co_return LdapResult{ResultCode::protocol_error, "", "malformed Password Modify request"};
  const FrontEndStatePtr current = state();
  if (bound_.kind == BoundIdentity::Kind::anonymous) {
    co_return LdapResult{ResultCode::unwilling_to_perform, "", "bind first"};
  }
  if (!modify->new_password || modify->new_password->empty()) {
    co_return LdapResult{ResultCode::unwilling_to_perform, "",
                         "give the new password (dirproxy does not generate one)"};
  }
  if (!plaintext_bind_allowed(*current)) {
    co_return LdapResult{ResultCode::confidentiality_required, "",
                         "a password needs TLS here: use StartTLS or ldaps://"};
  }
  // Whose password: the bound user's, or the one named (a DN in the tree,
  // or a username).
  std::string username;
  if (modify->user_identity) {
    const DnTarget target = classify_dn(current->tree, *modify->user_identity);
    if (target.kind == DnTarget::Kind::user) {
      username = target.name;
    } else if (target.kind == DnTarget::Kind::invalid) {
      username = *modify->user_identity;
    } else {
      co_return LdapResult{ResultCode::no_such_object, "", "not a user's entry"};
    }
  } else if (bound_.kind == BoundIdentity::Kind::user) {
    username = bound_.name;
  } else {
    co_return LdapResult{ResultCode::unwilling_to_perform, "", "name the user whose password to set"};
  }

  Service& service = shared_->service;
  if (bound_.kind == BoundIdentity::Kind::user && same_name(username, bound_.name)) {
    if (!modify->old_password) {
      co_return LdapResult{ResultCode::unwilling_to_perform, "", "give the old password to change your own"};
    }
    ChangePasswordRequest change{bound_.name, *modify->old_password, *modify->new_password};
    auto changed = co_await service.call(reader, change);
    if (!changed) co_return result_of(changed.error());
    co_return LdapResult{};
  }
  if (bound_.kind != BoundIdentity::Kind::application || !bound_.may_write) {
    co_return LdapResult{ResultCode::insufficient_access_rights, "", "only your own password"};
  }
  if (auto hidden = co_await refuse_hidden_user(username)) co_return *hidden;
  SetPasswordRequest set{username, *modify->new_password};
  auto done = co_await service.call(writing, set);
  if (!done) co_return result_of(done.error());
  co_return LdapResult{};
}

}  // namespace dirproxy::ldap
