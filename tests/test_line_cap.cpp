// tests/test_line_cap.cpp [line][cap]: the line cap (issue 9 point 7). An event whose line would
// be longer than LineOptions::max_line_bytes is shortened, never dropped, by re-rendering with
// per-field limits in the documented order (details, customDetails, labels, passed-through
// values, other strings, array elements, passed-through members); every cut field is named in
// `ilertSumoTruncated` with its original size; the line always fits, is valid JSON (checked with
// RapidJSON as the independent oracle) and parse_event accepts it; the dedupId is the uncut one.
// Also the invalid-payload line under the cap, SumoConfig::max_line_bytes in finalize(), and the
// delivery path (append_event_line / append_prebuilt_line) with the configured cap.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "delivery/delivery.hpp"
#include "ilert_sumo/events.hpp"
#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/catch.hpp"
#include "support/line_json.hpp"

using namespace ilert_sumo;
using ilert_sumo::test::keys_of;
using ilert_sumo::test::parse_json;
using ilert_sumo::test::str;

namespace {

UtcTime utc_ms(std::int64_t epoch_ms) { return UtcTime(std::chrono::milliseconds(epoch_ms)); }

// Text with escapes and multi-byte characters, so cuts meet both.
std::string text_of(std::size_t bytes, char tag = 'd') {
  std::string s;
  while (s.size() < bytes) {
    s += tag;
    s += " line caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \\ \t ";
  }
  s.resize(bytes);
  // Never end inside a character.
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  while (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  return s;
}

// A JSON object of about `bytes` bytes.
std::string json_of(std::size_t bytes) {
  std::string s = "{";
  for (std::size_t i = 0; s.size() < bytes; ++i) {
    if (i > 0) s += ',';
    s += "\"k" + std::to_string(i) + "\":[\"v\\\"" + std::to_string(i) + "\",{\"n\":" + std::to_string(i) + "}]";
  }
  return s + "}";
}

AlertCreated created(std::int64_t id) {
  AlertCreated e;
  e.alert.id = id;
  e.received_type = "alert-created";
  e.received_at = utc_ms(1710408413589);
  e.alert.summary = "CPU load high";
  e.alert.report_time = Timestamp{"2024-03-14T09:26:53.589Z", utc_ms(1710408413589)};
  return e;
}

const Alert& alert_of(const Event& e) { return base_of(e).alert; }

bool marked_(const rapidjson::Document& d, const char* field) {
  return d.HasMember("ilertSumoTruncated") && d["ilertSumoTruncated"].HasMember(field);
}

// The checks every capped line must pass; returns the DOM.
rapidjson::Document check_capped(const Event& e, std::size_t cap) {
  const std::string line = to_sumo_line(e, LineOptions{cap});
  INFO("cap " << cap << ", line " << line.size() << " bytes");
  CHECK(line.size() <= cap);
  CHECK(line.find('\n') == std::string::npos);
  auto d = parse_json(line);
  if (!marked_(d, "eventType")) CHECK(str(d["eventType"]) == std::string(canonical_event_type(e)));
  CHECK(str(d["id"]) == std::to_string(alert_of(e).id));
  CHECK(str(d["dedupId"]) == dedup_id(e));  // the uncut content's
  CHECK(keys_of(d).back() == "dedupId");
  ParseOptions big;
  big.max_body_bytes = 64u << 20;
  auto back = parse_event(line, big);
  INFO("re-parse: " << (back ? std::string("ok") : back.error().to_string()));
  CHECK(back);
  return d;
}

bool marked(const rapidjson::Document& d, const char* field) {
  return d.HasMember("ilertSumoTruncated") && d["ilertSumoTruncated"].HasMember(field);
}

}  // namespace

TEST_CASE("a 500 KB details gives a line within 64 KiB that parses, with the marker", "[unit][line][cap]") {
  AlertCreated e = created(1);
  const std::string details = text_of(500 * 1000);
  e.alert.details = details;
  const std::string line = to_sumo_line(e);  // the default cap
  CHECK(line.size() <= kDefaultMaxLineBytes);
  CHECK(line.size() >= kDefaultMaxLineBytes - 512);  // cut, not emptied
  const auto d = check_capped(e, kDefaultMaxLineBytes);
  REQUIRE(marked(d, "details"));
  CHECK(d["ilertSumoTruncated"]["details"]["originalBytes"].GetUint64() == details.size());
  CHECK(keys_of(d["ilertSumoTruncated"]) == std::vector<std::string>{"details"});
  const std::string kept = str(d["details"]);
  CHECK(details.compare(0, kept.size(), kept) == 0);  // a prefix, whole characters
  CHECK(str(d["summary"]) == "CPU load high");
  // The marker sits before dedupId, after receivedAt.
  const auto keys = keys_of(d);
  REQUIRE(keys.size() >= 3);
  CHECK(keys[keys.size() - 2] == "ilertSumoTruncated");
  CHECK(keys[keys.size() - 3] == "receivedAt");

  SECTION("the same dedupId as the uncut line") {
    const auto full = parse_json(to_sumo_line(e, LineOptions{1u << 30}));
    CHECK_FALSE(full.HasMember("ilertSumoTruncated"));
    CHECK(str(full["dedupId"]) == str(d["dedupId"]));
  }
  SECTION("re-rendering the cut line (parsed back) keeps its marker") {
    auto back = parse_event(line);
    REQUIRE(back);
    const auto again = parse_json(to_sumo_line(*back));
    REQUIRE(marked(again, "details"));
    CHECK(again["ilertSumoTruncated"]["details"]["originalBytes"].GetUint64() == details.size());
  }
}

TEST_CASE("cut order: details, then customDetails, then labels, then passed-through values, then other strings",
          "[unit][line][cap]") {
  const std::size_t cap = 16 * 1024;
  SECTION("details alone when that is enough") {
    AlertCreated e = created(2);
    e.alert.details = text_of(40000);
    e.alert.custom_details_json = json_of(6000);
    e.alert.labels_json = json_of(3000);
    const auto d = check_capped(e, cap);
    CHECK(keys_of(d["ilertSumoTruncated"]) == std::vector<std::string>{"details"});
    CHECK(d["customDetails"].IsObject());
    CHECK(d["labels"].IsObject());
  }
  SECTION("customDetails when details is not enough (or absent); labels kept") {
    AlertCreated e = created(3);
    e.alert.details = text_of(3000);
    e.alert.custom_details_json = json_of(60000);
    e.alert.labels_json = json_of(3000);
    const auto d = check_capped(e, cap);
    CHECK(keys_of(d["ilertSumoTruncated"]) == std::vector<std::string>{"details", "customDetails"});
    CHECK(d["customDetails"].IsString());  // a prefix of its compact JSON, as a string
    CHECK(json_of(60000).rfind(str(d["customDetails"]), 0) == 0);
    CHECK(d["ilertSumoTruncated"]["customDetails"]["originalBytes"].GetUint64() == json_of(60000).size());
    CHECK(d["labels"].IsObject());
  }
  SECTION("labels after customDetails; passed-through values untouched while that is enough") {
    AlertCreated e = created(4);
    e.alert.labels_json = json_of(60000);
    e.alert.extra_fields = {{"nextEscalation", json_of(2000)}};
    const auto d = check_capped(e, cap);
    CHECK(keys_of(d["ilertSumoTruncated"]) == std::vector<std::string>{"labels"});
    CHECK(d["labels"].IsString());
    CHECK(d["nextEscalation"].IsObject());
  }
  SECTION("a huge extra field and a huge type-mismatch value: cut, named, the summary kept") {
    AlertCreated e = created(5);
    e.alert.summary = text_of(3000, 's');
    e.alert.extra_fields = {{"escalationRules", json_of(100000)}, {"small", "1"}};
    e.alert.type_mismatches = {{"comment", "comment", json_of(50000)}};
    const auto d = check_capped(e, cap);
    CHECK(marked(d, "escalationRules"));
    CHECK(marked(d, "comment"));
    CHECK_FALSE(marked(d, "summary"));
    CHECK(d["escalationRules"].IsString());
    CHECK(d["ilertSumoTruncated"]["escalationRules"]["originalBytes"].GetUint64() == json_of(100000).size());
    CHECK(d["small"].GetInt() == 1);
    CHECK(str(d["summary"]) == *e.alert.summary);
  }
  SECTION("other strings last: a 1 MB summary, after details") {
    AlertCreated e = created(6);
    e.alert.summary = text_of(1000 * 1000, 's');
    e.alert.details = text_of(2000);
    e.alert.labels_json = R"({"team":"dba"})";
    const auto d = check_capped(e, cap);
    CHECK(marked(d, "summary"));
    CHECK(marked(d, "details"));
    CHECK(d["ilertSumoTruncated"]["summary"]["originalBytes"].GetUint64() == e.alert.summary->size());
    CHECK(str(d["labels"]["team"]) == "dba");
    const std::string kept = str(d["summary"]);
    CHECK_FALSE(kept.empty());
    CHECK(e.alert.summary->compare(0, kept.size(), kept) == 0);
  }
}

TEST_CASE("a 1 MB summary, comment or unknown eventType fits the default cap", "[unit][line][cap]") {
  AlertCommentAdded e;
  e.alert.id = 7;
  e.received_type = "alert-comment-added";
  e.alert.summary = text_of(1 << 20, 's');
  e.alert.comment = text_of(1 << 20, 'c');
  check_capped(e, kDefaultMaxLineBytes);
  UnknownEvent u;
  u.alert.id = 8;
  u.received_type = "alert-" + std::string(1 << 20, 'x');
  const auto d = check_capped(u, kDefaultMaxLineBytes);
  CHECK(marked(d, "eventType"));
}

TEST_CASE("large arrays are cut as a last resort, with the kept and original counts", "[unit][line][cap]") {
  ResponderAdded e;
  e.alert.id = 9;
  e.received_type = "alert-responder-added";
  for (int i = 0; i < 3000; ++i) {
    Responder r;
    User u;
    u.id = i;
    u.username = "user" + std::to_string(i);
    r.user = u;
    r.status = Tagged<Status>{Status::pending, "PENDING"};
    e.alert.responders.push_back(r);
  }
  const auto d = check_capped(e, kDefaultMaxLineBytes);
  REQUIRE(marked(d, "responders"));
  const auto& m = d["ilertSumoTruncated"]["responders"];
  CHECK(m["originalItems"].GetUint64() == 3000);
  CHECK(m["keptItems"].GetUint64() == d["responders"].Size());
  CHECK(d["responders"].Size() > 100);  // only as many as needed are dropped
  CHECK(str(d["responders"][0]["user"]["username"]) == "user0");
}

TEST_CASE("thousands of passed-through members are left out last, counted", "[component][line][cap]") {
  AlertCreated e = created(10);
  for (int i = 0; i < 20000; ++i) e.alert.extra_fields.push_back({"x" + std::to_string(i), std::to_string(i)});
  const auto d = check_capped(e, kDefaultMaxLineBytes);
  REQUIRE(marked(d, "ilertSumoDroppedKeys"));
  const auto& dropped = d["ilertSumoTruncated"]["ilertSumoDroppedKeys"];
  CHECK(dropped["count"].GetUint64() > 0);
  CHECK(d.HasMember("x0"));  // the first ones stay
  CHECK_FALSE(d.HasMember("x19999"));
  std::size_t kept = 0;
  for (int i = 0; i < 20000; ++i) kept += d.HasMember(("x" + std::to_string(i)).c_str()) ? 1 : 0;
  CHECK(kept + dropped["count"].GetUint64() == 20000);
}

TEST_CASE("random events always fit every cap and parse", "[component][line][cap]") {
  std::mt19937 rng(20261206);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  // Sized to stay well under ctest's timeout in Debug ASan builds (60 rounds of up to 12 MB events
  // took > 300 s there).
  for (int round = 0; round < 24; ++round) {
    INFO("round " << round);
    AlertAccepted e;
    e.alert.id = round + 1;
    e.received_type = pick(2) ? "alert-acknowledged" : "incident-acknowledged";
    e.received_at = utc_ms(1710408413589 + round);
    const std::size_t sizes[] = {0, 10, 500, 5000, 70000, 120000};
    const auto sized = [&] { return sizes[pick(6)]; };
    if (pick(2)) e.alert.summary = text_of(sized(), 's');
    if (pick(2)) e.alert.details = text_of(sized(), 'd');
    if (pick(2)) e.alert.custom_details_json = json_of(sized());
    if (pick(2)) e.alert.labels_json = json_of(sized());
    if (pick(3) == 0) e.alert.labels_json = "not json " + text_of(sized());
    if (pick(2)) e.alert.alert_key = text_of(sized(), 'k');
    if (pick(2)) e.alert.assigned_to = User{1, text_of(sized(), 'u'), "F", "L", text_of(sized(), 'e')};
    const std::size_t n = pick(2) ? pick(2000) : 0;
    for (std::size_t i = 0; i < n; ++i) {
      Link l;
      l.href = "https://example.com/" + std::to_string(i);
      l.text = text_of(pick(200), 't');
      e.alert.links.push_back(l);
    }
    for (std::size_t i = pick(16); i > 0; --i)
      e.alert.extra_fields.push_back({"f" + std::to_string(i), json_of(sized())});
    if (pick(2)) e.alert.type_mismatches.push_back({"severity", "severity", "\"" + text_of(sized()) + "\""});
    if (pick(4) == 0) e.alert.details = std::string("bad \xFF\xFE utf8 ") + text_of(sized());
    for (const std::size_t cap : {std::size_t{4096}, std::size_t{10000}, kDefaultMaxLineBytes, std::size_t{1} << 20}) {
      check_capped(e, cap);
    }
  }
}

TEST_CASE("the invalid-payload line obeys the cap too", "[unit][line][cap]") {
  Error err;
  err.code = ErrorCode::syntax;
  err.message = "unexpected end";
  err.offset = 3;
  SECTION("UTF-8 body: rawBody cut") {
    const std::string body = "{\"summary\":\"" + text_of(500000) + "\"";
    const std::string line = to_invalid_payload_line(body, err, utc_ms(0));
    CHECK(line.size() <= kDefaultMaxLineBytes);
    CHECK(line.size() >= kDefaultMaxLineBytes - 256);
    const auto d = parse_json(line);
    CHECK(d["ilertSumoTruncated"]["rawBody"]["originalBytes"].GetUint64() == body.size());
    const std::string kept = str(d["rawBody"]);
    CHECK(body.compare(0, kept.size(), kept) == 0);
    CHECK(str(d["receivedAt"]) == "1970-01-01T00:00:00.000Z");
  }
  SECTION("non-UTF-8 body: rawBodyBase64 cut at a 3-byte boundary") {
    std::string body = text_of(300000);
    body[5] = '\xFF';
    const std::string line = to_invalid_payload_line(body, err, std::nullopt, LineOptions{8192});
    CHECK(line.size() <= 8192);
    const auto d = parse_json(line);
    CHECK(d["ilertSumoTruncated"]["rawBodyBase64"]["originalBytes"].GetUint64() == body.size());
    CHECK(str(d["rawBodyBase64"]).size() % 4 == 0);
  }
  SECTION("a body that fits is not marked") {
    const auto d = parse_json(to_invalid_payload_line("{", err));
    CHECK_FALSE(d.HasMember("ilertSumoTruncated"));
  }
}

TEST_CASE("SumoConfig::max_line_bytes: default 64 KiB, finalize checks 4 KiB .. 1 MiB, the batch cap bounds it",
          "[unit][line][cap][config]") {
  SumoConfig c;
  c.url = "https://endpoint4.collection.sumologic.com/receiver/v1/http/ZaVnC4dhaV0qMjE4Yzc2MmEtYjVkMy00";
  CHECK(c.max_line_bytes == kDefaultMaxLineBytes);
  CHECK(finalize(c));
  c.max_line_bytes = kMinMaxLineBytes;
  CHECK(finalize(c));
  c.max_line_bytes = kMinMaxLineBytes - 1;
  auto low = finalize(c);
  REQUIRE_FALSE(low);
  CHECK(low.error().code == ErrorCode::invalid_config);
  CHECK(low.error().message.find("max_line_bytes 4095") != std::string::npos);
  c.max_line_bytes = 1024 * 1024;
  CHECK(finalize(c));
  c.max_line_bytes = 1024 * 1024 + 1;
  auto high = finalize(c);
  REQUIRE_FALSE(high);
  CHECK(high.error().code == ErrorCode::invalid_config);
  CHECK(high.error().message.find("max_line_bytes 1048577") != std::string::npos);
  // A batch cap below the line cap is not an error (configs with small batches stay valid): it
  // bounds the line with its '\n'.
  c.batch.max_bytes = 4096;
  c.max_line_bytes = kDefaultMaxLineBytes;
  auto small = finalize(c);
  REQUIRE(small);
  CHECK(detail::line_budget(small->config()) == 4096);
  c.batch.max_bytes = 100 * 1024;
  auto mid = finalize(c);
  REQUIRE(mid);
  CHECK(detail::line_budget(mid->config()) == kDefaultMaxLineBytes + 1);
}

TEST_CASE("the delivery path renders with the configured cap", "[unit][line][cap][client]") {
  SumoConfig c;
  c.url = "https://endpoint4.collection.sumologic.com/receiver/v1/http/ZaVnC4dhaV0qMjE4Yzc2MmEtYjVkMy00";
  AlertCreated e = created(11);
  e.alert.details = text_of(300000);
  for (const std::size_t cap : {kDefaultMaxLineBytes, std::size_t{8192}}) {
    INFO("max_line_bytes " << cap);
    c.max_line_bytes = cap;
    REQUIRE(finalize(c));
    std::string out = "before\n";
    REQUIRE(detail::append_event_line(out, e, detail::line_budget(c)) == detail::LineFit::truncated);
    const std::string line = out.substr(7, out.size() - 8);
    CHECK(out.back() == '\n');
    CHECK(line.size() <= cap);
    CHECK(line == to_sumo_line(e, LineOptions{cap}));  // the writer's own cut, nothing spliced
    const auto d = parse_json(line);
    CHECK(marked(d, "details"));
  }
  SECTION("a line and its newline never exceed the batch") {
    c.batch.max_bytes = 8192;
    c.max_line_bytes = 8192;
    REQUIRE(finalize(c));
    CHECK(detail::line_budget(c) == 8192);
    std::string out;
    REQUIRE(detail::append_event_line(out, e, detail::line_budget(c)) == detail::LineFit::truncated);
    CHECK(out.size() <= 8192);
  }
  SECTION("a small event is untouched") {
    std::string out;
    CHECK(detail::append_event_line(out, created(12), detail::line_budget(c)) == detail::LineFit::fitted);
    CHECK(out == to_sumo_line(created(12)) + "\n");
  }
  SECTION("a pre-built line over the cap is wrapped, whole characters, with the marker") {
    const std::string original = "{\"time\":\"2024-03-14T09:26:53.589Z\",\"x\":\"" + text_of(100000) + "\"}";
    std::string out;
    REQUIRE(detail::append_prebuilt_line(out, original, kDefaultMaxLineBytes + 1) == detail::LineFit::truncated);
    CHECK(out.size() <= kDefaultMaxLineBytes + 1);
    const auto d = parse_json(out.substr(0, out.size() - 1));
    CHECK(str(d["time"]) == "2024-03-14T09:26:53.589Z");
    CHECK(str(d["eventType"]) == "ilert-sumo-oversized-line");
    CHECK(d["ilertSumoTruncated"]["rawLine"]["originalBytes"].GetUint64() == original.size());
    const std::string kept = str(d["rawLine"]);
    CHECK(original.compare(0, kept.size(), kept) == 0);
  }
}

// After a huge first render cut to the cap, the string gives back what the cut line does not need,
// but only capacity the call itself added: a caller's own reserve (a batch buffer) is kept. Once
// it was shrunk whenever more than 1 MiB was spare, so every line appended to a roomy batch
// reallocated and copied the whole batch.
TEST_CASE("the cut line gives back the capacity it added, never the caller's reserve", "[unit][line][cap]") {
  AlertCommentAdded e;
  e.alert.id = 9;
  e.received_type = "alert-comment-added";
  e.alert.summary = text_of(3 << 20, 's');
  std::string grown;
  append_sumo_line(grown, e);  // default cap: 64 KiB
  REQUIRE(grown.size() <= kDefaultMaxLineBytes);
  CHECK(grown.capacity() < (std::size_t{1} << 20));

  AlertCommentAdded small;
  small.alert.id = 10;
  small.received_type = "alert-comment-added";
  small.alert.summary = text_of(100, 's');
  std::string batch;
  batch.reserve(std::size_t{4} << 20);
  const std::size_t reserved = batch.capacity();
  for (int i = 0; i < 3; ++i) {
    append_sumo_line(batch, small);
    batch += '\n';
  }
  CHECK(batch.capacity() == reserved);
  append_sumo_line(batch, e);  // a huge line into the roomy batch: cut, and the reserve stays
  CHECK(batch.capacity() == reserved);
  CHECK(batch.size() < std::size_t{1} << 20);
}
