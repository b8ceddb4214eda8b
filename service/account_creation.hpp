// Creating a new account, the one way every path that makes accounts takes
// (signup, confirm_signup, invitation redemption, add_user): the account is
// created through the chain (rule 5: the first directory that permits it),
// joins accounts.default_groups and any groups the occasion adds (a missing
// group is created in the first directory that permits creating groups), and,
// with signup.notify_admins and mail configured, every member of
// accounts.admin_group who has an email gets an admin_new_account mail.
//
// A creation happens wholly or not at all, also across a crash:
//
// - When every directory it writes keeps its data in the state database
//   (the internal directory, for the user and every group), the account,
//   its groups, what the occasion claims (a token, an invitation, a pending
//   signup) and its mails commit in one transaction.
// - Otherwise (an LDAP directory holds the user or a group), the writes
//   cannot share a transaction. One transaction first records the creation
//   (account_creation_store.hpp) with the groups, takes the claim and
//   enqueues the mails *held* for the username; then the directories are
//   written; then one transaction releases the mails and drops the record.
//   When a write fails, what was written is removed again, the claim given
//   back and the held mail discarded. A record that nobody settled (the
//   daemon died, or removing the account failed) is settled by
//   recover_account_creations, on this node or on another sharing the
//   database: completed when the account exists, undone when it does not.
//
// No lease is held across a chain call outside the one transaction: the
// chain's directories may need pooled connections of their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "directories/directory.hpp"
#include "mail/outbox.hpp"
#include "service/reset_link.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

// What a new account uses up in the state database, taken in the
// transaction that starts its creation. It is data, not code, because
// recovery after a crash must be able to give it back.
struct AccountClaim {
  // add_user's set-password link: its token is stored for the account.
  std::optional<ResetLink> set_password_link;
  // A single-use invitation, marked used by the account; invalid_token
  // when it is used, revoked or expired by then.
  std::optional<std::int64_t> invitation_id;
  // The pending signup that confirm_signup confirms, deleted once the
  // account exists; invalid_token when another confirmation took it.
  std::optional<std::int64_t> pending_signup_id;
};

struct NewAccount {
  NewUser user;
  // Groups to join besides accounts.default_groups (e.g. an invitation's).
  std::vector<std::string> groups;
  // Mails that go out only once the account exists (e.g. add_user's
  // set-password mail); the admin notices are added by create_account.
  std::vector<OutgoingMail> mails;
  AccountClaim claim;
};

// Creates `account` as described above. Errors: conflict (the username is
// taken, or another creation of it is under way), read_only (no directory
// may create the user, or a group cannot be joined), invalid_token (the
// claim), directory_unavailable, what the directories answer for the user
// and the groups; internal_error for the database.
Result<User> create_account(const Runtime& runtime, const NewAccount& account);

// What recover_account_creations did with one recorded creation.
enum class CreationOutcome {
  completed,   // the account exists: its groups joined, its mail released
  undone,      // no such account: the claim given back, the mail discarded
  unfinished,  // not known yet (a directory is down): tried again later
  settled_elsewhere,  // another node's recovery settled it first
};

struct RecoveredCreation {
  std::string username;
  CreationOutcome outcome = CreationOutcome::unfinished;
  std::string detail;  // for unfinished: why
};

// Settles every recorded creation that no running creation owns: those
// left by a process whose row in nodes is missing or older than
// kNodeStaleAfter at the Runtime clock's time (an earlier run of this node
// that stopped or crashed, another node that died; storage/node_registry.hpp)
// and those any process handed over after a failure it could not undo. The
// creations of live nodes, this one included, are left alone. Safe to run
// on several nodes at once: a record is settled by one of them. Completes one whose account exists
// (joins its groups, creating missing ones; releases its mail; deletes a
// confirmed pending signup) and undoes one whose account does not exist
// (gives its claim back, discards its mail); each gets one log line. One
// that cannot be decided now stays for a later call.
std::vector<RecoveredCreation> recover_account_creations(const Runtime& runtime);

// The admin_new_account mails for a new account of `user`: one to every
// member of accounts.admin_group who has an email. Empty when
// signup.notify_admins is off, mail is not configured, admin_group is empty
// or names no group.
Result<std::vector<OutgoingMail>> admin_notice_mails(const Runtime& runtime, const NewUser& user);

// The groups a new account joins: accounts.default_groups then `extra`,
// without repeats (case-insensitively), in that order.
std::vector<std::string> groups_for_new_account(const config::Config& config, const std::vector<std::string>& extra);

}  // namespace dirproxy
