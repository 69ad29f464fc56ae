// ilert_sumo/sumo_line.hpp: an Event as the one line of JSON that is sent to Sumo Logic.
//
// The line is compact JSON, valid UTF-8, with no raw newline (the sender adds the '\n'). It keeps
// iLert's own field names, so Sumo queries written against iLert's docs (`json "eventType"`,
// `json "alertSource.name"`) work, and it starts with a `time` field that Sumo's timestamp
// detection picks up. The full schema is in docs/SUMO_LINE.md. parse_event(to_sumo_line(e)) gives
// back an event equal to e.
#pragma once

#include <string>
#include <string_view>

#include "ilert_sumo/error.hpp"
#include "ilert_sumo/events.hpp"

namespace ilert_sumo {

/// The Sumo line of an event, without the trailing '\n'.
std::string to_sumo_line(const Event& event);
/// Appends the Sumo line of an event (without '\n') to `out`.
void append_sumo_line(std::string& out, const Event& event);

/// The line sent for a body that failed to parse, so nothing iLert sends is lost:
/// `{"time":...,"eventType":"ilert-sumo-invalid-payload","error":{code,path,offset,message},
///   "rawBody":"<the body, JSON-escaped>"}`; a body that is not valid UTF-8 is carried losslessly
///   as `"rawBodyBase64"` instead.
std::string to_invalid_payload_line(std::string_view body, const Error& error);

/// The identity used to recognise duplicates (at-least-once delivery): the iLert `eventId` when
/// present, else a stable 64-bit hash (16 hex digits) of the event's content. Also in the line
/// as `dedupId`.
std::string dedup_id(const Event& event);

}  // namespace ilert_sumo
