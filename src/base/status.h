// Status and Result<T>: how expected failures travel through PrimoART.
//
// Network, storage and untrusted-input failures are values, never exceptions: a function that can
// fail in an expected way returns `Status` (nothing else to say) or `Result<T>` (a value or the
// reason there is none). Programmer errors assert instead. Messages are written for the person
// who has to act on them ("database_url: unknown scheme 'mysql'"), not for the developer.
//
//   pa::Result<Config> LoadConfig(...);
//   PA_ASSIGN_OR_RETURN(Config cfg, LoadConfig(...));
//   PA_RETURN_IF_ERROR(store->Ping());
//
// Thread-safety: values; copy them freely.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pa {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong; retrying the same input will not help
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // the system is not in a state where this can be done (e.g. version
                        // mismatch)
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,  // a limit was hit (size, quota, queue); may succeed later or with less
  kUnavailable,        // a dependency is down or overloaded; retry with backoff
  kDeadlineExceeded,
  kAborted,  // a concurrency conflict (serialization failure, busy); retry the unit
  kDataLoss,
  kUnimplemented,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "not_found: row 7 is gone", or "ok".
  std::string ToString() const;

  // A copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status AbortedError(std::string message);
Status DataLossError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);

// A T, or the Status explaining why there is none. Constructing from an OK Status is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(value) {}        // NOLINT: implicit by design, like absl::StatusOr
  Result(T&& value) : v_(std::move(value)) {}  // NOLINT
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Status> &&
           !std::is_same_v<std::decay_t<U>, Result>) Result(U&& value)
      : v_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return v_.index() == 1; }

  // The failure; an OK status when there is a value.
  Status status() const& { return ok() ? Status::Ok() : std::get<Status>(v_); }
  Status status() && { return ok() ? Status::Ok() : std::move(std::get<Status>(v_)); }

  // The value; calling these on a failed Result is a bug.
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::move(std::get<T>(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace pa

#define PA_STATUS_CONCAT_INNER(a, b) a##b
#define PA_STATUS_CONCAT(a, b) PA_STATUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` (a Status) is not OK.
#define PA_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    ::pa::Status pa_status_tmp_ = (expr);            \
    if (!pa_status_tmp_.ok()) return pa_status_tmp_; \
  } while (false)

// `PA_ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value or returns F()'s Status.
#define PA_ASSIGN_OR_RETURN(lhs, rexpr) \
  PA_ASSIGN_OR_RETURN_IMPL(PA_STATUS_CONCAT(pa_result_tmp_, __LINE__), lhs, rexpr)
#define PA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                             \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(tmp).value()
