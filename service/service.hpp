// The service every front end calls: each operation of the catalogue as a
// typed request and a typed result, run with a Caller. It checks that the
// caller may run the operation, runs what blocks (Argon2id, SQLite,
// libldap) on the worker pool, writes the audit line the operation's policy
// asks for, and never lets an internal error's detail reach a front end
// (it goes to the log). Front ends only translate to and from it.
//
// A request type declares its operation:
//
//   struct GetGroupRequest {
//     static constexpr OperationPolicy policy{.name = "get_group"};
//     using Response = Group;
//     std::string name;
//     std::string audit_target() const;  // optional: what the audit line names
//   };
//   Result<Group> run(const OperationContext& op, const GetGroupRequest& request);
//
// and call() finds its `run` by argument-dependent lookup. A few operations
// need more than a worker (ping, reload, get_user) and have overloads of
// their own. An operation whose policy says answers_before_work also has
//
//   Result<void> check(const OperationContext& op, const Request& request);
//
// call() answers with what `check` answers, and when that is success, runs
// `run` afterwards on the worker pool (its failure is logged, not answered).
#pragma once

#include <chrono>
#include <concepts>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/asio.hpp"
#include "core/clock.hpp"
#include "core/metrics_registry.hpp"
#include "core/worker_pool.hpp"
#include "service/caller.hpp"
#include "service/directory_requests.hpp"
#include "service/entry_requests.hpp"
#include "service/operation_context.hpp"
#include "service/operation_policy.hpp"
#include "service/request_metrics.hpp"
#include "service/runtime.hpp"

namespace dirproxy {

// What the audit line names of a request: its audit_target(), if it has one.
template <typename Request>
std::string audit_target_of(const Request& request) {
  if constexpr (requires {
                  { request.audit_target() } -> std::convertible_to<std::string>;
                }) {
    return request.audit_target();
  } else {
    return {};
  }
}

class Service final {
 public:
  using RuntimeSource = std::function<RuntimePtr()>;
  // Re-reads the configuration; an error leaves the running one in place.
  using ReloadFunction = std::function<awaitable<Result<void>>()>;

  // Counts its requests in `metrics` (RequestMetrics), or nowhere when null.
  Service(WorkerPool& pool, RuntimeSource runtime, ReloadFunction reload, ClockPtr clock = system_clock(),
          metrics::Registry* metrics = nullptr);

  // Whether `caller` may run an operation of `policy` (admins only, or anyone).
  static bool may_call(const Caller& caller, const OperationPolicy& policy) {
    return !policy.admin_only || caller.admin;
  }

  // forbidden when `caller` may not run an operation of `policy`; the
  // refusal is audited, naming `target`, and counted.
  Result<void> authorize(const Caller& caller, const OperationPolicy& policy, std::string_view target = {});

  // Counts a request of `policy` that its front end answered with `error`
  // without calling the service (its parameters did not decode).
  void count_rejected(const Caller& caller, const OperationPolicy& policy, const Error& error);

  // Runs `request` for `caller`. The caller and the request live until the
  // returned awaitable completes.
  template <typename Request>
  awaitable<Result<typename Request::Response>> call(const Caller& caller, const Request& request);

  awaitable<Result<ServerStatus>> call(const Caller& caller, const PingRequest& request);
  awaitable<Result<void>> call(const Caller& caller, const ReloadRequest& request);
  // get_user waits for LDAP lookups on the caller's event loop instead of
  // holding a worker for them (Directory::start_user_lookup); what cannot be
  // done so runs on the pool.
  awaitable<Result<User>> call(const Caller& caller, const GetUserRequest& request);
  // An entry by username: the user found as get_user finds it (above);
  // the rest from memory when it has it (user_entry_from_memory), else on
  // the pool. Other keys: on the pool.
  awaitable<Result<std::optional<UserEntry>>> call(const Caller& caller, const GetUserEntryRequest& request);

  // The answer when memory alone has it (the directories' caches), without
  // blocking or awaiting; nullopt: call() it. Same answer and audit as
  // call(). For the io thread.
  std::optional<Result<User>> answer_now(const Caller& caller, const GetUserRequest& request);
  // Whether answer_now can ever answer `Request` (a front end need not ask
  // otherwise).
  template <typename Request>
  static constexpr bool answers_from_memory = std::is_same_v<Request, GetUserRequest>;

  // The application a socket peer running as `uid` acts for, in the
  // configuration in force (socket_application in application_requests.hpp),
  // or nullopt. The socket front end asks it per request, so that a reload
  // that changes socket_users applies to open connections. Without
  // applications it costs a load of the runtime pointer.
  std::optional<std::string> socket_application(uid_t uid) const;

  // Writes the audit line of one outcome (`error` null: success) when
  // `policy` asks for it, or the outcome is a refusal.
  void audit(const Caller& caller, const OperationPolicy& policy, std::string_view target, const Error* error) const;

 private:
  using Started = std::chrono::steady_clock::time_point;

  // Audits the outcome as `policy` asks and counts it, as taking the time
  // since `started`; an internal error is logged with its detail and
  // replaced by one whose message has none. In place: a cached get_user
  // costs a few microseconds, and moving its User from one Result to the
  // next showed in its instruction count.
  template <typename T>
  void settle(const Caller& caller, const OperationPolicy& policy, std::string_view target, Result<T>& result,
              Started started) {
    if (result) {
      audit(caller, policy, target, nullptr);
      requests_.record(caller.front_end, policy, nullptr, std::chrono::steady_clock::now() - started);
    } else {
      result = settle_error(caller, policy, target, std::move(result).error());
      requests_.record(caller.front_end, policy, &result.error(), std::chrono::steady_clock::now() - started);
    }
  }
  // The user named `username` as get_user finds it: LDAP lookups awaited on
  // the caller's event loop, the rest on the pool.
  awaitable<Result<std::optional<User>>> find_user(const Runtime& runtime, const std::string& username);
  Error settle_error(const Caller& caller, const OperationPolicy& policy, std::string_view target, Error error) const;
  // Logs the failure of work that ran after its operation's answer.
  static void log_after_answer(const Caller& caller, const OperationPolicy& policy, const Error& error);

  WorkerPool& pool_;
  RuntimeSource runtime_;
  ReloadFunction reload_;
  ClockPtr clock_;
  std::chrono::steady_clock::time_point started_;
  RequestMetrics requests_;
};

// Runs `work` and turns an exception (a bug, or a library failing in a way
// it should not) into internal_error: one request fails, the daemon goes on.
template <typename Response, typename Work>
Result<Response> run_guarded(Work& work) {
  try {
    return work();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error, std::string("unexpected exception: ") + e.what());
  }
}

template <typename Request>
awaitable<Result<typename Request::Response>> Service::call(const Caller& caller, const Request& request) {
  using Response = typename Request::Response;
  const Started started = std::chrono::steady_clock::now();
  const std::string target = audit_target_of(request);
  CO_RETURN_IF_ERROR(authorize(caller, Request::policy, target));
  RuntimePtr runtime = runtime_();
  const OperationContext context{*runtime, caller};
  if constexpr (Request::policy.answers_before_work) {
    static_assert(std::is_void_v<Response>, "an operation that answers before its work answers nothing else");
    auto checking = [&context, &request]() -> Result<void> { return check(context, request); };
    auto work = [&checking]() -> Result<void> { return run_guarded<void>(checking); };
    Result<void> answer = co_await pool_.run(work);
    settle(caller, Request::policy, target, answer, started);
    if (answer) {
      // Owns what it uses: the answer, and this coroutine, are gone by then.
      pool_.post([runtime, caller, request] {
        const OperationContext later{*runtime, caller};
        auto operation = [&later, &request]() -> Result<void> { return run(later, request); };
        if (auto done = run_guarded<void>(operation); !done) log_after_answer(caller, Request::policy, done.error());
      });
    }
    co_return answer;
  } else {
    auto operation = [&context, &request]() -> Result<Response> { return run(context, request); };
    auto work = [&operation]() -> Result<Response> { return run_guarded<Response>(operation); };
    Result<Response> result = co_await pool_.run(work);
    settle(caller, Request::policy, target, result, started);
    co_return result;
  }
}

}  // namespace dirproxy
