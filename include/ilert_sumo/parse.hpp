// ilert_sumo/parse.hpp: webhook body bytes -> typed Event, or an Error naming what and where.
//
// parse_event() is strict RFC 8259 (no comments, NaN, trailing commas, single quotes, leading
// zeros, raw control characters, trailing data; a leading UTF-8 BOM is skipped), rejects invalid
// UTF-8, lone surrogate escapes, duplicate keys at any depth and nesting deeper than a limit, and
// then checks the fields it knows. Strict where it matters: a top-level object with `id` and
// `eventType` is required. Tolerant elsewhere (the default): a known optional field whose JSON type
// is not the modelled one leaves its typed field empty and is kept verbatim in
// Alert::type_mismatches; top-level keys the model does not know are kept in Alert::extra_fields.
// ParseOptions::strict_types rejects type mismatches instead (wrong_type / number_out_of_range).
// It never throws, never crashes and never reads out of bounds, whatever the bytes. Errors carry
// the JSON path and byte offset. The JSON reader is RapidJSON's SAX Reader (no DOM).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "ilert_sumo/export.hpp"
#include "ilert_sumo/events.hpp"
#include "ilert_sumo/expected.hpp"

namespace ilert_sumo {

/// Limits applied by parse_event().
struct ParseOptions {
  /// Bodies longer than this are rejected with `too_large` before any parsing.
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  /// Arrays/objects nested deeper than this are rejected with `nesting_too_deep`, also inside
  /// fields the model ignores. The top-level object is depth 1.
  std::size_t max_depth = 64;
  /// When the body was received: the event's time when the body has no valid `timestamp`, and the
  /// line's `receivedAt`. Default (nullopt): the moment parse_event() is called.
  std::optional<UtcTime> received_at;
  /// true: a known field with the wrong JSON type rejects the event (wrong_type, or
  /// number_out_of_range for ids and severity), as before 0.2. false (default): it is kept as a
  /// TypeMismatch and the event is accepted.
  bool strict_types = false;
};

/// Parses one webhook body. Also accepts a Sumo line made by to_sumo_line() (its extra keys are
/// understood, so the round trip gives back an equal event).
ILERT_SUMO_EXPORT Expected<Event> parse_event(std::string_view body, const ParseOptions& options = {});

}  // namespace ilert_sumo
