// ilert_sumo/expected.hpp: Expected<T>, a value or an Error.
//
// The library never throws across its public API; every fallible call returns Expected<T>.
// Small and C++17-only (std::expected is C++23). Accessing value() of an error, or error() of a
// value, is a programming error: in every build type it prints what happened (for value(), the
// error it holds) to stderr and aborts, never undefined behaviour.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "ilert_sumo/error.hpp"

namespace ilert_sumo {

namespace detail {
/// value() on an error: says so, with the error (library errors never hold a secret), and aborts.
[[noreturn]] inline void expected_value_of_error(const Error& error) noexcept {
  std::fprintf(stderr, "ilert_sumo: Expected::value() called on an error: %s\n", error.to_string().c_str());
  std::fflush(stderr);
  std::abort();
}
/// error() on a value: says so and aborts.
[[noreturn]] inline void expected_error_of_value() noexcept {
  std::fprintf(stderr, "ilert_sumo: Expected::error() called on a value\n");
  std::fflush(stderr);
  std::abort();
}
/// value() of an Expected that holds neither (left valueless by a throwing move): says so, aborts.
[[noreturn]] inline void expected_valueless() noexcept {
  std::fprintf(stderr, "ilert_sumo: Expected::value() called on an Expected that holds nothing\n");
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

template <class T>
class Expected {
 public:
  Expected(const T& value) : storage_(std::in_place_index<0>, value) {}            // NOLINT
  Expected(T&& value) : storage_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Expected(const Error& error) : storage_(std::in_place_index<1>, error) {}        // NOLINT
  Expected(Error&& error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  /// True when a value is held.
  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // (Each accessor checks the pointer it dereferences, so no path the compiler can see reaches a
  // null dereference: GCC's -Wnull-dereference cannot tie has_value() to get_if<1>.)
  T& value() & {
    T* v = std::get_if<0>(&storage_);
    if (v == nullptr) value_failed();
    return *v;
  }
  const T& value() const& {
    const T* v = std::get_if<0>(&storage_);
    if (v == nullptr) value_failed();
    return *v;
  }
  T&& value() && {
    T* v = std::get_if<0>(&storage_);
    if (v == nullptr) value_failed();
    return std::move(*v);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    const Error* e = std::get_if<1>(&storage_);
    if (e == nullptr) detail::expected_error_of_value();
    return *e;
  }
  Error&& error() && {
    Error* e = std::get_if<1>(&storage_);
    if (e == nullptr) detail::expected_error_of_value();
    return std::move(*e);
  }

 private:
  /// value() without a value: says which error is held (and, for a variant left valueless by a
  /// throwing move, that there is no value).
  [[noreturn]] void value_failed() const noexcept {
    const Error* e = std::get_if<1>(&storage_);
    if (e != nullptr) detail::expected_value_of_error(*e);
    detail::expected_valueless();
  }

  std::variant<T, Error> storage_;
};

/// Expected<void>: success or an Error.
template <>
class Expected<void> {
 public:
  Expected() = default;
  Expected(const Error& error) : error_(error), ok_(false) {}        // NOLINT
  Expected(Error&& error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& {
    if (ok_) detail::expected_error_of_value();
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace ilert_sumo
