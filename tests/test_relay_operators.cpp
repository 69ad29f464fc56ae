// tests/test_relay_operators.cpp: operators see failures at once (issue 11, point 4), end to end:
// client (httplib) -> the built ilert-sumo-relay -> SumoEmulator failing with 503 for a while.
//   * the relay's log has the first failed delivery attempt while Sumo is still failing (not after
//     the batch's retry budget), and "delivery recovered" once it is back;
//   * /healthz says sumoFailing exactly when the log does;
//   * /metrics exports every drop reason, and enqueued + recovered = delivered + refused + dropped
//     + queue_events + spool_backlog_events holds on each scrape, during the outage and after.
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/relay_process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using ilert_sumo::test::prometheus_value;
using ilert_sumo::test::RelayProcess;
using ilert_sumo::test::SumoEmulator;
using ilert_sumo::test::TempDir;

namespace {

const char* const kRefusals[] = {"queue_full", "too_large", "bad_metadata", "spool_full", "spool_error"};
const char* const kDrops[] = {"oldest",        "permanent_error", "budget_exhausted", "spool_evicted",
                              "spool_corrupt", "at_shutdown",     "spool_error"};

double value(const std::string& page, const std::string& series) {
  const auto v = prometheus_value(page, series);
  INFO("series " << series);
  REQUIRE(v.has_value());
  return *v;
}

/// Checks the accounting identity on one scrape; returns the delivered count.
double check_identity(RelayProcess& relay) {
  const auto res = relay.client()->Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  const std::string& page = res->body;
  double refused = 0;
  for (const char* r : kRefusals)
    refused += value(page, std::string("ilert_sumo_sender_refused_total{reason=\"") + r + "\"}");
  double dropped = 0;
  for (const char* r : kDrops)
    dropped += value(page, std::string("ilert_sumo_sender_dropped_total{reason=\"") + r + "\"}");
  const double enqueued = value(page, "ilert_sumo_sender_enqueued_total");
  const double recovered = value(page, "ilert_sumo_sender_recovered_total");
  const double delivered = value(page, "ilert_sumo_sender_delivered_events_total");
  const double queued = value(page, "ilert_sumo_sender_queue_events");
  const double backlog = value(page, "ilert_sumo_sender_spool_backlog_events");
  INFO("enqueued " << enqueued << " recovered " << recovered << " delivered " << delivered << " refused " << refused
                   << " dropped " << dropped << " queued " << queued << " backlog " << backlog);
  CHECK(enqueued + recovered == delivered + refused + dropped + queued + backlog);
  return delivered;
}

/// What /healthz says about Sumo: true (failing), false, or nullopt without an answer.
std::optional<bool> sumo_failing(RelayProcess& relay) {
  const auto res = relay.client()->Get("/healthz");
  if (!res) return std::nullopt;
  return res->body.find("\"sumoFailing\":true") != std::string::npos;
}

}  // namespace

TEST_CASE("relay operators: a failing Sumo is in the log and /healthz at once, and the counts add up",
          "[program][relay][operators]") {
  SumoEmulator emu;
  emu.start();
  TempDir dir("ilert-sumo-operators");
  RelayProcess relay(emu.url(), {}, {}, dir.path());
  const std::string body =
      ilert_sumo::test::read_file(ilert_sumo::test::repo_path("examples/samples/01-alert-created.json"));

  CHECK(sumo_failing(relay) == std::optional<bool>(false));
  emu.fail_for({503}, 3000ms);  // from the relay's first request: 3 s of 503, then Sumo is back
  constexpr int kPosts = 5;
  for (int i = 0; i < kPosts; ++i) {
    const auto res = relay.client()->Post("/ilert", body, "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 202);
  }
  // The first failed attempt is logged while Sumo is still failing.
  REQUIRE(ilert_sumo::test::wait_until(
      [&] { return relay.read_stderr().find("delivery attempt failed (status 503)") != std::string::npos; }, 2500ms));
  CHECK(emu.count() == 0);
  CHECK(sumo_failing(relay) == std::optional<bool>(true));  // /healthz agrees with the log
  CHECK(check_identity(relay) == 0);                        // nothing delivered yet, every event accounted for
  CHECK(relay.read_stderr().find("emulator-test-code") == std::string::npos);  // the URL's secret

  // Sumo is back: delivered, "recovered" in the log, /healthz no longer failing.
  REQUIRE(emu.wait_for_messages(kPosts, 60s));
  REQUIRE(ilert_sumo::test::wait_until(
      [&] { return relay.read_stderr().find("delivery recovered") != std::string::npos; }, 10s));
  REQUIRE(ilert_sumo::test::wait_until([&] { return sumo_failing(relay) == std::optional<bool>(false); }, 10s));
  CHECK(check_identity(relay) == kPosts);
  // The default category is what Sumo's iLert app and sumo/ read (issue 10, point 6).
  for (const auto& m : emu.messages()) CHECK(m.category == "webhook/ilert");
  relay.terminate(10s);
}

TEST_CASE("relay: --category '' sends no X-Sumo-Category (the source's own applies)", "[program][relay][operators]") {
  SumoEmulator emu;
  emu.start();
  TempDir dir("ilert-sumo-operators");
  RelayProcess relay(emu.url(), {"--category", ""}, {}, dir.path());
  const std::string body =
      ilert_sumo::test::read_file(ilert_sumo::test::repo_path("examples/samples/01-alert-created.json"));
  const auto res = relay.client()->Post("/ilert", body, "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 202);
  REQUIRE(emu.wait_for_messages(1, 20s));
  CHECK(emu.messages().front().category.empty());
  relay.terminate(10s);
}
