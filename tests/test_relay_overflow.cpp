// tests/test_relay_overflow.cpp: what the relay answers when it cannot deliver, and to bodies that
// do not parse [relay][overflow].
//
// iLert documents no retry behaviour for its webhooks, so the relay must not count on a 503 being
// sent again: with --spool-dir a full memory queue spills to disk (default overflow policy) and
// the relay keeps answering 202 while the spool has room; only when memory and spool are both full
// does it answer 503 + Retry-After (counted as refused). Every event answered 202 reaches Sumo
// once the outage ends. --invalid-status decides whether a body that does not parse (forwarded to
// Sumo as an invalid-payload line either way) gets 400 or 202. Real relay process, real disk,
// SumoEmulator with injected 503s.
#include <httplib.h>
#include <rapidjson/document.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/relay_process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using ilert_sumo::test::prometheus_value;
using ilert_sumo::test::RelayProcess;
using ilert_sumo::test::SumoEmulator;
using ilert_sumo::test::TempDir;
using ilert_sumo::test::wait_until;

namespace {

std::string webhook(int id) {
  return "{\"id\":\"" + std::to_string(id) + "\",\"eventType\":\"alert-created\",\"summary\":\"overflow test alert " +
         std::to_string(id) + "\",\"details\":\"" + std::string(200, 'd') +
         "\",\"status\":\"PENDING\",\"priority\":\"LOW\",\"reportTime\":\"2024-03-14T09:26:53.589Z\"}";
}

// The alert ids of the lines the emulator holds (each id once).
std::multiset<std::string> received_ids(const SumoEmulator& emulator) {
  std::multiset<std::string> ids;
  for (const auto& text : emulator.message_texts()) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.IsObject() && d.HasMember("id") && d["id"].IsString()) ids.insert(d["id"].GetString());
  }
  return ids;
}

bool has_all(const SumoEmulator& emulator, const std::set<std::string>& want) {
  const auto got = received_ids(emulator);
  for (const auto& id : want) {
    if (got.count(id) == 0) return false;
  }
  return true;
}

std::string scrape(const RelayProcess& relay) {
  auto client = relay.client();
  auto res = client->Get("/metrics");
  REQUIRE(res);
  return res->body;
}

double metric(const std::string& page, const std::string& series) {
  const auto v = prometheus_value(page, series);
  INFO("series " << series);
  REQUIRE(v.has_value());
  return *v;
}

}  // namespace

TEST_CASE("relay overflow: with a spool, a Sumo outage past the memory queue still gets 202 and loses nothing",
          "[program][relay][overflow]") {
  TempDir tmp("ilert-sumo-relay-overflow");
  SumoEmulator emulator;
  emulator.start();
  emulator.fail_for({503}, 10min);
  // 4 KiB of memory queue holds a handful of these events; 150 of them need the spool.
  RelayProcess relay(emulator.url(), {"--spool-dir", tmp / "spool", "--queue-bytes", "4k"}, {}, tmp.path());
  auto client = relay.client();
  constexpr int kEvents = 150;
  std::set<std::string> accepted;
  for (int i = 0; i < kEvents; ++i) {
    auto res = client->Post("/ilert", webhook(10000 + i), "application/json");
    REQUIRE(res);
    INFO("webhook " << i << ": " << res->status << " " << res->body);
    REQUIRE(res->status == 202);
    accepted.insert(std::to_string(10000 + i));
  }
  // The outage is real, and the events went past the memory queue onto the disk.
  REQUIRE(wait_until([&] { return emulator.counters().by_status.count(503) > 0; }, 20s));
  std::string page = scrape(relay);
  INFO(page);
  CHECK(metric(page, "ilert_sumo_relay_webhook_requests_total{outcome=\"accepted\",code=\"202\"}") == kEvents);
  CHECK(metric(page, "ilert_sumo_relay_webhook_requests_total{outcome=\"queue_full\",code=\"503\"}") == 0.0);
  CHECK(metric(page, "ilert_sumo_sender_queue_events") < kEvents / 2);
  CHECK(metric(page, "ilert_sumo_sender_spool_backlog_events") >= kEvents / 2);
  CHECK(metric(page, "ilert_sumo_sender_refused_total{reason=\"queue_full\"}") == 0.0);
  CHECK(emulator.count() == 0);

  // Sumo is back: every accepted event arrives (at least once; each id is there).
  emulator.clear_faults();
  if (!wait_until([&] { return has_all(emulator, accepted); }, 90s)) {
    FAIL("the emulator holds " << received_ids(emulator).size() << " of " << kEvents << " events; relay stderr:\n"
                               << relay.read_stderr());
  }
  page = scrape(relay);
  for (const char* reason : {"oldest", "permanent_error", "budget_exhausted", "spool_evicted", "spool_corrupt",
                             "at_shutdown", "spool_error"}) {
    INFO("dropped reason " << reason);
    CHECK(metric(page, std::string("ilert_sumo_sender_dropped_total{reason=\"") + reason + "\"}") == 0.0);
  }
  relay.terminate(15s);
  const auto ids = received_ids(emulator);
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == accepted);
}

TEST_CASE("relay overflow: memory and spool both full: 503 + Retry-After, refused, and every 202 still arrives",
          "[program][relay][overflow]") {
  TempDir tmp("ilert-sumo-relay-overflow");
  SumoEmulator emulator;
  emulator.start();
  emulator.fail_for({503}, 10min);
  RelayProcess relay(emulator.url(), {"--spool-dir", tmp / "spool", "--queue-bytes", "4k", "--spool-max-bytes", "64k"},
                     {}, tmp.path());
  auto client = relay.client();
  std::set<std::string> accepted;
  std::set<std::string> refused;
  std::optional<httplib::Response> first_refusal;
  for (int i = 0; i < 2000 && refused.size() < 3; ++i) {
    const std::string id = std::to_string(20000 + i);
    auto res = client->Post("/ilert", webhook(20000 + i), "application/json");
    REQUIRE(res);
    if (res->status == 202) {
      REQUIRE(refused.empty());  // once full, it stays full while Sumo is down
      accepted.insert(id);
    } else {
      if (!first_refusal) first_refusal = *res;
      refused.insert(id);
    }
  }
  REQUIRE(first_refusal.has_value());
  CHECK(accepted.size() > 20);  // well past the memory queue before the spool filled
  CHECK(first_refusal->status == 503);
  CHECK(first_refusal->get_header_value("Retry-After") == "7");
  CHECK(first_refusal->body.find("\"error\":\"spool_full\"") != std::string::npos);
  std::string page = scrape(relay);
  INFO(page);
  CHECK(metric(page, "ilert_sumo_sender_refused_total{reason=\"spool_full\"}") == static_cast<double>(refused.size()));
  CHECK(metric(page, "ilert_sumo_relay_webhook_requests_total{outcome=\"unavailable\",code=\"503\"}") ==
        static_cast<double>(refused.size()));
  CHECK(metric(page, "ilert_sumo_relay_webhook_requests_total{outcome=\"accepted\",code=\"202\"}") ==
        static_cast<double>(accepted.size()));

  emulator.clear_faults();
  if (!wait_until([&] { return has_all(emulator, accepted); }, 90s)) {
    FAIL("the emulator holds " << received_ids(emulator).size() << " of " << accepted.size()
                               << " accepted events; relay stderr:\n"
                               << relay.read_stderr());
  }
  relay.terminate(15s);
  const auto ids = received_ids(emulator);
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == accepted);  // nothing refused was kept
}

TEST_CASE("relay overflow: --overflow drop_newest with a spool still refuses at a full memory queue",
          "[program][relay][overflow]") {
  TempDir tmp("ilert-sumo-relay-overflow");
  SumoEmulator emulator;
  emulator.start();
  emulator.fail_for({503}, 10min);
  RelayProcess relay(emulator.url(), {"--spool-dir", tmp / "spool", "--queue-bytes", "4k", "--overflow", "drop_newest"},
                     {}, tmp.path());
  auto client = relay.client();
  std::optional<httplib::Response> refusal;
  for (int i = 0; i < 500 && !refusal; ++i) {
    auto res = client->Post("/ilert", webhook(30000 + i), "application/json");
    REQUIRE(res);
    if (res->status != 202) refusal = *res;
  }
  REQUIRE(refusal.has_value());
  CHECK(refusal->status == 503);
  CHECK(refusal->body.find("\"error\":\"queue_full\"") != std::string::npos);
  CHECK(metric(scrape(relay), "ilert_sumo_relay_webhook_requests_total{outcome=\"queue_full\",code=\"503\"}") == 1.0);
  relay.terminate(15s);
}

TEST_CASE("relay overflow: --invalid-status decides what an unparseable body gets, and it reaches Sumo either way",
          "[program][relay][overflow]") {
  TempDir tmp("ilert-sumo-relay-overflow");
  SumoEmulator emulator;
  emulator.start();
  const std::string body =
      ilert_sumo::test::read_file(ilert_sumo::test::fixture_path("../../examples/samples/14-malformed-truncated.json"));

  struct Way {
    std::vector<std::string> args;
    int status;
  };
  for (const Way& way : {Way{{}, 400}, Way{{"--invalid-status", "202"}, 202}, Way{{"--invalid-status", "400"}, 400}}) {
    INFO("expected status " << way.status);
    emulator.clear_records();
    RelayProcess relay(emulator.url(), way.args, {}, tmp.path());
    auto client = relay.client();
    auto res = client->Post("/ilert", body, "application/json");
    REQUIRE(res);
    CHECK(res->status == way.status);
    rapidjson::Document d;
    d.Parse(res->body.c_str(), res->body.size());
    REQUIRE(d.IsObject());
    REQUIRE(d.HasMember("error"));
    CHECK(std::string(d["error"].GetString()) == "syntax");  // the parse error is reported both ways
    CHECK(d.HasMember("status") == (way.status == 202));
    const std::string page = scrape(relay);
    CHECK(metric(page, "ilert_sumo_relay_webhook_requests_total{outcome=\"invalid\",code=\"" +
                           std::to_string(way.status) + "\"}") == 1.0);
    CHECK(metric(page, "ilert_sumo_relay_events_total{event_type=\"invalid\"}") == 1.0);
    // (clear_records() keeps the emulator's counters, so wait on what it holds now.)
    REQUIRE(wait_until([&] { return !emulator.message_texts().empty(); }, 20s));
    const auto texts = emulator.message_texts();
    REQUIRE(texts.size() == 1);
    CHECK(texts[0].find("\"eventType\":\"ilert-sumo-invalid-payload\"") != std::string::npos);
    relay.terminate(15s);
    CHECK(relay.read_stderr().find("status=" + std::to_string(way.status) + " event_type=invalid") !=
          std::string::npos);
  }

  // Anything else is a configuration error, and so is spilling without a spool.
  ilert_sumo::test::check_config_errors(
      {{"--invalid-status 200", {"--invalid-status", "200"}, {}, "expected 400 or 202"},
       {"ILERT_SUMO_RELAY_INVALID_STATUS=500", {}, {{"ILERT_SUMO_RELAY_INVALID_STATUS", "500"}}, "expected 400 or 202"},
       {"--overflow spill without a spool", {"--overflow", "spill"}, {}, "--overflow spill needs --spool-dir"}},
      tmp / "err");
}
