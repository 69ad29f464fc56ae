// src/util/errors.hpp (private): the one shorthand for an Error without a byte offset.
#pragma once

#include <string>
#include <utility>

#include "ilert_sumo/error.hpp"

namespace ilert_sumo::detail {

/// An Error with this code and message, no field path and no offset (Error::npos).
inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}, Error::npos};
}

}  // namespace ilert_sumo::detail
