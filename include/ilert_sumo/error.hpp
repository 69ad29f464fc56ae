// ilert_sumo/error.hpp: the one error type of the library.
//
// Every fallible call returns Expected<T> (see expected.hpp) carrying an Error on failure.
// Error codes are numbered and stable: a code is never renumbered or reused, so callers may
// store or switch on them. Messages are for humans and never contain a secret.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ilert_sumo/export.hpp"

namespace ilert_sumo {

/// Stable numeric error codes. Groups: 1xx parsing, 2xx configuration, 3xx delivery, 4xx sender
/// and spool. Never renumber, never reuse a retired number.
enum class ErrorCode : int {
  ok = 0,

  // --- parse_event (1xx) ---
  empty_body = 101,              ///< the body is empty or only whitespace
  too_large = 102,               ///< the body exceeds ParseOptions::max_body_bytes
  invalid_utf8 = 103,            ///< a byte sequence that is not valid UTF-8
  syntax = 104,                  ///< not RFC 8259 JSON (comments, trailing commas, NaN, ...)
  invalid_unicode_escape = 105,  ///< a bad \u escape, or a lone surrogate
  duplicate_key = 106,           ///< the same key twice in one object, at any depth
  nesting_too_deep = 107,        ///< arrays/objects nested deeper than ParseOptions::max_depth
  not_an_object = 108,           ///< the top-level value is not a JSON object
  missing_field = 109,           ///< a required field (id, eventType) is absent or null
  wrong_type = 110,              ///< a known field has the wrong JSON type
  number_out_of_range = 111,     ///< an id outside 1..2^63-1 (or not an integer)

  // --- configuration (2xx) ---
  invalid_config = 201,           ///< a SumoConfig/SenderConfig value is out of range
  invalid_url = 202,              ///< the endpoint URL cannot be used
  insecure_url = 203,             ///< http:// without allow_insecure_http
  invalid_field = 204,            ///< an X-Sumo-Fields key or value Sumo would not accept
  too_many_fields = 205,          ///< more than 30 X-Sumo-Fields
  invalid_header_value = 206,     ///< category/name/host with characters a header cannot carry
  unsupported_compression = 207,  ///< the codec was not compiled in

  // --- delivery (3xx) ---
  transport = 301,               ///< connection refused/reset, DNS, TLS: no HTTP status
  timeout = 302,                 ///< connect or whole-request timeout
  http_status = 303,             ///< the server answered a non-2xx status
  retry_budget_exhausted = 304,  ///< retries stopped because the time budget ran out
  aborted = 305,                 ///< a deadline or shutdown cut the transfer off
  compression_failed = 306,      ///< the compressor reported an error
  event_too_large = 307,         ///< a line that cannot be made to fit the request cap

  // --- sender and spool (4xx) ---
  io = 401,             ///< a file-system operation failed
  spool_corrupt = 402,  ///< a spool record failed its length/CRC check
  closed = 403,         ///< the sender is shut down
  queue_full = 404,     ///< the byte bound was reached and the policy dropped
  spool_full = 405,     ///< a write_ahead spool is at spool.max_bytes: the event was refused
};

/// The snake_case name of a code, e.g. "duplicate_key". Never null.
ILERT_SUMO_EXPORT const char* to_string(ErrorCode code) noexcept;

/// What went wrong. For parse errors `path` is the JSON path (`responders[2].user.id`, empty for
/// the document itself) and `offset` the byte offset into the body; other errors leave them empty.
struct ILERT_SUMO_EXPORT Error {
  /// The stable code.
  ErrorCode code = ErrorCode::ok;
  /// A human sentence; never contains a secret.
  std::string message;
  /// JSON path for parse errors, empty otherwise.
  std::string path;
  /// Byte offset into the parsed body, or npos when not applicable.
  std::size_t offset = npos;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// One line: `<code> at <path> (byte <offset>): <message>`; the document root prints as `$`, and
  /// the location is omitted for errors that have none.
  std::string to_string() const;
};

}  // namespace ilert_sumo
