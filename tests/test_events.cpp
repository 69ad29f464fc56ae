// tests/test_events.cpp: the event model (src/model/events.cpp): the wire-name table, kind_of,
// struct_name, base_of, canonical_event_type and the equality operators.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "support/catch.hpp"

using namespace ilert_sumo;

namespace {

struct Row {
  const char* wire;
  EventKind kind;
  const char* canonical;
  bool legacy;
  bool automatic;
};

// The table of reference/ilert-webhook.md, written out independently of src/model/events.cpp.
const std::vector<Row> kExpected = {
    {"alert-created", EventKind::created, "alert-created", false, false},
    {"incident-created", EventKind::created, "alert-created", true, false},
    {"alert-acknowledged", EventKind::accepted, "alert-acknowledged", false, false},
    {"incident-acknowledged", EventKind::accepted, "alert-acknowledged", true, false},
    {"alert-assigned", EventKind::rerouted, "alert-assigned", false, false},
    {"incident-assigned", EventKind::rerouted, "alert-assigned", true, false},
    {"alert-auto-escalated", EventKind::escalated, "alert-auto-escalated", false, false},
    {"incident-auto-escalated", EventKind::escalated, "alert-auto-escalated", true, false},
    {"alert-raised", EventKind::priority_raised, "alert-raised", false, false},
    {"incident-raised", EventKind::priority_raised, "alert-raised", true, false},
    {"alert-resolved", EventKind::resolved, "alert-resolved", false, false},
    {"incident-resolved", EventKind::resolved, "alert-resolved", true, false},
    {"alert-auto-resolved", EventKind::resolved, "alert-auto-resolved", false, true},
    {"incident-auto-resolved", EventKind::resolved, "alert-auto-resolved", true, true},
    {"alert-comment-added", EventKind::comment_added, "alert-comment-added", false, false},
    {"incident-comment-added", EventKind::comment_added, "alert-comment-added", true, false},
    {"alert-responder-added", EventKind::responder_added, "alert-responder-added", false, false},
    {"alert-responder-removed", EventKind::responder_removed, "alert-responder-removed", false, false},
    {"alert-channel-attached", EventKind::channel_attached, "alert-channel-attached", false, false},
    {"alert-channel-detached", EventKind::channel_detached, "alert-channel-detached", false, false},
    {"alert-escalation-ended", EventKind::escalation_ended, "alert-escalation-ended", false, false},
    {"v-alert-not-resolved", EventKind::not_resolved, "v-alert-not-resolved", false, false},
};

/// One default-constructed event of every alternative, in EventKind order.
std::vector<Event> one_of_each() {
  return {AlertCreated{},    AlertAccepted{},        AlertRerouted{},    AlertEscalated{},   AlertPriorityRaised{},
          AlertResolved{},   AlertCommentAdded{},    ResponderAdded{},   ResponderRemoved{}, ChannelAttached{},
          ChannelDetached{}, AlertEscalationEnded{}, AlertNotResolved{}, UnknownEvent{}};
}

}  // namespace

TEST_CASE("lookup_event_type knows every wire name exactly", "[unit][events]") {
  for (const Row& row : kExpected) {
    INFO(row.wire);
    const std::optional<EventTypeInfo> info = lookup_event_type(row.wire);
    REQUIRE(info.has_value());
    CHECK(info->wire_name == row.wire);
    CHECK(info->kind == row.kind);
    CHECK(info->canonical_name == row.canonical);
    CHECK(info->legacy == row.legacy);
    CHECK(info->automatic == row.automatic);
  }
}

TEST_CASE("lookup_event_type rejects everything else", "[unit][events]") {
  for (const char* name : {"", "alert-escalation-end", "alert-not-resolved", "alert-snoozed", "alert-rejected",
                           "incident-rejected", "ALERT-CREATED", "Alert-Created", "alert-created ", " alert-created",
                           "alert_created", "alert-create", "alert-createdx", "incident-responder-added",
                           "incident-channel-attached", "ALERT", "RESOLVE", "alert-auto-resolve"}) {
    INFO(name);
    CHECK_FALSE(lookup_event_type(name).has_value());
  }
  CHECK_FALSE(lookup_event_type(std::string("alert-created\0", 14)).has_value());
}

TEST_CASE("event_type_table is the whole table and nothing more", "[unit][events]") {
  const std::vector<EventTypeInfo>& table = event_type_table();
  REQUIRE(table.size() == kExpected.size());
  std::set<std::string> wires;
  std::set<EventKind> kinds;
  for (const EventTypeInfo& info : table) {
    wires.insert(std::string(info.wire_name));
    kinds.insert(info.kind);
    // Every canonical name is itself a current (non-legacy) row of the same kind.
    const std::optional<EventTypeInfo> canonical = lookup_event_type(info.canonical_name);
    REQUIRE(canonical.has_value());
    CHECK_FALSE(canonical->legacy);
    CHECK(canonical->kind == info.kind);
    CHECK(canonical->automatic == info.automatic);
    CHECK(info.legacy == (info.wire_name.rfind("incident-", 0) == 0));
  }
  CHECK(wires.size() == table.size());
  CHECK(kinds.size() == 13);
  CHECK(kinds.count(EventKind::unknown) == 0);
}

TEST_CASE("kind_of and struct_name follow the variant", "[unit][events]") {
  const std::vector<Event> events = one_of_each();
  const std::vector<std::string> names = {
      "AlertCreated",    "AlertAccepted",        "AlertRerouted",    "AlertEscalated",   "AlertPriorityRaised",
      "AlertResolved",   "AlertCommentAdded",    "ResponderAdded",   "ResponderRemoved", "ChannelAttached",
      "ChannelDetached", "AlertEscalationEnded", "AlertNotResolved", "UnknownEvent"};
  REQUIRE(events.size() == names.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto kind = static_cast<EventKind>(i);
    CHECK(kind_of(events[i]) == kind);
    CHECK(struct_name(events[i]) == names[i]);
    CHECK(struct_name(kind) == names[i]);
  }
}

TEST_CASE("base_of reaches the common part of every alternative", "[unit][events]") {
  std::vector<Event> events = one_of_each();
  std::int64_t id = 100;
  for (Event& event : events) {
    EventBase& base = base_of(event);
    base.alert.id = ++id;
    base.received_type = "type-" + std::to_string(id);
  }
  id = 100;
  for (const Event& event : events) {
    const EventBase& base = base_of(event);
    ++id;
    CHECK(base.alert.id == id);
    CHECK(base.received_type == "type-" + std::to_string(id));
    CHECK(std::visit([](const auto& e) { return e.alert.id; }, event) == id);
  }
}

TEST_CASE("canonical_event_type maps legacy and automatic names", "[unit][events]") {
  AlertCreated created;
  created.received_type = "incident-created";
  CHECK(canonical_event_type(Event(created)) == "alert-created");

  AlertResolved resolved;
  resolved.received_type = "incident-resolved";
  CHECK(canonical_event_type(Event(resolved)) == "alert-resolved");
  resolved.automatic = true;
  resolved.received_type = "incident-auto-resolved";
  CHECK(canonical_event_type(Event(resolved)) == "alert-auto-resolved");

  UnknownEvent unknown;
  unknown.received_type = "alert-snoozed";
  CHECK(canonical_event_type(Event(unknown)) == "alert-snoozed");
  unknown.received_type = "";
  CHECK(canonical_event_type(Event(unknown)).empty());

  // Every known kind maps to its current name, whatever was received.
  const std::vector<Event> events = one_of_each();
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const std::string_view canonical = canonical_event_type(events[i]);
    const std::optional<EventTypeInfo> info = lookup_event_type(canonical);
    REQUIRE(info.has_value());
    CHECK(info->kind == kind_of(events[i]));
    CHECK_FALSE(info->legacy);
  }
}

TEST_CASE("event accessors read the alert snapshot", "[unit][events]") {
  User user;
  user.username = "jdoe";
  NamedRef policy{7, "Ops"};
  AlertAccepted accepted;
  accepted.alert.assigned_to = user;
  CHECK(accepted.accepted_by() == user);
  AlertRerouted rerouted;
  rerouted.alert.escalation_policy = policy;
  rerouted.alert.assigned_to = user;
  CHECK(rerouted.new_escalation_policy() == policy);
  CHECK(rerouted.assigned_to() == user);
  AlertEscalated escalated;
  escalated.alert.assigned_to = user;
  CHECK(escalated.escalated_to() == user);
  AlertPriorityRaised raised;
  raised.alert.priority = Tagged<Priority>{Priority::high, "HIGH"};
  CHECK(raised.new_priority()->value == Priority::high);
  AlertResolved resolved;
  resolved.alert.resolved_on = Timestamp{"2021-08-06T09:02:11.870Z", parse_iso8601("2021-08-06T09:02:11.870Z")};
  CHECK(resolved.resolved_on()->raw == "2021-08-06T09:02:11.870Z");
  AlertCommentAdded comment;
  comment.alert.comment = "hello";
  CHECK(comment.comment() == std::optional<std::string>("hello"));
  ResponderAdded added;
  added.alert.responders.resize(2);
  CHECK(added.responders().size() == 2);
  ResponderRemoved removed;
  CHECK(removed.responders().empty());
  ChannelAttached attached;
  attached.alert.links.push_back(Link{"https://x", "#c"});
  CHECK(attached.links().size() == 1);
  ChannelDetached detached;
  CHECK(detached.links().empty());
}

TEST_CASE("Alert equality compares every field", "[unit][events]") {
  Alert base;
  base.id = 42;
  // Each mutation changes exactly one field; every one must make the alerts unequal.
  const std::vector<std::pair<const char*, std::function<void(Alert&)>>> mutations = {
      {"id", [](Alert& a) { a.id = 43; }},
      {"summary", [](Alert& a) { a.summary = "s"; }},
      {"details", [](Alert& a) { a.details = ""; }},
      {"status",
       [](Alert& a) {
         a.status = Tagged<Status>{Status::pending, "PENDING"};
       }},
      {"priority",
       [](Alert& a) {
         a.priority = Tagged<Priority>{Priority::low, "LOW"};
       }},
      {"report_time",
       [](Alert& a) {
         a.report_time = Timestamp{"x", std::nullopt};
       }},
      {"alert_key", [](Alert& a) { a.alert_key = "k"; }},
      {"alert_source", [](Alert& a) { a.alert_source = NamedRef{}; }},
      {"escalation_policy",
       [](Alert& a) {
         a.escalation_policy = NamedRef{1, std::nullopt};
       }},
      {"assigned_to", [](Alert& a) { a.assigned_to = User{}; }},
      {"responders", [](Alert& a) { a.responders.emplace_back(); }},
      {"resolved_on", [](Alert& a) { a.resolved_on = Timestamp{}; }},
      {"links", [](Alert& a) { a.links.emplace_back(); }},
      {"images", [](Alert& a) { a.images.emplace_back(); }},
      {"comment", [](Alert& a) { a.comment = "c"; }},
      {"timestamp", [](Alert& a) { a.timestamp = Timestamp{}; }},
      {"event_id", [](Alert& a) { a.event_id = "e"; }},
      {"correlation_id", [](Alert& a) { a.correlation_id = "c"; }},
      {"merge_state", [](Alert& a) { a.merge_state = "MERGED"; }},
      {"merged_into_id", [](Alert& a) { a.merged_into_id = 5; }},
      {"merged_on", [](Alert& a) { a.merged_on = Timestamp{}; }},
      {"severity", [](Alert& a) { a.severity = 3; }},
      {"labels_json", [](Alert& a) { a.labels_json = "{}"; }},
      {"custom_details_json", [](Alert& a) { a.custom_details_json = "{}"; }},
  };
  CHECK(base == base);
  for (const auto& [name, mutate] : mutations) {
    INFO(name);
    Alert changed = base;
    mutate(changed);
    CHECK(changed != base);
    CHECK_FALSE(changed == base);
    Alert same = changed;
    CHECK(same == changed);
  }
  // Nested values compare deeply.
  Alert a = base;
  Alert b = base;
  a.responders.push_back(Responder{User{1, "u", std::nullopt, std::nullopt, std::nullopt}, std::nullopt, std::nullopt});
  b.responders.push_back(Responder{User{1, "u", std::nullopt, std::nullopt, " u@x "}, std::nullopt, std::nullopt});
  CHECK(a != b);
  // A Timestamp's parsed value takes part too.
  a = base;
  b = base;
  a.report_time = Timestamp{"t", std::nullopt};
  b.report_time = Timestamp{"t", UtcTime{}};
  CHECK(a != b);
}

TEST_CASE("event equality includes the received type and the automatic flag", "[unit][events]") {
  AlertResolved a;
  a.alert.id = 1;
  a.received_type = "alert-resolved";
  AlertResolved b = a;
  CHECK(a == b);
  b.automatic = true;
  CHECK(a != b);
  b = a;
  b.received_type = "incident-resolved";
  CHECK(a != b);
  b = a;
  b.alert.summary = "x";
  CHECK(a != b);

  AlertCreated c1;
  c1.received_type = "alert-created";
  AlertCreated c2 = c1;
  CHECK(c1 == c2);
  c2.received_type = "incident-created";
  CHECK(c1 != c2);

  // Different alternatives never compare equal, even with the same base.
  UnknownEvent u;
  u.received_type = "alert-created";
  CHECK(Event(c1) != Event(u));
  CHECK(Event(c1) == Event(AlertCreated(c1)));
}
