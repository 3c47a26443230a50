// Status and Result<T>: the error vocabulary of the libmtas API.
//
// No exception crosses the public API. A function that can fail returns a
// Status (or a Result<T> holding either a value or a non-OK Status) whose
// message is one line that names the problem for an administrator.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace mtas {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // caller error: bad option, unusable key
    kIoError,          // reading or writing a file or stream failed
    kMalformed,        // input does not follow the format (permerror)
    kUnsupported,      // a valid feature this build does not implement
    kNotFound,         // nothing to act on (no signature, no key)
    kTemporary,        // retry may succeed (timeout, network)
    kCryptoFailure,    // OpenSSL refused an operation that should work
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Malformed(std::string m) { return {Code::kMalformed, std::move(m)}; }
  static Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Temporary(std::string m) { return {Code::kTemporary, std::move(m)}; }
  static Status CryptoFailure(std::string m) { return {Code::kCryptoFailure, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                                  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace mtas

#define MTAS_RETURN_IF_ERROR(expr) \
  do {                             \
    ::mtas::Status _st = (expr);   \
    if (!_st.ok()) return _st;     \
  } while (0)
