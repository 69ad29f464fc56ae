// tests/test_sumo_client.cpp [client]: synchronous delivery without a network. A scripted
// HttpClient answers each POST from a list; a fake clock/sleeper drives the retry loop of
// src/delivery/delivery.hpp so nothing sleeps for real. Covers: lines (one per event, sanitised, oversized
// ones truncated and marked, never over the cap), batching by bytes and events in order, headers,
// retries by status sequence re-sending identical bytes, Retry-After, the budget, max_attempts,
// deadline/cancel, the 2xx warning body, and that no secret reaches any report.
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "delivery/delivery.hpp"
#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/catch.hpp"
#include "support/fake_http.hpp"
#include "support/line_json.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;
using ilert_sumo::test::FakeHttp;
using ilert_sumo::test::keys_of;
using ilert_sumo::test::str;
using std::chrono::milliseconds;

namespace {

constexpr const char* kCode = "Qm9ndXNDb2RlRm9yVGVzdHNPbmx5MTIzNDU2Nzg5MGFiY2RlZg==";
constexpr const char* kToken = "sumo-token-7f3e2a91c4b8";

using Reply = ilert_sumo::test::FakeReply;

std::string url() { return std::string("https://collectors.example.com/receiver/v1/http/") + kCode; }

const std::string* find_header(const std::vector<HttpHeader>& headers, std::string_view name) {
  HttpResponse r;
  r.headers = headers;
  const std::string* v = r.header(name);
  if (v == nullptr) return nullptr;
  for (const HttpHeader& h : headers) {
    if (h.value == *v) return &h.value;
  }
  return nullptr;
}

// --- a fake clock and sleeper -----------------------------------------------------------------

struct FakeWorld {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point(std::chrono::hours(1000));
  std::chrono::system_clock::time_point wall =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  std::vector<milliseconds> sleeps;
  double random = 1.0;
  bool interrupt = false;

  void advance(milliseconds d) {
    now += d;
    wall += d;
  }
  detail::RetryEnvironment env() {
    detail::RetryEnvironment e;
    e.steady_now = [this] { return now; };
    e.system_now = [this] { return wall; };
    e.sleep = [this](milliseconds d) {
      sleeps.push_back(d);
      advance(d);
      return !interrupt;
    };
    e.random01 = [this] { return random; };
    return e;
  }
};

// --- configs and helpers ----------------------------------------------------------------------

FinalizedSumoConfig make_config(const std::function<void(SumoConfig&)>& change = {}) {
  SumoConfig c;
  c.url = url();
  c.compression = Compression::none;
  c.retry.initial_backoff = 1ms;  // SumoClient tests use the real sleeper: keep waits at 1 ms
  c.retry.max_backoff = 1ms;
  if (change) change(c);
  auto f = finalize(c);
  INFO((f ? std::string() : f.error().to_string()));
  REQUIRE(f);
  return std::move(f).value();
}

/// The delivery target finalize() computed for a config (copied out: the config may be a temporary).
detail::DeliveryTarget target_of(const FinalizedSumoConfig& config) { return detail::delivery_plan(config).target; }

std::vector<std::string> split_lines(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < body.size()) {
    const std::size_t nl = body.find('\n', start);
    REQUIRE(nl != std::string::npos);  // every line ends in '\n'
    out.push_back(body.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

rapidjson::Document json(const std::string& line) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  INFO(line.substr(0, 300));
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  return d;
}

/// `obj[key]`, failing the test (instead of reading a missing member) when `obj` is not an object
/// or has no such key.
const rapidjson::Value& member(const rapidjson::Value& obj, const char* key) {
  INFO("key " << key);
  REQUIRE(obj.IsObject());
  const auto it = obj.FindMember(key);
  REQUIRE(it != obj.MemberEnd());
  return it->value;
}

/// The `originalBytes` the line's `ilertSumoTruncated` marker records for `field`, failing the
/// test when the marker, the field or the number is missing.
std::uint64_t original_bytes(const rapidjson::Value& line, const char* field) {
  const rapidjson::Value& n = member(member(member(line, "ilertSumoTruncated"), field), "originalBytes");
  REQUIRE(n.IsUint64());
  return n.GetUint64();
}

std::string line_of(std::size_t i, std::size_t size) {
  std::string s = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
  const std::size_t tail = 2;
  REQUIRE(size >= s.size() + tail);
  s.append(size - s.size() - tail, 'p');
  s += "\"}";
  return s;
}

AlertCreated created(std::int64_t id, std::optional<std::string> details) {
  AlertCreated e;
  e.received_type = "alert-created";
  e.alert.id = id;
  e.alert.summary = "disk almost full on db-" + std::to_string(id);
  e.alert.details = std::move(details);
  e.alert.report_time = Timestamp{"2024-05-01T10:00:00.000Z", parse_iso8601("2024-05-01T10:00:00.000Z")};
  return e;
}

void require_no_secret(const std::string& text) {
  INFO(text);
  CHECK(text.find(kCode) == std::string::npos);
  CHECK(text.find(std::string(kCode).substr(4, 16)) == std::string::npos);
  CHECK(text.find(kToken) == std::string::npos);
}

detail::PreparedRequest prepared(const std::vector<std::string>& lines, Compression codec = Compression::gzip) {
  detail::BatchBuilder b(BatchOptions{});
  for (const auto& l : lines) REQUIRE_FALSE(b.add_line(l).completed);
  auto batch = b.finish();
  REQUIRE(batch);
  auto compressor = detail::Compressor::create(codec);
  REQUIRE(compressor);
  SumoConfig c;
  c.url = url();
  auto p = detail::prepare_request(std::move(*batch), detail::build_request_headers(c, c.metadata), *compressor);
  REQUIRE(p);
  return std::move(p).value();
}

}  // namespace

// =============================================================================================
// Lines

TEST_CASE("pre-built lines become exactly one valid UTF-8 line", "[unit][client]") {
  std::string out;
  CHECK(detail::append_prebuilt_line(out, "plain", 100) == detail::LineFit::fitted);
  CHECK(out == "plain\n");
  out.clear();
  CHECK(detail::append_prebuilt_line(out, "a\nb\r\nc", 100) == detail::LineFit::fitted);
  CHECK(out == "a\\nb\\r\\nc\n");
  out.clear();
  CHECK(detail::append_prebuilt_line(out, "bad \xff\xfe utf8 \xc3", 100) == detail::LineFit::fitted);
  CHECK(out == "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD\n");
  out.clear();
  CHECK(detail::append_prebuilt_line(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 100) == detail::LineFit::fitted);
  CHECK(out == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
  out.clear();
  CHECK(detail::append_prebuilt_line(out, "", 100) == detail::LineFit::fitted);
  CHECK(out == "\n");
  // exactly at the cap (including the '\n') still fits
  out.clear();
  CHECK(detail::append_prebuilt_line(out, std::string(99, 'x'), 100) == detail::LineFit::fitted);
  CHECK(out.size() == 100);
}

TEST_CASE("an oversized pre-built line is wrapped, marked and fits", "[unit][client]") {
  const std::string original = "{\"time\":\"2024-05-01T10:00:00.000Z\",\"msg\":\"" + std::string(5000, 'm') +
                               "\\\"quoted\\\" \xe2\x82\xac\xe2\x82\xac\"}";
  for (const std::size_t cap : {std::size_t{300}, std::size_t{1000}, std::size_t{4096}}) {
    INFO("cap " << cap);
    std::string out = "prefix\n";
    REQUIRE(detail::append_prebuilt_line(out, original, cap) == detail::LineFit::truncated);
    const std::string line = out.substr(7);
    CHECK(line.size() <= cap);
    CHECK(line.size() >= cap - 8);  // filled, not over-truncated
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    const auto d = json(line.substr(0, line.size() - 1));
    // The wrapper's exact shape (docs/SUMO_LINE.md): nothing else, in this order.
    CHECK(keys_of(d) == std::vector<std::string>{"time", "eventType", "rawLine", "ilertSumoTruncated"});
    CHECK(str(member(d, "time")) == "2024-05-01T10:00:00.000Z");  // the line's own time
    CHECK(str(member(d, "eventType")) == "ilert-sumo-oversized-line");
    const rapidjson::Value& marker = member(d, "ilertSumoTruncated");
    CHECK(keys_of(marker) == std::vector<std::string>{"rawLine"});
    CHECK(original_bytes(d, "rawLine") == original.size());
    const std::string prefix = str(member(d, "rawLine"));
    CHECK(prefix.size() >= 64);                              // carries a real part of the line
    CHECK(original.compare(0, prefix.size(), prefix) == 0);  // a prefix, whole characters
  }
  // A line without a leading time gets the current time; a cap too small even for the wrapper
  // refuses the line and leaves `out` untouched.
  std::string out;
  REQUIRE(detail::append_prebuilt_line(out, std::string(500, 'z'), 300) == detail::LineFit::truncated);
  CHECK(out.size() <= 300);
  const auto d = json(out.substr(0, out.size() - 1));
  CHECK(str(member(d, "time")).size() == 24);
  CHECK(str(member(d, "eventType")) == "ilert-sumo-oversized-line");
  CHECK(original_bytes(d, "rawLine") == 500);
  out = "keep";
  CHECK(detail::append_prebuilt_line(out, std::string(500, 'z'), 100) == detail::LineFit::too_large);
  CHECK(out == "keep");
}

TEST_CASE("an oversized event has its details truncated and marked", "[unit][client]") {
  std::string details;
  while (details.size() < 300000) details += "line of details caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ ";
  const Event event = created(7, details);
  const std::string full = to_sumo_line(event, LineOptions{1u << 30});
  REQUIRE(full.size() > 64 * 1024);
  REQUIRE(to_sumo_line(event).size() <= kDefaultMaxLineBytes);  // the writer's default cap
  // Budgets as line_budget gives them (the line plus its '\n'): the default cap, the smallest
  // configurable cap, and batch caps below it (line_budget never exceeds batch.max_bytes).
  for (const std::size_t budget :
       {kDefaultMaxLineBytes + 1, kMinMaxLineBytes + 1, std::size_t{2000}, std::size_t{777}}) {
    INFO("budget " << budget);
    std::string out;
    REQUIRE(detail::append_event_line(out, event, budget) == detail::LineFit::truncated);
    CHECK(out.size() <= budget);
    // Cut only as far as needed, not emptied (escaped characters cost the writer two bytes each,
    // so its cut may end a few characters short of the cap).
    CHECK(out.size() >= budget - 64);
    REQUIRE(out.back() == '\n');
    const std::string line = out.substr(0, out.size() - 1);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line == to_sumo_line(event, LineOptions{budget - 1}));  // the writer's own cut, nothing spliced
    const auto d = json(line);
    // Shortened by the writer, not wrapped: the event's own line, with the marker naming details only.
    CHECK(str(member(d, "eventType")) == "alert-created");
    CHECK_FALSE(d.HasMember("rawLine"));
    CHECK(str(member(d, "id")) == "7");
    const rapidjson::Value& marker = member(d, "ilertSumoTruncated");
    CHECK(keys_of(marker) == std::vector<std::string>{"details"});
    CHECK(original_bytes(d, "details") == details.size());
    // The marker sits just before dedupId, which is the uncut event's (still recognisable).
    const auto keys = keys_of(d);
    REQUIRE(keys.size() >= 2);
    CHECK(keys[keys.size() - 2] == "ilertSumoTruncated");
    CHECK(keys.back() == "dedupId");
    CHECK(str(member(d, "dedupId")) == dedup_id(event));
    const auto parsed = parse_event(line);  // the marker comes back as an extra field
    REQUIRE(parsed);
    const Alert& a = std::visit([](const auto& e) -> const Alert& { return e.alert; }, *parsed);
    REQUIRE(a.details);
    CHECK_FALSE(a.details->empty());
    CHECK(a.details->size() < details.size());
    CHECK(details.compare(0, a.details->size(), *a.details) == 0);  // a prefix, whole characters
    CHECK(a.summary == std::get<AlertCreated>(event).alert.summary);
  }
  // A small event is untouched.
  std::string out;
  CHECK(detail::append_event_line(out, created(8, "short"), kDefaultMaxLineBytes + 1) == detail::LineFit::fitted);
  CHECK(out == to_sumo_line(created(8, "short")) + "\n");
  CHECK(out.find("ilertSumoTruncated") == std::string::npos);
}

TEST_CASE("an oversized event whose details cannot help is shortened by the writer, not wrapped", "[unit][client]") {
  // No details at all: the writer goes on down its cut order (docs/SUMO_LINE.md) to the long
  // summary. The line stays the event's own line (never the oversized-line wrapper).
  AlertCreated e = created(9, std::nullopt);
  const std::string summary(10000, 's');
  e.alert.summary = summary;
  REQUIRE(to_sumo_line(e, LineOptions{1u << 30}).size() > 10000);
  for (const std::size_t budget : {kMinMaxLineBytes + 1, std::size_t{4096}, std::size_t{8193}}) {
    INFO("budget " << budget);
    std::string out;
    REQUIRE(detail::append_event_line(out, e, budget) == detail::LineFit::truncated);
    CHECK(out.size() <= budget);
    CHECK(out.size() >= budget - 16);  // the summary cut only as far as needed
    REQUIRE(out.back() == '\n');
    const std::string line = out.substr(0, out.size() - 1);
    CHECK(line == to_sumo_line(e, LineOptions{budget - 1}));
    const auto d = json(line);
    CHECK(str(member(d, "eventType")) == "alert-created");
    CHECK_FALSE(d.HasMember("rawLine"));
    CHECK(str(member(d, "id")) == "9");
    const rapidjson::Value& marker = member(d, "ilertSumoTruncated");
    CHECK(keys_of(marker) == std::vector<std::string>{"summary"});
    CHECK(original_bytes(d, "summary") == summary.size());
    const std::string kept = str(member(d, "summary"));
    CHECK_FALSE(kept.empty());
    CHECK(kept.size() < summary.size());
    CHECK(summary.compare(0, kept.size(), kept) == 0);
    CHECK(str(member(d, "reportTime")) == "2024-05-01T10:00:00.000Z");  // short fields kept whole
    CHECK(str(member(d, "dedupId")) == dedup_id(e));
    CHECK(parse_event(line));
  }
}

// =============================================================================================
// Batches

TEST_CASE("BatchBuilder cuts by bytes (including the newline) and by count, in order", "[unit][client]") {
  SECTION("bytes: exactly at the cap fits, one more byte starts a new batch") {
    detail::BatchBuilder b(BatchOptions{100, 1000, 1000ms});
    for (std::size_t i = 0; i < 10; ++i) {
      const auto r = b.add_line(std::string(9, static_cast<char>('a' + i)));
      CHECK_FALSE(r.completed);
    }
    CHECK(b.bytes() == 100);
    const auto r = b.add_line("k");
    REQUIRE(r.completed);
    CHECK(r.completed->body.size() == 100);
    CHECK(r.completed->events == 10);
    CHECK(r.completed->first_index == 0);
    const auto last = b.finish();
    REQUIRE(last);
    CHECK(last->body == "k\n");
    CHECK(last->first_index == 10);
    CHECK_FALSE(b.finish());
  }
  SECTION("events") {
    detail::BatchBuilder b(BatchOptions{1024 * 1024, 4, 1000ms});
    std::vector<detail::Batch> batches;
    for (std::size_t i = 0; i < 10; ++i) {
      auto r = b.add_line("line " + std::to_string(i));
      if (r.completed) batches.push_back(std::move(*r.completed));
    }
    if (auto last = b.finish()) batches.push_back(std::move(*last));
    REQUIRE(batches.size() == 3);
    CHECK(batches[0].events == 4);
    CHECK(batches[1].events == 4);
    CHECK(batches[2].events == 2);
    CHECK(batches[1].first_index == 4);
    CHECK(batches[2].first_index == 8);
    CHECK(batches[2].body == "line 8\nline 9\n");
  }
  SECTION("a too-large item closes the open batch and keeps ranges contiguous") {
    detail::BatchBuilder b(BatchOptions{120, 100, 1000ms});
    CHECK_FALSE(b.add_line("a").completed);
    const auto r = b.add_line(std::string(1000, 'x'));  // even the wrapper cannot fit 120 bytes
    CHECK(r.fit == detail::LineFit::too_large);
    REQUIRE(r.completed);
    CHECK(r.completed->body == "a\n");
    CHECK(b.empty());
    CHECK_FALSE(b.add_line("c").completed);
    const auto last = b.finish();
    REQUIRE(last);
    CHECK(last->first_index == 2);
    CHECK(last->body == "c\n");
  }
  SECTION("add_fitted takes the sender's ready lines and counts truncations") {
    detail::BatchBuilder b(BatchOptions{20, 100, 1000ms});
    CHECK_FALSE(b.add_fitted("0123456789\n", true).completed);
    const auto r = b.add_fitted("abcdefghij\n", false);  // 22 > 20
    REQUIRE(r.completed);
    CHECK(r.completed->truncated_events == 1);
    CHECK(b.add_fitted(std::string(21, 'x'), false).fit == detail::LineFit::too_large);
  }
}

TEST_CASE("SumoClient batches many lines under the limits, in order, nothing lost", "[unit][client]") {
  auto http = std::make_shared<FakeHttp>();
  SumoClient client(make_config([](SumoConfig& c) {
                      c.batch.max_bytes = 4096;
                      c.batch.max_events = 25;
                    }),
                    http);
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < 500; ++i) lines.push_back(line_of(i, 40 + (i * 37) % 400));
  const DeliverySummary s = client.send_lines(lines);
  CHECK(s.all_delivered());
  CHECK(s.events_delivered == 500);
  CHECK(s.events_failed == 0);
  CHECK(s.retries == 0);
  const auto seen = http->requests();
  REQUIRE(s.requests.size() == seen.size());
  std::vector<std::string> received;
  std::size_t raw = 0;
  std::size_t expected_first = 0;
  for (std::size_t r = 0; r < s.requests.size(); ++r) {
    const DeliveryReport& rep = s.requests[r];
    const std::string& body = seen[r].body;
    CHECK(body.size() <= 4096);
    CHECK(rep.raw_bytes == body.size());
    CHECK(rep.compressed_bytes == body.size());
    CHECK(rep.events <= 25);
    CHECK(rep.first_index == expected_first);
    CHECK(rep.delivered);
    CHECK(rep.attempts == 1);
    CHECK(rep.final_status == 200);
    CHECK_FALSE(rep.error);
    expected_first += rep.events;
    raw += body.size();
    const auto part = split_lines(body);
    CHECK(part.size() == rep.events);
    received.insert(received.end(), part.begin(), part.end());
    // A request is cut only when the next line would not fit (or the count is reached).
    if (r + 1 < s.requests.size() && rep.events < 25) {
      CHECK(body.size() + lines[expected_first].size() + 1 > 4096);
    }
  }
  CHECK(received == lines);
  CHECK(s.raw_bytes == raw);
}

TEST_CASE("SumoClient sends events and reports oversized and unfittable ones in order", "[unit][client]") {
  auto http = std::make_shared<FakeHttp>();
  // batch.max_bytes below max_line_bytes: line_budget caps each line (with its '\n') at 2048.
  SumoClient client(make_config([](SumoConfig& c) { c.batch.max_bytes = 2048; }), http);
  const std::vector<Event> events = {created(1, "a"), created(2, std::string(50000, 'd')), created(3, "c")};
  const DeliverySummary s = client.send(events);
  REQUIRE(s.all_delivered());
  CHECK(s.events_delivered == 3);
  std::vector<std::string> received;
  std::size_t truncated = 0;
  std::size_t expected_first = 0;
  const auto seen = http->requests();
  REQUIRE(seen.size() == s.requests.size());
  for (std::size_t r = 0; r < s.requests.size(); ++r) {
    CHECK(seen[r].body.size() <= 2048);
    CHECK(s.requests[r].first_index == expected_first);  // reports in order, contiguous
    expected_first += s.requests[r].events;
    truncated += s.requests[r].truncated_events;
    for (auto& l : split_lines(seen[r].body)) received.push_back(l);
  }
  CHECK(expected_first == 3);
  CHECK(truncated == 1);
  REQUIRE(received.size() == 3);
  CHECK(received[0] == to_sumo_line(events[0]));
  CHECK(received[2] == to_sumo_line(events[2]));
  // The oversized one keeps its place, is the writer's own cut to 2047 bytes, and is marked with
  // the original size of its details.
  CHECK(received[1].size() <= 2047);
  CHECK(received[1] == to_sumo_line(events[1], LineOptions{2047}));
  CHECK(received[1].find("\"ilertSumoTruncated\":{\"details\":{\"originalBytes\":50000}}") != std::string::npos);
  const auto d = json(received[1]);
  CHECK(str(member(d, "id")) == "2");
  CHECK(str(member(d, "eventType")) == "alert-created");
  CHECK(original_bytes(d, "details") == 50000);
  CHECK(str(member(d, "dedupId")) == dedup_id(events[1]));

  // With a cap too small for any wrapper the line is reported (event_too_large), never dropped
  // silently, and its neighbours still go out in order.
  auto http2 = std::make_shared<FakeHttp>();
  SumoClient tiny(make_config([](SumoConfig& c) { c.batch.max_bytes = 150; }), http2);
  const DeliverySummary t = tiny.send_lines({"first", std::string(400, 'x'), "third"});
  REQUIRE(t.requests.size() == 3);
  CHECK(t.requests[0].delivered);
  CHECK(t.requests[0].first_index == 0);
  CHECK_FALSE(t.requests[1].delivered);
  CHECK(t.requests[1].first_index == 1);
  CHECK(t.requests[1].events == 1);
  CHECK(t.requests[1].attempts == 0);
  REQUIRE(t.requests[1].error);
  CHECK(t.requests[1].error->code == ErrorCode::event_too_large);
  CHECK(t.requests[2].delivered);
  CHECK(t.requests[2].first_index == 2);
  CHECK(t.events_failed == 1);
  CHECK(t.events_delivered == 2);
  CHECK(http2->request_count() == 2);
}

// =============================================================================================
// Headers and bodies

TEST_CASE("requests carry the configured headers and the codec", "[unit][client]") {
  auto http = std::make_shared<FakeHttp>();
  SumoClient client(make_config([](SumoConfig& c) {
                      c.url = "https://collectors.example.com/receiver/v1/http";
                      c.token = kToken;
                      c.compression = Compression::gzip;
                      c.metadata = {"prod/ilert", "webhooks", "relay-1", {{"env", "prod"}, {"team", "sre"}}};
                    }),
                    http);
  const DeliverySummary s = client.send_lines({"hello", "world"});
  REQUIRE(s.all_delivered());
  REQUIRE(http->request_count() == 1);
  const test::FakeRequest req = http->requests()[0];
  CHECK(req.url == "https://collectors.example.com/receiver/v1/http");
  const auto h = [&](const char* name) {
    const std::string* v = find_header(req.headers, name);
    return v ? *v : std::string("<absent>");
  };
  CHECK(h("Content-Type") == "text/plain; charset=utf-8");
  CHECK(h("Content-Encoding") == "gzip");
  CHECK(h("X-Sumo-Category") == "prod/ilert");
  CHECK(h("X-Sumo-Name") == "webhooks");
  CHECK(h("X-Sumo-Host") == "relay-1");
  CHECK(h("X-Sumo-Fields") == "env=prod,team=sre");
  CHECK(h("x-sumo-token") == kToken);
  CHECK(req.timeout == 20000ms);
  REQUIRE(req.body.size() > 2);
  CHECK(static_cast<unsigned char>(req.body[0]) == 0x1f);  // gzip magic
  CHECK(s.requests[0].raw_bytes == 12);
  CHECK(s.requests[0].compressed_bytes == req.body.size());

  auto plain = std::make_shared<FakeHttp>();
  SumoClient none(make_config(), plain);
  REQUIRE(none.send_lines({"x"}).all_delivered());
  REQUIRE(plain->request_count() == 1);
  const test::FakeRequest plain_req = plain->requests()[0];
  CHECK(find_header(plain_req.headers, "Content-Encoding") == nullptr);
  CHECK(find_header(plain_req.headers, "X-Sumo-Category") == nullptr);
  CHECK(find_header(plain_req.headers, "X-Sumo-Fields") == nullptr);
  CHECK(find_header(plain_req.headers, "x-sumo-token") == nullptr);
  CHECK(plain_req.body == "x\n");
}

TEST_CASE("a 2xx body is kept as a warning", "[unit][client]") {
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::http(200, "Dropped 2 fields: too many fields"), Reply::http(200, "  \n"), Reply::http(204)});
  SumoClient client(make_config([](SumoConfig& c) { c.batch.max_events = 1; }), http);
  const DeliverySummary s = client.send_lines({"a", "b", "c"});
  REQUIRE(s.requests.size() == 3);
  CHECK(s.all_delivered());
  CHECK(s.requests[0].warning == "Dropped 2 fields: too many fields");
  CHECK(s.requests[1].warning.empty());
  CHECK(s.requests[2].warning.empty());
  CHECK(s.requests[2].final_status == 204);
}

// =============================================================================================
// Retries through SumoClient (1 ms backoff, real sleeper)

TEST_CASE("429 then 200 re-sends identical bytes", "[unit][client]") {
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::http(429, "", {{"Retry-After", "0"}}), Reply::http(503),
                Reply::failure(ErrorCode::transport, "connection reset"),
                Reply::failure(ErrorCode::timeout, "timed out"), Reply::http(200)});
  SumoClient client(make_config([](SumoConfig& c) { c.compression = Compression::gzip; }), http);
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i) lines.push_back(line_of(static_cast<std::size_t>(i), 120));
  const DeliverySummary s = client.send_lines(lines);
  REQUIRE(s.requests.size() == 1);
  const DeliveryReport& r = s.requests[0];
  CHECK(r.delivered);
  CHECK(r.attempts == 5);
  CHECK(r.final_status == 200);
  CHECK_FALSE(r.error);
  CHECK(s.retries == 4);
  const auto seen = http->requests();
  REQUIRE(seen.size() == 5);
  for (const test::FakeRequest& one : seen) CHECK(one.body == seen[0].body);
  CHECK(r.compressed_bytes == seen[0].body.size());
}

TEST_CASE("401 and other permanent statuses get one attempt", "[unit][client]") {
  for (const int code : {400, 401, 403, 404, 413, 501}) {
    INFO(code);
    auto http = std::make_shared<FakeHttp>();
    http->otherwise(Reply::http(code, "nope"));
    SumoClient client(make_config(), http);
    const DeliverySummary s = client.send_lines({"a"});
    REQUIRE(s.requests.size() == 1);
    CHECK_FALSE(s.requests[0].delivered);
    CHECK(s.requests[0].attempts == 1);
    CHECK(s.requests[0].final_status == code);
    REQUIRE(s.requests[0].error);
    CHECK(s.requests[0].error->code == ErrorCode::http_status);
    CHECK(s.requests[0].error->message.find("HTTP " + std::to_string(code)) != std::string::npos);
    CHECK(s.events_failed == 1);
    CHECK(http->request_count() == 1);
  }
}

TEST_CASE("budget exhausted: failed with the last error", "[unit][client]") {
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::http(500, "first"), Reply::http(503, "Service Unavailable")});
  http->otherwise(Reply::http(503, "Service Unavailable"));
  SumoClient client(make_config([](SumoConfig& c) { c.retry.budget = 0ms; }), http);
  const DeliverySummary s = client.send_lines({"a", "b"});
  REQUIRE(s.requests.size() == 1);
  const DeliveryReport& r = s.requests[0];
  CHECK_FALSE(r.delivered);
  CHECK(r.attempts == 1);
  CHECK(r.final_status == 500);
  REQUIRE(r.error);
  CHECK(r.error->code == ErrorCode::retry_budget_exhausted);
  CHECK(r.error->message.find("last error: HTTP 500") != std::string::npos);
  CHECK(s.events_failed == 2);
  CHECK_FALSE(s.all_delivered());
}

// =============================================================================================
// The retry loop with a fake clock (deliver)

TEST_CASE("deliver: backoff doubles under the cap, Retry-After wins when larger", "[unit][client]") {
  FakeWorld world;
  world.random = 1.0;  // the top of each jitter range
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::http(503), Reply::http(503), Reply::http(429, "", {{"retry-after", "7"}}), Reply::http(503),
                Reply::http(503, "", {{"Retry-After", "Tue, 14 Nov 2023 22:14:00 GMT"}}), Reply::http(200)});
  const auto target = target_of(make_config([](SumoConfig& c) {
    c.retry.initial_backoff = 500ms;
    c.retry.max_backoff = 4000ms;
  }));
  std::vector<std::uint32_t> attempts;
  auto env = world.env();
  env.on_attempt = [&](const detail::AttemptResult& r, std::uint32_t n) {
    attempts.push_back(n);
    CHECK(r.outcome == (n == 6 ? DeliveryOutcome::success : DeliveryOutcome::retry));
  };
  const auto req = prepared({"x", "y"});
  const DeliveryReport r = detail::deliver(*http, req, target, env);
  CHECK(r.delivered);
  CHECK(r.attempts == 6);
  CHECK(attempts == std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6});
  // The wall clock starts at 2023-11-14T22:13:20Z; at the 5th answer it is 22:13:32.5, the date
  // says 22:14:00.
  REQUIRE(world.sleeps.size() == 5);
  CHECK(world.sleeps[0] == 500ms);
  CHECK(world.sleeps[1] == 1000ms);
  CHECK(world.sleeps[2] == 7000ms);   // Retry-After 7 s > backoff 2 s
  CHECK(world.sleeps[3] == 4000ms);   // capped (8 s -> 4 s)
  CHECK(world.sleeps[4] == 27500ms);  // HTTP-date Retry-After, 27.5 s ahead > backoff 4 s
  CHECK(r.elapsed == 40000ms);
  const auto seen = http->requests();
  for (const test::FakeRequest& one : seen) CHECK(one.body == seen[0].body);
}

TEST_CASE("deliver: zero jitter retries at once, Retry-After still holds", "[unit][client]") {
  FakeWorld world;
  world.random = 0.0;
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::http(503), Reply::http(429, "", {{"Retry-After", "1"}}), Reply::http(200)});
  const auto target = target_of(make_config());
  const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target, world.env());
  CHECK(r.delivered);
  REQUIRE(world.sleeps.size() == 2);
  CHECK(world.sleeps[0] == 0ms);
  CHECK(world.sleeps[1] == 1000ms);
}

TEST_CASE("deliver: the budget bounds the total time and keeps the last error", "[unit][client]") {
  FakeWorld world;
  auto http = std::make_shared<FakeHttp>();
  http->otherwise(Reply::http(503, "busy"));
  http->on_post([&](std::size_t) { world.advance(2000ms); });  // each attempt takes 2 s
  const auto target = target_of(make_config([](SumoConfig& c) {
    c.retry.initial_backoff = 1000ms;
    c.retry.max_backoff = 8000ms;
    c.retry.budget = 30000ms;
  }));
  const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target, world.env());
  CHECK_FALSE(r.delivered);
  REQUIRE(r.error);
  CHECK(r.error->code == ErrorCode::retry_budget_exhausted);
  CHECK(r.error->message.find("last error: HTTP 503") != std::string::npos);
  CHECK(r.error->message.find("busy") != std::string::npos);
  CHECK(r.final_status == 503);
  // Attempts start at 0, 3, 7, 13, 23 and 30 s (each takes 2 s); the 5th wait (8 s) is cut to the
  // 5 s left; after the 6th attempt no budget remains.
  CHECK(r.attempts == 6);
  CHECK(r.elapsed <= 30000ms + 2000ms);  // overshoot bounded by one attempt
  milliseconds waited{0};
  for (auto d : world.sleeps) waited += d;
  CHECK(waited + milliseconds(2000 * r.attempts) == r.elapsed);
}

TEST_CASE("deliver: a Retry-After beyond the budget stops at once", "[unit][client]") {
  FakeWorld world;
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::http(429, "", {{"Retry-After", "3600"}})});
  const auto target = target_of(make_config([](SumoConfig& c) { c.retry.budget = 60000ms; }));
  const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target, world.env());
  CHECK_FALSE(r.delivered);
  CHECK(r.attempts == 1);
  CHECK(world.sleeps.empty());
  REQUIRE(r.error);
  CHECK(r.error->code == ErrorCode::retry_budget_exhausted);
  CHECK(r.error->message.find("Retry-After 3600000ms") != std::string::npos);
}

TEST_CASE("deliver: max_attempts, deadline, cancel and interrupted waits", "[unit][client]") {
  FakeWorld world;
  auto http = std::make_shared<FakeHttp>();
  http->otherwise(Reply::failure(ErrorCode::transport, "Connection refused"));

  SECTION("max_attempts keeps the last error's code") {
    const auto target = target_of(make_config([](SumoConfig& c) { c.retry.max_attempts = 3; }));
    const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target, world.env());
    CHECK(r.attempts == 3);
    REQUIRE(r.error);
    CHECK(r.error->code == ErrorCode::transport);
    CHECK(r.error->message.find("max_attempts") != std::string::npos);
    CHECK(r.error->message.find("Connection refused") != std::string::npos);
    CHECK(r.final_status == 0);
  }
  SECTION("no wait starts that would end past the deadline; the deadline reaches the request") {
    const auto target = target_of(make_config([](SumoConfig& c) {
      c.retry.initial_backoff = 1000ms;
      c.retry.max_backoff = 1000ms;
    }));
    auto env = world.env();
    env.deadline = world.now + 2500ms;
    const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target, env);
    CHECK(r.attempts == 3);  // at 0, 1, 2 s; the next wait would end at 3 s > 2.5 s
    REQUIRE(r.error);
    CHECK(r.error->code == ErrorCode::aborted);
    CHECK(http->requests()[0].deadline == env.deadline);
  }
  SECTION("a cancelled delivery stops before the next attempt") {
    std::atomic<bool> cancel{false};
    auto env = world.env();
    env.cancel = &cancel;
    env.on_attempt = [&](const detail::AttemptResult&, std::uint32_t n) {
      if (n == 2) cancel = true;
    };
    const auto target = target_of(make_config());
    const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target, env);
    CHECK(r.attempts == 2);
    REQUIRE(r.error);
    CHECK(r.error->code == ErrorCode::aborted);
    CHECK(r.error->message.find("Connection refused") != std::string::npos);
  }
  SECTION("an aborted transfer is not retried") {
    http->script({Reply::failure(ErrorCode::aborted, "transfer aborted at the deadline")});
    const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target_of(make_config()), world.env());
    CHECK(r.attempts == 1);
    REQUIRE(r.error);
    CHECK(r.error->code == ErrorCode::aborted);
  }
  SECTION("the sleeper can interrupt a wait") {
    world.interrupt = true;
    const DeliveryReport r = detail::deliver(*http, prepared({"x"}), target_of(make_config()), world.env());
    CHECK(r.attempts == 1);
    REQUIRE(r.error);
    CHECK(r.error->code == ErrorCode::aborted);
  }
}

TEST_CASE("an HttpClient that throws counts as a transport error", "[unit][client]") {
  FakeHttp http;
  http.script({Reply::throwing("boom")});  // then 200
  FakeWorld world;
  const DeliveryReport r = detail::deliver(http, prepared({"x"}), target_of(make_config()), world.env());
  CHECK(r.delivered);
  CHECK(r.attempts == 2);
}

// =============================================================================================
// Secrets

TEST_CASE("no secret reaches a report, whatever the client or server says", "[unit][client]") {
  const std::string leaky = "could not POST " + url() + " with x-sumo-token: " + kToken;
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::failure(ErrorCode::transport, leaky),                                 // request 1: retried
                Reply::http(401, std::string("invalid token ") + kToken + " for " + kCode),  // permanent
                Reply::http(200, std::string("warning about ") + kToken),                    // request 2
                Reply::failure(ErrorCode::timeout, leaky)});                                 // request 3, then budget
  http->otherwise(Reply::http(503, leaky));
  SumoClient client(make_config([](SumoConfig& c) {
                      c.token = kToken;
                      c.batch.max_events = 1;
                      c.retry.max_attempts = 3;
                    }),
                    http);
  const DeliverySummary s = client.send_lines({"a", "b", "c"});
  REQUIRE(s.requests.size() == 3);
  CHECK_FALSE(s.requests[0].delivered);
  CHECK(s.requests[1].delivered);
  CHECK_FALSE(s.requests[2].delivered);
  for (const DeliveryReport& r : s.requests) {
    if (r.error) {
      require_no_secret(r.error->message);
      require_no_secret(r.error->to_string());
    }
    require_no_secret(r.warning);
  }
  REQUIRE(s.requests[0].error);
  CHECK(s.requests[0].error->message.find("/receiver/v1/http/Qm***") != std::string::npos);
  CHECK(s.requests[1].warning == "warning about ***");
}
