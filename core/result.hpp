// Errors as values. Result<T> uses the member names of C++23 std::expected
// (has_value, value, error, operator bool, operator*, operator->) so that
// moving to it later is mechanical. ErrorCode maps 1:1 to the protocol's
// error codes (docs/protocol.md); "not found" and "wrong password" are outcomes
// carried in T (std::optional, AuthOutcome), not errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dirproxy {

enum class ErrorCode {
  bad_request,
  request_too_large,
  unknown_op,
  forbidden,
  not_found,
  conflict,
  invalid_credentials,
  access_denied,
  account_disabled,
  account_locked,
  rate_limited,
  invalid_username,
  invalid_email,
  weak_password,
  signup_disabled,
  domain_not_allowed,
  invalid_token,
  mail_not_configured,
  user_management_external,
  read_only,
  directory_unavailable,
  internal_error,
};

// The protocol's spelling of a code, e.g. "directory_unavailable".
constexpr std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request: return "bad_request";
    case ErrorCode::request_too_large: return "request_too_large";
    case ErrorCode::unknown_op: return "unknown_op";
    case ErrorCode::forbidden: return "forbidden";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::invalid_credentials: return "invalid_credentials";
    case ErrorCode::access_denied: return "access_denied";
    case ErrorCode::account_disabled: return "account_disabled";
    case ErrorCode::account_locked: return "account_locked";
    case ErrorCode::rate_limited: return "rate_limited";
    case ErrorCode::invalid_username: return "invalid_username";
    case ErrorCode::invalid_email: return "invalid_email";
    case ErrorCode::weak_password: return "weak_password";
    case ErrorCode::signup_disabled: return "signup_disabled";
    case ErrorCode::domain_not_allowed: return "domain_not_allowed";
    case ErrorCode::invalid_token: return "invalid_token";
    case ErrorCode::mail_not_configured: return "mail_not_configured";
    case ErrorCode::user_management_external: return "user_management_external";
    case ErrorCode::read_only: return "read_only";
    case ErrorCode::directory_unavailable: return "directory_unavailable";
    case ErrorCode::internal_error: return "internal_error";
  }
  return "internal_error";
}

struct Error {
  ErrorCode code = ErrorCode::internal_error;
  std::string message;    // for humans; never a password or token
  std::string field;      // optional: the request parameter at fault
  std::string directory;  // optional: for directory_unavailable
  // For account_locked and rate_limited: seconds until a retry can succeed.
  std::optional<std::int64_t> retry_after;
};

inline Error make_error(ErrorCode code, std::string message, std::string field = {}) {
  return Error{code, std::move(message), std::move(field), {}, std::nullopt};
}

// Wraps an Error so that `return Unexpected{...}` converts to any Result<T>.
struct Unexpected {
  Error error;
};

inline Unexpected fail(ErrorCode code, std::string message, std::string field = {}) {
  return Unexpected{make_error(code, std::move(message), std::move(field))};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Unexpected unexpected) : state_(std::in_place_index<1>, std::move(unexpected.error)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected unexpected) : error_(std::move(unexpected.error)) {}
  Result(Error error) : error_(std::move(error)) {}

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const {}

  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

}  // namespace dirproxy

// Passes the error of a Result up to the caller in one line, as Envoy's
// RETURN_IF_NOT_OK: `RETURN_IF_ERROR(lease.exec(sql));` returns the error
// when the Result holds one and goes on otherwise. The expression is
// evaluated once; a named Result (`RETURN_IF_ERROR(user);`) gives up its
// error, so use it only where the function returns. CO_RETURN_IF_ERROR is
// the same in a coroutine.
#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    if (auto&& dirproxy_result_ = (expr); !dirproxy_result_) { \
      return std::move(dirproxy_result_).error();              \
    }                                                          \
  } while (false)

#define CO_RETURN_IF_ERROR(expr)                               \
  do {                                                         \
    if (auto&& dirproxy_result_ = (expr); !dirproxy_result_) { \
      co_return std::move(dirproxy_result_).error();           \
    }                                                          \
  } while (false)
