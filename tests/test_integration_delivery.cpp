// tests/test_integration_delivery.cpp [integration]: SumoClient through real libcurl to the local
// Sumo emulator (tests/support/sumo_emulator.*) on loopback: every codec decodes on the server to
// exactly the lines sent, headers arrive as configured, large inputs are cut under 1 MiB without loss
// or duplicates, an oversized event arrives cut to the line cap and marked, and each failure mode
// (429 + Retry-After, 503, 401, connection reset, a server slower than the timeout, an exhausted
// budget) ends as the policy says, with no secret in any error text. Waits are on conditions with deadlines, never bare
// sleeps.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/http_client.hpp"
#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/catch.hpp"
#include "support/line_json.hpp"
#include "support/sumo_emulator.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using namespace ilert_sumo;
using ilert_sumo::test::EmulatorConfig;
using ilert_sumo::test::Fault;
using ilert_sumo::test::keys_of;
using ilert_sumo::test::parse_json;
using ilert_sumo::test::str;
using ilert_sumo::test::SumoEmulator;

namespace {

// Distinctive secrets, so that any leak into an error text is found by a substring search.
const char* const kCode = "ZaVnC4dhaV3sEcReTcOdE1xKp9YtQw==";
const char* const kToken = "tOkEn-sEcReT-7f3a9c1b2d4e";

EmulatorConfig emulator_config() {
  EmulatorConfig c;
  c.code = kCode;
  c.token = kToken;
  return c;
}

/// Fast retries: tests never wait for production backoffs.
SumoConfig base_config(const SumoEmulator& emu, Compression codec = Compression::gzip) {
  SumoConfig c;
  c.url = emu.url();
  c.allow_insecure_http = true;
  c.compression = codec;
  c.retry.initial_backoff = 10ms;
  c.retry.max_backoff = 50ms;
  c.retry.budget = 10s;
  c.connect_timeout = 2s;
  c.request_timeout = 10s;
  return c;
}

FinalizedSumoConfig finalized(SumoConfig c) {
  auto f = finalize(std::move(c));
  if (!f) FAIL("finalize: " << f.error().to_string());
  return std::move(f).value();
}

/// A varied, realistic event; `details_bytes` of details text.
Event make_event(std::size_t i, std::size_t details_bytes = 200) {
  static const char* const kWords[] = {"disk",  "latency", "p99", "checkout", "kafka",  "lag",     "orders",
                                       "db-01", "timeout", "5xx", "login",    "backup", "ünïcödé", "→"};
  AlertCreated e;
  e.received_type = "alert-created";
  e.alert.id = static_cast<std::int64_t>(1000000 + i);
  e.alert.summary = "Alert " + std::to_string(i) + ": " + kWords[i % 14] + " on host-" + std::to_string(i % 97);
  std::string details;
  for (std::size_t k = 0; details.size() < details_bytes; ++k) {
    details += kWords[(i + k * 7) % 14];
    details += k % 11 == 10 ? "\n" : " ";
  }
  details.resize(details_bytes);
  // Cutting at a fixed size may split a multi-byte sequence; keep the text valid UTF-8.
  while (!details.empty() && (static_cast<unsigned char>(details.back()) & 0x80) != 0) details.pop_back();
  e.alert.details = details;
  e.alert.status = Tagged<Status>{Status::new_alert, "NEW"};
  e.alert.priority = Tagged<Priority>{i % 3 == 0 ? Priority::high : Priority::low, i % 3 == 0 ? "HIGH" : "LOW"};
  // A fixed time, so that the line's leading "time" does not depend on when it is rendered.
  const std::string when = "2024-03-14T09:26:53.601Z";
  e.alert.report_time = Timestamp{when, parse_iso8601(when)};
  e.alert.timestamp = Timestamp{when, parse_iso8601(when)};
  e.alert.alert_source = NamedRef{static_cast<std::int64_t>(i % 5), std::string("source-") + std::to_string(i % 5)};
  e.alert.event_id = "evt-" + std::to_string(i);
  return Event{std::move(e)};
}

std::vector<Event> make_events(std::size_t n, std::size_t details_bytes = 200) {
  std::vector<Event> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(make_event(i, details_bytes));
  return out;
}

std::vector<std::string> lines_of(const std::vector<Event>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back(to_sumo_line(e));
  return out;
}

/// Every error text a summary carries.
std::vector<std::string> error_texts(const DeliverySummary& s) {
  std::vector<std::string> out;
  for (const auto& r : s.requests) {
    if (r.error) {
      out.push_back(r.error->to_string());
      out.push_back(r.error->message);
    }
    if (!r.warning.empty()) out.push_back(r.warning);
  }
  return out;
}

void check_no_secret(const std::vector<std::string>& texts) {
  for (const auto& t : texts) {
    INFO("text: " << t);
    CHECK(t.find(kCode) == std::string::npos);
    CHECK(t.find(kToken) == std::string::npos);
    // Also no recognisable part of the secrets (redaction may keep a 2-character prefix).
    CHECK(t.find(std::string(kCode).substr(2, 12)) == std::string::npos);
    CHECK(t.find(std::string(kToken).substr(2, 12)) == std::string::npos);
  }
}

/// Same lines in the same order; on a difference, reports the first one (not 20 000 strings).
void check_same_lines(const std::vector<std::string>& got, const std::vector<std::string>& expected) {
  CHECK(got.size() == expected.size());
  const std::size_t n = std::min(got.size(), expected.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (got[i] != expected[i]) {
      FAIL_CHECK("first difference at line " << i << ":\n got:      " << got[i].substr(0, 300)
                                             << "\n expected: " << expected[i].substr(0, 300));
      return;
    }
  }
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

std::string encoding_name(Compression c) { return c == Compression::none ? "identity" : to_string(c); }

}  // namespace

TEST_CASE("every codec decodes on the emulator to exactly the lines sent, in order", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  const auto events = make_events(600, 300);
  const auto expected = lines_of(events);

  for (Compression codec : {Compression::none, Compression::gzip, Compression::deflate, Compression::zstd}) {
    if (!compression_available(codec)) {
      WARN("codec not compiled in: " << to_string(codec));
      continue;
    }
    DYNAMIC_SECTION("codec " << to_string(codec)) {
      SumoConfig cfg = base_config(emu, codec);
      cfg.batch.max_events = 250;  // several requests
      SumoClient client(finalized(cfg));
      const DeliverySummary s = client.send(events);
      CHECK(s.all_delivered());
      CHECK(s.events_delivered == events.size());
      REQUIRE(s.requests.size() == 3);
      check_same_lines(emu.message_texts(), expected);

      const auto reqs = emu.requests();
      REQUIRE(reqs.size() == s.requests.size());
      for (std::size_t i = 0; i < reqs.size(); ++i) {
        CHECK(reqs[i].status == 200);
        CHECK(reqs[i].encoding == encoding_name(codec));
        CHECK(reqs[i].wire_bytes == s.requests[i].compressed_bytes);
        CHECK(reqs[i].decoded_bytes == s.requests[i].raw_bytes);
        CHECK(reqs[i].expect.empty());  // no Expect: 100-continue round trip
        CHECK(s.requests[i].attempts == 1);
      }
      if (codec != Compression::none) CHECK(s.compressed_bytes < s.raw_bytes / 2);
    }
  }
}

TEST_CASE("pre-built lines arrive unchanged, one message per line", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  SumoClient client(finalized(base_config(emu, Compression::gzip)));
  const std::vector<std::string> lines = {R"({"a":1})", "plain text", "ünïcödé ✓", R"({"b":[1,2,3]})"};
  const auto s = client.send_lines(lines);
  CHECK(s.all_delivered());
  check_same_lines(emu.message_texts(), lines);
}

TEST_CASE("metadata headers and the token arrive as configured", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  const auto events = make_events(5);

  SECTION("presigned URL with category, name, host and fields") {
    SumoConfig cfg = base_config(emu);
    cfg.metadata.category = "prod/ilert/alerts";
    cfg.metadata.name = "ilert-webhooks";
    cfg.metadata.host = "relay-01";
    cfg.metadata.fields = {{"team", "sre"}, {"env", "prod"}};
    SumoClient client(finalized(cfg));
    REQUIRE(client.send(events).all_delivered());
    const auto reqs = emu.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].route == "code");
    CHECK(reqs[0].category == "prod/ilert/alerts");
    CHECK(reqs[0].name == "ilert-webhooks");
    CHECK(reqs[0].host == "relay-01");
    CHECK(reqs[0].fields == "team=sre,env=prod");
    CHECK(reqs[0].user_agent.find("ilert-sumo/") != std::string::npos);
    for (const auto& m : emu.messages()) CHECK(m.category == "prod/ilert/alerts");
  }
  SECTION("endpoint URL + x-sumo-token") {
    SumoConfig cfg = base_config(emu);
    cfg.url = emu.endpoint();
    cfg.token = kToken;
    SumoClient client(finalized(cfg));
    REQUIRE(client.send(events).all_delivered());
    const auto reqs = emu.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].route == "token");
    CHECK(reqs[0].status == 200);
    CHECK(reqs[0].category.empty());
    CHECK(emu.count() == 5);
  }
  SECTION("a wrong token is a permanent 401 with one attempt") {
    SumoConfig cfg = base_config(emu);
    cfg.url = emu.endpoint();
    cfg.token = std::string(kToken) + "x";
    SumoClient client(finalized(cfg));
    const auto s = client.send(events);
    REQUIRE(s.requests.size() == 1);
    CHECK_FALSE(s.requests[0].delivered);
    CHECK(s.requests[0].attempts == 1);
    CHECK(s.requests[0].final_status == 401);
    check_no_secret(error_texts(s));
  }
}

TEST_CASE("20 000 events: requests <= 1 MiB decoded, nothing lost or duplicated", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  SumoConfig cfg = base_config(emu, Compression::gzip);
  cfg.compression_level = 1;
  SumoClient client(finalized(cfg));
  const auto events = make_events(20000, 800);
  const auto expected = lines_of(events);
  std::size_t expected_bytes = 0;
  for (const auto& l : expected) expected_bytes += l.size() + 1;
  REQUIRE(expected_bytes > 10 * 1024 * 1024);  // really needs many requests

  const auto s = client.send(events);
  CHECK(s.all_delivered());
  CHECK(s.events_delivered == 20000);
  CHECK(s.raw_bytes == expected_bytes);

  const auto reqs = emu.requests();
  REQUIRE(reqs.size() == s.requests.size());
  CHECK(reqs.size() >= expected_bytes / (1024 * 1024));
  std::size_t lines = 0;
  for (const auto& r : reqs) {
    CHECK(r.status == 200);
    CHECK(r.decoded_bytes <= 1024 * 1024);
    CHECK(r.decoded_bytes > 0);
    lines += r.lines;
  }
  CHECK(lines == 20000);
  const auto got = emu.message_texts();
  REQUIRE(got.size() == expected.size());
  check_same_lines(got, expected);  // same lines, same order: nothing lost, duplicated or reordered
  CHECK(std::set<std::string>(got.begin(), got.end()).size() == got.size());
}

TEST_CASE("429 with Retry-After: 1 is re-sent after at least 1 s, then succeeds", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  emu.set_retry_after(1);
  emu.fail_next(Fault::http(429), 1);
  SumoClient client(finalized(base_config(emu)));
  const auto events = make_events(3);
  const auto s = client.send(events);
  REQUIRE(s.requests.size() == 1);
  CHECK(s.requests[0].delivered);
  CHECK(s.requests[0].attempts == 2);
  CHECK(s.retries == 1);
  const auto reqs = emu.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].status == 429);
  CHECK(reqs[1].status == 200);
  const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(reqs[1].received - reqs[0].received);
  INFO("gap between the two attempts: " << gap.count() << " ms");
  CHECK(gap >= 1000ms);
  CHECK(gap < 5000ms);
  check_same_lines(emu.message_texts(), lines_of(events));  // the 429 dropped them; the retry delivered once
}

TEST_CASE("503 three times, then success", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  emu.fail_next(Fault::http(503), 3);
  SumoClient client(finalized(base_config(emu)));
  const auto events = make_events(10);
  const auto s = client.send(events);
  REQUIRE(s.requests.size() == 1);
  CHECK(s.requests[0].delivered);
  CHECK(s.requests[0].attempts == 4);
  CHECK(s.requests[0].final_status == 200);
  CHECK(emu.request_count() == 4);
  check_same_lines(emu.message_texts(), lines_of(events));
}

TEST_CASE("401 is permanent: exactly one attempt, reported with its status", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  emu.fail_next(Fault::http(401), 1);
  SumoClient client(finalized(base_config(emu)));
  const auto s = client.send(make_events(4));
  REQUIRE(s.requests.size() == 1);
  const auto& r = s.requests[0];
  CHECK_FALSE(r.delivered);
  CHECK(r.attempts == 1);
  CHECK(r.final_status == 401);
  REQUIRE(r.error);
  CHECK(r.error->code == ErrorCode::http_status);
  CHECK(s.events_failed == 4);
  CHECK(emu.request_count() == 1);
  CHECK(emu.count() == 0);
  check_no_secret(error_texts(s));
}

TEST_CASE("a connection reset is a transport error to libcurl and is retried", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());

  SECTION("the curl client reports a transport error") {
    emu.fail_next(Fault::reset(), 1);
    auto http = make_curl_http_client();
    HttpRequest req;
    req.url = emu.url();
    req.headers = {{"Content-Type", "text/plain"}};
    const std::string body = "x\n";
    req.body = body;
    req.timeout = 5s;
    auto res = http->post(req);
    REQUIRE_FALSE(res);
    CHECK(res.error().code == ErrorCode::transport);
    check_no_secret({res.error().to_string()});
    CHECK(emu.counters().resets == 1);
  }
  SECTION("a fresh client: reset, then success on the retry") {
    emu.fail_next(Fault::reset(), 1);
    SumoClient client(finalized(base_config(emu)));
    const auto events = make_events(7);
    const auto s = client.send(events);
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].delivered);
    CHECK(s.requests[0].attempts == 2);
    CHECK(emu.counters().resets == 1);
    check_same_lines(emu.message_texts(), lines_of(events));
  }
  SECTION("resets on a kept-alive connection: retried until success, delivered once") {
    SumoClient client(finalized(base_config(emu)));
    REQUIRE(client.send(make_events(1)).all_delivered());  // opens the connection
    emu.clear_records();
    emu.fail_next(Fault::reset(), 3);
    const auto events = make_events(7);
    const auto s = client.send(events);
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].delivered);
    CHECK(s.requests[0].attempts >= 2);  // libcurl itself may retry once on a reused connection
    CHECK(emu.counters().resets == 3);
    check_same_lines(emu.message_texts(), lines_of(events));
  }
}

TEST_CASE("a server slower than the request timeout: timed out and retried", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());

  SECTION("the curl client reports a timeout") {
    emu.set_delay(2s);
    auto http = make_curl_http_client();
    HttpRequest req;
    req.url = emu.url();
    const std::string body = "x\n";
    req.body = body;
    req.timeout = 200ms;
    const auto t0 = std::chrono::steady_clock::now();
    auto res = http->post(req);
    REQUIRE_FALSE(res);
    CHECK(res.error().code == ErrorCode::timeout);
    CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
    check_no_secret({res.error().to_string()});
  }
  SECTION("retried, then delivered once the server is fast again") {
    emu.set_delay(3s);
    SumoConfig cfg = base_config(emu);
    cfg.request_timeout = 250ms;
    cfg.retry.budget = 20s;
    SumoClient client(finalized(cfg));
    const auto events = make_events(5);
    auto pending = std::async(std::launch::async, [&] { return client.send(events); });
    // Two requests arrived: the first timed out on the client and was retried.
    REQUIRE(ilert_sumo::test::wait_until([&] { return emu.counters().requests >= 2; }, 10s));
    emu.set_delay(0ms);
    REQUIRE(pending.wait_for(20s) == std::future_status::ready);
    const auto s = pending.get();
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].delivered);
    CHECK(s.requests[0].attempts >= 2);
    // At least once: the timed-out attempts may also be recorded once their delay ends.
    REQUIRE(emu.wait_for_messages(5, 10s));
    const auto got = emu.message_texts();
    for (const auto& line : lines_of(events)) CHECK(std::count(got.begin(), got.end(), line) >= 1);
  }
  SECTION("always slow: the budget runs out, reported with the last (timeout) error") {
    emu.set_delay(5s);
    SumoConfig cfg = base_config(emu);
    cfg.request_timeout = 150ms;
    cfg.retry.budget = 700ms;
    SumoClient client(finalized(cfg));
    const auto t0 = std::chrono::steady_clock::now();
    const auto s = client.send(make_events(2));
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    REQUIRE(s.requests.size() == 1);
    CHECK_FALSE(s.requests[0].delivered);
    CHECK(s.requests[0].attempts >= 2);
    REQUIRE(s.requests[0].error);
    CHECK(s.requests[0].error->message.find("timed out") != std::string::npos);
    check_no_secret(error_texts(s));
  }
}

TEST_CASE("budget exhausted: reported as failed with the last error", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  emu.fail_for({503}, std::chrono::minutes(5));
  SumoConfig cfg = base_config(emu);
  cfg.retry.budget = 600ms;
  SumoClient client(finalized(cfg));
  const auto t0 = std::chrono::steady_clock::now();
  const auto s = client.send(make_events(3));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed >= 500ms);
  CHECK(elapsed < 5s);
  REQUIRE(s.requests.size() == 1);
  const auto& r = s.requests[0];
  CHECK_FALSE(r.delivered);
  CHECK(r.attempts >= 2);
  CHECK(r.final_status == 503);
  REQUIRE(r.error);
  CHECK(r.error->code == ErrorCode::retry_budget_exhausted);
  CHECK(r.error->message.find("503") != std::string::npos);
  CHECK(s.events_failed == 3);
  CHECK(emu.request_count() == r.attempts);
  check_no_secret(error_texts(s));
}

TEST_CASE("an oversized event is truncated, marked, and arrives within the line cap", "[integration]") {
  // A 2 MiB details: the line writer cuts it to the configured cap (default 64 KiB: Sumo slices
  // longer messages), marks it with the original size, and the event arrives whole-but-cut, in its
  // place, through real libcurl to the emulator. A non-default cap shows the setting is honoured.
  for (const std::size_t cap : {kDefaultMaxLineBytes, std::size_t{20000}}) {
    INFO("max_line_bytes " << cap);
    SumoEmulator emu;
    emu.start(emulator_config());
    SumoConfig cfg = base_config(emu, Compression::gzip);
    cfg.max_line_bytes = cap;
    SumoClient client(finalized(cfg));
    std::vector<Event> events = make_events(3);
    events.insert(events.begin() + 1, make_event(99, 2 * 1024 * 1024));
    const std::string details = *std::get<AlertCreated>(events[1]).alert.details;
    REQUIRE(details.size() > 2 * 1024 * 1024 - 4);
    const auto s = client.send(events);
    CHECK(s.all_delivered());
    CHECK(s.events_delivered == 4);
    std::size_t truncated = 0;
    for (const auto& r : s.requests) truncated += r.truncated_events;
    CHECK(truncated == 1);
    const auto got = emu.message_texts();
    REQUIRE(got.size() == 4);
    const auto expected = lines_of(events);
    CHECK(got[0] == expected[0]);
    CHECK(got[2] == expected[2]);
    CHECK(got[3] == expected[3]);

    const std::string& line = got[1];
    CHECK(line.size() <= cap);
    CHECK(line.size() >= cap - 512);                           // cut to fit, not emptied
    CHECK(line == to_sumo_line(events[1], LineOptions{cap}));  // exactly the writer's cut arrived
    const auto d = parse_json(line);                           // whole, parseable JSON: Sumo did not slice it
    CHECK(str(member(d, "id")) == "1000099");
    CHECK(str(member(d, "eventType")) == "alert-created");
    CHECK(str(member(d, "summary")) == std::get<AlertCreated>(events[1]).alert.summary);
    const rapidjson::Value& marker = member(d, "ilertSumoTruncated");
    CHECK(keys_of(marker) == std::vector<std::string>{"details"});  // only details had to be cut
    const rapidjson::Value& original_bytes = member(member(marker, "details"), "originalBytes");
    REQUIRE(original_bytes.IsUint64());
    CHECK(original_bytes.GetUint64() == details.size());
    const std::string kept = str(member(d, "details"));
    CHECK(kept.size() > cap / 2);                             // most of the line is the details
    CHECK(details.compare(0, kept.size(), kept) == 0);        // a prefix, whole characters
    CHECK(str(member(d, "dedupId")) == dedup_id(events[1]));  // the uncut event's id
    CHECK(parse_event(line));
    for (const auto& r : emu.requests()) {
      CHECK(r.status == 200);
      CHECK(r.decoded_bytes <= 1024 * 1024);
    }
  }
}

TEST_CASE("a 200 with a warning body is delivered and the warning kept", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  emu.set_warning(std::string(R"({"warning":"fields dropped"})"));
  SumoClient client(finalized(base_config(emu)));
  const auto s = client.send(make_events(2));
  REQUIRE(s.requests.size() == 1);
  CHECK(s.requests[0].delivered);
  CHECK(s.requests[0].warning.find("fields dropped") != std::string::npos);
}

TEST_CASE("secrets never appear in any error text, whatever the failure", "[integration]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  std::vector<std::string> texts;
  auto run = [&](SumoConfig cfg) {
    SumoClient client(finalized(cfg));
    const auto s = client.send(make_events(2));
    CHECK_FALSE(s.all_delivered());
    for (auto& t : error_texts(s)) texts.push_back(std::move(t));
  };

  SumoConfig cfg = base_config(emu);
  cfg.retry.budget = 300ms;
  cfg.request_timeout = 200ms;

  emu.fail_next(Fault::http(401), 1);
  run(cfg);  // 401 on the presigned URL
  emu.fail_next(Fault::http(403), 1);
  run(cfg);                                    // other 4xx
  emu.fail_for({0}, std::chrono::minutes(1));  // resets until the budget ends
  run(cfg);
  emu.clear_faults();
  emu.fail_for({503}, std::chrono::minutes(1));
  run(cfg);
  emu.clear_faults();
  emu.set_delay(3s);
  run(cfg);  // timeouts
  emu.clear_faults();

  SumoConfig token_cfg = cfg;
  token_cfg.url = emu.endpoint();
  token_cfg.token = kToken;
  emu.fail_next(Fault::http(401), 1);
  run(token_cfg);
  emu.fail_for({0}, std::chrono::minutes(1));
  run(token_cfg);
  emu.clear_faults();

  // Nothing listening: connection refused.
  SumoEmulator closed;
  closed.start(emulator_config());
  SumoConfig refused = cfg;
  refused.url = closed.url();
  closed.stop();
  run(refused);

  CHECK(texts.size() >= 8);
  check_no_secret(texts);
  SumoConfig shown = token_cfg;
  shown.url = emu.url();
  check_no_secret({to_string(shown)});
}
