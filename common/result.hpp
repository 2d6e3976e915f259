#pragma once
// Expected failures as values: Result<T> holds a T or an Error. One mapping from
// error codes to HTTP status lives here too, so every API answers alike.

#include <nlohmann/json_fwd.hpp>

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dcos {

enum class ErrorCode {
  kInvalidArgument,   // 400: malformed input (bad JSON, bad flag value)
  kUnauthorized,      // 401
  kForbidden,         // 403
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kConflict,          // 409
  kPayloadTooLarge,   // 413
  kUnprocessable,     // 422: well-formed but invalid (Marathon's validation errors)
  kUnavailable,       // 503: not ready, shutting down, dependency unreachable
  kTimeout,           // 504 over HTTP; a deadline passed
  kIo,                // 500: file system, socket or database failure
  kInternal,          // 500: a bug
};

// One entry of an error's `details`: which field (a JSON path such as "/cpus") and what is
// wrong with it. Marathon's validation errors have exactly this shape.
struct ErrorDetail {
  std::string path;
  std::vector<std::string> errors;
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<ErrorDetail> details;

  Error() = default;
  Error(ErrorCode c, std::string msg, std::vector<ErrorDetail> d = {})
      : code(c), message(std::move(msg)), details(std::move(d)) {}

  // Adds context in front of the message: "opening master.db: disk I/O error".
  Error wrap(const std::string& context) const;
};

int httpStatus(ErrorCode code);
const char* errorCodeName(ErrorCode code);

// The JSON error body every HTTP API answers with: {"message": ..., "details": [...]}.
nlohmann::json errorBody(const Error& error);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { assert(failed_); return error_; }
  Error&& error() && { assert(failed_); return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

inline Result<void> success() { return {}; }

}  // namespace dcos
