#include "service/account_creation.hpp"

#include <algorithm>

#include "accounts/account_creation_store.hpp"
#include "accounts/invitation_store.hpp"
#include "accounts/pending_signup_store.hpp"
#include "core/logging.hpp"
#include "core/names.hpp"
#include "mail/mail_composer.hpp"
#include "storage/node_registry.hpp"
#include "service/account_operation_support.hpp"

namespace dirproxy {
namespace {

using Lease = StateDatabase::Lease;

const std::shared_ptr<spdlog::logger>& log() {
  static const auto logger = logging::logger("accounts");
  return logger;
}

Error username_taken(const std::string& username) {
  return make_error(ErrorCode::conflict, "the username '" + username + "' is taken", "username");
}

// One write transaction on a fresh lease: the chain calls around it may need
// pooled connections of their own, so no lease is held across them.
template <typename Work>
auto in_write_transaction(const Runtime& runtime, const Work& work) {
  return runtime.database->acquire().write_transaction(work);
}

CreationRecord record_of(const NewAccount& account, std::vector<std::string> groups, std::int64_t now) {
  CreationRecord record;
  record.username = account.user.username;
  record.groups = std::move(groups);
  if (account.claim.set_password_link) record.reset_token_hash = account.claim.set_password_link->token.hash;
  record.invitation_id = account.claim.invitation_id;
  record.pending_signup_id = account.claim.pending_signup_id;
  record.process = this_process();
  record.started_at = now;
  return record;
}

Result<void> take_claim(const Lease& lease, const AccountClaim& claim, const std::string& username, std::int64_t now) {
  if (claim.set_password_link) {
    RETURN_IF_ERROR(store_reset_link(lease, *claim.set_password_link, username));
  }
  if (claim.invitation_id) {
    auto claimed = claim_invitation(lease, *claim.invitation_id, username, now);
    RETURN_IF_ERROR(claimed);
    if (!*claimed) return unusable_token();
  }
  if (claim.pending_signup_id) {
    auto claimed = claim_pending_signup(lease, *claim.pending_signup_id);
    RETURN_IF_ERROR(claimed);
    if (!*claimed) return unusable_token();
  }
  return {};
}

// What is left of the claim once the account exists.
Result<void> finish_claim(const Lease& lease, const CreationRecord& record) {
  if (record.pending_signup_id) return delete_pending_signup(lease, *record.pending_signup_id);
  return {};
}

Result<void> give_claim_back(const Lease& lease, const CreationRecord& record) {
  if (record.reset_token_hash) {
    RETURN_IF_ERROR(delete_reset_token(lease, *record.reset_token_hash));
  }
  if (record.invitation_id) {
    RETURN_IF_ERROR(unclaim_invitation(lease, *record.invitation_id, record.username));
  }
  if (record.pending_signup_id) {
    RETURN_IF_ERROR(unclaim_pending_signup(lease, *record.pending_signup_id));
  }
  return {};
}

// complete() and undo() first delete the record and act only when it was
// still there: the recoveries of two nodes may take up the same record of
// a dead node at once, and the one that comes second must not give back a
// claim, or discard mail, that a new creation of the username has taken
// meanwhile. They answer false when the record was gone (settled already).

// The recorded creation is complete: its mail goes out and its record goes.
Result<bool> complete(const Runtime& runtime, const CreationRecord& record) {
  return in_write_transaction(runtime, [&](const Lease& lease) -> Result<bool> {
    auto deleted = delete_creation_record(lease, record);
    RETURN_IF_ERROR(deleted);
    if (!*deleted) return false;
    RETURN_IF_ERROR(finish_claim(lease, record));
    RETURN_IF_ERROR(release_held_mail(lease, record.username, runtime.clock->unix_seconds()));
    return true;
  });
}

// The recorded creation did not happen: the claim is given back, the held
// mail discarded and the record dropped, together.
Result<bool> undo(const Runtime& runtime, const CreationRecord& record) {
  return in_write_transaction(runtime, [&](const Lease& lease) -> Result<bool> {
    auto deleted = delete_creation_record(lease, record);
    RETURN_IF_ERROR(deleted);
    if (!*deleted) return false;
    RETURN_IF_ERROR(give_claim_back(lease, record));
    RETURN_IF_ERROR(discard_held_mail(lease, record.username));
    return true;
  });
}

// Leaves the recorded creation to recover_account_creations, which settles
// it once it can tell whether the account exists.
void hand_over(const Runtime& runtime, const CreationRecord& record, const std::string& why) {
  auto handed =
      in_write_transaction(runtime, [&](const Lease& lease) { return hand_over_creation_record(lease, record.id); });
  log()->warn("creation of account {} left for recovery: {}{}", logging::quoted(record.username), why,
              handed ? "" : " (and the hand-over failed: " + handed.error().message + "; the next start settles it)");
}

// After a failure that may have happened after the directory made the user
// (one that timed out or went away): undone only when the user is known
// not to exist; otherwise recovery completes or undoes it later.
void settle_uncertain(const Runtime& runtime, const CreationRecord& record, const Error& error) {
  auto found = runtime.chain->find_user(record.username);
  if (found && !found->has_value()) {
    if (auto undone = undo(runtime, record); undone) return;
  }
  hand_over(runtime, record, error.message);
}

// Whether a creation that answered `error` may have happened after all: a
// directory that timed out or went away may have applied the add before it
// stopped answering. Only a definite refusal proves that nothing exists.
bool may_exist_after(const Error& error) {
  return error.code == ErrorCode::directory_unavailable || error.code == ErrorCode::internal_error;
}

// All of the account in one transaction of the state database.
Result<User> create_in_state_database(const Runtime& runtime, const NewAccount& account, const AccountPlan& plan,
                                      const std::vector<OutgoingMail>& mails, const CreationRecord& record) {
  NewUser user = account.user;
  // Argon2id is slow: hashed before the transaction takes the write lock.
  if (user.password && !user.password_hash) {
    auto hashed = runtime.hasher->hash(*user.password);
    RETURN_IF_ERROR(hashed);
    user.password_hash = std::move(*hashed);
    user.password.reset();
  }
  const std::int64_t now = runtime.clock->unix_seconds();
  return runtime.database->acquire().write_transaction_joined_by_this_thread([&](const Lease& lease) -> Result<User> {
    // A recorded creation of the name is under way, or waits for recovery.
    auto recorded = creation_recorded(lease, user.username);
    RETURN_IF_ERROR(recorded);
    if (*recorded) return username_taken(user.username);
    RETURN_IF_ERROR(take_claim(lease, account.claim, user.username, now));
    auto created = runtime.chain->create_planned_user(plan, user);
    RETURN_IF_ERROR(created);
    RETURN_IF_ERROR(runtime.chain->join_planned_groups(plan, created->username));
    RETURN_IF_ERROR(finish_claim(lease, record));
    for (const auto& mail : mails) {
      RETURN_IF_ERROR(enqueue_mail(lease, mail, now));
    }
    return created;
  });
}

// The account in directories outside the state database: recorded first,
// written, then completed, or undone when a write fails.
Result<User> create_across_directories(const Runtime& runtime, const NewAccount& account, const AccountPlan& plan,
                                       const std::vector<OutgoingMail>& mails, CreationRecord record) {
  const std::string& username = record.username;
  auto recorded = in_write_transaction(runtime, [&](const Lease& lease) -> Result<void> {
    auto id = insert_creation_record(lease, record);
    if (!id && id.error().code == ErrorCode::conflict) return username_taken(username);
    RETURN_IF_ERROR(id);
    record.id = *id;
    RETURN_IF_ERROR(take_claim(lease, account.claim, username, record.started_at));
    for (const auto& mail : mails) {
      RETURN_IF_ERROR(enqueue_mail(lease, mail, record.started_at, username));
    }
    return {};
  });
  RETURN_IF_ERROR(recorded);

  auto created = runtime.chain->create_planned_user(plan, account.user);
  if (!created) {
    if (may_exist_after(created.error())) {
      settle_uncertain(runtime, record, created.error());
    } else if (auto undone = undo(runtime, record); !undone) {
      hand_over(runtime, record, undone.error().message);
    }
    return std::move(created).error();
  }
  if (auto joined = runtime.chain->join_planned_groups(plan, created->username); !joined) {
    // No half-created users: the account goes again.
    Error error = std::move(joined).error();
    if (auto removed = runtime.chain->delete_user(created->username); !removed) {
      error.message += "; removing the account again failed too: " + removed.error().message;
      hand_over(runtime, record, error.message);
      return error;
    }
    if (auto undone = undo(runtime, record); !undone) hand_over(runtime, record, undone.error().message);
    return error;
  }
  // The account exists: a failure here leaves the rest to recovery, which
  // finds it and completes the record; it must not undo the account.
  if (auto completed = complete(runtime, record); !completed) {
    hand_over(runtime, record, completed.error().message);
  }
  return created;
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

std::string joined_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined.empty() ? "none" : joined;
}

RecoveredCreation recover(const Runtime& runtime, const CreationRecord& record) {
  const std::string name = logging::quoted(record.username);
  auto unfinished = [&](const std::string& why) {
    log()->warn("creation of account {} stays unfinished, to be tried again: {}", name, why);
    return RecoveredCreation{record.username, CreationOutcome::unfinished, why};
  };
  auto settled_elsewhere = [&] {
    log()->info("creation of account {} was settled by another node meanwhile", name);
    return RecoveredCreation{record.username, CreationOutcome::settled_elsewhere, {}};
  };
  auto found = runtime.chain->find_user(record.username);
  if (!found) return unfinished(found.error().message);
  if (!found->has_value()) {
    auto undone = undo(runtime, record);
    if (!undone) return unfinished(undone.error().message);
    if (!*undone) return settled_elsewhere();
    log()->warn(
        "creation of account {} undone: the account was never made; its claim was given back and its mail "
        "dropped",
        name);
    return RecoveredCreation{record.username, CreationOutcome::undone, {}};
  }
  const User& user = **found;
  for (const auto& group : record.groups) {
    if (auto joined = join_group(runtime, group, user.username); !joined) {
      return unfinished("cannot join group '" + group + "': " + joined.error().message);
    }
  }
  auto completed = complete(runtime, record);
  if (!completed) return unfinished(completed.error().message);
  if (!*completed) return settled_elsewhere();
  log()->warn(
      "creation of account {} completed: the account exists in directory '{}'; groups joined: {}; its mail "
      "released",
      name, user.directory, joined_names(record.groups));
  return RecoveredCreation{record.username, CreationOutcome::completed, {}};
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

Result<User> create_account(const Runtime& runtime, const NewAccount& account) {
  // Every lookup first: a taken name or a group that cannot be joined is
  // refused before anything is claimed, composed or written.
  std::vector<std::string> groups = groups_for_new_account(*runtime.config, account.groups);
  auto plan = runtime.chain->plan_account(account.user, groups);
  RETURN_IF_ERROR(plan);
  auto notices = admin_notice_mails(runtime, account.user);
  RETURN_IF_ERROR(notices);
  std::vector<OutgoingMail> mails = account.mails;
  mails.insert(mails.end(), notices->begin(), notices->end());

  CreationRecord record = record_of(account, std::move(groups), runtime.clock->unix_seconds());
  if (plan->stored_in_state_database()) return create_in_state_database(runtime, account, *plan, mails, record);
  return create_across_directories(runtime, account, *plan, mails, std::move(record));
}

std::vector<RecoveredCreation> recover_account_creations(const Runtime& runtime) {
  // A node whose heartbeat is older than kNodeStaleAfter is dead: what it
  // recorded is settled here; a live node's creations are its own.
  const std::int64_t live_since =
      runtime.clock->unix_seconds() - std::chrono::seconds(kNodeStaleAfter).count();
  auto records = [&] {
    auto lease = runtime.database->acquire();
    return creation_records_of_gone_processes(lease, this_process(), live_since);
  }();
  if (!records) {
    log()->error("cannot read the unfinished account creations: {}", records.error().message);
    return {};
  }
  std::vector<RecoveredCreation> outcomes;
  for (const auto& record : *records) {
    try {
      outcomes.push_back(recover(runtime, record));
    } catch (const std::exception& e) {
      log()->error("creation of account {} stays unfinished: unexpected exception: {}",
                   logging::quoted(record.username), e.what());
      outcomes.push_back({record.username, CreationOutcome::unfinished, e.what()});
    }
  }
  return outcomes;
}

}  // namespace dirproxy
