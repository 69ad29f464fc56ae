// tests/test_spool_times.cpp: a line spooled during an outage keeps the event's original times
// (issue 9): a webhook without `timestamp` is parsed with its receipt time, accepted by a
// write-ahead SumoSender while the Sumo source answers 503, the sender shuts down with the line on
// disk, and a new sender delivers it later through real libcurl to the emulator: `time` and
// `receivedAt` are still the moment the webhook arrived, not the moment of delivery.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "support/catch.hpp"
#include "support/line_json.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;
using ilert_sumo::test::SumoEmulator;

namespace {

FinalizedSumoConfig spool_config(const SumoEmulator& emu, const std::string& spool_dir) {
  SumoConfig c;
  c.url = emu.url();
  c.allow_insecure_http = true;
  c.retry.initial_backoff = 10ms;
  c.retry.max_backoff = 50ms;
  c.retry.budget = 60s;
  c.connect_timeout = 2s;
  c.request_timeout = 5s;
  c.batch.max_age = 20ms;
  c.spool.dir = spool_dir;
  c.spool.mode = SpoolMode::write_ahead;
  auto f = finalize(std::move(c));
  if (!f) FAIL("finalize: " << f.error().to_string());
  return std::move(f).value();
}

}  // namespace

TEST_CASE("spool: a line delivered after an outage keeps its original time and receivedAt",
          "[integration][sender][spool]") {
  ilert_sumo::test::TempDir dir("ilert-sumo-spool-times");
  SumoEmulator emu;
  emu.start();
  // An hour before "now": what a long outage looks like when the spool is finally drained.
  const UtcTime received =
      std::chrono::time_point_cast<std::chrono::milliseconds>(UtcTime(std::chrono::system_clock::now()) - 1h);
  ParseOptions options;
  options.received_at = received;
  const std::string body =
      R"({"id":"8532156","eventType":"alert-acknowledged","reportTime":"2026-03-14T09:00:00.000Z","status":"ACCEPTED"})";
  const Expected<Event> event = parse_event(body, options);
  REQUIRE(event.has_value());
  const std::string expected_time = format_iso8601_millis(received);

  emu.fail_for({503}, 60s);  // Sumo is down
  {
    auto sender = SumoSender::create(spool_config(emu, dir.path() + "/spool"));
    REQUIRE(sender.has_value());
    REQUIRE((*sender)->enqueue(*event) == EnqueueStatus::accepted);
    const FlushResult r = (*sender)->shutdown(300ms);
    CHECK(r.spooled == 1);
    CHECK(emu.count() == 0);
  }
  emu.clear_faults();  // Sumo is back
  auto sender = SumoSender::create(spool_config(emu, dir.path() + "/spool"));
  REQUIRE(sender.has_value());
  CHECK((*sender)->flush(20s).completed);
  const std::vector<std::string> got = emu.message_texts();
  REQUIRE(got.size() == 1);
  const auto doc = ilert_sumo::test::parse_json(got[0]);
  REQUIRE(doc.HasMember("receivedAt"));
  CHECK(ilert_sumo::test::str(doc["time"]) == expected_time);
  CHECK(ilert_sumo::test::str(doc["receivedAt"]) == expected_time);
  CHECK(ilert_sumo::test::str(doc["reportTime"]) == "2026-03-14T09:00:00.000Z");
  CHECK((*sender)->shutdown(2s).completed);
}
