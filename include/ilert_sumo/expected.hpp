// ilert_sumo/expected.hpp: Expected<T>, a value or an Error.
//
// The library never throws across its public API; every fallible call returns Expected<T>.
// Small and C++17-only (std::expected is C++23). Accessing value() of an error, or error() of a
// value, is a programming error checked by assert in debug builds.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "ilert_sumo/error.hpp"

namespace ilert_sumo {

template <class T>
class Expected {
 public:
  Expected(const T& value) : storage_(std::in_place_index<0>, value) {}            // NOLINT
  Expected(T&& value) : storage_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Expected(const Error& error) : storage_(std::in_place_index<1>, error) {}         // NOLINT
  Expected(Error&& error) : storage_(std::in_place_index<1>, std::move(error)) {}   // NOLINT

  /// True when a value is held.
  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return *std::get_if<0>(&storage_); }
  const T& value() const& { assert(has_value()); return *std::get_if<0>(&storage_); }
  T&& value() && { assert(has_value()); return std::move(*std::get_if<0>(&storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!has_value()); return *std::get_if<1>(&storage_); }
  Error&& error() && { assert(!has_value()); return std::move(*std::get_if<1>(&storage_)); }

 private:
  std::variant<T, Error> storage_;
};

/// Expected<void>: success or an Error.
template <>
class Expected<void> {
 public:
  Expected() = default;
  Expected(const Error& error) : error_(error), ok_(false) {}          // NOLINT
  Expected(Error&& error) : error_(std::move(error)), ok_(false) {}    // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace ilert_sumo
