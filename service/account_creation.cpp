#include "service/account_creation.hpp"

#include <algorithm>

#include "core/names.hpp"
#include "mail/mail_composer.hpp"
#include "service/account_operation_support.hpp"

namespace dirproxy {
namespace {

// One write transaction on a fresh lease: the chain below may need pooled
// connections of its own, so no lease is held across a chain call.
Result<void> in_write_transaction(const Runtime& runtime, const StateStep& work) {
  return runtime.database->acquire().write_transaction(work);
}

Result<bool> creation_in_progress(const StateDatabase::Lease& lease, std::string_view username) {
  auto query = lease.prepare("SELECT 1 FROM outbox WHERE state = 'held' AND hold_username = ?1 LIMIT 1", username);
  RETURN_IF_ERROR(query);
  return query->step();
}

// Undoes the state side of a creation that did not happen. The held mail
// goes in a transaction of its own, so that an unclaim that fails cannot keep
// it alive (recovery would send it once another account takes the name).
void abandon(const Runtime& runtime, const std::string& username, const StateStep& unclaim) {
  (void)in_write_transaction(runtime,
                             [&](const StateDatabase::Lease& lease) { return discard_held_mail(lease, username); });
  if (unclaim) (void)in_write_transaction(runtime, unclaim);
}

// Whether a creation that answered an error may have happened after all: a
// directory that timed out or went away may have applied the add before it
// stopped answering. Only a definite refusal proves that nothing exists.
bool may_exist_after(const Error& error) {
  return error.code == ErrorCode::directory_unavailable || error.code == ErrorCode::internal_error;
}

// After an uncertain failure: abandons the creation only when the account is
// known not to exist. Otherwise the claim stays (a single-use token must not
// become usable again while an account made with it may exist) and the held
// mail is left to the outbox's recovery, which sends it if the account turns
// out to exist and drops it if not.
void settle_uncertain(const Runtime& runtime, const std::string& username, const StateStep& unclaim) {
  auto found = runtime.chain->find_user(username);
  if (found && !found->has_value()) abandon(runtime, username, unclaim);
}

Result<void> join_group(const Runtime& runtime, const std::string& group, const std::string& username) {
  auto found = runtime.chain->find_group(group);
  RETURN_IF_ERROR(found);
  if (!found->has_value()) {
    auto created = runtime.chain->create_group(group, std::nullopt);
    // Another new account may have created it a moment ago: that is fine.
    if (!created && created.error().code != ErrorCode::conflict) return std::move(created).error();
  }
  return runtime.chain->add_member(group, username);
}

}  // namespace

std::vector<std::string> groups_for_new_account(const config::Config& config, const std::vector<std::string>& extra) {
  std::vector<std::string> groups;
  std::vector<std::string> seen;
  auto add = [&](const std::string& group) {
    auto key = fold_name(group);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
    seen.push_back(std::move(key));
    groups.push_back(group);
  };
  for (const auto& group : config.accounts.default_groups) add(group);
  for (const auto& group : extra) add(group);
  return groups;
}

Result<std::vector<OutgoingMail>> admin_notice_mails(const Runtime& runtime, const NewUser& user) {
  std::vector<OutgoingMail> mails;
  const auto& config = *runtime.config;
  if (!config.signup.notify_admins || !runtime.mail || config.accounts.admin_group.empty()) return mails;
  auto recipients = admin_emails(runtime);
  RETURN_IF_ERROR(recipients);
  MailValues values;
  values.username = user.username;
  values.display_name = user.display_name;
  values.email = user.email;
  for (const auto& recipient : *recipients) {
    auto mail = runtime.mail->compose("admin_new_account", recipient, values, runtime.clock->unix_seconds());
    RETURN_IF_ERROR(mail);
    mails.push_back(std::move(*mail));
  }
  return mails;
}

Result<User> create_account(const Runtime& runtime, const NewAccount& account, const StateStep& claim,
                            const StateStep& unclaim) {
  const std::string& username = account.user.username;
  // A taken name is refused before any token is claimed or mail composed.
  auto existing = runtime.chain->find_user(username);
  RETURN_IF_ERROR(existing);
  if (existing->has_value()) {
    return fail(ErrorCode::conflict, "the username '" + username + "' is taken", "username");
  }

  auto notices = admin_notice_mails(runtime, account.user);
  RETURN_IF_ERROR(notices);
  std::vector<OutgoingMail> mails = account.mails;
  mails.insert(mails.end(), notices->begin(), notices->end());

  auto claimed = in_write_transaction(runtime, [&](const StateDatabase::Lease& lease) -> Result<void> {
    // Held mail for this name means another creation of it is under way;
    // letting both go on would release that one's mail for this account.
    auto busy = creation_in_progress(lease, username);
    RETURN_IF_ERROR(busy);
    if (*busy) return fail(ErrorCode::conflict, "the username '" + username + "' is taken", "username");
    if (claim) {
      if (auto ok = claim(lease); !ok) return ok;
    }
    for (const auto& mail : mails) {
      if (auto queued = enqueue_mail(lease, mail, runtime.clock->unix_seconds(), username); !queued) return queued;
    }
    return {};
  });
  RETURN_IF_ERROR(claimed);

  auto created = runtime.chain->create_user(account.user);
  if (!created) {
    if (may_exist_after(created.error())) {
      settle_uncertain(runtime, username, unclaim);
    } else {
      abandon(runtime, username, unclaim);
    }
    return std::move(created).error();
  }
  for (const auto& group : groups_for_new_account(*runtime.config, account.groups)) {
    if (auto joined = join_group(runtime, group, created->username); !joined) {
      // No half-created users: the account goes again, with its mail.
      Error error = std::move(joined).error();
      error.message = "cannot join group '" + group + "': " + error.message;
      if (auto removed = runtime.chain->delete_user(created->username); !removed) {
        settle_uncertain(runtime, username, unclaim);
        error.message += "; removing the account again failed too: " + removed.error().message;
        return error;
      }
      abandon(runtime, username, unclaim);
      return error;
    }
  }
  auto released = in_write_transaction(runtime, [&](const StateDatabase::Lease& lease) {
    return release_held_mail(lease, username, runtime.clock->unix_seconds());
  });
  // The account exists; held mail left behind is released by the outbox's
  // recovery, so this failure must not undo the account.
  (void)released;
  return created;
}

}  // namespace dirproxy
