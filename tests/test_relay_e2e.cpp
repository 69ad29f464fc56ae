// tests/test_relay_e2e.cpp: ilert-sumo-relay end to end over real HTTP [relay].
//
// client (httplib::Client) -> the built ilert-sumo-relay program (a child process, port 0, its
// first stdout line gives the port) -> SumoEmulator (in this process). Covers issue 5: every
// sample arrives as one line with its eventType, the 202/400/401/413/503 answers, Sumo outages
// (503 for a while, emulator down + SIGTERM + spool + restart, SIGKILL after 202), /healthz and
// /metrics. No sleeps: every wait is wait_until with a deadline.
#include <httplib.h>
#include <rapidjson/document.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/relay_process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::RelayProcess;
using ilert_sumo::test::SumoEmulator;
using ilert_sumo::test::TempDir;
using ilert_sumo::test::wait_until;

namespace {

using EnvMap = ilert_sumo::test::RelayEnv;

// Files of the spool directory (recursively), any name.
std::size_t spool_bytes(const fs::path& dir) {
  std::size_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) total += static_cast<std::size_t>(e.file_size());
  }
  return total;
}

// A Sumo URL on 127.0.0.1 where nothing listens: every connection is refused, like a Sumo that
// is down.
std::string unreachable_sumo_url() {
  return "http://127.0.0.1:" + std::to_string(ilert_sumo::test::closed_loopback_port()) +
         "/receiver/v1/http/emulator-test-code";
}

// Waits for `n` messages at the emulator; on timeout fails with what the relay logged.
void require_messages(const SumoEmulator& emulator, std::size_t n, std::chrono::milliseconds timeout,
                      const RelayProcess& relay) {
  if (!emulator.wait_for_messages(n, timeout)) {
    FAIL("the emulator holds " << emulator.count() << " of " << n << " messages; relay stderr:\n"
                               << relay.read_stderr());
  }
}

std::string samples_dir() { return ilert_sumo::test::fixture_path("../../examples/samples"); }

std::vector<fs::path> sample_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(samples_dir())) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "03-alert-assigned.json" -> "alert-assigned"; legacy incident-* -> alert-*; "" for malformed.
std::string expected_type(const fs::path& file) {
  std::string stem = file.stem().string();
  const auto dash = stem.find('-');
  if (dash != std::string::npos && dash <= 3) stem = stem.substr(dash + 1);
  if (stem.find("malformed") != std::string::npos) return "";
  if (stem.rfind("incident-", 0) == 0) stem = "alert-" + stem.substr(9);
  return stem;
}

std::optional<std::string> json_string_member(const std::string& json, const char* name) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember(name) || !d[name].IsString()) return std::nullopt;
  return std::string(d[name].GetString(), d[name].GetStringLength());
}

std::string webhook_body(std::int64_t id, const std::string& type) {
  return "{\"id\":\"" + std::to_string(id) + "\",\"eventType\":\"" + type + "\",\"summary\":\"relay test alert " +
         std::to_string(id) +
         "\",\"status\":\"PENDING\",\"priority\":\"HIGH\",\"reportTime\":\"2024-03-14T09:26:53.589Z\","
         "\"alertSource\":{\"id\":7,\"name\":\"Relay, test = source\"}}";
}

// Alert ids ("id" member) of the recorded messages.
std::multiset<std::string> recorded_ids(const SumoEmulator& emulator) {
  std::multiset<std::string> ids;
  for (const auto& m : emulator.message_texts()) {
    if (auto id = json_string_member(m, "id")) ids.insert(*id);
  }
  return ids;
}

bool has_all_ids(const SumoEmulator& emulator, std::int64_t first, std::int64_t count) {
  const auto ids = recorded_ids(emulator);
  for (std::int64_t id = first; id < first + count; ++id) {
    if (ids.count(std::to_string(id)) == 0) return false;
  }
  return true;
}

std::optional<double> metric(const std::string& page, const std::string& series) {
  return ilert_sumo::test::prometheus_value(page, series);
}

}  // namespace

TEST_CASE("relay: every sample arrives at Sumo as one line with its eventType", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(), {}, {}, tmp.path());
  auto client = relay.client();

  const auto files = sample_files();
  REQUIRE(files.size() >= 14);
  std::multiset<std::string> expected_types;
  std::string malformed_body;
  for (const auto& file : files) {
    const std::string body = ilert_sumo::test::read_file(file.string());
    const std::string type = expected_type(file);
    INFO("sample " << file.filename().string());
    auto res = client->Post("/ilert", body, "application/json");
    REQUIRE(res);
    if (type.empty()) {
      // Malformed: 400 with the parse error, and still forwarded.
      CHECK(res->status == 400);
      CHECK(json_string_member(res->body, "error") == std::optional<std::string>("syntax"));
      CHECK(json_string_member(res->body, "message").has_value());
      CHECK(json_string_member(res->body, "path").has_value());
      malformed_body = body;
      expected_types.insert("ilert-sumo-invalid-payload");
    } else {
      CHECK(res->status == 202);
      const auto id = json_string_member(body, "id");
      REQUIRE(id.has_value());
      CHECK(res->body == "{\"status\":\"accepted\",\"eventType\":\"" + type + "\",\"alertId\":\"" + *id + "\"}");
      CHECK(res->get_header_value("Content-Type") == "application/json");
      expected_types.insert(type);
    }
  }
  REQUIRE_FALSE(malformed_body.empty());

  require_messages(emulator, files.size(), 20s, relay);
  std::multiset<std::string> got_types;
  for (const auto& m : emulator.message_texts()) {
    const auto t = json_string_member(m, "eventType");
    REQUIRE(t.has_value());
    got_types.insert(*t);
    if (*t == "ilert-sumo-invalid-payload") {
      rapidjson::Document d;
      d.Parse(m.c_str(), m.size());
      REQUIRE(d.IsObject());
      REQUIRE(d.HasMember("error"));
      REQUIRE(d["error"].IsObject());
      CHECK(std::string(d["error"]["code"].GetString()) == "syntax");
      REQUIRE(d.HasMember("rawBody"));
      CHECK(std::string(d["rawBody"].GetString(), d["rawBody"].GetStringLength()) == malformed_body);
    }
  }
  CHECK(got_types == expected_types);

  // Shut down cleanly; after that, still exactly one line per webhook (no duplicates).
  const auto took = relay.terminate(15s);
  CHECK(took < 12s);
  CHECK(emulator.count() == files.size());
  const std::string log = relay.read_stderr();
  CHECK(log.find("method=POST path=/ilert status=202 event_type=alert-created alert_id=") != std::string::npos);
  CHECK(log.find("status=400 event_type=invalid") != std::string::npos);
}

TEST_CASE("relay: Basic authentication", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  SumoEmulator emulator;
  emulator.start();
  const std::string password = "s3cret-Pa55word";
  RelayProcess relay(emulator.url(), {}, {{"ILERT_SUMO_RELAY_BASIC_AUTH", "ilert:" + password}}, tmp.path());
  auto client = relay.client();
  const std::string body = webhook_body(1001, "alert-created");

  SECTION("missing, wrong and right credentials") {
    auto missing = client->Post("/ilert", body, "application/json");
    REQUIRE(missing);
    CHECK(missing->status == 401);
    CHECK(missing->get_header_value("WWW-Authenticate").find("Basic realm=\"ilert-sumo-relay\"") == 0);

    httplib::Headers wrong_pw = {{"Authorization", "Basic aWxlcnQ6d3Jvbmc="}};  // ilert:wrong
    auto wrong = client->Post("/ilert", wrong_pw, body, "application/json");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);

    httplib::Headers bearer = {{"Authorization", "Bearer " + password}};
    auto other_scheme = client->Post("/ilert", bearer, body, "application/json");
    REQUIRE(other_scheme);
    CHECK(other_scheme->status == 401);

    client->set_basic_auth("ilert", password.c_str());
    auto right = client->Post("/ilert", body, "application/json");
    REQUIRE(right);
    CHECK(right->status == 202);

    require_messages(emulator, 1, 10s, relay);
    relay.terminate(15s);
    CHECK(emulator.count() == 1);  // the refused ones were not forwarded
    const std::string log = relay.read_stderr();
    CHECK(log.find("status=401") != std::string::npos);
    CHECK(log.find(password) == std::string::npos);
    CHECK(log.find("aWxlcnQ6") == std::string::npos);
  }
}

TEST_CASE("relay: bodies over --max-body get 413 and are never buffered", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(), {"--max-body", "2k"}, {}, tmp.path());

  std::string big = webhook_body(2001, "alert-created");
  big.insert(big.size() - 1, ",\"details\":\"" + std::string(4096, 'x') + "\"");

  auto client = relay.client();
  auto res = client->Post("/ilert", big, "application/json");
  REQUIRE(res);
  CHECK(res->status == 413);
  CHECK(json_string_member(res->body, "error") == std::optional<std::string>("too_large"));

  // Chunked (no Content-Length): cut off at the limit while reading.
  auto chunked_client = relay.client();
  auto chunked = chunked_client->Post(
      "/ilert",
      [&](std::size_t offset, httplib::DataSink& sink) {
        if (offset < big.size()) {
          sink.write(big.data() + offset, std::min<std::size_t>(512, big.size() - offset));
        } else {
          sink.done();
        }
        return true;
      },
      "application/json");
  // The relay writes its 413 and closes the connection without reading the rest: the client may
  // see the 413, or (when it is still sending) a reset before it reads it; either way nothing was
  // accepted (the emulator gets only the webhook below) and the relay keeps serving.
  if (chunked) {
    CHECK(chunked->status == 413);
  } else {
    INFO("client error: " << httplib::to_string(chunked.error()));
    CHECK((chunked.error() == httplib::Error::Read || chunked.error() == httplib::Error::Write ||
           chunked.error() == httplib::Error::Connection));
  }

  // The relay still serves normal requests.
  auto fresh = relay.client();
  auto ok = fresh->Post("/ilert", webhook_body(2002, "alert-created"), "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 202);
  require_messages(emulator, 1, 10s, relay);
  relay.terminate(15s);
  CHECK(emulator.count() == 1);
  CHECK(recorded_ids(emulator) == std::multiset<std::string>{"2002"});
}

TEST_CASE("relay: Sumo answering 503 for a while: still 202, every event arrives after recovery", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  SumoEmulator emulator;
  emulator.start();
  emulator.fail_for({503}, 2500ms);
  RelayProcess relay(emulator.url(), {}, {}, tmp.path());
  auto client = relay.client();

  constexpr int kEvents = 60;
  for (int i = 0; i < kEvents; ++i) {
    auto res = client->Post("/ilert", webhook_body(3000 + i, "alert-auto-escalated"), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 202);
  }
  // The outage is real: Sumo has refused at least one request.
  REQUIRE(wait_until([&] { return emulator.counters().by_status.count(503) > 0; }, 10s));
  REQUIRE(wait_until([&] { return has_all_ids(emulator, 3000, kEvents); }, 60s));
  relay.terminate(15s);
  const auto ids = recorded_ids(emulator);
  CHECK(ids.size() >= static_cast<std::size_t>(kEvents));  // at least once
  std::set<std::string> distinct(ids.begin(), ids.end());
  CHECK(distinct.size() == static_cast<std::size_t>(kEvents));
}

TEST_CASE("relay: /healthz degrades while Sumo fails and recovers after", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  SumoEmulator emulator;
  emulator.start();
  emulator.fail_for({503}, 10min);
  RelayProcess relay(emulator.url(), {"--degraded-after", "300ms"}, {}, tmp.path());
  auto client = relay.client();

  auto healthy = client->Get("/healthz");
  REQUIRE(healthy);
  CHECK(healthy->status == 200);  // idle is healthy

  auto res = client->Post("/ilert", webhook_body(4001, "alert-created"), "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 202);
  REQUIRE(wait_until(
      [&] {
        auto h = client->Get("/healthz");
        return h && h->status == 503 && json_string_member(h->body, "status") == std::optional<std::string>("degraded");
      },
      20s));
  emulator.clear_faults();
  REQUIRE(wait_until(
      [&] {
        auto h = client->Get("/healthz");
        return h && h->status == 200;
      },
      60s));
  CHECK(has_all_ids(emulator, 4001, 1));
  relay.terminate(15s);
}

TEST_CASE("relay: SIGTERM with Sumo down exits within the deadline, and a restart delivers the spool",
          "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  const fs::path spool = tmp / "spool";
  const std::string down_url = unreachable_sumo_url();

  constexpr int kEvents = 40;
  {
    RelayProcess relay(down_url, {"--spool-dir", spool.string(), "--shutdown-timeout", "2"}, {}, tmp.path(), "first");
    auto client = relay.client();
    for (int i = 0; i < kEvents; ++i) {
      auto res = client->Post("/ilert", webhook_body(5000 + i, i % 2 ? "alert-resolved" : "alert-created"),
                              "application/json");
      REQUIRE(res);
      REQUIRE(res->status == 202);
    }
    const auto took = relay.terminate(10s);
    CHECK(took < 2s + 1500ms);  // the deadline plus a margin
    CHECK(spool_bytes(spool) > 0);
  }

  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(), {"--spool-dir", spool.string()}, {}, tmp.path(), "second");
  REQUIRE(wait_until([&] { return has_all_ids(emulator, 5000, kEvents); }, 60s));
  relay.terminate(15s);
}

TEST_CASE("relay: killed with SIGKILL right after its 202s, the write-ahead spool loses nothing", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  const fs::path spool = tmp / "spool";
  const std::string down_url = unreachable_sumo_url();
  constexpr int kEvents = 25;
  {
    RelayProcess relay(down_url, {"--spool-dir", spool.string()}, {}, tmp.path(), "killed");
    auto client = relay.client();
    for (int i = 0; i < kEvents; ++i) {
      auto res = client->Post("/ilert", webhook_body(6000 + i, "alert-comment-added"), "application/json");
      REQUIRE(res);
      REQUIRE(res->status == 202);
    }
    relay.process().kill();
  }
  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(), {"--spool-dir", spool.string()}, {}, tmp.path(), "restarted");
  REQUIRE(wait_until([&] { return has_all_ids(emulator, 6000, kEvents); }, 60s));
  relay.terminate(15s);
}

TEST_CASE("relay: queue full under drop_newest answers 503 with Retry-After", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  const std::string down_url = unreachable_sumo_url();
  RelayProcess relay(down_url, {"--queue-bytes", "4k", "--shutdown-timeout", "1"}, {}, tmp.path());
  auto client = relay.client();
  std::optional<httplib::Response> refused;
  int accepted = 0;
  for (int i = 0; i < 500 && !refused; ++i) {
    auto res = client->Post("/ilert", webhook_body(7000 + i, "alert-created"), "application/json");
    REQUIRE(res);
    if (res->status == 202) {
      ++accepted;
    } else {
      refused = *res;
    }
  }
  REQUIRE(refused.has_value());
  CHECK(accepted > 0);
  CHECK(refused->status == 503);
  CHECK(refused->get_header_value("Retry-After") == "7");
  CHECK(json_string_member(refused->body, "error") == std::optional<std::string>("queue_full"));
  auto metrics = client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metric(metrics->body, "ilert_sumo_relay_webhook_requests_total{outcome=\"queue_full\",code=\"503\"}") == 1.0);
  relay.terminate(15s);
}

TEST_CASE("relay: /metrics counts match what was sent", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(), {"--max-body", "4k"}, {{"ILERT_SUMO_RELAY_BASIC_AUTH", "u:p"}}, tmp.path());
  auto client = relay.client();
  client->set_basic_auth("u", "p");

  for (int i = 0; i < 3; ++i) {
    auto r = client->Post("/ilert", webhook_body(8000 + i, "alert-created"), "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
  }
  auto legacy = client->Post("/ilert", webhook_body(8010, "incident-resolved"), "application/json");
  REQUIRE(legacy);
  REQUIRE(legacy->status == 202);
  // The two newer kinds count under their own labels; a type nobody knows still counts as "unknown".
  auto escalation_ended = client->Post("/ilert", webhook_body(8011, "alert-escalation-ended"), "application/json");
  REQUIRE(escalation_ended);
  REQUIRE(escalation_ended->status == 202);
  auto not_resolved = client->Post("/ilert", webhook_body(8012, "v-alert-not-resolved"), "application/json");
  REQUIRE(not_resolved);
  REQUIRE(not_resolved->status == 202);
  auto unknown = client->Post("/ilert", webhook_body(8013, "alert-from-the-future"), "application/json");
  REQUIRE(unknown);
  REQUIRE(unknown->status == 202);
  auto invalid = client->Post("/ilert", "{\"id\": \"1\"", "application/json");
  REQUIRE(invalid);
  REQUIRE(invalid->status == 400);
  auto too_big = client->Post("/ilert", std::string(5000, ' '), "application/json");
  REQUIRE(too_big);
  REQUIRE(too_big->status == 413);
  auto anon = relay.client();
  auto unauthorized = anon->Post("/ilert", webhook_body(8020, "alert-created"), "application/json");
  REQUIRE(unauthorized);
  REQUIRE(unauthorized->status == 401);

  // 7 accepted + the invalid body's line.
  require_messages(emulator, 8, 20s, relay);
  std::string page;
  REQUIRE(wait_until(
      [&] {
        auto m = client->Get("/metrics");
        if (!m || m->status != 200) return false;
        page = m->body;
        return metric(page, "ilert_sumo_sender_delivered_events_total") == 8.0;
      },
      20s));
  INFO(page);
  const std::string req = "ilert_sumo_relay_webhook_requests_total";
  CHECK(metric(page, req + "{outcome=\"accepted\",code=\"202\"}") == 7.0);
  CHECK(metric(page, req + "{outcome=\"invalid\",code=\"400\"}") == 1.0);
  CHECK(metric(page, req + "{outcome=\"unauthorized\",code=\"401\"}") == 1.0);
  CHECK(metric(page, req + "{outcome=\"too_large\",code=\"413\"}") == 1.0);
  CHECK(metric(page, req + "{outcome=\"queue_full\",code=\"503\"}") == 0.0);
  const std::string ev = "ilert_sumo_relay_events_total";
  CHECK(metric(page, ev + "{event_type=\"alert-created\"}") == 3.0);
  CHECK(metric(page, ev + "{event_type=\"alert-resolved\"}") == 1.0);
  CHECK(metric(page, ev + "{event_type=\"alert-escalation-ended\"}") == 1.0);
  CHECK(metric(page, ev + "{event_type=\"v-alert-not-resolved\"}") == 1.0);
  CHECK(metric(page, ev + "{event_type=\"unknown\"}") == 1.0);
  CHECK(metric(page, ev + "{event_type=\"invalid\"}") == 1.0);
  // Every event is counted exactly once, under one label: the sum over all labels.
  double events_total = 0;
  std::size_t labels = 0;
  for (std::size_t pos = 0; (pos = page.find(ev + "{event_type=\"", pos)) != std::string::npos; ++pos) {
    if (pos != 0 && page[pos - 1] != '\n') continue;  // a sample line, not a HELP text
    const std::size_t space = page.find(' ', pos);
    REQUIRE(space != std::string::npos);
    const auto value = metric(page, page.substr(pos, space - pos));
    REQUIRE(value.has_value());
    events_total += *value;
    ++labels;
  }
  // 14 canonical names (13 kinds; a resolve is alert-resolved or alert-auto-resolved), unknown, invalid.
  CHECK(labels >= 16);
  CHECK(events_total == 8.0);
  CHECK(metric(page, "ilert_sumo_sender_enqueued_total") == 8.0);
  // Nothing refused at enqueue, nothing lost after a 202 (the series must exist: a renamed metric
  // fails here instead of passing as "absent").
  for (const char* reason : {"queue_full", "too_large", "bad_metadata", "spool_full", "spool_error"}) {
    INFO("refused reason " << reason);
    CHECK(metric(page, std::string("ilert_sumo_sender_refused_total{reason=\"") + reason + "\"}") == 0.0);
  }
  for (const char* reason : {"oldest", "permanent_error", "budget_exhausted", "spool_evicted", "spool_corrupt",
                             "at_shutdown", "spool_error"}) {
    INFO("dropped reason " << reason);
    CHECK(metric(page, std::string("ilert_sumo_sender_dropped_total{reason=\"") + reason + "\"}") == 0.0);
  }
  CHECK(metric(page, "ilert_sumo_sender_lost_at_deadline_total") == 0.0);
  CHECK(metric(page, "ilert_sumo_relay_webhook_duration_seconds_count") == 8.0);
  CHECK(metric(page, "ilert_sumo_relay_http_responses_total{code=\"202\"}") == 7.0);
  CHECK(metric(page, "ilert_sumo_relay_healthy") == 1.0);
  CHECK(metric(page, "ilert_sumo_sender_requests_total{code=\"200\"}").value_or(0) >= 1.0);
  relay.terminate(15s);
}

TEST_CASE("relay: per-event category and X-Sumo-Fields", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(),
                     {"--category", "webhook/ilert/{eventType}", "--fields-from-event", "--fields", "env=test"}, {},
                     tmp.path());
  auto client = relay.client();
  for (const auto& [id, type] : std::vector<std::pair<int, std::string>>{
           {9001, "alert-created"}, {9002, "incident-acknowledged"}, {9003, "something-new"}}) {
    auto r = client->Post("/ilert", webhook_body(id, type), "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
  }
  auto bad = client->Post("/ilert", "[1,2]", "application/json");
  REQUIRE(bad);
  REQUIRE(bad->status == 400);
  require_messages(emulator, 4, 20s, relay);
  std::map<std::string, ilert_sumo::test::RecordedMessage> by_id;
  for (const auto& m : emulator.messages()) {
    by_id[json_string_member(m.message, "id").value_or("invalid")] = m;
  }
  REQUIRE(by_id.size() == 4);
  CHECK(by_id["9001"].category == "webhook/ilert/alert-created");
  CHECK(by_id["9002"].category == "webhook/ilert/alert-acknowledged");
  CHECK(by_id["9003"].category == "webhook/ilert/unknown");
  CHECK(by_id["invalid"].category == "webhook/ilert/invalid");
  const std::string& f = by_id["9001"].fields;
  INFO("fields: " << f);
  CHECK(f.find("env=test") != std::string::npos);
  CHECK(f.find("eventType=alert-created") != std::string::npos);
  CHECK(f.find("priority=HIGH") != std::string::npos);
  CHECK(f.find("alertSource=Relay_ test _ source") != std::string::npos);
  relay.terminate(15s);
}

TEST_CASE("relay: refuses plain http:// to a non-loopback Sumo and secrets on the command line", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  const std::string program = ilert_sumo::test::bin_path("ilert-sumo-relay");
  REQUIRE(fs::exists(program));
  const std::string err = tmp / "err";
  {
    ChildProcess p(program, {"--listen", "127.0.0.1:0"},
                   {{"ILERT_SUMO_URL", "http://sumo.example.com/receiver/v1/http/SECRETCODE123"}}, err);
    const auto st = p.wait(20s);
    REQUIRE(st.has_value());
    CHECK((st->exited && st->code == 2));
    const std::string text = ilert_sumo::test::read_file(err);
    CHECK(text.find("http://") != std::string::npos);
    CHECK(text.find("SECRETCODE123") == std::string::npos);
  }
  {
    ChildProcess p(program, {"--listen", "127.0.0.1:0", "--basic-auth", "u:p"}, {{"ILERT_SUMO_URL", "https://x/y"}},
                   err);
    const auto st = p.wait(20s);
    REQUIRE(st.has_value());
    CHECK((st->exited && st->code == 2));
    CHECK(ilert_sumo::test::read_file(err).find("ILERT_SUMO_RELAY_BASIC_AUTH") != std::string::npos);
  }
}

TEST_CASE("relay: configuration hazards are exit-2 errors with a clear message", "[program][relay]") {
  TempDir tmp("ilert-sumo-relay-test");
  const std::string err = tmp / "err";
  const std::string empty_file = tmp / "empty-auth";
  { std::ofstream(empty_file) << "\n"; }
  const std::vector<ilert_sumo::test::ConfigErrorCase> cases = {
      {"empty ILERT_SUMO_RELAY_BASIC_AUTH",
       {},
       {{"ILERT_SUMO_RELAY_BASIC_AUTH", ""}},
       "ILERT_SUMO_RELAY_BASIC_AUTH is set but empty"},
      {"empty password", {}, {{"ILERT_SUMO_RELAY_BASIC_AUTH", "ilert:"}}, "empty password"},
      {"empty Basic-auth file", {"--basic-auth-file", empty_file}, {}, "the file is empty"},
      {"--path /healthz", {"--path", "/healthz"}, {}, "the path /healthz is the relay's own endpoint"},
      {"--path /metrics", {"--path", "/metrics"}, {}, "the path /metrics is the relay's own endpoint"},
      {"ILERT_SUMO_RELAY_PATH=/metrics", {}, {{"ILERT_SUMO_RELAY_PATH", "/metrics"}}, "own endpoint"},
      {"--ca-file missing", {"--ca-file", tmp / "nonexistent.pem"}, {}, "--ca-file"},
      {"--ca-file a directory", {"--ca-file", tmp.path()}, {}, "cannot read the file"},
      {"URL and token both set", {}, {{"ILERT_SUMO_TOKEN", "tok-SECRET-4f8a1c"}}, "is set too"},
      // A URL with a wrong path or no scheme is refused, and its code never printed.
      {"wrong path",
       {},
       {{"ILERT_SUMO_URL", "https://h.example/receiver/v2/http/ZaSECRETcode0123456789"}},
       "h.example"},
      {"no scheme", {}, {{"ILERT_SUMO_URL", "h.example/receiver/v1/http/ZaSECRETcode0123456789"}}, "h.example"},
  };
  ilert_sumo::test::check_config_errors(cases, err);
}
