// tests/test_parse.cpp: parse_event (src/parse/parse.cpp) over the fixtures in tests/fixtures/valid and
// tests/fixtures/invalid, plus targeted bodies for every rule of issue 2: strict RFC 8259, UTF-8,
// escapes, duplicate keys, depth, size, required fields, types, ids, dispatch, offsets and paths.
//
// Fixtures: valid/*.json are bodies that must parse (the Sumo-line round-trip test reuses them);
// invalid/*.json each hit one error code, named `<code>--<what>.json`, with the exact expected
// error in kInvalidFixtures below.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ilert_sumo/parse.hpp"
#include "parse/parse_internal.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"

using namespace ilert_sumo;
using ilert_sumo::test::fixture_path;
using ilert_sumo::test::list_fixtures;
using ilert_sumo::test::read_file;

namespace {

// A valid prefix: tests append members and the closing brace.
const std::string kHead = R"({"id":"1","eventType":"alert-created",)";

std::string body_with(const std::string& members) { return kHead + members + "}"; }

std::string describe(const Expected<Event>& r) {
  if (r) return std::string("OK ") + std::string(struct_name(*r));
  return r.error().to_string();
}

Event parse_ok(std::string_view body, const ParseOptions& options = {}) {
  Expected<Event> r = parse_event(body, options);
  INFO(describe(r));
  REQUIRE(r.has_value());
  return std::move(r).value();
}

Error parse_err(std::string_view body, const ParseOptions& options = {}) {
  Expected<Event> r = parse_event(body, options);
  INFO(describe(r));
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

void expect_error(std::string_view body, ErrorCode code, const std::string& path, std::size_t offset,
                  const ParseOptions& options = {}) {
  const Error e = parse_err(body, options);
  INFO(e.to_string());
  CHECK(e.code == code);
  CHECK(e.path == path);
  CHECK(e.offset == offset);
  CHECK_FALSE(e.message.empty());
}

/// A copy of the event's alert (so `const Alert& a = alert_of(parse_ok(...))` is safe).
Alert alert_of(const Event& e) { return base_of(e).alert; }

/// Options that reject type mismatches (the behaviour before tolerant parsing).
ParseOptions strict() {
  ParseOptions o;
  o.strict_types = true;
  return o;
}

/// Options with a fixed receipt time, so two parses can be compared.
ParseOptions at_fixed_time() {
  ParseOptions o;
  o.received_at = UtcTime(std::chrono::milliseconds(1700000000123));
  return o;
}

Alert alert_with_id(std::int64_t id) {
  Alert a;
  a.id = id;
  return a;
}

Event fixture(const std::string& name) { return parse_ok(read_file(fixture_path("valid/" + name))); }

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string file_name(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

struct InvalidFixture {
  const char* file;
  ErrorCode code;
  std::string path;
  std::size_t offset;
  std::size_t max_body_bytes = ParseOptions{}.max_body_bytes;
};

// Every file in tests/fixtures/invalid, with the exact error it must give.
const std::vector<InvalidFixture> kInvalidFixtures = {
    {"empty_body--empty.json", ErrorCode::empty_body, "", 0},
    {"empty_body--whitespace-only.json", ErrorCode::empty_body, "", 6},
    {"too_large--over-256-byte-limit.json", ErrorCode::too_large, "", 256, 256},
    {"invalid_utf8--overlong-slash.json", ErrorCode::invalid_utf8, "summary", 65},
    {"invalid_utf8--encoded-surrogate.json", ErrorCode::invalid_utf8, "details", 61},
    {"invalid_utf8--above-10ffff.json", ErrorCode::invalid_utf8, "alertSource.name", 82},
    {"invalid_utf8--truncated-in-unknown-key.json", ErrorCode::invalid_utf8, "extra", 60},
    {"invalid_utf8--latin1-after-object.json", ErrorCode::invalid_utf8, "", 47},
    {"syntax--trailing-comma.json", ErrorCode::syntax, "", 63},
    {"syntax--missing-comma.json", ErrorCode::syntax, "", 63},
    {"syntax--comment.json", ErrorCode::syntax, "", 48},
    {"syntax--single-quotes.json", ErrorCode::syntax, "", 48},
    {"syntax--nan.json", ErrorCode::syntax, "customDetails.load", 74},
    {"syntax--leading-zero.json", ErrorCode::syntax, "alertSource", 71},
    {"syntax--raw-newline-in-string.json", ErrorCode::syntax, "details", 65},
    {"syntax--trailing-data.json", ErrorCode::syntax, "", 48},
    {"syntax--unterminated-string.json", ErrorCode::syntax, "summary", 73},
    {"invalid_unicode_escape--lone-high-surrogate.json", ErrorCode::invalid_unicode_escape, "summary", 66},
    {"invalid_unicode_escape--lone-low-surrogate.json", ErrorCode::invalid_unicode_escape, "summary", 66},
    {"invalid_unicode_escape--bad-hex.json", ErrorCode::invalid_unicode_escape, "summary", 60},
    {"duplicate_key--id.json", ErrorCode::duplicate_key, "id", 42},
    {"duplicate_key--nested-unknown.json", ErrorCode::duplicate_key, "meta.a[0].k", 72},
    {"duplicate_key--in-labels.json", ErrorCode::duplicate_key, "labels.env", 74},
    {"nesting_too_deep--65-levels-in-unknown-field.json", ErrorCode::nesting_too_deep, "x" + repeat("[0]", 63), 110},
    {"nesting_too_deep--in-custom-details.json", ErrorCode::nesting_too_deep, "customDetails" + repeat(".a", 63), 443},
    {"not_an_object--array.json", ErrorCode::not_an_object, "", 0},
    {"not_an_object--string.json", ErrorCode::not_an_object, "", 1},
    {"missing_field--no-id.json", ErrorCode::missing_field, "id", 0},
    {"missing_field--null-event-type.json", ErrorCode::missing_field, "eventType", 25},
    {"wrong_type--responder-user-id.json", ErrorCode::wrong_type, "responders[2].user.id", 123},
    {"wrong_type--alert-source-string.json", ErrorCode::wrong_type, "alertSource", 63},
    {"wrong_type--summary-number.json", ErrorCode::wrong_type, "summary", 59},
    {"wrong_type--event-type-number.json", ErrorCode::wrong_type, "eventType", 25},
    {"number_out_of_range--id-zero.json", ErrorCode::number_out_of_range, "id", 7},
    {"number_out_of_range--id-too-big.json", ErrorCode::number_out_of_range, "id", 7},
    {"number_out_of_range--id-float.json", ErrorCode::number_out_of_range, "id", 7},
    {"number_out_of_range--id-leading-zero.json", ErrorCode::number_out_of_range, "id", 7},
    {"number_out_of_range--negative-policy-id.json", ErrorCode::number_out_of_range, "escalationPolicy.id", 75},
};

/// The expected details of valid/large-details.json (the generator's formula).
std::string large_details() {
  std::string out;
  for (unsigned long long i = 0; out.size() < 500 * 1024; ++i) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "line %05llu: stack frame at 0x%08llx in worker-%llu \xE2\x80\x94 \"quoted\" \\path\\to\\file\ttab "
                  "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\n",
                  i, (i * 2654435761ULL) % (1ULL << 32), i % 7);
    out += line;
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Fixtures

TEST_CASE("every valid fixture parses", "[unit][parse]") {
  const std::vector<std::string> files = list_fixtures("valid");
  REQUIRE(files.size() >= 40);
  for (const std::string& path : files) {
    INFO(path);
    const Expected<Event> r = parse_event(read_file(path));
    INFO(describe(r));
    CHECK(r.has_value());
  }
}

TEST_CASE("every invalid fixture gives its exact error, and every parse error code is covered", "[unit][parse]") {
  std::set<std::string> listed;
  std::set<ErrorCode> codes;
  for (const InvalidFixture& f : kInvalidFixtures) {
    INFO(f.file);
    listed.insert(f.file);
    codes.insert(f.code);
    // The file name starts with the code's name.
    CHECK(std::string(f.file).rfind(std::string(to_string(f.code)) + "--", 0) == 0);
    ParseOptions options = strict();
    options.max_body_bytes = f.max_body_bytes;
    const std::string body = read_file(fixture_path(std::string("invalid/") + f.file));
    expect_error(body, f.code, f.path, f.offset, options);
    // Under the default (tolerant) options every invalid fixture still fails, except a type or
    // range problem in an optional field: that event is kept, with the field as a mismatch.
    const bool optional_field = (f.code == ErrorCode::wrong_type || f.code == ErrorCode::number_out_of_range) &&
                                f.path != "id" && f.path != "eventType";
    const Expected<Event> tolerant = parse_event(body);
    CHECK(tolerant.has_value() == optional_field);
    if (tolerant && optional_field) {
      const Alert& a = base_of(*tolerant).alert;
      REQUIRE(a.type_mismatches.size() == 1);
      CHECK(a.type_mismatches[0].path == f.path);
      CHECK(f.path.rfind(a.type_mismatches[0].field, 0) == 0);
    }
  }
  // The table and the directory agree.
  std::set<std::string> on_disk;
  for (const std::string& path : list_fixtures("invalid")) on_disk.insert(file_name(path));
  CHECK(on_disk == listed);
  for (int code = 101; code <= 111; ++code) {
    INFO(to_string(static_cast<ErrorCode>(code)));
    CHECK(codes.count(static_cast<ErrorCode>(code)) == 1);
  }
}

TEST_CASE("alert-created.json fills every field", "[unit][parse]") {
  const Event e = fixture("alert-created.json");
  REQUIRE(std::holds_alternative<AlertCreated>(e));
  const Alert& a = alert_of(e);
  CHECK(base_of(e).received_type == "alert-created");
  CHECK(a.id == 1473628);
  CHECK(a.summary == std::optional<std::string>("CPU load high on web-01"));
  CHECK(a.details == std::optional<std::string>("Load average 12.3 over 5 minutes\nThreshold: 8"));
  REQUIRE(a.report_time);
  CHECK(a.report_time->raw == "2021-08-06T08:16:01.154Z");
  REQUIRE(a.report_time->utc);
  CHECK(a.report_time->utc->time_since_epoch().count() == 1628237761154000000LL);
  CHECK(a.status == Tagged<Status>{Status::pending, "PENDING"});
  CHECK(a.priority == Tagged<Priority>{Priority::high, "HIGH"});
  CHECK(a.alert_key == std::optional<std::string>("web-01-cpu"));
  CHECK(a.alert_source == NamedRef{202, "Prometheus production"});
  CHECK(a.escalation_policy == NamedRef{3301, "Ops 24/7"});
  const User jane{41, "jdoe", "Jane", "Doe", "jane.doe@example.com"};
  CHECK(a.assigned_to == jane);
  REQUIRE(a.responders.size() == 1);
  CHECK(a.responders[0].user == jane);
  CHECK(a.responders[0].status == Tagged<Status>{Status::pending, "PENDING"});
  CHECK_FALSE(a.responders[0].accepted_at);
  REQUIRE(a.links.size() == 1);
  CHECK(a.links[0] == Link{"https://grafana.example.com/d/cpu", "Dashboard"});
  REQUIRE(a.images.size() == 1);
  CHECK(a.images[0] ==
        Image{"https://grafana.example.com/render/cpu.png", "https://grafana.example.com/d/cpu", "CPU graph"});
  CHECK(a.event_id == std::optional<std::string>("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"));
  CHECK(a.correlation_id == std::optional<std::string>("b7e1a2c4-1111-4a2b-9c3d-5e6f7a8b9c0d"));
  REQUIRE(a.timestamp);
  CHECK(a.timestamp->utc->time_since_epoch().count() == 1628237761154321987LL);
  CHECK(a.labels_json == std::optional<std::string>(R"({"env":"prod","team":"ops"})"));
  CHECK(a.custom_details_json == std::optional<std::string>(R"({"cpu":12.3,"host":"web-01","tags":["linux","web"]})"));
  CHECK_FALSE(a.comment);
  CHECK_FALSE(a.resolved_on);
  CHECK_FALSE(a.merge_state);
  CHECK_FALSE(a.merged_into_id);
  CHECK_FALSE(a.merged_on);
  CHECK_FALSE(a.severity);
  CHECK(canonical_event_type(e) == "alert-created");
}

TEST_CASE("each event type's fixtures, current and legacy, give the right struct", "[unit][parse]") {
  struct Case {
    const char* file;
    EventKind kind;
    const char* received;
    const char* canonical;
  };
  const std::vector<Case> cases = {
      {"alert-created.json", EventKind::created, "alert-created", "alert-created"},
      {"incident-created.json", EventKind::created, "incident-created", "alert-created"},
      {"alert-acknowledged.json", EventKind::accepted, "alert-acknowledged", "alert-acknowledged"},
      {"incident-acknowledged.json", EventKind::accepted, "incident-acknowledged", "alert-acknowledged"},
      {"alert-assigned.json", EventKind::rerouted, "alert-assigned", "alert-assigned"},
      {"incident-assigned.json", EventKind::rerouted, "incident-assigned", "alert-assigned"},
      {"alert-auto-escalated.json", EventKind::escalated, "alert-auto-escalated", "alert-auto-escalated"},
      {"incident-auto-escalated.json", EventKind::escalated, "incident-auto-escalated", "alert-auto-escalated"},
      {"alert-raised.json", EventKind::priority_raised, "alert-raised", "alert-raised"},
      {"incident-raised.json", EventKind::priority_raised, "incident-raised", "alert-raised"},
      {"alert-resolved.json", EventKind::resolved, "alert-resolved", "alert-resolved"},
      {"incident-resolved.json", EventKind::resolved, "incident-resolved", "alert-resolved"},
      {"alert-auto-resolved.json", EventKind::resolved, "alert-auto-resolved", "alert-auto-resolved"},
      {"incident-auto-resolved.json", EventKind::resolved, "incident-auto-resolved", "alert-auto-resolved"},
      {"alert-comment-added.json", EventKind::comment_added, "alert-comment-added", "alert-comment-added"},
      {"incident-comment-added.json", EventKind::comment_added, "incident-comment-added", "alert-comment-added"},
      {"alert-responder-added.json", EventKind::responder_added, "alert-responder-added", "alert-responder-added"},
      {"alert-responder-removed.json", EventKind::responder_removed, "alert-responder-removed",
       "alert-responder-removed"},
      {"alert-channel-attached.json", EventKind::channel_attached, "alert-channel-attached", "alert-channel-attached"},
      {"alert-channel-detached.json", EventKind::channel_detached, "alert-channel-detached", "alert-channel-detached"},
      {"alert-escalation-ended.json", EventKind::escalation_ended, "alert-escalation-ended", "alert-escalation-ended"},
      {"unknown-uppercase-type.json", EventKind::unknown, "ALERT-CREATED", "ALERT-CREATED"},
      {"unknown-empty-type.json", EventKind::unknown, "", ""},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const Event e = fixture(c.file);
    CHECK(kind_of(e) == c.kind);
    CHECK(base_of(e).received_type == c.received);
    CHECK(canonical_event_type(e) == c.canonical);
  }
}

TEST_CASE("event-specific fixture content", "[unit][parse]") {
  SECTION("accepted: status and the accepting responder") {
    const Event e = fixture("alert-acknowledged.json");
    const auto& accepted = std::get<AlertAccepted>(e);
    CHECK(accepted.alert.status->value == Status::accepted);
    REQUIRE(accepted.alert.responders.size() == 1);
    CHECK(accepted.alert.responders[0].status->value == Status::accepted);
    CHECK(accepted.alert.responders[0].accepted_at->raw == "2021-08-06T08:17:45.002Z");
    CHECK(accepted.alert.responders[0].accepted_at->utc.has_value());
    CHECK(accepted.accepted_by()->username == std::optional<std::string>("jdoe"));
  }
  SECTION("re-routed: the new policy and assignee") {
    const auto rerouted = std::get<AlertRerouted>(fixture("alert-assigned.json"));
    CHECK(rerouted.new_escalation_policy() == NamedRef{3402, "Database on-call"});
    CHECK(rerouted.assigned_to()->id == 63);
  }
  SECTION("escalated: who it escalated to, and two responders") {
    const auto escalated = std::get<AlertEscalated>(fixture("alert-auto-escalated.json"));
    CHECK(escalated.escalated_to()->username == std::optional<std::string>("okhan"));
    CHECK(escalated.alert.responders.size() == 2);
  }
  SECTION("resolved and auto-resolved, current and legacy") {
    const auto manual = std::get<AlertResolved>(fixture("alert-resolved.json"));
    CHECK_FALSE(manual.automatic);
    CHECK(manual.resolved_on()->raw == "2021-08-06T09:02:11.870Z");
    CHECK(manual.alert.status->value == Status::resolved);
    CHECK_FALSE(std::get<AlertResolved>(fixture("incident-resolved.json")).automatic);
    const auto automatic = std::get<AlertResolved>(fixture("alert-auto-resolved.json"));
    CHECK(automatic.automatic);
    CHECK_FALSE(automatic.alert.assigned_to);  // "assignedTo": null
    CHECK(std::get<AlertResolved>(fixture("incident-auto-resolved.json")).automatic);
    CHECK(std::get<AlertResolved>(fixture("compact-whitespace.json")).automatic);
  }
  SECTION("comment added") {
    CHECK(std::get<AlertCommentAdded>(fixture("alert-comment-added.json")).comment() ==
          std::optional<std::string>("Restarted the worker; watching."));
    CHECK_FALSE(std::get<AlertCommentAdded>(fixture("incident-comment-added.json")).comment());
  }
  SECTION("responders added and removed") {
    const auto added = std::get<ResponderAdded>(fixture("alert-responder-added.json"));
    REQUIRE(added.responders().size() == 2);
    CHECK(added.responders()[1].user->username == std::optional<std::string>("lwei"));
    CHECK(std::get<ResponderRemoved>(fixture("alert-responder-removed.json")).responders().size() == 1);
  }
  SECTION("channels attached and detached") {
    const auto attached = std::get<ChannelAttached>(fixture("alert-channel-attached.json"));
    REQUIRE(attached.links().size() == 2);
    CHECK(attached.links()[1] == Link{"https://example.slack.com/archives/C0123ABCD", "#inc-1473638"});
    CHECK(std::get<ChannelDetached>(fixture("alert-channel-detached.json")).links().size() == 1);
  }
  SECTION("an unknown event type keeps the whole alert") {
    const Event e = fixture("unknown-uppercase-type.json");
    REQUIRE(std::holds_alternative<UnknownEvent>(e));
    CHECK(alert_of(e).id == 1473641);
    CHECK(alert_of(e).responders.size() == 1);
    CHECK(alert_of(e).summary == std::optional<std::string>("CPU load high on web-01"));
  }
}

TEST_CASE("2020-era and legacy bodies", "[unit][parse]") {
  const Event e = fixture("legacy-2020-no-priority.json");
  const Alert& a = alert_of(e);
  CHECK(std::holds_alternative<AlertCreated>(e));
  CHECK(base_of(e).received_type == "incident-created");
  CHECK(a.id == 42);
  CHECK_FALSE(a.priority);
  CHECK(a.alert_key == std::optional<std::string>("db-02-disk-var"));  // from incidentKey
  CHECK(a.links.empty());
  CHECK(a.images.empty());
  CHECK_FALSE(a.event_id);
  CHECK_FALSE(a.timestamp);
  // alertKey wins over incidentKey when both are present.
  CHECK(alert_of(fixture("both-alertkey-and-incidentkey.json")).alert_key == std::optional<std::string>("new-key"));
}

TEST_CASE("ids: digit strings and numbers everywhere", "[unit][parse]") {
  const Alert& a = alert_of(fixture("numeric-ids.json"));
  CHECK(a.id == INT64_MAX);
  CHECK(a.alert_source->id == 202);
  CHECK(a.escalation_policy->id == 3301);
  CHECK(a.assigned_to->id == 41);
  REQUIRE(a.responders.size() == 2);
  CHECK(a.responders[0].user->id == 41);
  CHECK(a.responders[1].user->id == 57);
  CHECK(a.merged_into_id == 1473600);
  CHECK(a.merge_state == std::optional<std::string>("MERGED"));
  CHECK(a.merged_on->utc.has_value());
  const Alert& b = alert_of(fixture("string-ids-merged.json"));
  CHECK(b.id == 7);
  CHECK(b.merged_into_id == 1473600);
  CHECK(b.merged_on->utc->time_since_epoch().count() ==
        parse_iso8601("2021-08-06T06:20:00Z")->time_since_epoch().count());
}

TEST_CASE("nulls count as absent", "[unit][parse]") {
  const Event e = fixture("nulls.json");
  CHECK(std::holds_alternative<AlertAccepted>(e));
  CHECK(alert_of(e) == alert_with_id(1473650));
  CHECK(base_of(e).received_type == "alert-acknowledged");

  const Alert& n = alert_of(fixture("nulls-nested.json"));
  CHECK(n.id == 1473651);
  CHECK(n.alert_source == NamedRef{});
  CHECK(n.escalation_policy == NamedRef{9, std::nullopt});
  CHECK(n.assigned_to == User{});
  REQUIRE(n.responders.size() == 2);
  CHECK(n.responders[0] == Responder{});
  CHECK(n.responders[1] == Responder{});
  CHECK(n.links == std::vector<Link>{Link{}});
  CHECK(n.images == std::vector<Image>{Image{}});
  CHECK(alert_of(fixture("minimal.json")) == alert_with_id(1));
}

TEST_CASE("unicode, escapes and embedded NUL survive exactly", "[unit][parse]") {
  const Event e = fixture("unicode-escapes.json");
  const Alert& a = alert_of(e);
  CHECK(*a.summary == "Caf\xC3\xA9 \xF0\x9F\x98\x80 ok \xE2\x9C\x93 \xF0\x9F\x9A\x80");
  const std::string details("nul:\0:end tab:\t nl:\n quote:\" bs:\\ slash:/ ctl:\x1F", 47);
  CHECK(*a.details == details);
  CHECK(a.details->size() == 47);
  CHECK(*a.alert_key == "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E-\xF0\x9D\x84\x9E");  // U+1D11E from \uD834\uDD1E
  CHECK(a.alert_source->name == std::optional<std::string>("Gr\xC3\xBC\xC3\x9F"
                                                           "e \xC3\xBC\xC3\x9F"));
  // labels: canonical compact JSON; escapes normalised, NUL as \u0000, non-ASCII raw.
  CHECK(*a.labels_json ==
        "{\"emoji\":\"\xF0\x9F\x9A\x80\",\"nul\":\"a\\u0000b\",\"esc\":\"\\\"\\\\/\\b\\f\\n\\r\\t\"}");
}

TEST_CASE("a ~500 KB details field is kept byte for byte", "[unit][parse]") {
  const Alert& a = alert_of(fixture("large-details.json"));
  const std::string expected = large_details();
  REQUIRE(a.details.has_value());
  CHECK(a.details->size() == expected.size());
  CHECK(a.details->size() >= 500 * 1024);
  CHECK(*a.details == expected);
}

TEST_CASE("150 responders", "[unit][parse]") {
  const Event e = fixture("many-responders.json");
  const auto& added = std::get<ResponderAdded>(e);
  REQUIRE(added.responders().size() == 150);
  for (std::size_t i = 0; i < 150; ++i) {
    const Responder& r = added.responders()[i];
    INFO(i);
    CHECK(r.user->id == static_cast<std::int64_t>(1000 + i));
    char name[16];
    std::snprintf(name, sizeof name, "user%03zu", i);
    CHECK(r.user->username == std::optional<std::string>(name));
    CHECK(r.status->value == (i % 3 == 0 ? Status::accepted : Status::pending));
    CHECK(r.accepted_at.has_value() == (i % 3 == 0));
  }
}

TEST_CASE("unknown nested fields are ignored, unknown top-level keys are kept", "[unit][parse]") {
  const Alert& a = alert_of(fixture("unknown-nested-fields.json"));
  CHECK(a.alert_source == NamedRef{202, "Prometheus production"});
  CHECK(a.assigned_to->email == std::optional<std::string>("jane.doe@example.com"));
  REQUIRE(a.responders.size() == 1);
  CHECK(a.responders[0].status->value == Status::pending);
  CHECK(a.links == std::vector<Link>{Link{"https://a.example", "A"}});
  CHECK(a.images == std::vector<Image>{Image{"https://b.example/i.png", std::nullopt, std::nullopt}});
  // Same content as a body without the unknown nested fields; the unknown top-level key is kept.
  const std::string plain =
      body_with(R"("x":{"id":"not-an-id","alertSource":[1]},"alertSource":{"id":202,"name":"Prometheus production"})");
  const std::string noisy = body_with(
      R"("x":{"id":"not-an-id","alertSource":[1]},"alertSource":{"id":202,"extra":{"id":[]},"name":"Prometheus production","name2":1})");
  CHECK(parse_ok(plain, at_fixed_time()) == parse_ok(noisy, at_fixed_time()));
  CHECK(alert_of(parse_ok(noisy)).extra_fields ==
        std::vector<ExtraField>{ExtraField{"x", R"({"id":"not-an-id","alertSource":[1]})"}});
  // Keys are matched exactly: other spellings are unknown.
  expect_error(R"({"ID":"1","eventType":"x"})", ErrorCode::missing_field, "id", 0);
  expect_error(R"({"id":"1","EventType":"x"})", ErrorCode::missing_field, "eventType", 0);
  const Alert spelled = alert_of(parse_ok(body_with(R"("Summary":"x","summary ":"y")")));
  CHECK_FALSE(spelled.summary);
  CHECK(spelled.extra_fields == std::vector<ExtraField>{{"Summary", "\"x\""}, {"summary ", "\"y\""}});
}

TEST_CASE("time fields keep the raw text, utc only when valid", "[unit][parse]") {
  const Alert& odd = alert_of(fixture("docs-odd-reporttime.json"));
  CHECK(odd.report_time->raw == "2019-08-29T09: 52: 39.551Z");
  CHECK_FALSE(odd.report_time->utc);
  CHECK(odd.assigned_to->email == std::optional<std::string>("  jane.doe@example.com  "));  // not trimmed

  const Alert& t = alert_of(fixture("time-variants.json"));
  CHECK(t.report_time->utc->time_since_epoch().count() == 1628237761LL * 1000000000);
  CHECK(t.resolved_on->utc->time_since_epoch().count() == 1628237761LL * 1000000000 + 500000000);
  CHECK(t.timestamp->raw == "2024-02-29T23:59:59.999999999Z");
  CHECK(t.timestamp->utc.has_value());
  CHECK(t.merged_on->raw == "2021-13-01T00:00:00Z");
  CHECK_FALSE(t.merged_on->utc);
}

TEST_CASE("labels and customDetails are canonical compact JSON", "[unit][parse]") {
  const Alert& s = alert_of(fixture("labels-scalar.json"));
  CHECK(s.labels_json == std::optional<std::string>("\"team-ops\""));
  CHECK(s.custom_details_json == std::optional<std::string>(R"([1,"two",{"three":3.0},[],{}])"));

  const Alert& a = alert_of(parse_ok(body_with(
      " \"labels\" : { \"a\" : [ 1.50 , -0 , 1E+3 , true , false , null ] , \"b\\/c\" : \"\\u0041\\u00e9\\u001f\" , "
      "\"e\" : { } } , \"customDetails\" : 12")));
  CHECK(a.labels_json ==
        std::optional<std::string>("{\"a\":[1.50,-0,1E+3,true,false,null],\"b/c\":\"A\xC3\xA9\\u001F\",\"e\":{}}"));
  CHECK(a.custom_details_json == std::optional<std::string>("12"));
  CHECK(alert_of(parse_ok(body_with(R"("labels":true,"customDetails":"x\ny")"))).custom_details_json ==
        std::optional<std::string>(R"("x\ny")"));
  CHECK(alert_of(parse_ok(body_with(R"("labels":false)"))).labels_json == std::optional<std::string>("false"));
  CHECK(alert_of(parse_ok(body_with(R"("labels":[])"))).labels_json == std::optional<std::string>("[]"));
  CHECK_FALSE(alert_of(parse_ok(body_with(R"("labels":null)"))).labels_json);
  // Both captured in one body, one after the other, with other fields around.
  const Alert& both =
      alert_of(parse_ok(body_with(R"("labels":{"x":[{"y":1}]},"summary":"s","customDetails":[{"z":[]}])")));
  CHECK(both.labels_json == std::optional<std::string>(R"({"x":[{"y":1}]})"));
  CHECK(both.custom_details_json == std::optional<std::string>(R"([{"z":[]}])"));
  CHECK(both.summary == std::optional<std::string>("s"));
}

TEST_CASE("status and priority map exact values, keep unknown ones", "[unit][parse]") {
  const std::vector<std::pair<const char*, Status>> statuses = {
      {"NEW", Status::new_alert},     {"PENDING", Status::pending},  {"ACCEPTED", Status::accepted},
      {"RESOLVED", Status::resolved}, {"pending", Status::unknown},  {"SNOOZED", Status::unknown},
      {"", Status::unknown},          {"ACCEPTED ", Status::unknown}};
  for (const auto& [text, value] : statuses) {
    INFO(text);
    const Alert& a = alert_of(parse_ok(body_with(std::string("\"status\":\"") + text + "\"")));
    CHECK(a.status == Tagged<Status>{value, text});
  }
  const std::vector<std::pair<const char*, Priority>> priorities = {
      {"HIGH", Priority::high}, {"LOW", Priority::low}, {"high", Priority::unknown}, {"MEDIUM", Priority::unknown}};
  for (const auto& [text, value] : priorities) {
    INFO(text);
    const Alert& a = alert_of(parse_ok(body_with(std::string("\"priority\":\"") + text + "\"")));
    CHECK(a.priority == Tagged<Priority>{value, text});
  }
  const Alert& u = alert_of(fixture("unknown-enum-values.json"));
  CHECK(u.status == Tagged<Status>{Status::unknown, "SNOOZED"});
  CHECK(u.priority == Tagged<Priority>{Priority::unknown, "MEDIUM"});
  CHECK(u.responders[0].status == Tagged<Status>{Status::unknown, "DECLINED"});
}

TEST_CASE("a leading BOM is skipped and counted in offsets", "[unit][parse]") {
  const Event e = fixture("with-bom.json");
  CHECK(alert_of(e).id == 1473701);
  const std::string bom = "\xEF\xBB\xBF";
  CHECK(alert_of(parse_ok(bom + R"({"id":2,"eventType":"x"})")).id == 2);
  expect_error(bom + R"({"id":true,"eventType":"x"})", ErrorCode::wrong_type, "id", 9);
  expect_error(bom + R"({"id":1,"eventType":"x",})", ErrorCode::syntax, "", 27);
  expect_error(bom, ErrorCode::empty_body, "", 3);
  expect_error(bom + " \n", ErrorCode::empty_body, "", 5);
  expect_error(bom + bom + "{}", ErrorCode::syntax, "", 3);  // only one BOM is skipped
  expect_error(R"( {"id":1,"eventType":"x"})"
               "\xEF\xBB\xBF",
               ErrorCode::syntax, "", 25);
}

// ------------------------------------------------------------------------------------------------
// Strict RFC 8259

TEST_CASE("non-RFC-8259 JSON is a syntax error", "[unit][parse]") {
  struct Case {
    std::string body;
    std::size_t offset;
  };
  const std::size_t h = kHead.size();
  const std::vector<Case> cases = {
      {body_with(R"("summary":"x",)"), h + 14},  // trailing comma in an object
      {body_with(R"("x":[1,2,])"), h + 9},       // trailing comma in an array
      {body_with(R"(//c
"summary":"x")"),
       h},                                  // line comment
      {body_with(R"("x":/*c*/1)"), h + 4},  // block comment
      {body_with(R"("x":NaN)"), h + 4},
      {body_with(R"("x":Infinity)"), h + 4},
      {body_with(R"("x":-Infinity)"), h + 5},
      {body_with(R"('x':1)"), h},        // single-quoted key
      {body_with(R"("x":'y')"), h + 4},  // single-quoted value
      {body_with(R"("x":01)"), h + 5},   // leading zero
      {body_with(R"("x":-01)"), h + 6},
      {body_with(R"("x":00)"), h + 5},
      {body_with(R"("x":+1)"), h + 4},
      {body_with(R"("x":.5)"), h + 4},
      {body_with(R"("x":1.)"), h + 6},
      {body_with(R"("x":1e)"), h + 6},
      {body_with(R"("x":0x10)"), h + 5},
      {body_with(R"("x":True)"), h + 4},
      {body_with(R"("x":tru)"), h + 7},
      {body_with(R"("x":undefined)"), h + 4},
      {body_with(R"(x:1)"), h},              // unquoted key
      {body_with(R"("x" 1)"), h + 4},        // missing colon
      {body_with(R"("x":1 "y":2)"), h + 6},  // missing comma
      {body_with("\"x\":\"a\tb\""), h + 6},  // raw tab
      {body_with("\"x\":\"a\nb\""), h + 6},  // raw newline
      {body_with("\"x\":\"a\x01"
                 "b\""),
       h + 6},
      {body_with("\"x\":\"a\x1F"
                 "b\""),
       h + 6},
      {body_with(std::string("\"x\":\"a\0b\"", 9)), h + 6},  // raw NUL
      {body_with(R"("x":"\x")"), h + 5},                     // invalid escape
      {body_with(R"("x":"\U0041")"), h + 5},
      {body_with("\"x\":\f1"), h + 4},                                 // form feed is not JSON whitespace
      {kHead.substr(0, kHead.size() - 1) + "}}", h},                   // extra closing brace
      {kHead.substr(0, kHead.size() - 1) + "} {}", h + 1},             // two documents
      {kHead.substr(0, kHead.size() - 1) + "}x", h},                   // trailing garbage
      {kHead.substr(0, kHead.size() - 1) + std::string("}\0", 2), h},  // trailing NUL
      {kHead.substr(0, kHead.size() - 1), h - 1},                      // truncated
      {"{", 1},
      {"{\"id\"", 5},
      {"\"", 1},
      {"NaN", 0},
      {"nul", 3},
      {"}", 0},
      {std::string("\0", 1), 0},
      {"\f{}", 0},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    const Error e = parse_err(c.body);
    INFO(e.to_string());
    CHECK(e.code == ErrorCode::syntax);
    CHECK(e.offset == c.offset);
  }
}

TEST_CASE("JSON whitespace is allowed everywhere it may be", "[unit][parse]") {
  const Event e = parse_ok(
      " \t\r\n{ \t\r\n\"id\" \t\r\n: \t\r\n\"5\" \t\r\n, \"eventType\":\"alert-raised\" ,\"x\" : [ 1 , { } ] } \t\r\n");
  CHECK(alert_of(e).id == 5);
  CHECK(std::holds_alternative<AlertPriorityRaised>(e));
}

TEST_CASE("syntax error messages name the problem", "[unit][parse]") {
  CHECK(parse_err(body_with(R"("summary":"x",)")).message.find("trailing comma") != std::string::npos);
  CHECK(parse_err(body_with(R"("x":/*c*/1)")).message.find("comments") != std::string::npos);
  CHECK(parse_err(body_with(R"("x":NaN)")).message.find("NaN") != std::string::npos);
  CHECK(parse_err(body_with(R"('x':1)")).message.find("single quotes") != std::string::npos);
  CHECK(parse_err(body_with(R"("x":01)")).message.find("leading zeros") != std::string::npos);
  CHECK(parse_err(body_with("\"x\":\"a\tb\"")).message.find("control character") != std::string::npos);
  CHECK(parse_err(kHead + "\"x\":\"abc").message.find("unterminated string") != std::string::npos);
  CHECK(parse_err(kHead.substr(0, kHead.size() - 1) + "}x").message.find("after the top-level object") !=
        std::string::npos);
}

// ------------------------------------------------------------------------------------------------
// UTF-8 and escapes

TEST_CASE("invalid UTF-8 anywhere is invalid_utf8 at its first byte", "[unit][parse]") {
  const std::vector<std::string> bad = {
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong
      "\xE0\x80\x80",      // overlong 3-byte
      "\xE0\x9F\xBF",      // overlong 3-byte (U+07FF)
      "\xF0\x80\x80\x80",  // overlong 4-byte
      "\xF0\x8F\xBF\xBF",  // overlong 4-byte (U+FFFF)
      "\xED\xA0\x80",      // U+D800 encoded
      "\xED\xBF\xBF",      // U+DFFF encoded
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",
      "\xF8\x88\x80\x80\x80",
      "\xFE",
      "\xFF",
      "\x80",  // lone continuation
      "\xBF",
      "\xC3",          // truncated 2-byte
      "\xE2\x82",      // truncated 3-byte
      "\xF0\x9F\x98",  // truncated 4-byte
      "\xC3\x28",      // bad continuation
      "\xE2\x28\xA1",
      "\xF0\x9F\x28\x80",
  };
  const std::size_t h = kHead.size();
  for (const std::string& seq : bad) {
    INFO(seq.size());
    // In a value, in a key, in an unknown nested field, and between tokens.
    expect_error(body_with("\"summary\":\"ab" + seq + "cd\""), ErrorCode::invalid_utf8, "summary", h + 13);
    expect_error(body_with("\"k" + seq + "\":1"), ErrorCode::invalid_utf8, "", h + 2);
    expect_error(body_with("\"x\":{\"y\":[\"" + seq + "\"]}"), ErrorCode::invalid_utf8, "x.y[0]", h + 11);
    expect_error(body_with("\"x\":1," + seq), ErrorCode::invalid_utf8, "", h + 6);
    // Truncated at the very end of the body.
    expect_error(kHead + "\"summary\":\"" + seq, ErrorCode::invalid_utf8, "summary", h + 11);
  }
}

TEST_CASE("valid UTF-8 at the boundaries is kept exactly", "[unit][parse]") {
  const std::vector<std::string> good = {
      "\x7F",              // U+007F
      "\xC2\x80",          // U+0080
      "\xDF\xBF",          // U+07FF
      "\xE0\xA0\x80",      // U+0800
      "\xED\x9F\xBF",      // U+D7FF
      "\xEE\x80\x80",      // U+E000
      "\xEF\xBF\xBF",      // U+FFFF
      "\xF0\x90\x80\x80",  // U+10000
      "\xF4\x8F\xBF\xBF",  // U+10FFFF
      "\xEF\xBB\xBF",      // U+FEFF inside a string
  };
  std::string all;
  for (const std::string& seq : good) {
    const Alert& a = alert_of(parse_ok(body_with("\"summary\":\"" + seq + "\"")));
    CHECK(*a.summary == seq);
    all += seq;
  }
  // Long runs mixing ASCII and multi-byte characters at every alignment.
  for (std::size_t pad = 0; pad < 40; ++pad) {
    const std::string text = std::string(pad, 'a') + all + std::string(pad, 'b') + all;
    CHECK(*alert_of(parse_ok(body_with("\"summary\":\"" + text + "\""))).summary == text);
  }
}

TEST_CASE("an invalid byte after a long valid run is found at every alignment", "[unit][parse]") {
  for (std::size_t pad = 0; pad < 70; ++pad) {
    const std::string body = body_with("\"details\":\"" + std::string(pad, 'x') + "\xE9" + "\"");
    expect_error(body, ErrorCode::invalid_utf8, "details", kHead.size() + 11 + pad);
  }
}

TEST_CASE("the first problem in the body wins between UTF-8 and syntax", "[unit][parse]") {
  const std::size_t h = kHead.size();
  // A syntax error before the bad byte is reported as such...
  expect_error(body_with("\"a\":tru,\"b\":\"\xFF\""), ErrorCode::syntax, "a", h + 7);
  expect_error(body_with("\"a\":1,,\"b\":\"\xFF\""), ErrorCode::syntax, "", h + 6);
  // ...one after it is not reached.
  expect_error(body_with("\"b\":\"\xFF\",,"), ErrorCode::invalid_utf8, "b", h + 5);
  // JSON-level problems win over model-level ones found earlier.
  expect_error(body_with("\"summary\":1,\"b\":\"\xFF\""), ErrorCode::invalid_utf8, "b", h + 17);
}

TEST_CASE("escapes: surrogate pairs decode, lone surrogates are rejected", "[unit][parse]") {
  const std::size_t h = kHead.size();
  const auto summary = [](const std::string& body) { return *alert_of(parse_ok(body)).summary; };
  CHECK(summary(body_with(R"("summary":"\ud83d\ude00")")) == "\xF0\x9F\x98\x80");
  CHECK(summary(body_with(R"("summary":"\uD83D\uDE00")")) == "\xF0\x9F\x98\x80");
  CHECK(summary(body_with(R"("summary":"\uDBFF\uDFFF")")) == "\xF4\x8F\xBF\xBF");
  CHECK(summary(body_with(R"("summary":"\uD800\uDC00")")) == "\xF0\x90\x80\x80");
  CHECK(summary(body_with(R"("summary":"\u00e9\u20AC\u0041")")) ==
        "\xC3\xA9\xE2\x82\xAC"
        "A");
  CHECK(summary(body_with(R"("summary":"\uD7FF\uE000")")) == "\xED\x9F\xBF\xEE\x80\x80");
  CHECK(summary(body_with(R"("summary":"a\u0000b")")) == std::string("a\0b", 3));
  CHECK(summary(body_with(R"("summary":"\\uDC00")")) == "\\uDC00");  // an escaped backslash, no escape
  CHECK(summary(body_with(R"("summary":"\"\\\/\b\f\n\r\t")")) == "\"\\/\b\f\n\r\t");

  struct Case {
    std::string members;
    std::string path;
    std::size_t offset;
  };
  const std::vector<Case> cases = {
      {R"("summary":"\uD83D")", "summary", h + 11},              // high at the end
      {R"("summary":"x\uD83Dy")", "summary", h + 12},            // high then a character
      {R"("summary":"\uD83D\n")", "summary", h + 11},            // high then another escape
      {R"("summary":"\uD83D\uD83D")", "summary", h + 11},        // high then high
      {R"("summary":"\uD83D\u0041")", "summary", h + 11},        // high then a BMP escape
      {R"("summary":"\uDE00")", "summary", h + 11},              // lone low
      {R"("summary":"ab\uDFFFcd")", "summary", h + 13},          // lone low inside text
      {R"("summary":"\uDE00\uD83D")", "summary", h + 11},        // reversed pair
      {R"("summary":"\ud83d\ude00\ude00")", "summary", h + 23},  // a pair, then a lone low
      {R"("k\uDC00":1)", "", h + 2},                             // in a key
      {R"("x":{"y":["\udc00"]})", "x.y[0]", h + 11},             // in an unknown nested field
      {R"("labels":{"a":"\uDC01"})", "labels.a", h + 15},        // in labels
      {R"("summary":"\u12")", "summary", h + 11},                // too few hex digits
      {R"("summary":"\u12G4")", "summary", h + 11},
      {R"("summary":"\u")", "summary", h + 11},
      {R"("summary":"\uD83D\u12")", "summary", h + 11},
  };
  for (const Case& c : cases) {
    INFO(c.members);
    expect_error(body_with(c.members), ErrorCode::invalid_unicode_escape, c.path, c.offset);
  }
  CHECK(parse_err(body_with(R"("summary":"\uDE00")")).message.find("DE00") != std::string::npos);
}

TEST_CASE("lone surrogates and backslash runs are found at every alignment", "[unit][parse]") {
  const std::size_t h = kHead.size();
  const std::string start = "\"summary\":\"";
  for (std::size_t pad = 0; pad < 40; ++pad) {
    INFO(pad);
    const std::string text(pad, 'x');
    const std::size_t at = h + start.size() + pad;
    // A lone low escape, alone and after non-ASCII text in the same 16 bytes.
    expect_error(body_with(start + text + R"(\uDC00")"), ErrorCode::invalid_unicode_escape, "summary", at);
    expect_error(body_with(start + text +
                           "\xC3\xA9"
                           R"(\uDC00")"),
                 ErrorCode::invalid_unicode_escape, "summary", at + 2);
    // Whichever problem comes first is reported.
    expect_error(body_with(start + text +
                           "\xFF"
                           R"(\uDC00")"),
                 ErrorCode::invalid_utf8, "summary", at);
    expect_error(body_with(start + text +
                           R"(\uDC00)"
                           "\xFF\""),
                 ErrorCode::invalid_unicode_escape, "summary", at);
    // Escaped backslashes: `\\uDC00` is text, `\\\uDC00` is a lone escape after a backslash.
    CHECK(*alert_of(parse_ok(body_with(start + text + R"(\\uDC00")"))).summary == text + "\\uDC00");
    expect_error(body_with(start + text + R"(\\\uDC00")"), ErrorCode::invalid_unicode_escape, "summary", at + 2);
    CHECK(*alert_of(parse_ok(body_with(start + text + R"(\\\uD83D\uDE00")"))).summary == text + "\\\xF0\x9F\x98\x80");
    // A pair split across blocks, and pairs back to back.
    CHECK(*alert_of(parse_ok(body_with(start + text + R"(\uD83D\uDE00\uD83D\uDE00")"))).summary ==
          text + "\xF0\x9F\x98\x80\xF0\x9F\x98\x80");
  }
  // A lone low escape outside any string is a syntax error at its backslash.
  expect_error(body_with(R"("x":1,\uDC00)"), ErrorCode::syntax, "", h + 6);
  expect_error(R"({"id":1,"eventType":"x"} \uDC00)", ErrorCode::syntax, "", 25);
}

// ------------------------------------------------------------------------------------------------
// Duplicate keys

TEST_CASE("duplicate keys are rejected at any depth", "[unit][parse]") {
  const std::size_t h = kHead.size();
  struct Case {
    std::string members;
    std::string path;
    std::size_t offset;
  };
  const std::vector<Case> cases = {
      {R"("summary":"a","summary":"b")", "summary", h + 14},
      {R"("eventType":"alert-resolved")", "eventType", h},
      {R"("x":1,"x":2)", "x", h + 6},
      {R"("x":null,"x":null)", "x", h + 9},
      {R"("alertSource":{"name":"a","name":"b"})", "alertSource.name", h + 26},
      {R"("alertSource":{"other":1,"other":1})", "alertSource.other", h + 25},
      {R"("assignedTo":{"id":1,"id":2})", "assignedTo.id", h + 21},
      {R"("responders":[{"user":{}},{"user":{"email":"a","email":"b"}}])", "responders[1].user.email", h + 47},
      {R"("responders":[{"status":"PENDING","status":"ACCEPTED"}])", "responders[0].status", h + 34},
      {R"("links":[{"href":"a","href":"b"}])", "links[0].href", h + 21},
      {R"("images":[{"alt":"a","alt":"b"}])", "images[0].alt", h + 21},
      {R"("a":{"b":[{"c":{"d":1,"d":2}}]})", "a.b[0].c.d", h + 22},
      {R"("labels":{"env":"a","env":"b"})", "labels.env", h + 20},
      {R"("customDetails":[{"k":{"x":1,"x":2}}])", "customDetails[0].k.x", h + 29},
      {R"("a":1,"\u0061":2)", "a", h + 6},  // equal after unescaping
      {R"("a\u0000b":1,"a\u0000b":2)", "[\"a\\u0000b\"]", h + 13},
      {R"("incidentKey":"a","incidentKey":"b")", "incidentKey", h + 18},
  };
  for (const Case& c : cases) {
    INFO(c.members);
    expect_error(body_with(c.members), ErrorCode::duplicate_key, c.path, c.offset);
  }
  CHECK(parse_err(body_with(R"("summary":"a","summary":"b")")).message == "duplicate key \"summary\"");
}

TEST_CASE("distinct keys are not duplicates", "[unit][parse]") {
  // Same key in different objects, case variants, NUL-separated variants, alertKey vs incidentKey.
  parse_ok(body_with(R"("x":{"a":1},"y":{"a":1},"a":{"a":{"a":1}},"A":1,"alertKey":"k","incidentKey":"k")"));
  parse_ok(body_with(R"("a\u0000b":1,"a\u0000c":2,"a":3,"":4,"\u0000":5)"));
  parse_ok(body_with(R"("responders":[{"user":{"id":1}},{"user":{"id":1}}])"));
}

TEST_CASE("duplicate detection scales to objects with many keys", "[unit][parse]") {
  for (std::size_t n : {15u, 16u, 17u, 40u, 1000u}) {
    INFO(n);
    std::string members;
    for (std::size_t i = 0; i < n; ++i) members += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    members += "\"nested\":{";
    for (std::size_t i = 0; i < n; ++i) members += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
    members += "}";
    parse_ok(body_with(members));
    // The first key repeated at the end, at the top level and in the nested object.
    const std::string dup_top = body_with(members + ",\"k0\":0");
    expect_error(dup_top, ErrorCode::duplicate_key, "k0", dup_top.size() - 7);
    const std::string dup_nested = body_with(members.substr(0, members.size() - 1) + ",\"k0\":0}");
    expect_error(dup_nested, ErrorCode::duplicate_key, "nested.k0", dup_nested.size() - 8);
    // A duplicate in the middle.
    const std::string mid = body_with(members + ",\"k" + std::to_string(n / 2) + "\":0");
    CHECK(parse_err(mid).code == ErrorCode::duplicate_key);
  }
}

// ------------------------------------------------------------------------------------------------
// Depth, size, emptiness, top level

TEST_CASE("nesting deeper than max_depth is rejected, also in ignored fields", "[unit][parse]") {
  const std::string prefix = R"({"id":1,"eventType":"x","u":)";
  // Depth 64 (root + 63 arrays) is fine; 65 is not.
  parse_ok(prefix + repeat("[", 63) + repeat("]", 63) + "}");
  expect_error(prefix + repeat("[", 64) + repeat("]", 64) + "}", ErrorCode::nesting_too_deep, "u" + repeat("[0]", 63),
               prefix.size() + 63);
  expect_error(prefix + repeat("{\"a\":", 64) + "1" + repeat("}", 64) + "}", ErrorCode::nesting_too_deep,
               "u" + repeat(".a", 63), prefix.size() + 63 * 5);
  // Inside labels (re-serialized) and inside a known array.
  expect_error(body_with("\"labels\":" + repeat("[", 64) + repeat("]", 64)), ErrorCode::nesting_too_deep,
               "labels" + repeat("[0]", 63), kHead.size() + 9 + 63);
  expect_error(body_with("\"responders\":[{\"user\":{\"x\":" + repeat("[", 61) + repeat("]", 61) + "}}]"),
               ErrorCode::nesting_too_deep, "responders[0].user.x" + repeat("[0]", 60), kHead.size() + 27 + 60);
  // A custom limit, and 0 (not even the root).
  ParseOptions three;
  three.max_depth = 3;
  parse_ok(R"({"id":1,"eventType":"x","a":{"b":[]}})", three);
  expect_error(R"({"id":1,"eventType":"x","a":{"b":[[]]}})", ErrorCode::nesting_too_deep, "a.b[0]", 34, three);
  ParseOptions zero;
  zero.max_depth = 0;
  expect_error(R"({"id":1,"eventType":"x"})", ErrorCode::nesting_too_deep, "", 0, zero);
}

TEST_CASE("100 000 nested brackets give nesting_too_deep, not a stack overflow", "[unit][parse]") {
  expect_error(repeat("[", 100000), ErrorCode::nesting_too_deep, repeat("[0]", 64), 64);
  expect_error(repeat("[", 100000) + repeat("]", 100000), ErrorCode::nesting_too_deep, repeat("[0]", 64), 64);
  expect_error(repeat("{\"a\":", 100000), ErrorCode::nesting_too_deep, "a" + repeat(".a", 63), 64 * 5);
  expect_error(R"({"id":1,"eventType":"x","u":)" + repeat("[", 100000), ErrorCode::nesting_too_deep,
               "u" + repeat("[0]", 63), 28 + 63);
}

TEST_CASE("a generous max_depth still cannot overflow the stack", "[unit][parse]") {
  ParseOptions deep;
  deep.max_depth = 1000000;
  // Paths this deep keep their first and last 40 components.
  const std::string elided = "u" + repeat("[0]", 39) + "..." + repeat("[0]", 40);
  // Unterminated: a syntax error at the end, found without recursion.
  expect_error(R"({"id":1,"eventType":"x","u":)" + repeat("[", 200000), ErrorCode::syntax, elided, 28 + 200000, deep);
  // Well formed and within the limit: parses.
  const Event e = parse_ok(R"({"id":1,"eventType":"alert-created","u":)" + repeat("[", 200000) + repeat("]", 200000) +
                               R"(,"summary":"after"})",
                           deep);
  CHECK(alert_of(e).summary == std::optional<std::string>("after"));
  // The iterative reader (used above 256 levels) enforces the limit the same way.
  deep.max_depth = 300;
  expect_error(R"({"id":1,"eventType":"x","u":)" + repeat("[", 300), ErrorCode::nesting_too_deep, elided, 28 + 299,
               deep);
  parse_ok(R"({"id":1,"eventType":"x","u":)" + repeat("[", 299) + repeat("]", 299) + "}", deep);
}

TEST_CASE("the body size limit is checked before parsing", "[unit][parse]") {
  ParseOptions small;
  small.max_body_bytes = 64;
  const std::string head = R"({"id":1,"eventType":"x","summary":")";
  const std::string fits = head + std::string(64 - head.size() - 2, 'y') + "\"}";
  REQUIRE(fits.size() == 64);
  parse_ok(fits, small);
  expect_error(fits + " ", ErrorCode::too_large, "", 64, small);
  expect_error(std::string(65, '\xFF'), ErrorCode::too_large, "", 64, small);  // not even UTF-8-checked
  // The default is 4 MiB.
  const std::size_t limit = ParseOptions{}.max_body_bytes;
  CHECK(limit == 4u * 1024 * 1024);
  std::string big = R"({"id":1,"eventType":"x","details":")";
  big += std::string(limit - big.size() - 2, 'd');
  big += "\"}";
  REQUIRE(big.size() == limit);
  CHECK(alert_of(parse_ok(big)).details->size() == limit - 37);
  expect_error(big + "\n", ErrorCode::too_large, "", limit);
  CHECK(parse_err(big + "\n").message == "body is 4194305 bytes, more than the limit of 4194304");
}

TEST_CASE("empty and whitespace-only bodies", "[unit][parse]") {
  expect_error("", ErrorCode::empty_body, "", 0);
  expect_error(" ", ErrorCode::empty_body, "", 1);
  expect_error("\r\n\t ", ErrorCode::empty_body, "", 4);
  expect_error(std::string_view(), ErrorCode::empty_body, "", 0);
}

TEST_CASE("the top-level value must be an object", "[unit][parse]") {
  expect_error("[]", ErrorCode::not_an_object, "", 0);
  expect_error(R"([{"id":1,"eventType":"x"}])", ErrorCode::not_an_object, "", 0);
  expect_error("  \"alert-created\"", ErrorCode::not_an_object, "", 2);
  expect_error("12", ErrorCode::not_an_object, "", 0);
  expect_error("-1.5e3", ErrorCode::not_an_object, "", 0);
  expect_error("true", ErrorCode::not_an_object, "", 0);
  expect_error("false", ErrorCode::not_an_object, "", 0);
  expect_error(" null ", ErrorCode::not_an_object, "", 1);
  // Not well-formed JSON is a syntax error first.
  expect_error("[1,", ErrorCode::syntax, "[1]", 3);
  expect_error("[] []", ErrorCode::syntax, "", 3);
  CHECK(parse_err("[]").message == "the body must be a JSON object, got array");
}

// ------------------------------------------------------------------------------------------------
// Required fields, types, ids

TEST_CASE("id and eventType are required, null counts as absent", "[unit][parse]") {
  expect_error(R"({"eventType":"alert-created"})", ErrorCode::missing_field, "id", 0);
  expect_error(R"(  {"id":"1"})", ErrorCode::missing_field, "eventType", 2);
  expect_error(R"({"id":null,"eventType":"alert-created"})", ErrorCode::missing_field, "id", 6);
  expect_error(R"({"id":"1","eventType":null})", ErrorCode::missing_field, "eventType", 22);
  expect_error("{}", ErrorCode::missing_field, "id", 0);
  expect_error(R"({"receivedEventType":"alert-created","id":1})", ErrorCode::missing_field, "eventType", 0);
  CHECK(parse_err("{}").message == "required field \"id\" is missing");
  CHECK(parse_err(R"({"id":null,"eventType":"x"})").message == "required field \"id\" is null");
}

TEST_CASE("known fields must have their JSON type", "[unit][parse]") {
  const std::size_t h = kHead.size();
  struct Case {
    std::string members;
    std::string path;
    std::size_t offset;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"("summary":1)", "summary", h + 10, "expected string, got number"},
      {R"("details":true)", "details", h + 10, "expected string, got boolean"},
      {R"("status":["PENDING"])", "status", h + 9, "expected string, got array"},
      {R"("priority":{})", "priority", h + 11, "expected string, got object"},
      {R"("reportTime":1628237761)", "reportTime", h + 13, "expected string, got number"},
      {R"("alertKey":false)", "alertKey", h + 11, "expected string, got boolean"},
      {R"("incidentKey":1)", "incidentKey", h + 14, "expected string, got number"},
      {R"("alertSource":"Prometheus")", "alertSource", h + 14, "expected object, got string"},
      {R"("alertSource":[])", "alertSource", h + 14, "expected object, got array"},
      {R"("alertSource":{"id":{}})", "alertSource.id", h + 20, "expected integer or digit string, got object"},
      {R"("alertSource":{"name":5})", "alertSource.name", h + 22, "expected string, got number"},
      {R"("escalationPolicy":1)", "escalationPolicy", h + 19, "expected object, got number"},
      {R"("escalationPolicy":{"id":"x1"})", "escalationPolicy.id", h + 25,
       "expected integer or digit string, got string \"x1\""},
      {R"("assignedTo":"jdoe")", "assignedTo", h + 13, "expected object, got string"},
      {R"("assignedTo":{"email":["a"]})", "assignedTo.email", h + 22, "expected string, got array"},
      {R"("assignedTo":{"id":""})", "assignedTo.id", h + 19, "expected integer or digit string, got string \"\""},
      {R"("assignedTo":{"id":"-5"})", "assignedTo.id", h + 19, "expected integer or digit string, got string \"-5\""},
      {R"("assignedTo":{"id":" 5"})", "assignedTo.id", h + 19, "expected integer or digit string, got string \" 5\""},
      {R"("responders":{})", "responders", h + 13, "expected array, got object"},
      {R"("responders":"x")", "responders", h + 13, "expected array, got string"},
      {R"("responders":[1])", "responders[0]", h + 14, "expected object, got number"},
      {R"("responders":[{},null])", "responders[1]", h + 17, "expected object, got null"},
      {R"("responders":[{},{},[]])", "responders[2]", h + 20, "expected object, got array"},
      {R"("responders":[{"user":[]}])", "responders[0].user", h + 22, "expected object, got array"},
      {R"("responders":[{"user":{"id":true}}])", "responders[0].user.id", h + 28,
       "expected integer or digit string, got boolean"},
      {R"("responders":[{"status":1}])", "responders[0].status", h + 24, "expected string, got number"},
      {R"("responders":[{"acceptedAt":false}])", "responders[0].acceptedAt", h + 28, "expected string, got boolean"},
      {R"("resolvedOn":{})", "resolvedOn", h + 13, "expected string, got object"},
      {R"("links":"x")", "links", h + 8, "expected array, got string"},
      {R"("links":[{"href":1}])", "links[0].href", h + 17, "expected string, got number"},
      {R"("links":[{},{"text":[]}])", "links[1].text", h + 20, "expected string, got array"},
      {R"("links":["https://x"])", "links[0]", h + 9, "expected object, got string"},
      {R"("images":[{"src":1}])", "images[0].src", h + 17, "expected string, got number"},
      {R"("images":[{"href":true}])", "images[0].href", h + 18, "expected string, got boolean"},
      {R"("images":[{"alt":{}}])", "images[0].alt", h + 17, "expected string, got object"},
      {R"("comment":[])", "comment", h + 10, "expected string, got array"},
      {R"("timestamp":1)", "timestamp", h + 12, "expected string, got number"},
      {R"("eventId":1)", "eventId", h + 10, "expected string, got number"},
      {R"("correlationId":{})", "correlationId", h + 16, "expected string, got object"},
      {R"("mergeState":1)", "mergeState", h + 13, "expected string, got number"},
      {R"("mergedIntoId":true)", "mergedIntoId", h + 15, "expected integer or digit string, got boolean"},
      {R"("mergedIntoId":"abc")", "mergedIntoId", h + 15, "expected integer or digit string, got string \"abc\""},
      {R"("mergedOn":2)", "mergedOn", h + 11, "expected string, got number"},
      {R"("severity":"high")", "severity", h + 11, "expected integer 1..5, got string"},
      {R"("severity":{})", "severity", h + 11, "expected integer 1..5, got object"},
      {R"("receivedEventType":7)", "receivedEventType", h + 20, "expected string, got number"},
  };
  for (const Case& c : cases) {
    INFO(c.members);
    const std::string body = body_with(c.members);
    expect_error(body, ErrorCode::wrong_type, c.path, c.offset, strict());
    CHECK(parse_err(body, strict()).message == c.message);
  }
  // The envelope is strict in both modes.
  expect_error(R"({"id":true,"eventType":"x"})", ErrorCode::wrong_type, "id", 6);
  expect_error(R"({"id":[1],"eventType":"x"})", ErrorCode::wrong_type, "id", 6);
  expect_error(R"({"id":"abc","eventType":"x"})", ErrorCode::wrong_type, "id", 6);
  expect_error(R"({"id":"","eventType":"x"})", ErrorCode::wrong_type, "id", 6);
  expect_error(R"({"id":"1","eventType":{}})", ErrorCode::wrong_type, "eventType", 22);
  expect_error(R"({"id":"1","eventType":["alert-created"]})", ErrorCode::wrong_type, "eventType", 22);
  // The design's example, rendered.
  CHECK(parse_err(body_with(R"("responders":[{},{},{"user":{"id":true}}])"), strict()).to_string() ==
        "wrong_type at responders[2].user.id (byte 72): expected integer or digit string, got boolean");
}

TEST_CASE("ids must be integers in 1..2^63-1", "[unit][parse]") {
  const auto id_of = [](const std::string& id) {
    return alert_of(parse_ok("{\"id\":" + id + ",\"eventType\":\"x\"}")).id;
  };
  CHECK(id_of("1") == 1);
  CHECK(id_of("\"1\"") == 1);
  CHECK(id_of("9223372036854775807") == INT64_MAX);
  CHECK(id_of("\"9223372036854775807\"") == INT64_MAX);
  CHECK(id_of("\"1000000000000000000\"") == 1000000000000000000);
  CHECK(id_of("123456789012345678") == 123456789012345678);
  for (const char* id : {"0", "\"0\"", "-1", "-0", "9223372036854775808", "\"9223372036854775808\"",
                         "18446744073709551616", "\"99999999999999999999\"", "1.5", "1.0", "1e3", "1E3", "1e-3",
                         "-9223372036854775808", "\"007\"", "\"00\"", "\"0123\"", "123456789012345678901234567890"}) {
    INFO(id);
    expect_error(std::string("{\"id\":") + id + ",\"eventType\":\"x\"}", ErrorCode::number_out_of_range, "id", 6);
  }
  // Every id field follows the same rules (strict mode; tolerant mode keeps them as mismatches).
  const std::size_t h = kHead.size();
  expect_error(body_with(R"("alertSource":{"id":0})"), ErrorCode::number_out_of_range, "alertSource.id", h + 20,
               strict());
  expect_error(body_with(R"("escalationPolicy":{"id":-3})"), ErrorCode::number_out_of_range, "escalationPolicy.id",
               h + 25, strict());
  expect_error(body_with(R"("assignedTo":{"id":"042"})"), ErrorCode::number_out_of_range, "assignedTo.id", h + 19,
               strict());
  expect_error(body_with(R"("responders":[{"user":{"id":2.5}}])"), ErrorCode::number_out_of_range,
               "responders[0].user.id", h + 28, strict());
  expect_error(body_with(R"("mergedIntoId":9223372036854775808)"), ErrorCode::number_out_of_range, "mergedIntoId",
               h + 15, strict());
  expect_error(body_with(R"("severity":7)"), ErrorCode::number_out_of_range, "severity", h + 11, strict());
  expect_error(body_with(R"("severity":3.0)"), ErrorCode::number_out_of_range, "severity", h + 11, strict());
  CHECK(parse_err(R"({"id":"007","eventType":"x"})").message.find("leading zero") != std::string::npos);
  CHECK(parse_err(R"({"id":1.5,"eventType":"x"})").message == "expected an integer id, got 1.5");
  // A number beyond what RapidJSON can hold, anywhere, is out of range too.
  expect_error(body_with(R"("x":{"y":1e400})"), ErrorCode::number_out_of_range, "x.y", h + 9);
}

TEST_CASE("JSON-level errors win over model-level ones", "[unit][parse]") {
  const std::size_t h = kHead.size();
  expect_error(R"({"id":true,"eventType":"x",})", ErrorCode::syntax, "", 27);
  expect_error(R"({"id":true,"eventType":"x","a":1,"a":2})", ErrorCode::duplicate_key, "a", 33);
  expect_error(body_with(R"("summary":1,"x":)" + repeat("[", 70) + repeat("]", 70)), ErrorCode::nesting_too_deep,
               "x" + repeat("[0]", 63), h + 16 + 63);
  expect_error(body_with(R"("summary":1,"s":"\uDC00")"), ErrorCode::invalid_unicode_escape, "s", h + 17);
  expect_error(R"([1] x)", ErrorCode::syntax, "", 4);
  // Among model-level errors the first wins; missing fields come last.
  expect_error(R"({"summary":1,"status":2})", ErrorCode::wrong_type, "summary", 11, strict());
  // Tolerant mode: the mismatches are kept and the missing field is the error.
  expect_error(R"({"summary":1,"status":2})", ErrorCode::missing_field, "id", 0);
  expect_error(R"({"eventType":"x","id":"007","summary":1})", ErrorCode::number_out_of_range, "id", 22);
}

// ------------------------------------------------------------------------------------------------
// Dispatch and the Sumo-line keys

TEST_CASE("every wire name dispatches to its struct", "[unit][parse]") {
  for (const EventTypeInfo& info : event_type_table()) {
    INFO(info.wire_name);
    const Event e = parse_ok("{\"id\":\"9\",\"eventType\":\"" + std::string(info.wire_name) + "\"}");
    CHECK(kind_of(e) == info.kind);
    CHECK(base_of(e).received_type == info.wire_name);
    CHECK(canonical_event_type(e) == info.canonical_name);
    if (const auto* resolved = std::get_if<AlertResolved>(&e)) CHECK(resolved->automatic == info.automatic);
  }
  for (const char* other : {"alert-escalation-end", "ALERT-CREATED", "", "alert-not-resolved", "alert-snoozed",
                            "incident-responder-added", "alert-created\\u0000"}) {
    INFO(other);
    const Event e = parse_ok(std::string("{\"id\":\"9\",\"eventType\":\"") + other + "\"}");
    CHECK(std::holds_alternative<UnknownEvent>(e));
  }
  const Event nul = parse_ok(R"({"id":"9","eventType":"alert-created\u0000"})");
  CHECK(base_of(nul).received_type == std::string("alert-created\0", 14));
}

TEST_CASE("the event type may come anywhere in the body", "[unit][parse]") {
  const Event late =
      parse_ok(R"({"summary":"s","responders":[{"status":"PENDING"}],"id":3,"eventType":"alert-auto-resolved"})");
  const auto& r = std::get<AlertResolved>(late);
  CHECK(r.automatic);
  CHECK(r.alert.summary == std::optional<std::string>("s"));
  CHECK(r.alert.responders.size() == 1);
  CHECK(r.alert.id == 3);
  const Event first = parse_ok(R"({"eventType":"alert-assigned","escalationPolicy":{"id":1},"id":"4"})");
  CHECK(std::get<AlertRerouted>(first).new_escalation_policy()->id == 1);
}

TEST_CASE("receivedEventType from a Sumo line is the received type and dispatches", "[unit][parse]") {
  const Event e = parse_ok(
      R"({"time":"2021-08-06T08:16:01.154Z","eventType":"alert-auto-resolved","receivedEventType":"incident-auto-resolved","dedupId":"abc","id":"5"})");
  const auto& r = std::get<AlertResolved>(e);
  CHECK(r.automatic);
  CHECK(r.received_type == "incident-auto-resolved");
  CHECK(canonical_event_type(e) == "alert-auto-resolved");
  // Order does not matter.
  const Event before = parse_ok(R"({"receivedEventType":"incident-created","eventType":"alert-created","id":1})");
  CHECK(base_of(before).received_type == "incident-created");
  CHECK(std::holds_alternative<AlertCreated>(before));
  // It is the more specific name: it decides the struct.
  const Event unknown = parse_ok(R"({"id":1,"eventType":"alert-created","receivedEventType":"alert-snoozed"})");
  CHECK(std::holds_alternative<UnknownEvent>(unknown));
  CHECK(base_of(unknown).received_type == "alert-snoozed");
  // null is absent.
  const Event plain = parse_ok(R"({"id":1,"eventType":"incident-raised","receivedEventType":null})");
  CHECK(base_of(plain).received_type == "incident-raised");
  CHECK(std::holds_alternative<AlertPriorityRaised>(plain));
}

// ------------------------------------------------------------------------------------------------
// Robustness

TEST_CASE("parse_event never throws or crashes on mutated bodies", "[unit][parse]") {
  std::vector<std::string> seeds;
  for (const std::string& dir : {std::string("valid"), std::string("invalid")}) {
    for (const std::string& path : list_fixtures(dir)) {
      std::string body = read_file(path);
      if (body.size() < 20000) seeds.push_back(std::move(body));
    }
  }
  REQUIRE(seeds.size() > 50);
  std::uint64_t x = 0x2545F4914F6CDD1DULL;
  const auto next = [&x]() {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545F4914F6CDD1DULL;
  };
  const char interesting[] = {'{', '}', '[',  ']',    '"',    '\\',   ',',    ':',    '0', '-', 'e',
                              'u', 'D', '\0', '\x80', '\xC3', '\xED', '\xF4', '\xFF', ' ', 'n', 't'};
  std::size_t ok = 0;
  std::size_t failed = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string body = seeds[next() % seeds.size()];
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < edits && !body.empty(); ++k) {
      const std::size_t at = next() % body.size();
      switch (next() % 4) {
        case 0: body[at] = interesting[next() % sizeof interesting]; break;
        case 1: body.insert(at, 1, interesting[next() % sizeof interesting]); break;
        case 2: body.erase(at, 1 + next() % 8); break;
        default: body.resize(at); break;
      }
    }
    Expected<Event> r = Error{};
    REQUIRE_NOTHROW(r = parse_event(body));
    if (r) {
      ++ok;
      CHECK(alert_of(*r).id >= 1);
    } else {
      ++failed;
      const Error& e = r.error();
      const int code = static_cast<int>(e.code);
      CHECK(code >= 101);
      CHECK(code <= 111);
      CHECK(e.offset <= body.size());
      CHECK_FALSE(e.message.empty());
    }
  }
  CHECK(ok > 0);
  CHECK(failed > 0);
}

TEST_CASE("parse_event is safe to call from several threads", "[component][parse]") {
  std::vector<std::string> bodies;
  for (const std::string& path : list_fixtures("valid")) bodies.push_back(read_file(path));
  std::vector<Event> expected;
  for (const std::string& b : bodies) expected.push_back(parse_ok(b, at_fixed_time()));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < bodies.size(); ++i) {
          const std::size_t k = (i + static_cast<std::size_t>(t)) % bodies.size();
          const Expected<Event> r = parse_event(bodies[k], at_fixed_time());
          if (!r || !(*r == expected[k])) ++mismatches;
          if (parse_event(bodies[k].substr(0, bodies[k].size() / 2))) ++mismatches;  // truncated: must fail
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(mismatches == 0);
}

TEST_CASE("a large body then a small one: nothing leaks between calls", "[unit][parse]") {
  const Event big = fixture("large-details.json");
  const Event small = parse_ok(R"({"id":1,"eventType":"alert-created","labels":{"a":1}})");
  CHECK(alert_of(small).details == std::nullopt);
  CHECK(alert_of(small).labels_json == std::optional<std::string>(R"({"a":1})"));
  // An error in the middle of a capture does not affect the next parse.
  CHECK_FALSE(parse_event(R"({"id":1,"eventType":"x","labels":{"a":[1,2)"));
  CHECK(alert_of(parse_ok(R"({"id":1,"eventType":"x","customDetails":{"b":2}})")).custom_details_json ==
        std::optional<std::string>(R"({"b":2})"));
  CHECK(alert_of(big).details->size() > 500000);
}

// parse_event() lets RapidJSON skip its in-string UTF-8 check when one fast pass found the whole
// body valid (src/parse/parse_internal.hpp): it must give exactly what the always-validating reader
// gives, for valid bodies and for every kind and order of error (the fuzzer checks the same).
TEST_CASE("the fast path and the validating reader give the same result", "[unit][parse][utf8]") {
  std::vector<std::string> bodies;
  for (const char* dir : {"valid", "invalid"}) {
    for (const std::string& path : list_fixtures(dir, "")) bodies.push_back(read_file(path));
  }
  REQUIRE(bodies.size() > 20);
  const std::vector<std::string> crafted = {
      body_with("\"summary\":\"caf\xC3\xA9 ok\""),               // valid multi-byte text
      body_with("\"summary\":\"bad \xC3\x28 byte\""),            // invalid UTF-8 in a string
      body_with("\"summary\":\"x\", \xFF \"y\":1"),              // invalid UTF-8 between members
      body_with("\"summary\":\"x\",, \"y\":\"\xED\xA0\x80\""),   // syntax error, then an encoded surrogate
      body_with("\"summary\":\"\xF4\x90\x80\x80\", \"y\":[1,"),  // above U+10FFFF, then a syntax error
      body_with(R"("summary":"\uDC00 lone low")"),               // lone low surrogate escape
      body_with("\"summary\":\"\\uDC00\", \"y\":\"\xC0\xAF\""),  // lone low escape, then an overlong
      body_with("\"summary\":\"tab\there\""),                    // raw control byte in a string
      body_with(R"("summary":"quote \" and backslash \\ ok")"),  // escapes, valid
      std::string("{\"id\":\"1\",\"eventType\":\"alert-created\"} \xE2\x82"),  // truncated sequence after the object
  };
  bodies.insert(bodies.end(), crafted.begin(), crafted.end());
  std::size_t errors = 0;
  for (const std::string& body : bodies) {
    const Expected<Event> fast = parse_event(body, at_fixed_time());
    const Expected<Event> checked = detail::parse_event_reader_validates(body, at_fixed_time());
    INFO(describe(fast) << " / " << describe(checked));
    REQUIRE(fast.has_value() == checked.has_value());
    if (fast) {
      CHECK(*fast == *checked);
    } else {
      ++errors;
      CHECK(fast.error().code == checked.error().code);
      CHECK(fast.error().offset == checked.error().offset);
      CHECK(fast.error().path == checked.error().path);
      CHECK(fast.error().message == checked.error().message);
    }
  }
  CHECK(errors >= 8);  // the crafted bodies above reach the error paths
}

namespace {

/// The body for a failure message: printable ASCII kept, other bytes as \xNN.
std::string printable_body(const std::string& body) {
  std::string out;
  for (const char c : body) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F) {
      out += c;
    } else {
      static const char* const kHex = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

/// parse_event() against the always-validating reader on one body; returns true when rejected.
bool same_as_validating_reader(const std::string& body) {
  const Expected<Event> fast = parse_event(body, at_fixed_time());
  const Expected<Event> checked = detail::parse_event_reader_validates(body, at_fixed_time());
  INFO(printable_body(body) << ": " << describe(fast) << " / " << describe(checked));
  REQUIRE(fast.has_value() == checked.has_value());
  if (fast) {
    CHECK(*fast == *checked);
    return false;
  }
  CHECK(fast.error().code == checked.error().code);
  CHECK(fast.error().offset == checked.error().offset);
  CHECK(fast.error().path == checked.error().path);
  CHECK(fast.error().message == checked.error().message);
  return true;
}

}  // namespace

// Valid UTF-8 bodies are read in situ from a padded copy with RapidJSON's SSE2 scans, which load
// 16 aligned bytes at a time (src/parse/parse.cpp; scan_text()'s raw_control). Every string length
// and every position of a special byte, shifted through all 16 alignments, must give what the
// scalar, validating reader gives; bodies with a NUL or a byte 0x1A..0x1F (which RapidJSON 1.1.0's
// SSE2 scan lets through) must still be rejected where that byte stands.
TEST_CASE("the in-situ SSE2 reader and the validating reader agree at every alignment", "[unit][parse][utf8]") {
  std::vector<std::string> values;
  for (std::size_t len : {0, 1, 14, 15, 16, 17, 31, 32, 33, 48, 49}) values.emplace_back(len, 'a');
  const std::vector<std::string> specials = {std::string(1, '\0'),
                                             "\x01",
                                             "\t",
                                             "\n",
                                             "\x19",
                                             "\x1A",
                                             "\x1B",
                                             "\x1F",
                                             "\x7F",
                                             "\"",
                                             "\\",
                                             "\\n",
                                             "\\\"",
                                             "\\\\",
                                             "\\u00e9",
                                             "\\uD83D\\uDE00",
                                             "\\uDC00",
                                             "\xC3\xA9",
                                             "\xE2\x82\xAC"};
  for (const std::string& special : specials) {
    for (std::size_t at : {0, 7, 15, 16, 17, 30, 40}) {
      std::string v(40, 'b');
      v.insert(at, special);
      values.push_back(v);
    }
  }
  std::size_t bodies = 0;
  std::size_t rejected = 0;
  for (std::size_t shift = 0; shift < 16; ++shift) {
    for (const std::string& v : values) {
      // The shift moves every byte of the body through the 16 alignments; the whitespace runs
      // exercise the SSE2 whitespace skip, the number at the end the in-situ number text.
      const std::string body = std::string(shift, ' ') + kHead + "\"summary\":\"" + v + "\"," +
                               std::string(shift + 17, ' ') + "\n\"severity\":" + std::to_string(1 + shift % 5) +
                               std::string(shift, '\n') + "}";
      rejected += same_as_validating_reader(body) ? 1 : 0;
      ++bodies;
    }
  }
  CHECK(rejected > 16 * 5 * 7);  // NUL, 0x01, tab, newline, 0x19.. inside a string are all errors
  CHECK(rejected < bodies / 2);

  // A raw 0x1A..0x1F deep inside a long string (where the SSE2 scan would let it through) is
  // rejected at its own offset, at every alignment.
  for (std::size_t shift = 0; shift < 16; ++shift) {
    for (const char odd : {'\x1A', '\x1C', '\x1F'}) {
      const std::string prefix = std::string(shift, ' ') + kHead + "\"summary\":\"" + std::string(37, 'c');
      const std::string body = prefix + odd + std::string(20, 'c') + "\"}";
      const Error e = parse_err(body);
      INFO(e.to_string());
      CHECK(e.offset == prefix.size());
      CHECK(e.path == "summary");
    }
  }
  // A NUL after the object, and inside the whitespace after it, is trailing data at its offset.
  const std::string ok = kHead + "\"summary\":\"x\"}";
  CHECK(parse_err(ok + std::string(1, '\0')).offset == ok.size());
  CHECK(parse_err(ok + "  " + std::string(1, '\0') + "  ").offset == ok.size() + 2);
  CHECK(same_as_validating_reader(ok + std::string(1, '\0')));
}
