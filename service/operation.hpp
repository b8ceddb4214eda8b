// One protocol operation: its name, whether it is for admins only, the
// parameters it accepts, and the blocking function that carries it out on the
// worker pool. The dispatcher checks the peer and the parameters before
// calling `run`, so `run` may read parameters of the declared types directly.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/asio.hpp"
#include "frontends/socket/protocol.hpp"
#include "service/runtime.hpp"
#include "core/worker_pool.hpp"

namespace dirproxy {

// The legacy JSON form of an operation, while the operations move to typed
// requests (service/service.hpp); removed when none is left.
struct JsonOperationContext {
  const protocol::Json& params;
  const Runtime& runtime;
};

struct Operation {
  std::string_view name;
  bool admin = false;
  std::vector<protocol::ParamSpec> params;  // besides client_ip / actor
  Result<protocol::Json> (*run)(const JsonOperationContext&) = nullptr;
  // Changes state: on one connection it waits for every earlier request, and
  // every later request waits for it, so a client sees its own writes.
  bool writes = false;
  // Optional: the answer when it can be had from memory without blocking
  // (the directories' caches), or nullopt to run `run` on the worker pool.
  // Called on the io thread, so it must never block: a hop to the pool and
  // back costs far more than a cached lookup itself.
  std::optional<Result<protocol::Json>> (*answer_from_memory)(const JsonOperationContext&) = nullptr;
  // Optional, used instead of `run`: the operation on the connection's
  // event loop, waiting for network lookups there (Directory::
  // start_user_lookup) instead of holding a worker thread while they run;
  // whatever must block, it runs on `pool` itself. The context and what it
  // refers to live until it returns.
  awaitable<Result<protocol::Json>> (*run_on_event_loop)(const JsonOperationContext&, WorkerPool& pool) = nullptr;
};

// Lookups, authentication and the admin operations on users and groups.
const std::vector<Operation>& directory_operations();

// Operations on the state database as a whole: the online backup.
const std::vector<Operation>& state_operations();

// The account life cycle (PROTOCOL.md), one file each:
// signup and confirm_signup (signup_operations.cpp);
const std::vector<Operation>& signup_operations();
// the shared link and single-use invitations (invitation_operations.cpp);
const std::vector<Operation>& invitation_operations();
// request_access and the admin's decisions (access_request_operations.cpp);
const std::vector<Operation>& access_request_operations();
// request_password_reset, reset_password, send_password_reset
// (password_reset_operations.cpp);
const std::vector<Operation>& password_reset_operations();
// mail_queue (mail_operations.cpp).
const std::vector<Operation>& mail_operations();

// The protocol's User object ("groups" is added by authenticate).
protocol::Json user_json(const User& user);

}  // namespace dirproxy
