// tests/test_sumo_line.cpp [line]: the Sumo line (to_sumo_line / append_sumo_line), dedup_id and
// to_invalid_payload_line. Round trip over every valid fixture, the line's shape (valid compact
// JSON checked with RapidJSON, no raw newline, `time` first, `dedupId` last, key order), legacy
// names, unicode/NUL/invalid UTF-8, the time rule (timestamp, else receivedAt), receivedAt,
// severity as an integer, type mismatches and extra fields under their own names, key
// collisions, the two newer kinds, ttaMs/ttrMs, the dedupId rule, raw JSON fields, and the
// invalid-payload line for UTF-8 and non-UTF-8 bodies; appending to a large buffer grows it by
// the line, not by the buffer. Line caps: test_line_cap.cpp.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/line_json.hpp"
#include "util/text_util.hpp"

using namespace ilert_sumo;
using ilert_sumo::test::keys_of;
using ilert_sumo::test::parse_json;
using ilert_sumo::test::str;

namespace {

bool has_raw_line_break(const std::string& line) {
  return line.find('\n') != std::string::npos || line.find('\r') != std::string::npos;
}

// `YYYY-MM-DDTHH:MM:SS.mmmZ`
bool is_millis_iso(const std::string& s) {
  if (s.size() != 24) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (i) {
      case 4:
      case 7:
        if (c != '-') return false;
        break;
      case 10:
        if (c != 'T') return false;
        break;
      case 13:
      case 16:
        if (c != ':') return false;
        break;
      case 19:
        if (c != '.') return false;
        break;
      case 23:
        if (c != 'Z') return false;
        break;
      default:
        if (c < '0' || c > '9') return false;
    }
  }
  return true;
}

bool is_lower_hex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Expected<Event> reparse(const std::string& line) {
  ParseOptions options;
  options.max_body_bytes = 64u * 1024u * 1024u;
  return parse_event(line, options);
}

// A fixed receipt time (milliseconds: what a line can carry).
const UtcTime kReceived = UtcTime(std::chrono::milliseconds(1773479700123));  // 2026-03-14T09:15:00.123Z

// No cap in practice: the round trip of whole events.
const LineOptions kUncapped{std::size_t{1} << 30};

Event must_parse(std::string_view body) {
  ParseOptions options;
  options.received_at = kReceived;
  auto r = parse_event(body, options);
  INFO("body: " << std::string(body.substr(0, 300)));
  INFO("error: " << (r ? std::string("none") : r.error().to_string()));
  REQUIRE(r);
  return *r;
}

UtcTime utc_ms(std::int64_t epoch_ms) { return UtcTime(std::chrono::milliseconds(epoch_ms)); }

std::string base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  REQUIRE(in.size() % 4 == 0);
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=') {
        v[k] = 0;
        ++pad;
      } else {
        v[k] = value(c);
        REQUIRE(v[k] >= 0);
      }
    }
    const unsigned n = (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

AlertCreated minimal_created(std::int64_t id) {
  AlertCreated e;
  e.alert.id = id;
  e.received_type = "alert-created";
  return e;
}

}  // namespace

TEST_CASE("every valid fixture round-trips through its Sumo line", "[unit][line]") {
  const auto files = test::list_fixtures("valid");
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    INFO("fixture: " << path);
    const Event e = must_parse(test::read_file(path));
    const EventBase& b = base_of(e);
    const std::string line = to_sumo_line(e, kUncapped);

    // Shape.
    CHECK_FALSE(has_raw_line_break(line));
    CHECK(line.rfind("{\"time\":\"", 0) == 0);
    CHECK(line.back() == '}');
    const rapidjson::Document d = parse_json(line);
    const auto keys = keys_of(d);
    REQUIRE(keys.size() >= 4);
    CHECK(keys[0] == "time");
    CHECK(keys[1] == "eventType");
    CHECK(keys.back() == "dedupId");
    CHECK(is_millis_iso(str(d["time"])));
    CHECK(str(d["receivedAt"]) == "2026-03-14T09:15:00.123Z");

    // Event type: canonical, plus the received name only when it differs (legacy names).
    CHECK(str(d["eventType"]) == std::string(canonical_event_type(e)));
    const auto info = lookup_event_type(b.received_type);
    if (info && info->legacy) {
      REQUIRE(d.HasMember("receivedEventType"));
      CHECK(str(d["receivedEventType"]) == b.received_type);
      CHECK(keys[2] == "receivedEventType");
    } else {
      CHECK_FALSE(d.HasMember("receivedEventType"));
      CHECK(keys[2] == "id");
    }
    CHECK(str(d["id"]) == std::to_string(b.alert.id));
    CHECK(str(d["dedupId"]) == dedup_id(e));
    if (b.alert.summary) CHECK(str(d["summary"]) == *b.alert.summary);
    if (b.alert.details) CHECK(str(d["details"]) == *b.alert.details);
    if (b.alert.alert_source && b.alert.alert_source->id) {
      CHECK(d["alertSource"]["id"].IsInt64());
      CHECK(d["alertSource"]["id"].GetInt64() == *b.alert.alert_source->id);
    }
    if (!b.alert.responders.empty())
      CHECK(d["responders"].Size() == b.alert.responders.size());
    else
      CHECK_FALSE(d.HasMember("responders"));

    // Time: timestamp when it parses, else the receipt time (never reportTime).
    const Alert& a = b.alert;
    if (a.timestamp && a.timestamp->utc) {
      CHECK(str(d["time"]) == format_iso8601_millis(*a.timestamp->utc));
    } else {
      CHECK(str(d["time"]) == "2026-03-14T09:15:00.123Z");
    }
    // Type mismatches and extra fields are on the line under their own names, verbatim.
    for (const TypeMismatch& t : a.type_mismatches) {
      REQUIRE(d.HasMember(t.field.c_str()));
      rapidjson::Document v;
      v.Parse(t.raw_json.c_str());
      CHECK(d[t.field.c_str()] == v);
    }
    for (const ExtraField& x : a.extra_fields) {
      REQUIRE(d.HasMember(x.key.c_str()));
      rapidjson::Document v;
      v.Parse(x.raw_json.c_str());
      CHECK(d[x.key.c_str()] == v);
    }

    // The round trip.
    auto back = reparse(line);
    INFO("re-parse error: " << (back ? std::string("none") : back.error().to_string()));
    REQUIRE(back);
    CHECK(back->index() == e.index());
    CHECK(*back == e);
    CHECK(to_sumo_line(*back, kUncapped) == line);  // the same line again, time included

    // append_sumo_line appends the same line after what is already there.
    std::string out = "prefix\n";
    append_sumo_line(out, e, kUncapped);
    CHECK(out.substr(0, 7) == "prefix\n");
    CHECK(out.substr(7 + 34) == line.substr(34));
  }
}

TEST_CASE("a body with every field gives the documented key order and round-trips", "[unit][line]") {
  const std::string body = R"({
    "id": "8532156", "eventType": "incident-comment-added",
    "summary": "s", "details": "d", "status": "ACCEPTED", "priority": "HIGH",
    "reportTime": "2024-03-14T09:26:53.589Z", "alertKey": "k",
    "alertSource": {"id": 100345, "name": "src"}, "escalationPolicy": {"id": "2231", "name": "ep"},
    "assignedTo": {"id": 1, "username": "u", "firstName": "F", "lastName": "L", "email": " e@x "},
    "responders": [{"user": {"id": 2, "username": "v"}, "status": "ACCEPTED", "acceptedAt": "2024-03-14T09:29:12.004Z"}, {}],
    "resolvedOn": "2024-03-14T10:02:48.376Z",
    "links": [{"href": "h", "text": "t"}], "images": [{"src": "s", "href": "h", "alt": "a"}],
    "comment": "c", "timestamp": "2024-03-14T09:30:00.123456789Z", "eventId": "ev-1", "correlationId": "co-1",
    "mergeState": "MERGED", "mergedIntoId": 77, "mergedOn": "2024-03-14T09:31:00Z", "severity": 3,
    "labels": {"team": "dba"}, "customDetails": {"n": [1, 2]}, "someFutureField": {"x": 1}
  })";
  const Event e = must_parse(body);
  REQUIRE(std::holds_alternative<AlertCommentAdded>(e));
  const std::string line = to_sumo_line(e);
  const auto d = parse_json(line);
  const std::vector<std::string> expected = {
      "time",          "eventType",        "receivedEventType", "id",         "summary",
      "details",       "status",           "priority",          "reportTime", "alertKey",
      "alertSource",   "escalationPolicy", "assignedTo",        "responders", "resolvedOn",
      "links",         "images",           "comment",           "timestamp",  "eventId",
      "correlationId", "mergeState",       "mergedIntoId",      "mergedOn",   "severity",
      "labels",        "customDetails",    "someFutureField",   "receivedAt", "dedupId"};
  CHECK(keys_of(d) == expected);
  CHECK(str(d["time"]) == "2024-03-14T09:30:00.123Z");
  CHECK(str(d["eventType"]) == "alert-comment-added");
  CHECK(str(d["receivedEventType"]) == "incident-comment-added");
  CHECK(str(d["id"]) == "8532156");
  CHECK(d["escalationPolicy"]["id"].IsInt64());  // nested ids are numbers, whatever was received
  CHECK(d["escalationPolicy"]["id"].GetInt64() == 2231);
  CHECK(d["mergedIntoId"].GetInt64() == 77);
  CHECK(keys_of(d["assignedTo"]) == std::vector<std::string>{"id", "username", "firstName", "lastName", "email"});
  CHECK(str(d["assignedTo"]["email"]) == " e@x ");
  CHECK(keys_of(d["responders"][0]) == std::vector<std::string>{"user", "status", "acceptedAt"});
  CHECK(d["responders"][1].IsObject());
  CHECK(d["responders"][1].MemberCount() == 0);
  CHECK(str(d["timestamp"]) == "2024-03-14T09:30:00.123456789Z");  // raw text kept
  CHECK(str(d["dedupId"]) == "ev-1");                              // eventId wins
  CHECK(d["labels"].IsObject());
  CHECK(d["customDetails"]["n"].IsArray());
  CHECK(d["severity"].IsInt64());
  CHECK(d["severity"].GetInt64() == 3);
  CHECK(d["someFutureField"]["x"].GetInt() == 1);
  CHECK(str(d["receivedAt"]) == "2026-03-14T09:15:00.123Z");
  auto back = reparse(line);
  REQUIRE(back);
  CHECK(*back == e);
}

TEST_CASE("absent optionals and empty arrays are omitted", "[unit][line]") {
  const AlertCreated e = minimal_created(42);
  const std::string line = to_sumo_line(e);
  const auto d = parse_json(line);
  CHECK(keys_of(d) == std::vector<std::string>{"time", "eventType", "id", "receivedAt", "dedupId"});
  CHECK(line.find(R"(,"eventType":"alert-created","id":"42","receivedAt":"1970-01-01T00:00:00.000Z","dedupId":")") !=
        std::string::npos);
}

TEST_CASE("event types: canonical name, received legacy name kept, unknown kept as received", "[unit][line]") {
  SECTION("legacy auto-resolved") {
    AlertResolved e;
    e.alert.id = 7;
    e.received_type = "incident-auto-resolved";
    e.automatic = true;
    const std::string line = to_sumo_line(e);
    const auto d = parse_json(line);
    CHECK(str(d["eventType"]) == "alert-auto-resolved");
    CHECK(str(d["receivedEventType"]) == "incident-auto-resolved");
    auto back = reparse(line);
    REQUIRE(back);
    REQUIRE(std::holds_alternative<AlertResolved>(*back));
    CHECK(std::get<AlertResolved>(*back).automatic);
    CHECK(std::get<AlertResolved>(*back).received_type == "incident-auto-resolved");
    CHECK(*back == Event(e));
  }
  SECTION("current auto-resolved: no receivedEventType") {
    AlertResolved e;
    e.alert.id = 7;
    e.received_type = "alert-auto-resolved";
    e.automatic = true;
    const auto d = parse_json(to_sumo_line(e));
    CHECK(str(d["eventType"]) == "alert-auto-resolved");
    CHECK_FALSE(d.HasMember("receivedEventType"));
  }
  SECTION("unknown type") {
    UnknownEvent e;
    e.alert.id = 9;
    e.received_type = "alert-snoozed";
    const std::string line = to_sumo_line(e);
    const auto d = parse_json(line);
    CHECK(str(d["eventType"]) == "alert-snoozed");
    CHECK_FALSE(d.HasMember("receivedEventType"));
    auto back = reparse(line);
    REQUIRE(back);
    CHECK(*back == Event(e));
  }
}

TEST_CASE("unicode, NUL and control characters are escaped and preserved", "[unit][line]") {
  AlertCreated e = minimal_created(5);
  const std::string tricky =
      std::string("a\0b", 3) +
      "\"q\" \\ / \n\r\t\b\f \x01\x1f\x7f caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8 \xE6\x97\xA5\xE6\x9C\xAC";
  e.alert.summary = tricky;
  e.alert.details = std::string(40, 'x') + tricky + std::string(40, 'y');  // crosses the 16-byte scan
  e.alert.comment = std::string("\0", 1);
  e.alert.alert_key = "";
  const std::string line = to_sumo_line(e);
  for (const char c : line) CHECK(static_cast<unsigned char>(c) >= 0x20);  // no raw control byte at all
  CHECK(line.find(R"(a\u0000b)") != std::string::npos);
  CHECK(line.find(R"(\"q\" \\ / \n\r\t\b\f \u0001\u001F)") != std::string::npos);
  CHECK(line.find("caf\xC3\xA9 \xF0\x9F\x98\x80") != std::string::npos);  // UTF-8 stays raw
  const auto d = parse_json(line);
  CHECK(str(d["summary"]) == tricky);
  CHECK(str(d["details"]) == *e.alert.details);
  CHECK(str(d["comment"]) == std::string("\0", 1));
  CHECK(str(d["alertKey"]).empty());
  auto back = reparse(line);
  INFO("re-parse error: " << (back ? std::string("none") : back.error().to_string()));
  REQUIRE(back);
  CHECK(*back == Event(e));
}

TEST_CASE("invalid UTF-8 in a hand-built event becomes U+FFFD, the line stays valid", "[unit][line]") {
  AlertCreated e = minimal_created(5);
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"ok\xFF", "ok" + fffd},
      {"\xC3", fffd},                                   // truncated 2-byte sequence at the end
      {"\xE2\x82", fffd},                               // truncated 3-byte sequence: one replacement
      {"\xED\xA0\x80", fffd + fffd + fffd},             // UTF-16 surrogate encoded in UTF-8
      {"\xC0\xAF", fffd + fffd},                        // overlong
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {std::string(20, 'a') + "\x80" + std::string(20, 'b'), std::string(20, 'a') + fffd + std::string(20, 'b')},
  };
  for (const auto& c : cases) {
    e.alert.summary = c.in;
    const auto d = parse_json(to_sumo_line(e));  // parse_json validates the encoding
    CHECK(str(d["summary"]) == c.out);
  }
}

TEST_CASE("time: timestamp, else the receipt time (never reportTime), UTC milliseconds", "[unit][line]") {
  AlertCreated e = minimal_created(1);
  SECTION("from timestamp, truncated to milliseconds") {
    e.alert.timestamp =
        Timestamp{"ignored raw", UtcTime(std::chrono::seconds(1710408413) + std::chrono::nanoseconds(601999999))};
    e.alert.report_time = Timestamp{"x", utc_ms(0)};
    CHECK(str(parse_json(to_sumo_line(e))["time"]) == "2024-03-14T09:26:53.601Z");
  }
  SECTION("from received_at when timestamp does not parse, whatever reportTime says") {
    e.alert.timestamp = Timestamp{"2019-08-29T09: 52: 39.551Z", std::nullopt};
    e.alert.report_time = Timestamp{"x", utc_ms(0)};
    e.received_at = utc_ms(951868799000 + 7);
    const auto d = parse_json(to_sumo_line(e));
    CHECK(str(d["time"]) == "2000-02-29T23:59:59.007Z");
    CHECK(str(d["receivedAt"]) == "2000-02-29T23:59:59.007Z");
  }
  SECTION("a body without timestamp, parsed with a receipt time") {
    ParseOptions options;
    options.received_at = utc_ms(1710408500250);
    auto r =
        parse_event(R"({"id":"1","eventType":"alert-acknowledged","reportTime":"2024-03-14T09:26:53.589Z"})", options);
    REQUIRE(r);
    const auto d = parse_json(to_sumo_line(*r));
    CHECK(str(d["time"]) == "2024-03-14T09:28:20.250Z");
    CHECK(str(d["receivedAt"]) == "2024-03-14T09:28:20.250Z");
    CHECK(str(d["reportTime"]) == "2024-03-14T09:26:53.589Z");  // as sent
  }
  SECTION("receivedAt is kept to the millisecond, the event time from timestamp") {
    e.alert.timestamp = Timestamp{"t", utc_ms(1710408413601)};
    e.received_at = UtcTime(std::chrono::milliseconds(1710408500250) + std::chrono::nanoseconds(999999));
    const auto d = parse_json(to_sumo_line(e));
    CHECK(str(d["time"]) == "2024-03-14T09:26:53.601Z");
    CHECK(str(d["receivedAt"]) == "2024-03-14T09:28:20.250Z");
  }
  SECTION("before the epoch") {
    e.received_at = utc_ms(-1);
    CHECK(str(parse_json(to_sumo_line(e))["time"]) == "1969-12-31T23:59:59.999Z");
  }
  SECTION("edges of the representable range") {
    e.received_at = UtcTime(std::chrono::nanoseconds(INT64_MAX));
    CHECK(str(parse_json(to_sumo_line(e))["time"]) == "2262-04-11T23:47:16.854Z");
    e.received_at = UtcTime(std::chrono::nanoseconds(INT64_MIN));
    CHECK(str(parse_json(to_sumo_line(e))["time"]) == "1677-09-21T00:12:43.145Z");
  }
  SECTION("parse_event's default receipt time is now") {
    const auto before = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    auto r = parse_event(R"({"id":"1","eventType":"alert-created","reportTime":"yesterday"})");
    REQUIRE(r);
    const std::string t = str(parse_json(to_sumo_line(*r))["time"]);
    const auto after = std::chrono::system_clock::now();
    REQUIRE(is_millis_iso(t));
    const auto parsed = parse_iso8601(t);
    REQUIRE(parsed);
    CHECK(*parsed >= before);
    CHECK(*parsed <= after);
  }
}

TEST_CASE("dedupId: eventId when present, else a stable content hash", "[unit][line]") {
  SECTION("eventId") {
    AlertCreated e = minimal_created(42);
    e.alert.event_id = "7f1c2a9e-3b4d-4e8f-9a61-0c2d5e8b1f37";
    CHECK(dedup_id(e) == "7f1c2a9e-3b4d-4e8f-9a61-0c2d5e8b1f37");
    CHECK(str(parse_json(to_sumo_line(e))["dedupId"]) == *e.alert.event_id);
  }
  SECTION("hash: 16 lowercase hex digits, same in the line, pinned across runs and machines") {
    const AlertCreated e = minimal_created(42);
    const std::string h = dedup_id(e);
    CHECK(is_lower_hex16(h));
    CHECK(str(parse_json(to_sumo_line(e))["dedupId"]) == h);
    // XXH64 (seed 0) of `"eventType":"alert-created","id":"42"`; pinned so a change is noticed.
    CHECK(h == "d4b2e25380475046");
  }
  SECTION("an empty eventId is not an identity") {
    AlertCreated e = minimal_created(42);
    e.alert.event_id = "";
    CHECK(is_lower_hex16(dedup_id(e)));
  }
  SECTION("time, receivedAt and ttaMs/ttrMs are not part of the hash: two relays agree") {
    AlertResolved e;
    e.alert.id = 42;
    e.received_type = "alert-resolved";
    e.alert.report_time = Timestamp{"2024-03-14T09:26:53.589Z", utc_ms(1710408413589)};
    e.received_at = utc_ms(1710408500000);
    const std::string h = dedup_id(e);
    const auto d1 = parse_json(to_sumo_line(e));
    e.received_at = utc_ms(1710408999999);  // another relay, later
    const auto d2 = parse_json(to_sumo_line(e));
    CHECK(str(d1["dedupId"]) == h);
    CHECK(str(d2["dedupId"]) == h);
    CHECK(str(d1["time"]) != str(d2["time"]));
    CHECK(d1["ttrMs"].GetInt64() != d2["ttrMs"].GetInt64());
  }
  SECTION("an over-long eventId is not an identity") {
    AlertCreated e = minimal_created(42);
    e.alert.event_id = std::string(129, 'e');
    CHECK(is_lower_hex16(dedup_id(e)));
    e.alert.event_id = std::string(128, 'e');
    CHECK(dedup_id(e) == *e.alert.event_id);
  }
  SECTION("different events, different ids") {
    std::vector<std::string> ids;
    ids.push_back(dedup_id(minimal_created(42)));
    ids.push_back(dedup_id(minimal_created(43)));
    AlertCreated s = minimal_created(42);
    s.alert.summary = "a";
    ids.push_back(dedup_id(s));
    s.alert.summary = "b";
    ids.push_back(dedup_id(s));
    AlertCreated legacy = minimal_created(42);
    legacy.received_type = "incident-created";
    ids.push_back(dedup_id(legacy));
    AlertAccepted acc;
    acc.alert.id = 42;
    acc.received_type = "alert-acknowledged";
    ids.push_back(dedup_id(acc));
    AlertCreated big = minimal_created(42);
    big.alert.details = std::string(100000, 'z');
    ids.push_back(dedup_id(big));
    big.alert.details->back() = 'y';
    ids.push_back(dedup_id(big));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      CHECK(is_lower_hex16(ids[i]));
      for (std::size_t j = i + 1; j < ids.size(); ++j) CHECK(ids[i] != ids[j]);
    }
  }
}

TEST_CASE("labels and customDetails: raw JSON inserted compactly, non-JSON text becomes a string", "[unit][line]") {
  AlertCreated e = minimal_created(3);
  SECTION("compact JSON verbatim") {
    // Escapes are written the way RapidJSON's Writer writes them (the parser's compact form too);
    // numbers keep their text.
    e.alert.labels_json = R"({"team":"dba","esc":"\u00e9\n\u001f\/","n":[1,-2.5e+3,true,false,null],"o":{}})";
    e.alert.custom_details_json = R"("just a string")";
    const std::string line = to_sumo_line(e);
    CHECK(line.find("\"labels\":{\"team\":\"dba\",\"esc\":\"\xC3\xA9\\n\\u001F/"
                    "\",\"n\":[1,-2.5e+3,true,false,null],\"o\":{}}") != std::string::npos);
    CHECK(line.find(R"("customDetails":"just a string")") != std::string::npos);
    parse_json(line);
  }
  SECTION("whitespace outside strings is dropped (no raw newline reaches the line)") {
    e.alert.labels_json = "{\n  \"a\" : [ 1 , 2 ],\r\n\t\"b c\" : \" x \"\n}";
    const std::string line = to_sumo_line(e);
    CHECK_FALSE(has_raw_line_break(line));
    CHECK(line.find(R"("labels":{"a":[1,2],"b c":" x "})") != std::string::npos);
  }
  SECTION("text that is not one JSON value is carried as a JSON string") {
    for (const std::string& bad :
         std::vector<std::string>{"", "{", "{\"a\":1,}", "[1 2]", "01", "\"\\ud800\"", "\"\\udc00\"", "\"a\nb\"",
                                  "{} {}", "nul", "\"\xFF\"", "{\"a\":1,\"a\":2}", "[{\"k\":[{\"x\":1,\"x\":1}]}]",
                                  std::string(64, '[') + std::string(64, ']'), std::string("1\0", 2)}) {
      e.alert.labels_json = bad;
      const std::string line = to_sumo_line(e);
      CHECK_FALSE(has_raw_line_break(line));
      const auto d = parse_json(line);
      REQUIRE(d["labels"].IsString());
      if (bad != "\"\xFF\"") CHECK(str(d["labels"]) == bad);
      CHECK(reparse(line));
    }
  }
  SECTION("nesting up to what parse_event accepts in a line stays JSON") {
    e.alert.labels_json = std::string(63, '[') + std::string(63, ']');
    const std::string line = to_sumo_line(e);
    CHECK(parse_json(line)["labels"].IsArray());
    CHECK(reparse(line));
  }
}

TEST_CASE("invalid payload line: UTF-8 bodies are kept as rawBody", "[unit][line]") {
  const std::string body = "{\"id\": \"1\", \"eventType\": \"alert-created\",\n \"summary\": \"tab\there\" \"oops\"}";
  auto r = parse_event(body);
  REQUIRE_FALSE(r);
  const Error err = r.error();
  const std::string line = to_invalid_payload_line(body, err);
  CHECK(line.rfind("{\"time\":\"", 0) == 0);
  CHECK_FALSE(has_raw_line_break(line));
  const auto d = parse_json(line);
  CHECK(keys_of(d) == std::vector<std::string>{"time", "eventType", "error", "rawBody", "receivedAt"});
  CHECK(str(d["receivedAt"]) == str(d["time"]));
  CHECK(is_millis_iso(str(d["time"])));
  CHECK(str(d["eventType"]) == "ilert-sumo-invalid-payload");
  const auto& er = d["error"];
  CHECK(keys_of(er) == std::vector<std::string>{"code", "codeNumber", "path", "offset", "message"});
  CHECK(str(er["code"]) == to_string(err.code));
  CHECK(er["codeNumber"].GetInt() == static_cast<int>(err.code));
  CHECK(str(er["path"]) == (err.path.empty() ? std::string("$") : err.path));
  REQUIRE(err.offset != Error::npos);
  CHECK(er["offset"].GetUint64() == err.offset);
  CHECK(str(er["message"]) == err.message);
  CHECK(str(d["rawBody"]) == body);
}

TEST_CASE("invalid payload line: non-UTF-8 bodies are kept losslessly as rawBodyBase64", "[unit][line]") {
  const std::string body = std::string("{\"id\":\"1\",\"eventType\":\"x\",\"summary\":\"\xFF\xFE\0z\"}", 40);
  auto r = parse_event(body);
  REQUIRE_FALSE(r);
  const std::string line = to_invalid_payload_line(body, r.error());
  const auto d = parse_json(line);
  CHECK(keys_of(d) == std::vector<std::string>{"time", "eventType", "error", "rawBodyBase64", "receivedAt"});
  CHECK(base64_decode(str(d["rawBodyBase64"])) == body);

  // Every padding length.
  for (const std::string& b : {std::string("\xFF"),
                               std::string("\xFF"
                                           "a"),
                               std::string("\xFF"
                                           "ab"),
                               std::string("\xFF"
                                           "abc"),
                               std::string("ab\xC3")}) {
    const auto dd = parse_json(to_invalid_payload_line(b, r.error()));
    CHECK(base64_decode(str(dd["rawBodyBase64"])) == b);
  }
}

TEST_CASE("invalid payload line: errors without a location, empty and control-character bodies", "[unit][line]") {
  Error err;
  err.code = ErrorCode::too_large;
  err.message = "body \"too\" large\n";
  const auto d = parse_json(to_invalid_payload_line("", err));
  CHECK(d["error"]["offset"].IsNull());
  CHECK(str(d["error"]["path"]) == "$");
  CHECK(str(d["error"]["message"]) == err.message);
  CHECK(d["error"]["codeNumber"].GetInt() == 102);
  CHECK(str(d["rawBody"]).empty());

  const std::string ctl = std::string("\0\x01\r\n\x7f", 5);
  const std::string line = to_invalid_payload_line(ctl, err);
  CHECK_FALSE(has_raw_line_break(line));
  CHECK(str(parse_json(line)["rawBody"]) == ctl);
}

// =============================================================================================
// The line of issue 9: receipt time, tolerant fields, extra fields, the two newer kinds, ttaMs/ttrMs

TEST_CASE("severity is an integer, type mismatches and extra fields are written under their own names",
          "[unit][line]") {
  const std::string body = R"({"id":"77","eventType":"alert-comment-added","summary":"s",
    "severity":"high","comment":{"id":9911,"content":"Rotating logs now","creator":{"id":41}},
    "nextEscalation":"2024-03-14T10:00:00Z","linkedIncidentId":5,"nextEscalationUser":{"id":"42","username":"asmith"}})";
  ParseOptions options;
  options.received_at = kReceived;
  auto r = parse_event(body, options);
  REQUIRE(r);
  const Alert& a = base_of(*r).alert;
  const std::string line = to_sumo_line(*r);
  const auto d = parse_json(line);
  // The oracle: the body itself, parsed by RapidJSON.
  rapidjson::Document src;
  src.Parse(body.c_str());
  REQUIRE_FALSE(src.HasParseError());
  CHECK(d["severity"] == src["severity"]);
  CHECK(d["comment"] == src["comment"]);
  CHECK(str(d["comment"]["content"]) == "Rotating logs now");  // queryable in Sumo
  for (const char* k : {"nextEscalation", "linkedIncidentId", "nextEscalationUser"}) {
    INFO(k);
    REQUIRE(d.HasMember(k));
    CHECK(d[k] == src[k]);
  }
  REQUIRE(d.HasMember("ilertSumoTypeMismatches"));
  REQUIRE(d["ilertSumoTypeMismatches"].IsArray());
  std::vector<std::string> names;
  for (const auto& v : d["ilertSumoTypeMismatches"].GetArray()) names.push_back(str(v));
  std::vector<std::string> want;
  for (const TypeMismatch& t : a.type_mismatches) want.push_back(t.field);
  CHECK(names == want);
  // Order: modelled keys in place (comment, severity), extras after them in body order, then
  // receivedAt, the mismatch list and dedupId.
  const auto keys = keys_of(d);
  const std::vector<std::string> expected = {"time",
                                             "eventType",
                                             "id",
                                             "summary",
                                             "comment",
                                             "severity",
                                             "nextEscalation",
                                             "linkedIncidentId",
                                             "nextEscalationUser",
                                             "receivedAt",
                                             "ilertSumoTypeMismatches",
                                             "dedupId"};
  CHECK(keys == expected);
  auto back = reparse(line);
  REQUIRE(back);
  CHECK(*back == *r);

  SECTION("an integer severity is written as an integer") {
    AlertCreated e = minimal_created(1);
    e.alert.severity = 3;
    const std::string l = to_sumo_line(e);
    CHECK(l.find(R"("severity":3,)") != std::string::npos);
    CHECK(parse_json(l)["severity"].GetInt64() == 3);
  }
}

TEST_CASE("hand-built mismatches and extras never override a key the line writes itself", "[unit][line]") {
  AlertCreated e = minimal_created(5);
  e.received_at = kReceived;
  e.alert.summary = "typed";
  e.alert.extra_fields = {{"time", "1"},      {"receivedAt", "2"},
                          {"dedupId", "3"},   {"ttaMs", "4"},
                          {"ttrMs", "5"},     {"ilertSumoTypeMismatches", "6"},
                          {"eventType", "7"}, {"receivedEventType", "8"},
                          {"id", "9"},        {"summary", "10"},
                          {"labels", "11"},   {"custom", "{\"a\":1}"},
                          {"custom", "12"},   {"ilertSumoTruncated", "{\"details\":{\"originalBytes\":9}}"}};
  e.alert.type_mismatches = {
      {"dedupId", "dedupId", "13"}, {"severity", "severity", "\"high\""}, {"weird", "weird", "[1]"}};
  const std::string line = to_sumo_line(e);
  const auto d = parse_json(line);  // RapidJSON would keep duplicates: check them by key list
  const auto keys = keys_of(d);
  const std::vector<std::string> expected = {
      "time",   "eventType",          "id",    "summary",    "severity",
      "custom", "ilertSumoTruncated", "weird", "receivedAt", "ilertSumoTypeMismatches",
      "dedupId"};
  CHECK(keys == expected);
  CHECK(str(d["summary"]) == "typed");
  CHECK(str(d["severity"]) == "high");
  CHECK(d["custom"]["a"].GetInt() == 1);                                     // the first of two equal keys
  CHECK(d["ilertSumoTruncated"]["details"]["originalBytes"].GetInt() == 9);  // passed through, not ours
  CHECK(str(d["time"]) == "2026-03-14T09:15:00.123Z");
  CHECK(str(d["receivedAt"]) == "2026-03-14T09:15:00.123Z");
  CHECK(is_lower_hex16(str(d["dedupId"])));
  CHECK(reparse(line));
}

TEST_CASE("the two newer kinds have their canonical eventType", "[unit][line]") {
  AlertEscalationEnded ended;
  ended.alert.id = 3;
  ended.received_type = "alert-escalation-ended";
  AlertNotResolved nr;
  nr.alert.id = 4;
  nr.received_type = "v-alert-not-resolved";
  for (const Event& e : {Event(ended), Event(nr)}) {
    const std::string line = to_sumo_line(e);
    const auto d = parse_json(line);
    CHECK(str(d["eventType"]) == base_of(e).received_type);
    CHECK_FALSE(d.HasMember("receivedEventType"));
    auto back = reparse(line);
    REQUIRE(back);
    CHECK(back->index() == e.index());
    CHECK(*back == e);
  }
}

namespace {

Timestamp ts(std::int64_t epoch_ms) { return Timestamp{format_iso8601_millis(utc_ms(epoch_ms)), utc_ms(epoch_ms)}; }

Responder responder(std::optional<Timestamp> accepted_at) {
  Responder r;
  r.accepted_at = std::move(accepted_at);
  return r;
}

std::optional<std::int64_t> measure(const Event& e, const char* key) {
  const auto d = parse_json(to_sumo_line(e));
  if (!d.HasMember(key)) return std::nullopt;
  REQUIRE(d[key].IsInt64());
  return d[key].GetInt64();
}

}  // namespace

TEST_CASE("ttaMs on accept events, from the one payload", "[unit][line]") {
  constexpr std::int64_t kReport = 1710408413589;  // 2024-03-14T09:26:53.589Z
  AlertAccepted e;
  e.alert.id = 1;
  e.received_type = "alert-acknowledged";
  e.alert.report_time = ts(kReport);
  e.received_at = utc_ms(kReport + 600000);  // received 10 min after creation
  SECTION("without acceptedAt: event time (receipt) minus reportTime") {
    CHECK(measure(e, "ttaMs") == 600000);
    CHECK_FALSE(measure(e, "ttrMs"));
  }
  SECTION("without acceptedAt: event time (timestamp) minus reportTime") {
    e.alert.timestamp = ts(kReport + 587411);
    CHECK(measure(e, "ttaMs") == 587411);
  }
  SECTION("the earliest valid acceptedAt of several") {
    e.alert.responders = {responder(ts(kReport + 90000)), responder(std::nullopt),
                          responder(Timestamp{"2024-03-14T09: 27: 00Z", std::nullopt}), responder(ts(kReport + 45250)),
                          responder(ts(kReport + 300000))};
    CHECK(measure(e, "ttaMs") == 45250);
  }
  SECTION("missing or unparseable reportTime: omitted") {
    e.alert.report_time.reset();
    CHECK_FALSE(measure(e, "ttaMs"));
    e.alert.report_time = Timestamp{"2019-08-29T09: 52: 39.551Z", std::nullopt};
    CHECK_FALSE(measure(e, "ttaMs"));
  }
  SECTION("negative: omitted, never written") {
    e.alert.responders = {responder(ts(kReport - 1))};
    CHECK_FALSE(measure(e, "ttaMs"));
    e.alert.responders.clear();
    e.received_at = utc_ms(kReport - 5000);
    CHECK_FALSE(measure(e, "ttaMs"));
  }
  SECTION("zero is a value") {
    e.alert.responders = {responder(ts(kReport))};
    CHECK(measure(e, "ttaMs") == 0);
  }
  SECTION("only accept events carry it") {
    AlertCreated c = minimal_created(1);
    c.alert.report_time = ts(kReport);
    c.received_at = utc_ms(kReport + 1000);
    CHECK_FALSE(measure(c, "ttaMs"));
    CHECK_FALSE(measure(c, "ttrMs"));
  }
}

TEST_CASE("ttrMs on resolve events (manual or automatic), from the one payload", "[unit][line]") {
  constexpr std::int64_t kReport = 1710408413589;
  AlertResolved e;
  e.alert.id = 1;
  e.received_type = "alert-resolved";
  e.alert.report_time = ts(kReport);
  e.received_at = utc_ms(kReport + 3600000);
  SECTION("resolvedOn present") {
    e.alert.resolved_on = ts(kReport + 2154787);  // 35 min 54.787 s
    CHECK(measure(e, "ttrMs") == 2154787);
    CHECK_FALSE(measure(e, "ttaMs"));
  }
  SECTION("resolvedOn absent or unparseable: the event time") {
    CHECK(measure(e, "ttrMs") == 3600000);
    e.alert.resolved_on = Timestamp{"soon", std::nullopt};
    CHECK(measure(e, "ttrMs") == 3600000);
    e.alert.timestamp = ts(kReport + 1234);
    CHECK(measure(e, "ttrMs") == 1234);
  }
  SECTION("automatic resolves too") {
    e.received_type = "alert-auto-resolved";
    e.automatic = true;
    e.alert.resolved_on = ts(kReport + 10);
    CHECK(measure(e, "ttrMs") == 10);
  }
  SECTION("missing reportTime or negative: omitted") {
    e.alert.resolved_on = ts(kReport - 10);
    CHECK_FALSE(measure(e, "ttrMs"));
    e.alert.report_time.reset();
    e.alert.resolved_on = ts(kReport + 10);
    CHECK_FALSE(measure(e, "ttrMs"));
  }
  SECTION("parsed from a body, hand-computed") {
    ParseOptions options;
    options.received_at = utc_ms(kReport + 99999999);
    auto r = parse_event(R"({"id":"1","eventType":"alert-resolved","reportTime":"2024-03-14T09:26:53.589Z",
                             "resolvedOn":"2024-03-14T10:02:48.376Z"})",
                         options);
    REQUIRE(r);
    // 10:02:48.376 - 09:26:53.589 = 35 min 54.787 s
    CHECK(measure(*r, "ttrMs") == 2154787);
  }
}

TEST_CASE("invalid payload line: time and receivedAt are the given receipt time", "[unit][line]") {
  Error err;
  err.code = ErrorCode::syntax;
  err.message = "m";
  const auto d = parse_json(to_invalid_payload_line("{", err, utc_ms(1710408413589)));
  CHECK(str(d["time"]) == "2024-03-14T09:26:53.589Z");
  CHECK(str(d["receivedAt"]) == "2024-03-14T09:26:53.589Z");
}

// append_sumo_line's output stream grows the caller's string to make room before it writes (the
// new space is zero-filled). It once grew by half the whole string, so every line appended to a
// 1 MiB batch (BatchBuilder::add_event, SumoClient::send) zero-filled ~0.5 MiB: quadratic in the
// batch. The room it makes now follows what it writes.
TEST_CASE("the JSON sink grows a large buffer by what it writes, not by the buffer's size", "[unit][line]") {
  const std::size_t big = 1u << 20;
  std::string out(big, 'x');
  {
    detail::JsonSink sink(out);
    sink.Put('a');
    CHECK(out.size() > big);
    CHECK(out.size() <= big + 512);  // was 1.5 MiB + 64
    for (int i = 0; i < 10000; ++i) sink.Put('b');
    CHECK(out.size() <= big + 1 + 10000 + (1 + 10000) / 2 + 64);
  }
  REQUIRE(out.size() == big + 10001);  // trimmed to what was written
  CHECK(out.compare(0, big, std::string(big, 'x')) == 0);
  CHECK(out[big] == 'a');
  CHECK(out.find_first_not_of('b', big + 1) == std::string::npos);
}

TEST_CASE("lines appended to one growing batch equal the lines rendered one by one", "[unit][line]") {
  const auto files = test::list_fixtures("valid");
  REQUIRE_FALSE(files.empty());
  std::string batch;
  std::string expected;
  for (int round = 0; round < 20; ++round) {
    for (const auto& path : files) {
      const Event e = must_parse(test::read_file(path));
      append_sumo_line(batch, e, kUncapped);
      batch += '\n';
      expected += to_sumo_line(e, kUncapped);
      expected += '\n';
    }
  }
  CHECK(batch == expected);
}
