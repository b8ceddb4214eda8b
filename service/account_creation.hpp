// Creating a new account, the one way every path that makes accounts takes
// (signup, confirm_signup, invitation redemption, add_user): the account is
// created through the chain (rule 5: the first directory that permits it),
// joins accounts.default_groups and any groups the occasion adds (a missing
// group is created in the first directory that permits creating groups), and,
// with signup.notify_admins and mail configured, every member of
// accounts.admin_group who has an email gets an admin_new_account mail.
//
// The account may land in an LDAP directory, outside the state database, so
// its mails cannot share a transaction with it. Instead, one write
// transaction first runs the caller's claim (e.g. consuming a token) and
// enqueues the account's mails *held* for the username; then the account is
// created; then the held mail is released, or, when creation failed, the
// held mail is discarded and the caller's unclaim runs in a second
// transaction, so a failed attempt (a username conflict) neither sends mail
// nor burns the token. No half-created users: if joining a group fails, the
// account is deleted again and the error returned.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "directories/directory.hpp"
#include "mail/outbox.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

struct NewAccount {
  NewUser user;
  // Groups to join besides accounts.default_groups (e.g. an invitation's).
  std::vector<std::string> groups;
  // Mails that go out only once the account exists (e.g. add_user's
  // set-password mail); the admin notices are added by create_account.
  std::vector<OutgoingMail> mails;
};

// Work done on the state database in the transaction that holds the mails
// (claim) or in the one that undoes it (unclaim). An error from claim stops
// everything before the account is created.
using StateStep = std::function<Result<void>(const StateDatabase::Lease&)>;

// Creates `account` as described above. Errors: what `claim` answers
// (e.g. invalid_token), conflict (the username is taken, or another creation
// of the same username is in progress), read_only, directory_unavailable, and
// what the chain answers for the groups; internal_error for the database.
Result<User> create_account(const Runtime& runtime, const NewAccount& account, const StateStep& claim = {},
                            const StateStep& unclaim = {});

// The admin_new_account mails for a new account of `user`: one to every
// member of accounts.admin_group who has an email. Empty when
// signup.notify_admins is off, mail is not configured, admin_group is empty
// or names no group.
Result<std::vector<OutgoingMail>> admin_notice_mails(const Runtime& runtime, const NewUser& user);

// The groups a new account joins: accounts.default_groups then `extra`,
// without repeats (case-insensitively), in that order.
std::vector<std::string> groups_for_new_account(const config::Config& config, const std::vector<std::string>& extra);

}  // namespace dirproxy
