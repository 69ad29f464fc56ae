// tests/test_parse_tolerant.cpp: what issue 9 added to parse_event: the receipt time, tolerant
// parsing of known fields (type mismatches kept, not fatal), unknown top-level keys kept, severity
// as an integer, the two new kinds, and a Sumo line's own keys. The strict mode keeps the old
// rejection (the full error tables are in test_parse.cpp).
#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "ilert_sumo/parse.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"

using namespace ilert_sumo;

namespace ilert_sumo {
// For Catch2's messages.
inline std::ostream& operator<<(std::ostream& os, const TypeMismatch& m) {
  return os << "{" << m.field << ", " << m.path << ", " << m.raw_json << "}";
}
inline std::ostream& operator<<(std::ostream& os, const ExtraField& f) {
  return os << "{" << f.key << ": " << f.raw_json << "}";
}
}  // namespace ilert_sumo

namespace {

const UtcTime kReceived = UtcTime(std::chrono::milliseconds(1773480000321));  // 2026-03-14T09:20:00.321Z

ParseOptions received(UtcTime t = kReceived) {
  ParseOptions o;
  o.received_at = t;
  return o;
}

ParseOptions strict() {
  ParseOptions o = received();
  o.strict_types = true;
  return o;
}

Event ok(const std::string& body, const ParseOptions& options = received()) {
  Expected<Event> r = parse_event(body, options);
  INFO((r ? std::string("OK") : r.error().to_string()));
  REQUIRE(r.has_value());
  return std::move(r).value();
}

/// A copy, so `const Alert& a = alert(ok(...))` is safe.
Alert alert(const Event& e) { return base_of(e).alert; }

/// Catch2 keeps references to both operands until the result is printed: no temporaries there.
bool same(const TypeMismatch& a, const TypeMismatch& b) { return a == b; }

std::string body(const std::string& members) { return R"({"id":"7","eventType":"alert-created",)" + members + "}"; }

}  // namespace

TEST_CASE("the receipt time: given, or now, kept to the millisecond", "[unit][parse][tolerant]") {
  const Event e = ok(R"({"id":"7","eventType":"alert-acknowledged","reportTime":"2026-03-14T09:00:00.000Z"})");
  CHECK(base_of(e).received_at == kReceived);
  // Without a timestamp the event's time is the receipt time, never reportTime.
  CHECK(event_time(base_of(e)) == kReceived);
  // With a valid timestamp it is that; with an unparseable one the receipt time again.
  const Event stamped = ok(body(R"("timestamp":"2026-03-14T09:19:58.123456789Z")"));
  CHECK(event_time(base_of(stamped)) == *parse_iso8601("2026-03-14T09:19:58.123456789Z"));
  const Event odd = ok(body(R"("timestamp":"2026-03-14T09: 19: 58Z")"));
  CHECK(event_time(base_of(odd)) == kReceived);
  // Sub-millisecond precision is dropped (a Sumo line carries milliseconds).
  const Event fine = ok(body("\"summary\":\"s\""), received(kReceived + std::chrono::microseconds(999)));
  CHECK(base_of(fine).received_at == kReceived);
  // Default: now.
  const auto before = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const Expected<Event> now = parse_event(body("\"summary\":\"s\""));
  const auto after = std::chrono::system_clock::now();
  REQUIRE(now.has_value());
  CHECK(base_of(*now).received_at >= before);
  CHECK(base_of(*now).received_at <= after);
}

TEST_CASE("severity is an integer 1..5", "[unit][parse][tolerant]") {
  CHECK(alert(ok(body(R"("severity":3)"))).severity == 3);
  CHECK(alert(ok(body(R"("severity":1)"))).severity == 1);
  CHECK(alert(ok(body(R"("severity":5)"))).severity == 5);
  CHECK_FALSE(alert(ok(body(R"("severity":null)"))).severity);
  for (const char* v : {R"("high")", "9", "0", "3.0", "-3", "[3]", "true"}) {
    INFO(v);
    const Alert& a = alert(ok(body(std::string("\"severity\":") + v)));
    CHECK_FALSE(a.severity);
    REQUIRE(a.type_mismatches.size() == 1);
    CHECK(same(a.type_mismatches[0], TypeMismatch{"severity", "severity", v}));
    CHECK_FALSE(parse_event(body(std::string("\"severity\":") + v), strict()).has_value());
  }
}

TEST_CASE("iLert's REST comment object is kept verbatim, the event is not rejected", "[unit][parse][tolerant]") {
  const Event e = ok(body(R"("comment": { "id": 9911, "content": "Rotating logs now",
                                           "creator": {"id": 41} })"));
  const Alert& a = alert(e);
  CHECK_FALSE(a.comment);
  REQUIRE(a.type_mismatches.size() == 1);
  CHECK(a.type_mismatches[0].field == "comment");
  CHECK(a.type_mismatches[0].path == "comment");
  CHECK(a.type_mismatches[0].raw_json == R"({"id":9911,"content":"Rotating logs now","creator":{"id":41}})");
  // Strict mode rejects it as before.
  const Expected<Event> s = parse_event(body(R"("comment":{"content":"x"})"), strict());
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().code == ErrorCode::wrong_type);
  CHECK(s.error().path == "comment");
}

TEST_CASE("a mismatch deep inside a field empties that top-level field and keeps all of it",
          "[unit][parse][tolerant]") {
  const Alert& a = alert(ok(body(
      R"("responders":[{"user":{"id":41},"status":"ACCEPTED"},{"user":{"id":true}}],"summary":"kept","alertSource":{"id":"x1","name":"P"})")));
  CHECK(a.responders.empty());
  CHECK_FALSE(a.alert_source);
  CHECK(a.summary == std::optional<std::string>("kept"));
  REQUIRE(a.type_mismatches.size() == 2);  // sorted by field
  CHECK(a.type_mismatches[0] == TypeMismatch{"alertSource", "alertSource.id", R"({"id":"x1","name":"P"})"});
  CHECK(same(a.type_mismatches[1], TypeMismatch{"responders", "responders[1].user.id",
                                                R"([{"user":{"id":41},"status":"ACCEPTED"},{"user":{"id":true}}])"}));
  // Elements that are not objects, and ids out of range, too.
  const Alert& b = alert(ok(body(R"("links":["https://x"],"mergedIntoId":-1,"images":[null])")));
  CHECK(b.links.empty());
  CHECK(b.images.empty());
  CHECK_FALSE(b.merged_into_id);
  REQUIRE(b.type_mismatches.size() == 3);
  CHECK(same(b.type_mismatches[0], TypeMismatch{"images", "images[0]", "[null]"}));
  CHECK(same(b.type_mismatches[1], TypeMismatch{"links", "links[0]", R"(["https://x"])"}));
  CHECK(same(b.type_mismatches[2], TypeMismatch{"mergedIntoId", "mergedIntoId", "-1"}));
}

TEST_CASE("the envelope stays strict in tolerant mode", "[unit][parse][tolerant]") {
  for (const char* b :
       {R"({"id":true,"eventType":"x"})", R"({"id":"1","eventType":5})", R"({"id":"0","eventType":"x"})",
        R"({"id":"1","eventType":"x","receivedEventType":[]})", R"([1])", R"("x")"}) {
    INFO(b);
    CHECK_FALSE(parse_event(b).has_value());
  }
  // Broken JSON inside a mismatched field is still broken JSON.
  const Expected<Event> broken = parse_event(body(R"("comment":{"a":1,"a":2})"));
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().code == ErrorCode::duplicate_key);
}

TEST_CASE("unknown top-level keys are kept verbatim, in body order", "[unit][parse][tolerant]") {
  const Event e = ok(test::read_file(test::fixture_path("valid/ilert-drift.json")));
  const Alert& a = alert(e);
  CHECK(a.severity == 3);
  CHECK(a.alert_source == NamedRef{202, "Prometheus production"});
  const std::vector<ExtraField> expected = {
      {"nextEscalation", R"("2026-03-14T09:30:00Z")"},
      {"nextEscalationUser", R"({"id":42,"username":"asmith"})"},
      {"linkedIncidentId", "5531"},
      {"escalationRules", R"([{"escalationTimeout":15,"user":{"id":41}}])"},
  };
  CHECK(a.extra_fields == expected);
  REQUIRE(a.type_mismatches.size() == 1);
  CHECK(a.type_mismatches[0].field == "comment");
  // Numbers keep their text, strings are re-escaped, nothing is lost.
  const Alert& b = alert(ok(body(R"("n":1.50e+3,"s":"a\u00e9\"\n\u0000","t":true,"z":null,"o":{},"l":[])")));
  const std::vector<ExtraField> kept = {
      {"n", "1.50e+3"}, {"s", "\"a\xC3\xA9\\\"\\n\\u0000\""}, {"t", "true"}, {"z", "null"}, {"o", "{}"}, {"l", "[]"}};
  CHECK(b.extra_fields == kept);
}

TEST_CASE("a Sumo line's own keys are understood, not kept", "[unit][parse][tolerant]") {
  const Event e = ok(
      R"({"time":"2026-03-14T09:20:00.321Z","eventType":"alert-acknowledged","id":"7","receivedAt":"2026-03-14T09:20:01.500Z",)"
      R"("ttaMs":120000,"ttrMs":5,"ilertSumoTypeMismatches":["comment"],"ilertSumoTruncated":{"details":{"originalBytes":9}},"dedupId":"abc"})");
  const Alert& a = alert(e);
  CHECK(base_of(e).received_at == *parse_iso8601("2026-03-14T09:20:01.500Z"));
  // The truncation marker is content (it says what was cut), the derived keys are not.
  CHECK(a.extra_fields == std::vector<ExtraField>{{"ilertSumoTruncated", R"({"details":{"originalBytes":9}})"}});
  CHECK(a.type_mismatches.empty());
  // Still one of each: duplicates are rejected.
  CHECK_FALSE(parse_event(R"({"id":"7","eventType":"x","ttaMs":1,"ttaMs":2})").has_value());
}

TEST_CASE("alert-escalation-ended and v-alert-not-resolved have their own structs", "[unit][parse][tolerant]") {
  const Event ended = ok(test::read_file(test::fixture_path("valid/alert-escalation-ended.json")));
  CHECK(std::holds_alternative<AlertEscalationEnded>(ended));
  CHECK(struct_name(ended) == "AlertEscalationEnded");
  CHECK(canonical_event_type(ended) == "alert-escalation-ended");
  const Event open = ok(test::read_file(test::fixture_path("valid/v-alert-not-resolved.json")));
  CHECK(std::holds_alternative<AlertNotResolved>(open));
  CHECK(struct_name(open) == "AlertNotResolved");
  CHECK(alert(open).id == 1473641);
}

TEST_CASE("lone surrogate escapes are rejected in keys and values, wherever they are", "[unit][parse][tolerant]") {
  for (const std::string& b : {body(R"("x\uDC00":1)"), body(R"("x":["a\uDFFFb"])"), body(R"("labels":{"k":"\uDC00"})"),
                               body(R"("summary":"ok \uDBFF\uDFFF then \uDC01")")}) {
    INFO(b);
    const Expected<Event> r = parse_event(b);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::invalid_unicode_escape);
    CHECK(b.substr(r.error().offset, 6).rfind("\\uD", 0) == 0);
  }
  // A valid pair is fine.
  CHECK(alert(ok(body(R"("summary":"\uD83D\uDE00")"))).summary == std::optional<std::string>("\xF0\x9F\x98\x80"));
}
