// ilert_sumo/sumo_line.hpp: an Event as the one line of JSON that is sent to Sumo Logic.
//
// The line is compact JSON, valid UTF-8, with no raw newline (the sender adds the '\n'). It keeps
// iLert's own field names, so Sumo queries written against iLert's docs (`json "eventType"`,
// `json "alertSource.name"`) work, and it starts with `time`, the event's own time (`timestamp`,
// else the receipt time), which Sumo's timestamp detection picks up. Type-mismatch values and
// extra fields are written under their own names; `receivedAt`, `ttaMs`/`ttrMs` and `dedupId`
// follow. It is written with RapidJSON's Writer. The full schema is in docs/SUMO_LINE.md.
// parse_event(to_sumo_line(e)) gives back an event equal to e when the line was not shortened
// (EventBase::received_at is carried to the millisecond).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ilert_sumo/export.hpp"
#include "ilert_sumo/error.hpp"
#include "ilert_sumo/events.hpp"

namespace ilert_sumo {

/// Sumo slices messages over 64 KB (and truncates at 65 536 bytes): the default line cap.
inline constexpr std::size_t kDefaultMaxLineBytes = 64 * 1024;
/// The smallest line cap accepted (SumoConfig::max_line_bytes, ilert-parse).
inline constexpr std::size_t kMinMaxLineBytes = 4 * 1024;

/// How a line is rendered.
struct LineOptions {
  /// The longest line, in bytes, without the '\n'. An event whose line would be longer is
  /// shortened, never dropped, by rendering it again with per-field limits: `details` first, then
  /// `customDetails`, `labels` and passed-through values, then other long strings, then array
  /// elements, last passed-through members themselves; a marker (`ilertSumoTruncated`) names every
  /// cut field with its original size (docs/SUMO_LINE.md). The line always fits a cap of at least
  /// kMinMaxLineBytes; below that it is as short as cutting everything makes it.
  std::size_t max_line_bytes = kDefaultMaxLineBytes;
};

/// The Sumo line of an event, without the trailing '\n'.
ILERT_SUMO_EXPORT std::string to_sumo_line(const Event& event, const LineOptions& options = {});
/// Appends the Sumo line of an event (without '\n') to `out`.
ILERT_SUMO_EXPORT void append_sumo_line(std::string& out, const Event& event, const LineOptions& options = {});

/// The line sent for a body that failed to parse, so nothing iLert sends is lost:
/// `{"time":...,"eventType":"ilert-sumo-invalid-payload","error":{code,codeNumber,path,offset,
///   message},"rawBody":"<the body, JSON-escaped>","receivedAt":...}`; a body that is not valid
///   UTF-8 is carried losslessly as `"rawBodyBase64"` instead.
/// `received_at` is the line's `time` and `receivedAt` (default: now); the line obeys
/// `options.max_line_bytes` like any other (the raw body is cut, with a marker).
ILERT_SUMO_EXPORT std::string to_invalid_payload_line(std::string_view body, const Error& error,
                                                      std::optional<UtcTime> received_at = std::nullopt,
                                                      const LineOptions& options = {});

/// The identity used to recognise duplicates (at-least-once delivery): the iLert `eventId` when
/// present (non-empty, at most 128 bytes), else a stable 64-bit hash (XXH64, 16 hex digits) of
/// iLert's content as the uncut line writes it (eventType through the extra fields: not `time`,
/// `receivedAt`, `ttaMs`/`ttrMs` or markers). Also in the line as `dedupId`.
ILERT_SUMO_EXPORT std::string dedup_id(const Event& event);

}  // namespace ilert_sumo
