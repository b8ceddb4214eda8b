#include "service/service.hpp"

#include "core/logging.hpp"
#include "directories/pending_lookup.hpp"
#include "service/application_requests.hpp"

namespace dirproxy {
namespace {

Error not_found_user(std::string_view username) {
  return make_error(ErrorCode::not_found, "no user '" + std::string(username) + "'", "username");
}

}  // namespace

std::string audit_field(std::string_view key, std::string_view value) {
  return std::string(key) + "=" + logging::quoted(value);
}

Service::Service(WorkerPool& pool, RuntimeSource runtime, ReloadFunction reload, ClockPtr clock,
                 metrics::Registry* metrics)
    : pool_(pool),
      runtime_(std::move(runtime)),
      reload_(std::move(reload)),
      clock_(std::move(clock)),
      started_(clock_->steady()),
      requests_(metrics) {}

Result<void> Service::authorize(const Caller& caller, const OperationPolicy& policy, std::string_view target) {
  if (may_call(caller, policy)) return {};
  Error refused = make_error(ErrorCode::forbidden, "'" + std::string(policy.name) + "' is for admins only");
  audit(caller, policy, target, &refused);
  // Refused before any work: it took no time worth measuring.
  requests_.record(caller.front_end, policy, &refused, std::chrono::nanoseconds::zero());
  return refused;
}

void Service::count_rejected(const Caller& caller, const OperationPolicy& policy, const Error& error) {
  requests_.record(caller.front_end, policy, &error, std::chrono::nanoseconds::zero());
}

Error Service::settle_error(const Caller& caller, const OperationPolicy& policy, std::string_view target,
                            Error error) const {
  static const auto log = logging::logger("request");
  audit(caller, policy, target, &error);
  if (error.code != ErrorCode::internal_error) return error;
  log->error("conn={} op={} failed: {}", caller.connection, policy.name, error.message);
  return make_error(ErrorCode::internal_error, "internal error; see the daemon's log");
}

void Service::log_after_answer(const Caller& caller, const OperationPolicy& policy, const Error& error) {
  static const auto log = logging::logger("request");
  log->error("conn={} op={} failed after its answer: {} ({})", caller.connection, policy.name, error.message,
             to_string(error.code));
}

std::optional<std::string> Service::socket_application(uid_t uid) const {
  const RuntimePtr runtime = runtime_();
  // No runtime: a harness that only parses requests (fuzz/socket_request).
  if (!runtime) return std::nullopt;
  return dirproxy::socket_application(*runtime->config, uid);
}

void Service::audit(const Caller& caller, const OperationPolicy& policy, std::string_view target,
                    const Error* error) const {
  const bool refused = error != nullptr && error->code == ErrorCode::forbidden;
  const bool wanted =
      policy.audit == AuditPolicy::always || refused || (policy.audit == AuditPolicy::failures && error != nullptr);
  if (!wanted) return;
  std::string line = "op=" + std::string(policy.name);
  if (caller.actor) line += " actor=" + logging::quoted(*caller.actor);
  if (caller.application) line += " application=" + logging::quoted(*caller.application);
  if (caller.peer) {
    line += " peer_uid=" + std::to_string(caller.peer->uid) + " peer_pid=" + std::to_string(caller.peer->pid);
  }
  if (!target.empty()) line += " " + std::string(target);
  if (caller.client_address) line += " client_ip=" + logging::quoted(*caller.client_address);
  line += error == nullptr ? std::string(" result=ok") : " result=" + std::string(to_string(error->code));
  logging::audit(line);
}

awaitable<Result<ServerStatus>> Service::call(const Caller& caller, const PingRequest&) {
  const Started started = std::chrono::steady_clock::now();
  CO_RETURN_IF_ERROR(authorize(caller, PingRequest::policy));
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(clock_->steady() - started_);
  Result<ServerStatus> status = ServerStatus{DIRPROXY_VERSION, uptime.count()};
  settle(caller, PingRequest::policy, {}, status, started);
  co_return status;
}

awaitable<Result<void>> Service::call(const Caller& caller, const ReloadRequest&) {
  const Started started = std::chrono::steady_clock::now();
  CO_RETURN_IF_ERROR(authorize(caller, ReloadRequest::policy));
  Result<void> reloaded = co_await reload_();
  settle(caller, ReloadRequest::policy, {}, reloaded, started);
  co_return reloaded;
}

std::optional<Result<User>> Service::answer_now(const Caller& caller, const GetUserRequest& request) {
  if (!request.username || request.email) return std::nullopt;  // run() words the refusal
  const Started started = std::chrono::steady_clock::now();
  RuntimePtr runtime = runtime_();
  std::optional<std::optional<User>> cached;
  try {
    cached = runtime->chain->cached_find_user(*request.username);
  } catch (const std::exception&) {
    return std::nullopt;  // call() runs it again and reports the failure
  }
  if (!cached) return std::nullopt;
  std::optional<Result<User>> answer;
  if (cached->has_value()) {
    answer.emplace(std::move(**cached));
  } else {
    answer.emplace(not_found_user(*request.username));
  }
  settle(caller, GetUserRequest::policy, {}, *answer, started);
  return answer;
}

// get_user on the caller's event loop: an uncached lookup in an LDAP
// directory waits there for the server's answer instead of holding a worker
// for it, which saves a hand-over to a worker and back and a thread sleeping
// in libldap per lookup. What cannot be done so (an email, the internal
// directory, no idle connection, a failed lookup) runs on the worker pool,
// from the directory where the walk stopped.
//
// g++ 12 inlines asio's recycling frame allocator into this coroutine and
// then takes its operator delete for a mismatch with ::operator new
// (-Wmismatched-new-delete); the pair is asio's own and matches.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
awaitable<Result<std::optional<User>>> Service::find_user(const Runtime& runtime, const std::string& username) {
  Result<std::optional<User>> user = make_error(ErrorCode::internal_error, "no answer");
  try {
    DirectoryChain::UserWalk walk(*runtime.chain, username);
    auto step = walk.start();
    while (step.lookup) {
      auto outcome = co_await finish_lookup(*step.lookup);
      step = walk.resume(std::move(outcome));
    }
    if (step.answer) {
      user = std::move(*step.answer);
    } else {
      auto rest = [&walk] { return walk.finish_blocking(); };
      user = co_await pool_.run(rest);
    }
  } catch (const std::exception& e) {
    user = make_error(ErrorCode::internal_error, std::string("unexpected exception: ") + e.what());
  }
  co_return user;
}

awaitable<Result<User>> Service::call(const Caller& caller, const GetUserRequest& request) {
  if (!request.username || request.email) {
    co_return co_await call<GetUserRequest>(caller, request);
  }
  const Started started = std::chrono::steady_clock::now();
  RuntimePtr runtime = runtime_();
  Result<std::optional<User>> user = co_await find_user(*runtime, *request.username);
  Result<User> answer = [&]() -> Result<User> {
    RETURN_IF_ERROR(user);
    if (!user->has_value()) return not_found_user(*request.username);
    return std::move(**user);
  }();
  settle(caller, GetUserRequest::policy, {}, answer, started);
  co_return answer;
}

awaitable<Result<std::optional<UserEntry>>> Service::call(const Caller& caller, const GetUserEntryRequest& request) {
  if (!request.username || request.email || request.uid_number || request.uuid) {
    co_return co_await call<GetUserEntryRequest>(caller, request);  // run() words a refusal
  }
  const Started started = std::chrono::steady_clock::now();
  CO_RETURN_IF_ERROR(authorize(caller, GetUserEntryRequest::policy));
  RuntimePtr runtime = runtime_();
  const OperationContext context{*runtime, caller};
  Result<std::optional<User>> user = co_await find_user(*runtime, *request.username);
  Result<std::optional<UserEntry>> answer = std::optional<UserEntry>();
  if (!user) {
    answer = std::move(user).error();
  } else if (user->has_value()) {
    if (auto entry = user_entry_from_memory(context, request, **user)) {
      answer = std::optional<UserEntry>(std::move(*entry));
    } else {
      auto operation = [&]() -> Result<std::optional<UserEntry>> {
        return user_entry(context, request, std::move(**user));
      };
      auto work = [&operation] { return run_guarded<std::optional<UserEntry>>(operation); };
      answer = co_await pool_.run(work);
    }
  }
  settle(caller, GetUserEntryRequest::policy, {}, answer, started);
  co_return answer;
}
#pragma GCC diagnostic pop

}  // namespace dirproxy
