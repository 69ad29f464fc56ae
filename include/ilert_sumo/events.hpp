// ilert_sumo/events.hpp: the typed model of an iLert webhook.
//
// parse_event() (parse.hpp) turns a webhook body into an `Event`: a std::variant of one struct per
// iLert event type (thirteen) plus `UnknownEvent`, so `std::visit` over it is exhaustive. Every
// struct carries the `Alert` snapshot the body holds (iLert sends the alert's state *after* the
// change) and the event type string exactly as received. The wire-name table (current names,
// legacy `incident-*` names, `*-auto-resolved`) lives in one place: lookup_event_type().
//
// Conventions: an optional scalar/object field that was absent or `null` in the body is
// `std::nullopt`; an absent array is an empty vector. Strings are UTF-8 exactly as received
// (embedded NULs included). Nothing here depends on RapidJSON or curl.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ilert_sumo/export.hpp"

namespace ilert_sumo {

/// A UTC instant with nanosecond precision (time since the Unix epoch).
using UtcTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

/// A time field: the raw text as received, and the parsed instant only when the text is valid
/// ISO-8601 (`YYYY-MM-DDTHH:MM:SS`, 0-9 fraction digits, then `Z` or `±hh:mm`). Text such as the
/// docs' `2019-08-29T09: 52: 39.551Z` is kept with `utc` empty: never an error.
struct Timestamp {
  /// The text exactly as received.
  std::string raw;
  /// The instant, when `raw` is valid ISO-8601 and within the representable range.
  std::optional<UtcTime> utc;

  friend bool operator==(const Timestamp& a, const Timestamp& b) { return a.raw == b.raw && a.utc == b.utc; }
  friend bool operator!=(const Timestamp& a, const Timestamp& b) { return !(a == b); }
};

/// Parses ISO-8601 as described for Timestamp; nullopt when the text is not valid.
ILERT_SUMO_EXPORT std::optional<UtcTime> parse_iso8601(std::string_view text) noexcept;
/// Formats as `YYYY-MM-DDTHH:MM:SS.fffZ` (milliseconds, UTC).
ILERT_SUMO_EXPORT std::string format_iso8601_millis(UtcTime t);

/// An enum value that also keeps the raw text, because iLert adds values without notice.
template <class E>
struct Tagged {
  /// The known value, or E::unknown.
  E value{};
  /// The text exactly as received (e.g. "ACCEPTED").
  std::string raw;

  friend bool operator==(const Tagged& a, const Tagged& b) { return a.value == b.value && a.raw == b.raw; }
  friend bool operator!=(const Tagged& a, const Tagged& b) { return !(a == b); }
};

/// Alert (and responder) status. Wire values: NEW, PENDING, ACCEPTED, RESOLVED.
enum class Status : std::uint8_t { unknown = 0, new_alert, pending, accepted, resolved };
/// Alert priority. Wire values: HIGH, LOW.
enum class Priority : std::uint8_t { unknown = 0, high, low };

/// `{id, name}` objects: alertSource, escalationPolicy.
struct NamedRef {
  /// Numeric id (a JSON number or digit string on the wire).
  std::optional<std::int64_t> id;
  /// Display name.
  std::optional<std::string> name;

  friend bool operator==(const NamedRef& a, const NamedRef& b) { return a.id == b.id && a.name == b.name; }
  friend bool operator!=(const NamedRef& a, const NamedRef& b) { return !(a == b); }
};

/// An iLert user (assignedTo, responders[].user).
struct User {
  /// User id.
  std::optional<std::int64_t> id;
  /// Login name.
  std::optional<std::string> username;
  /// `firstName`.
  std::optional<std::string> first_name;
  /// `lastName`.
  std::optional<std::string> last_name;
  /// `email`, as received (iLert's docs sample pads it with spaces; it is not trimmed).
  std::optional<std::string> email;

  friend bool operator==(const User& a, const User& b) {
    return a.id == b.id && a.username == b.username && a.first_name == b.first_name && a.last_name == b.last_name &&
           a.email == b.email;
  }
  friend bool operator!=(const User& a, const User& b) { return !(a == b); }
};

/// One entry of `responders`.
struct Responder {
  /// The responding user.
  std::optional<User> user;
  /// PENDING or ACCEPTED (others kept as unknown).
  std::optional<Tagged<Status>> status;
  /// `acceptedAt`.
  std::optional<Timestamp> accepted_at;

  friend bool operator==(const Responder& a, const Responder& b) {
    return a.user == b.user && a.status == b.status && a.accepted_at == b.accepted_at;
  }
  friend bool operator!=(const Responder& a, const Responder& b) { return !(a == b); }
};

/// One entry of `links`.
struct Link {
  /// `href`.
  std::optional<std::string> href;
  /// `text`.
  std::optional<std::string> text;

  friend bool operator==(const Link& a, const Link& b) { return a.href == b.href && a.text == b.text; }
  friend bool operator!=(const Link& a, const Link& b) { return !(a == b); }
};

/// One entry of `images`.
struct Image {
  /// `src`.
  std::optional<std::string> src;
  /// `href`.
  std::optional<std::string> href;
  /// `alt`.
  std::optional<std::string> alt;

  friend bool operator==(const Image& a, const Image& b) {
    return a.src == b.src && a.href == b.href && a.alt == b.alt;
  }
  friend bool operator!=(const Image& a, const Image& b) { return !(a == b); }
};

/// A known field whose JSON type (or value range) is not the modelled one. With the default
/// tolerant parsing (ParseOptions::strict_types = false) such a value does not reject the event:
/// the typed top-level field it sits in stays empty (nullopt / empty vector) and its value is kept
/// here verbatim, then written to the Sumo line under its own name.
struct TypeMismatch {
  /// The top-level key whose typed field was left empty, e.g. `severity`, `comment`, `responders`.
  std::string field;
  /// JSON path of the first offending value inside it, e.g. `responders[2].user.id` (equal to
  /// `field` when the top-level value itself has the wrong type).
  std::string path;
  /// The whole top-level value, as compact JSON.
  std::string raw_json;

  friend bool operator==(const TypeMismatch& a, const TypeMismatch& b) {
    return a.field == b.field && a.path == b.path && a.raw_json == b.raw_json;
  }
  friend bool operator!=(const TypeMismatch& a, const TypeMismatch& b) { return !(a == b); }
};

/// A top-level key the model does not know (e.g. `nextEscalation`), kept verbatim so nothing iLert
/// adds is lost on the way to Sumo.
struct ExtraField {
  /// The key exactly as received.
  std::string key;
  /// Its value, as compact JSON.
  std::string raw_json;

  friend bool operator==(const ExtraField& a, const ExtraField& b) {
    return a.key == b.key && a.raw_json == b.raw_json;
  }
  friend bool operator!=(const ExtraField& a, const ExtraField& b) { return !(a == b); }
};

/// The alert snapshot every webhook body carries (field names in comments are iLert's).
struct Alert {
  /// `id`: required, 1..2^63-1, digit string or number on the wire.
  std::int64_t id = 0;
  /// `summary`.
  std::optional<std::string> summary;
  /// `details` (may be empty or hundreds of KB).
  std::optional<std::string> details;
  /// `status` (not implied by the event type).
  std::optional<Tagged<Status>> status;
  /// `priority` (absent in 2020-era bodies).
  std::optional<Tagged<Priority>> priority;
  /// `reportTime`.
  std::optional<Timestamp> report_time;
  /// `alertKey` (or the older `incidentKey`).
  std::optional<std::string> alert_key;
  /// `alertSource`.
  std::optional<NamedRef> alert_source;
  /// `escalationPolicy` (after a re-route: the new policy).
  std::optional<NamedRef> escalation_policy;
  /// `assignedTo` (`null` = nobody).
  std::optional<User> assigned_to;
  /// `responders`: the responder set after the change.
  std::vector<Responder> responders;
  /// `resolvedOn`.
  std::optional<Timestamp> resolved_on;
  /// `links` (a chat channel attached to the alert may appear here).
  std::vector<Link> links;
  /// `images`.
  std::vector<Image> images;
  /// `comment` (comment events, newer bodies) when it is a string; iLert's REST shape (an object
  /// `{id, content, creator, ...}`) is kept as a TypeMismatch, so `comment.content` reaches Sumo.
  std::optional<std::string> comment;
  /// `timestamp`: event time, up to 9 fraction digits (newer bodies).
  std::optional<Timestamp> timestamp;
  /// `eventId`: identifies one delivery (newer bodies).
  std::optional<std::string> event_id;
  /// `correlationId`.
  std::optional<std::string> correlation_id;
  /// `mergeState`.
  std::optional<std::string> merge_state;
  /// `mergedIntoId`.
  std::optional<std::int64_t> merged_into_id;
  /// `mergedOn`.
  std::optional<Timestamp> merged_on;
  /// `severity`: an integer 1..5 (iLert's REST `Alert.severity` and Events API schema). Any other
  /// value is a TypeMismatch.
  std::optional<std::int64_t> severity;
  /// `labels`, any JSON value, kept as compact JSON text.
  std::optional<std::string> labels_json;
  /// `customDetails`, any JSON value, kept as compact JSON text.
  std::optional<std::string> custom_details_json;
  /// Known fields whose value did not have the modelled type (tolerant parsing), sorted by field.
  std::vector<TypeMismatch> type_mismatches;
  /// Top-level keys the model does not know, in body order.
  std::vector<ExtraField> extra_fields;

  friend ILERT_SUMO_EXPORT bool operator==(const Alert& a, const Alert& b);
  friend bool operator!=(const Alert& a, const Alert& b) { return !(a == b); }
};

/// What kind of event a struct is; `unknown` for UnknownEvent.
enum class EventKind : std::uint8_t {
  created,
  accepted,
  rerouted,
  escalated,
  priority_raised,
  resolved,
  comment_added,
  responder_added,
  responder_removed,
  channel_attached,
  channel_detached,
  escalation_ended,
  not_resolved,
  unknown,
};

/// What every event struct holds.
struct EventBase {
  /// The alert snapshot after the change.
  Alert alert;
  /// `eventType` exactly as received (e.g. `incident-created`, `alert-auto-resolved`).
  std::string received_type;
  /// When the body was received (ParseOptions::received_at; from a Sumo line: its `receivedAt`).
  /// The event's time is `alert.timestamp` when valid, else this (see event_time()).
  UtcTime received_at{};
};

/// Alert created (`alert-created`, legacy `incident-created`).
struct AlertCreated : EventBase {};
/// Alert accepted (`alert-acknowledged`, legacy `incident-acknowledged`).
struct AlertAccepted : EventBase {
  /// The user who accepted it, when the body names one (`assignedTo`).
  const std::optional<User>& accepted_by() const { return alert.assigned_to; }
};
/// Alert re-routed to another escalation policy (`alert-assigned`, legacy `incident-assigned`).
struct AlertRerouted : EventBase {
  /// The new escalation policy.
  const std::optional<NamedRef>& new_escalation_policy() const { return alert.escalation_policy; }
  /// The new assignee.
  const std::optional<User>& assigned_to() const { return alert.assigned_to; }
};
/// Alert escalated (`alert-auto-escalated`, legacy `incident-auto-escalated`).
struct AlertEscalated : EventBase {
  /// Who the alert escalated to.
  const std::optional<User>& escalated_to() const { return alert.assigned_to; }
};
/// Alert priority raised (`alert-raised`, legacy `incident-raised`).
struct AlertPriorityRaised : EventBase {
  /// The priority after the raise.
  const std::optional<Tagged<Priority>>& new_priority() const { return alert.priority; }
};
/// Alert resolved (`alert-resolved`, `alert-auto-resolved`, legacy `incident-*`).
struct AlertResolved : EventBase {
  /// True for `*-auto-resolved` (resolved automatically).
  bool automatic = false;
  /// `resolvedOn`.
  const std::optional<Timestamp>& resolved_on() const { return alert.resolved_on; }
};
/// Comment added (`alert-comment-added`, legacy `incident-comment-added`).
struct AlertCommentAdded : EventBase {
  /// The comment text (absent in older bodies).
  const std::optional<std::string>& comment() const { return alert.comment; }
};
/// Responder added (`alert-responder-added`).
struct ResponderAdded : EventBase {
  /// The responder set after the change.
  const std::vector<Responder>& responders() const { return alert.responders; }
};
/// Responder removed (`alert-responder-removed`).
struct ResponderRemoved : EventBase {
  /// The responder set after the change.
  const std::vector<Responder>& responders() const { return alert.responders; }
};
/// Chat channel attached (`alert-channel-attached`).
struct ChannelAttached : EventBase {
  /// The alert's links after the change (where iLert lists channels; undocumented).
  const std::vector<Link>& links() const { return alert.links; }
};
/// Chat channel detached (`alert-channel-detached`).
struct ChannelDetached : EventBase {
  /// The alert's links after the change.
  const std::vector<Link>& links() const { return alert.links; }
};
/// The escalation policy ran out without anyone accepting (`alert-escalation-ended`).
struct AlertEscalationEnded : EventBase {};
/// The alert was not resolved within the time set on the alert action (`v-alert-not-resolved`;
/// iLert's alert-action trigger type, see docs/SUMO_LINE.md for what is and is not documented).
struct AlertNotResolved : EventBase {};
/// Any other `eventType` (e.g. `alert-snoozed`): kept and forwarded, never dropped.
struct UnknownEvent : EventBase {};

/// One parsed webhook. `std::visit` over it is exhaustive.
using Event = std::variant<AlertCreated, AlertAccepted, AlertRerouted, AlertEscalated, AlertPriorityRaised,
                           AlertResolved, AlertCommentAdded, ResponderAdded, ResponderRemoved, ChannelAttached,
                           ChannelDetached, AlertEscalationEnded, AlertNotResolved, UnknownEvent>;

ILERT_SUMO_EXPORT bool operator==(const EventBase& a, const EventBase& b);
inline bool operator!=(const EventBase& a, const EventBase& b) { return !(a == b); }
ILERT_SUMO_EXPORT bool operator==(const AlertResolved& a, const AlertResolved& b);
inline bool operator!=(const AlertResolved& a, const AlertResolved& b) { return !(a == b); }

/// One row of the wire-name table.
struct EventTypeInfo {
  /// The wire name (e.g. `incident-auto-resolved`).
  std::string_view wire_name;
  /// The kind it denotes.
  EventKind kind;
  /// The current (canonical) name for it (e.g. `alert-auto-resolved`).
  std::string_view canonical_name;
  /// True for `incident-*` names.
  bool legacy;
  /// True for `*-auto-resolved`.
  bool automatic;
};

/// Looks a wire name up in the table; exact, case-sensitive match. nullopt for unknown names.
ILERT_SUMO_EXPORT std::optional<EventTypeInfo> lookup_event_type(std::string_view wire_name) noexcept;
/// Every row of the table (current and legacy names).
ILERT_SUMO_EXPORT const std::vector<EventTypeInfo>& event_type_table();

/// The kind of an event.
ILERT_SUMO_EXPORT EventKind kind_of(const Event& event) noexcept;
/// The struct name, e.g. "AlertResolved", "UnknownEvent".
ILERT_SUMO_EXPORT std::string_view struct_name(const Event& event) noexcept;
/// The struct name of a kind, e.g. "AlertCreated".
ILERT_SUMO_EXPORT std::string_view struct_name(EventKind kind) noexcept;
/// The common part (alert + received type) of any event.
ILERT_SUMO_EXPORT const EventBase& base_of(const Event& event) noexcept;
ILERT_SUMO_EXPORT EventBase& base_of(Event& event) noexcept;
/// The canonical current event type: `alert-*` for known events (`alert-auto-resolved` for
/// automatic resolves), the received string for UnknownEvent.
ILERT_SUMO_EXPORT std::string_view canonical_event_type(const Event& event) noexcept;
/// The event's own time: `alert.timestamp` when present and valid, else `received_at`.
ILERT_SUMO_EXPORT UtcTime event_time(const EventBase& base) noexcept;

}  // namespace ilert_sumo
