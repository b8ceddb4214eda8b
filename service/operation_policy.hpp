// What the service declares of each operation, once, as named fields: its
// name, whether only admins may run it, whether it changes state, and what
// the audit log records of it. Front ends read the same declaration, so
// none of them decides these by comparing operation names.
#pragma once

#include <string_view>

namespace dirproxy {

enum class AuditPolicy {
  never,     // only the request log (debug) records it
  always,    // every call, with its outcome (admin operations, account creation)
  failures,  // failed calls only (authentication)
};

struct OperationPolicy {
  // The operation's name: in log and audit lines, and the socket protocol's "op".
  std::string_view name;
  // Only admin callers may run it; others get forbidden (audited).
  bool admin_only = false;
  // Changes state: a front end that pipelines requests on one connection
  // lets it wait for every earlier request there, and every later request
  // wait for it, so a client sees its own writes.
  bool writes = false;
  AuditPolicy audit = AuditPolicy::never;
  // Answers as soon as the operation's `check` passes, and runs its `run`
  // on the worker pool after the answer has gone, logging what that fails
  // with: for an operation whose answer must not depend on what `run` finds
  // (whether an account exists), not even by how long it takes.
  bool answers_before_work = false;
};

}  // namespace dirproxy
