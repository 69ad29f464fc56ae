// tests/test_relay_core.cpp: the relay's HTTP-free core (examples/ilert-sumo-relay/relay.cpp,
// metrics.cpp, options.cpp) in-process: options -> SumoConfig -> SumoSender -> Relay, no HTTP
// server and no child process. The same behaviour through the program is tested in
// test_relay_e2e.cpp, test_relay_auth.cpp and test_relay_metrics.cpp.
#if defined(ILERT_SUMO_HAVE_RELAY_CORE)

#include <chrono>
#include <memory>
#include <string>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "relay.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/relay_process.hpp"
#include "support/sumo_emulator.hpp"

using namespace std::chrono_literals;
using ilert_sumo::test::fixture_path;
using ilert_sumo::test::prometheus_value;
using ilert_sumo::test::read_file;
using ilert_sumo::test::SumoEmulator;

namespace {

// One relay core wired as main.cpp wires it, delivering to an in-process emulator.
struct Core {
  explicit Core(const SumoEmulator& emulator, relay::RelayOptions o = {}) : options(std::move(o)) {
    options.sumo_url = emulator.url();
    options.batch_age = 20ms;
    auto finalized = ilert_sumo::finalize(relay::make_sumo_config(options));
    REQUIRE(finalized);
    auto created = ilert_sumo::SumoSender::create(std::move(*finalized));
    REQUIRE(created);
    sender = std::move(*created);
    metrics = std::make_unique<relay::Metrics>(options.invalid_status);
    health = std::make_unique<relay::HealthMonitor>(options.degraded_after);
    core = std::make_unique<relay::Relay>(options, *sender, *metrics, *health);
  }
  ~Core() {
    if (sender) sender->shutdown(2s);
  }
  relay::Reply post(const std::string& body) {
    return core->handle_webhook(
        body, std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
  }

  relay::RelayOptions options;
  std::unique_ptr<ilert_sumo::SumoSender> sender;
  std::unique_ptr<relay::Metrics> metrics;
  std::unique_ptr<relay::HealthMonitor> health;
  std::unique_ptr<relay::Relay> core;
};

}  // namespace

TEST_CASE("relay core: a valid webhook is answered 202 and its line reaches Sumo", "[relay][integration]") {
  SumoEmulator emulator;
  emulator.start();
  Core c(emulator);
  const std::string body = read_file(fixture_path("valid/alert-created.json"));
  const auto parsed = ilert_sumo::parse_event(body);
  REQUIRE(parsed);
  const relay::Reply r = c.post(body);
  CHECK(r.status == 202);
  CHECK(r.body.find("\"eventType\":\"alert-created\"") != std::string::npos);
  CHECK(r.alert_id == std::to_string(ilert_sumo::base_of(*parsed).alert.id));
  REQUIRE(emulator.wait_for_messages(1, 10s));
  const auto messages = emulator.messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].category == "webhook/ilert");
  CHECK(messages[0].message.find("\"eventType\":\"alert-created\"") != std::string::npos);
  const std::string page = c.core->metrics(0).body;
  CHECK(prometheus_value(page, "ilert_sumo_relay_events_total{event_type=\"alert-created\"}") == 1.0);
  CHECK(prometheus_value(page, "ilert_sumo_relay_events_total{event_type=\"invalid\"}") == 0.0);
}

TEST_CASE("relay core: an invalid body is forwarded as an invalid-payload line and answered per --invalid-status",
          "[relay][integration]") {
  SumoEmulator emulator;
  emulator.start();
  const std::string broken = "{\"id\": 1, \"eventType\": \"alert-created\"";  // unterminated
  SECTION("default 400") {
    Core c(emulator);
    const relay::Reply r = c.post(broken);
    CHECK(r.status == 400);
    CHECK(r.error == "syntax");
    REQUIRE(emulator.wait_for_messages(1, 10s));
    CHECK(emulator.messages()[0].message.find("\"eventType\":\"ilert-sumo-invalid-payload\"") != std::string::npos);
    CHECK(prometheus_value(c.core->metrics(0).body, "ilert_sumo_relay_events_total{event_type=\"invalid\"}") == 1.0);
  }
  SECTION("--invalid-status 202") {
    relay::RelayOptions o;
    o.invalid_status = 202;
    Core c(emulator, o);
    const relay::Reply r = c.post(broken);
    CHECK(r.status == 202);
    CHECK(r.body.find("\"eventType\":\"invalid\"") != std::string::npos);
    REQUIRE(emulator.wait_for_messages(1, 10s));
  }
}

TEST_CASE("relay core: credentials are checked before anything is queued", "[relay][integration]") {
  SumoEmulator emulator;
  emulator.start();
  relay::RelayOptions o;
  o.basic_auth = "ilert:s3cret-pass";
  Core c(emulator, o);
  relay::PresentedCredentials none;
  CHECK_FALSE(c.core->authorized(none));
  relay::PresentedCredentials right;
  const std::string good = "Basic aWxlcnQ6czNjcmV0LXBhc3M=";  // base64("ilert:s3cret-pass")
  right.authorization = good;
  CHECK(c.core->authorized(right));
  relay::PresentedCredentials wrong;
  const std::string bad = "Basic aWxlcnQ6czNjcmV0LXBhc3Q=";  // base64("ilert:s3cret-pasT")
  wrong.authorization = bad;
  CHECK_FALSE(c.core->authorized(wrong));
  relay::PresentedCredentials repeated = right;
  repeated.repeated = true;
  CHECK_FALSE(c.core->authorized(repeated));
  const relay::Reply r = c.core->unauthorized();
  CHECK(r.status == 401);
  bool challenge = false;
  for (const auto& h : r.headers)
    challenge = challenge || (h.first == "WWW-Authenticate" && h.second.rfind("Basic", 0) == 0);
  CHECK(challenge);
  CHECK(r.body.find("s3cret") == std::string::npos);
}

TEST_CASE("relay core: after shutdown begins a webhook is refused with 503, never accepted and lost",
          "[relay][integration]") {
  SumoEmulator emulator;
  emulator.start();
  Core c(emulator);
  c.core->begin_shutdown();
  c.sender->shutdown(2s);
  const relay::Reply r = c.post(read_file(fixture_path("valid/alert-created.json")));
  CHECK(r.status == 503);
  CHECK(r.body.find("shutting_down") != std::string::npos);
  CHECK(c.core->healthz().status == 503);
  CHECK(emulator.count() == 0);
}

#endif  // ILERT_SUMO_HAVE_RELAY_CORE
