// signup and confirm_signup (service/signup_requests.hpp). Whether a signup creates the
// account at once or waits for an email confirmation is signup_policy's
// decision; creating it is account_creation's. A token given to signup is an
// invitation: the shared link's (reusable) or a single-use one (claimed
// atomically, and given back when the account could not be created).
#include <optional>

#include "accounts/account_token.hpp"
#include "accounts/pending_signup_store.hpp"
#include "accounts/signup_policy.hpp"
#include "core/timestamp.hpp"
#include "service/account_creation.hpp"
#include "service/account_operation_support.hpp"
#include "service/signup_requests.hpp"

namespace dirproxy {
namespace {

// The invitation `token` presents, refused when it is bound to an address
// other than `email`.
Result<PresentedInvitation> resolve_invitation(const OperationContext& op, std::string_view token,
                                               const std::string& email) {
  auto presented = find_presented_invitation(op, token);
  RETURN_IF_ERROR(presented);
  // Emails are stored and compared lower-cased (AccountPolicy::check_email).
  const auto& single_use = presented->single_use;
  if (single_use && single_use->email && *single_use->email != email) {
    return fail(ErrorCode::invalid_token, "this invitation was sent to another email address; sign up with that one",
                "email");
  }
  return presented;
}

Result<SignupOutcome> create_now(const OperationContext& op, NewUser user,
                                 const std::optional<PresentedInvitation>& invited) {
  NewAccount account;
  account.user = std::move(user);
  if (invited) {
    const auto& extra = op.runtime.config->invitations.default_groups;
    account.groups.assign(extra.begin(), extra.end());
    if (invited->single_use) {
      const Invitation& invitation = *invited->single_use;
      account.groups.insert(account.groups.end(), invitation.groups.begin(), invitation.groups.end());
      account.claim.invitation_id = invitation.id;
    }
  }
  auto created = create_account(op.runtime, account);
  RETURN_IF_ERROR(created);
  return SignupOutcome{SignupStatus::created, std::move(*created)};
}

Result<SignupOutcome> store_pending_signup(const OperationContext& op, const NewUser& user) {
  const auto& runtime = op.runtime;
  RETURN_IF_ERROR(require_mail(runtime, "restricted signup (its confirmation mail)"));
  // No directory is asked whether the username or the email is taken: the
  // answer, and how long it takes, must not tell whether an account exists.
  // The confirmation finds out, and only the owner of the address sees it.
  // Argon2id is slow: hashed before the write lock is taken.
  auto password_hash = runtime.hasher->hash(*user.password);
  RETURN_IF_ERROR(password_hash);

  const auto issued = issue_token();
  const std::int64_t now = op.now();
  PendingSignup signup;
  signup.token_hash = issued.hash;
  signup.username = user.username;
  signup.email = user.email;
  signup.display_name = user.display_name;
  signup.password_hash = std::move(*password_hash);
  signup.created_at = now;
  signup.expires_at = now + whole_seconds(runtime.config->signup.confirmation_ttl);

  MailValues values;
  const auto& site = runtime.config->site;
  values.link = site_link(site.links.confirm, site.base_url, issued.token);
  values.username = user.username;
  values.display_name = user.display_name;
  values.email = user.email;
  values.expires = rfc3339(signup.expires_at);
  auto mail = runtime.mail->compose("signup_confirm", user.email, values, now);
  RETURN_IF_ERROR(mail);

  return runtime.database->acquire().write_transaction([&](const StateDatabase::Lease& lease) -> Result<SignupOutcome> {
    RETURN_IF_ERROR(purge_expired_signups(lease, now));
    auto pending = username_pending(lease, user.username, now);
    RETURN_IF_ERROR(pending);
    if (*pending) {
      return fail(ErrorCode::conflict, "the username '" + user.username + "' is waiting for another confirmation",
                  "username");
    }
    RETURN_IF_ERROR(insert_pending_signup(lease, signup));
    RETURN_IF_ERROR(enqueue_mail(lease, *mail, now));
    return SignupOutcome{SignupStatus::pending_confirmation, std::nullopt};
  });
}

}  // namespace

Result<SignupOutcome> run(const OperationContext& op, const SignupRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  RETURN_IF_ERROR(admit_client(op));
  const auto& policy = op.runtime.policy;
  auto checked = policy.check_new_user(request.username, request.email, request.display_name);
  RETURN_IF_ERROR(checked);
  NewUser user = std::move(*checked);
  user.password = request.password;
  RETURN_IF_ERROR(policy.check_password(*user.password));

  std::optional<PresentedInvitation> invited;
  if (request.token) {
    auto resolved = resolve_invitation(op, *request.token, user.email);
    RETURN_IF_ERROR(resolved);
    invited = std::move(*resolved);
  }
  auto path = signup_path(op.runtime.config->signup, user.email, invited.has_value());
  RETURN_IF_ERROR(path);
  if (*path == SignupPath::create_now) return create_now(op, std::move(user), invited);
  return store_pending_signup(op, user);
}

Result<User> run(const OperationContext& op, const ConfirmSignupRequest& request) {
  RETURN_IF_ERROR(require_internal_management(op.runtime));
  RETURN_IF_ERROR(admit_client(op));
  std::optional<PendingSignup> pending;
  {
    auto lease = op.runtime.database->acquire();
    auto found = find_pending_signup(lease, request.token, op.now());
    RETURN_IF_ERROR(found);
    pending = std::move(*found);
  }
  if (!pending) return unusable_token();

  NewAccount account;
  account.user.username = pending->username;
  account.user.email = pending->email;
  account.user.display_name = pending->display_name;
  account.user.password_hash = pending->password_hash;
  account.claim.pending_signup_id = pending->id;
  return create_account(op.runtime, account);
}

// Every operation of this file is typed (signup_requests.hpp); the legacy
// table stays, empty, until the dispatcher stops listing it.

}  // namespace dirproxy
