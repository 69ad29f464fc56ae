// src/model/events.cpp: the event model's non-inline parts (see events.hpp).
//
// Holds THE wire-name table: the one place that knows iLert's current `alert-*` names, the legacy
// `incident-*` names and the `*-auto-resolved` variants. Also the equality operators, kind_of,
// struct_name, base_of and canonical_event_type.
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <variant>

#include "ilert_sumo/events.hpp"

namespace ilert_sumo {
namespace {

// Every name iLert sends for the thirteen event types. Matching is exact (no case folding).
// Columns: wire name, kind, canonical (current) name, legacy, automatic.
// `alert-escalation-ended` and `v-alert-not-resolved` are iLert alert-action trigger types (ilert-go
// alert_action.go, the Terraform provider's alert_action docs); no legacy names are known for them.
constexpr std::array<EventTypeInfo, 22> kEventTypes{{
    {"alert-created", EventKind::created, "alert-created", false, false},
    {"alert-acknowledged", EventKind::accepted, "alert-acknowledged", false, false},
    {"alert-assigned", EventKind::rerouted, "alert-assigned", false, false},
    {"alert-auto-escalated", EventKind::escalated, "alert-auto-escalated", false, false},
    {"alert-raised", EventKind::priority_raised, "alert-raised", false, false},
    {"alert-resolved", EventKind::resolved, "alert-resolved", false, false},
    {"alert-auto-resolved", EventKind::resolved, "alert-auto-resolved", false, true},
    {"alert-comment-added", EventKind::comment_added, "alert-comment-added", false, false},
    {"alert-responder-added", EventKind::responder_added, "alert-responder-added", false, false},
    {"alert-responder-removed", EventKind::responder_removed, "alert-responder-removed", false, false},
    {"alert-channel-attached", EventKind::channel_attached, "alert-channel-attached", false, false},
    {"alert-channel-detached", EventKind::channel_detached, "alert-channel-detached", false, false},
    {"alert-escalation-ended", EventKind::escalation_ended, "alert-escalation-ended", false, false},
    {"v-alert-not-resolved", EventKind::not_resolved, "v-alert-not-resolved", false, false},
    // Legacy names (only the first seven types ever had one).
    {"incident-created", EventKind::created, "alert-created", true, false},
    {"incident-acknowledged", EventKind::accepted, "alert-acknowledged", true, false},
    {"incident-assigned", EventKind::rerouted, "alert-assigned", true, false},
    {"incident-auto-escalated", EventKind::escalated, "alert-auto-escalated", true, false},
    {"incident-raised", EventKind::priority_raised, "alert-raised", true, false},
    {"incident-resolved", EventKind::resolved, "alert-resolved", true, false},
    {"incident-auto-resolved", EventKind::resolved, "alert-auto-resolved", true, true},
    {"incident-comment-added", EventKind::comment_added, "alert-comment-added", true, false},
}};

// The current name of each kind (index = EventKind), and its struct name.
constexpr std::array<std::string_view, 14> kCanonical{"alert-created",
                                                      "alert-acknowledged",
                                                      "alert-assigned",
                                                      "alert-auto-escalated",
                                                      "alert-raised",
                                                      "alert-resolved",
                                                      "alert-comment-added",
                                                      "alert-responder-added",
                                                      "alert-responder-removed",
                                                      "alert-channel-attached",
                                                      "alert-channel-detached",
                                                      "alert-escalation-ended",
                                                      "v-alert-not-resolved",
                                                      ""};
constexpr std::array<std::string_view, 14> kStructNames{
    "AlertCreated",    "AlertAccepted",        "AlertRerouted",    "AlertEscalated",   "AlertPriorityRaised",
    "AlertResolved",   "AlertCommentAdded",    "ResponderAdded",   "ResponderRemoved", "ChannelAttached",
    "ChannelDetached", "AlertEscalationEnded", "AlertNotResolved", "UnknownEvent"};

// The Event alternatives are declared in EventKind order; kind_of relies on it.
template <EventKind K, class T>
constexpr bool at_kind() {
  return std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(K), Event>, T>;
}
static_assert(std::variant_size_v<Event> == 14 && static_cast<std::size_t>(EventKind::unknown) == 13,
              "one Event alternative per EventKind");
static_assert(at_kind<EventKind::created, AlertCreated>() && at_kind<EventKind::accepted, AlertAccepted>() &&
                  at_kind<EventKind::rerouted, AlertRerouted>() && at_kind<EventKind::escalated, AlertEscalated>() &&
                  at_kind<EventKind::priority_raised, AlertPriorityRaised>() &&
                  at_kind<EventKind::resolved, AlertResolved>() &&
                  at_kind<EventKind::comment_added, AlertCommentAdded>() &&
                  at_kind<EventKind::responder_added, ResponderAdded>() &&
                  at_kind<EventKind::responder_removed, ResponderRemoved>() &&
                  at_kind<EventKind::channel_attached, ChannelAttached>() &&
                  at_kind<EventKind::channel_detached, ChannelDetached>() &&
                  at_kind<EventKind::escalation_ended, AlertEscalationEnded>() &&
                  at_kind<EventKind::not_resolved, AlertNotResolved>() && at_kind<EventKind::unknown, UnknownEvent>(),
              "Event alternatives must follow EventKind order");

// A valueless variant (only after an exception during assignment) still needs a base to return.
EventBase& valueless_base() noexcept {
  static thread_local EventBase empty;
  return empty;
}

template <std::size_t I = 0>
EventBase* base_ptr(Event& event) noexcept {
  if constexpr (I == std::variant_size_v<Event>) {
    return nullptr;
  } else {
    if (auto* p = std::get_if<I>(&event)) return p;
    return base_ptr<I + 1>(event);
  }
}

}  // namespace

bool operator==(const Alert& a, const Alert& b) {
  return a.id == b.id && a.summary == b.summary && a.details == b.details && a.status == b.status &&
         a.priority == b.priority && a.report_time == b.report_time && a.alert_key == b.alert_key &&
         a.alert_source == b.alert_source && a.escalation_policy == b.escalation_policy &&
         a.assigned_to == b.assigned_to && a.responders == b.responders && a.resolved_on == b.resolved_on &&
         a.links == b.links && a.images == b.images && a.comment == b.comment && a.timestamp == b.timestamp &&
         a.event_id == b.event_id && a.correlation_id == b.correlation_id && a.merge_state == b.merge_state &&
         a.merged_into_id == b.merged_into_id && a.merged_on == b.merged_on && a.severity == b.severity &&
         a.labels_json == b.labels_json && a.custom_details_json == b.custom_details_json &&
         a.type_mismatches == b.type_mismatches && a.extra_fields == b.extra_fields;
}

bool operator==(const EventBase& a, const EventBase& b) {
  return a.received_type == b.received_type && a.received_at == b.received_at && a.alert == b.alert;
}

UtcTime event_time(const EventBase& base) noexcept {
  const Alert& a = base.alert;
  if (a.timestamp && a.timestamp->utc) return *a.timestamp->utc;
  return base.received_at;
}

bool operator==(const AlertResolved& a, const AlertResolved& b) {
  return a.automatic == b.automatic && static_cast<const EventBase&>(a) == static_cast<const EventBase&>(b);
}

std::optional<EventTypeInfo> lookup_event_type(std::string_view wire_name) noexcept {
  for (const EventTypeInfo& row : kEventTypes) {
    if (row.wire_name == wire_name) return row;
  }
  return std::nullopt;
}

const std::vector<EventTypeInfo>& event_type_table() {
  static const std::vector<EventTypeInfo> table(kEventTypes.begin(), kEventTypes.end());
  return table;
}

EventKind kind_of(const Event& event) noexcept {
  if (event.valueless_by_exception()) return EventKind::unknown;
  return static_cast<EventKind>(event.index());
}

std::string_view struct_name(EventKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < kStructNames.size() ? kStructNames[i] : std::string_view("UnknownEvent");
}

std::string_view struct_name(const Event& event) noexcept { return struct_name(kind_of(event)); }

EventBase& base_of(Event& event) noexcept {
  EventBase* p = base_ptr(event);
  return p != nullptr ? *p : valueless_base();
}

const EventBase& base_of(const Event& event) noexcept { return base_of(const_cast<Event&>(event)); }

std::string_view canonical_event_type(const Event& event) noexcept {
  const EventKind kind = kind_of(event);
  if (kind == EventKind::unknown) return base_of(event).received_type;
  if (kind == EventKind::resolved) {
    const auto* resolved = std::get_if<AlertResolved>(&event);
    if (resolved != nullptr && resolved->automatic) return "alert-auto-resolved";
  }
  return kCanonical[static_cast<std::size_t>(kind)];
}

}  // namespace ilert_sumo
