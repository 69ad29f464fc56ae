// tests/test_relay_auth.cpp: the relay's header-secret authentication (--auth-header) over real
// HTTP [relay][auth].
//
// iLert's webhook alert actions can send custom HTTP headers (ilert-go v3.18.0 `headers: [{key,
// value}]`): the relay checks one named header against a secret from the environment or a file,
// in constant time, alone or together with Basic. Right / wrong / missing / wrong-length / repeated
// values, a value from a file, the secret never in the log or /metrics, and the configuration
// mistakes that must stop the relay (exit 2) without printing the secret.
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/relay_process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using ilert_sumo::test::prometheus_value;
using ilert_sumo::test::RelayEnv;
using ilert_sumo::test::RelayProcess;
using ilert_sumo::test::SumoEmulator;
using ilert_sumo::test::TempDir;

namespace {

std::string webhook(int id) {
  return "{\"id\":\"" + std::to_string(id) +
         "\",\"eventType\":\"alert-created\",\"summary\":\"auth test\",\"priority\":\"HIGH\","
         "\"reportTime\":\"2024-03-14T09:26:53.589Z\"}";
}

int post_status(const RelayProcess& relay, const httplib::Headers& headers, int id) {
  auto client = relay.client();
  auto res = client->Post("/ilert", headers, webhook(id), "application/json");
  REQUIRE(res);
  return res->status;
}

// The relay's stderr and /metrics page never contain `secret`.
void check_secret_never_shown(const RelayProcess& relay, const std::string& secret) {
  auto client = relay.client();
  auto metrics = client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find(secret) == std::string::npos);
  CHECK(relay.read_stderr().find(secret) == std::string::npos);
}

}  // namespace

TEST_CASE("relay auth: a custom header secret from the environment", "[program][relay][auth]") {
  TempDir tmp("ilert-sumo-relay-auth");
  SumoEmulator emulator;
  emulator.start();
  const std::string secret = "hdr-7f3c9a1e5b2d4c6e8f0a";
  RelayProcess relay(emulator.url(), {"--auth-header", "X-Ilert-Token"},
                     {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", secret}}, tmp.path());

  CHECK(post_status(relay, {{"X-Ilert-Token", secret}}, 1) == 202);
  CHECK(post_status(relay, {{"x-ilert-token", secret}}, 2) == 202);  // header names are case-insensitive
  CHECK(post_status(relay, {}, 3) == 401);                           // missing
  CHECK(post_status(relay, {{"X-Ilert-Token", "hdr-7f3c9a1e5b2d4c6e8f0b"}}, 4) == 401);  // wrong, same length
  CHECK(post_status(relay, {{"X-Ilert-Token", secret.substr(0, 10)}}, 5) == 401);        // a prefix
  CHECK(post_status(relay, {{"X-Ilert-Token", secret + "0"}}, 6) == 401);                // longer
  CHECK(post_status(relay, {{"X-Ilert-Token", ""}}, 7) == 401);                          // empty
  CHECK(post_status(relay, {{"X-Other", secret}}, 8) == 401);                            // another header
  CHECK(post_status(relay, {{"Authorization", "Bearer " + secret}}, 9) == 401);
  // Sent twice (once right): refused, whichever copy a proxy would have passed on.
  CHECK(post_status(relay, {{"X-Ilert-Token", "wrong"}, {"X-Ilert-Token", secret}}, 10) == 401);
  CHECK(post_status(relay, {{"X-Ilert-Token", secret}, {"X-Ilert-Token", secret}}, 11) == 401);

  auto client = relay.client();
  auto refused = client->Post("/ilert", webhook(12), "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(refused->body.find("unauthorized") != std::string::npos);
  CHECK_FALSE(refused->has_header("WWW-Authenticate"));  // a custom header has no HTTP scheme to name

  REQUIRE(emulator.wait_for_messages(2, 20s));
  auto metrics = client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(prometheus_value(metrics->body, "ilert_sumo_relay_webhook_requests_total{outcome=\"accepted\",code=\"202\"}") ==
        2.0);
  CHECK(prometheus_value(metrics->body,
                         "ilert_sumo_relay_webhook_requests_total{outcome=\"unauthorized\",code=\"401\"}") == 10.0);
  check_secret_never_shown(relay, secret);
  relay.terminate(15s);
  CHECK(emulator.count() == 2);  // only the authorized ones were forwarded
  const std::string log = relay.read_stderr();
  CHECK(log.find("authentication: header X-Ilert-Token") != std::string::npos);
  CHECK(log.find(secret) == std::string::npos);
}

TEST_CASE("relay auth: Authorization: Bearer from a file", "[program][relay][auth]") {
  TempDir tmp("ilert-sumo-relay-auth");
  SumoEmulator emulator;
  emulator.start();
  const std::string token = "tok_4b8e2f6a0c1d3e5f7a9b";
  const std::string file = tmp / "bearer";
  { std::ofstream(file) << "Bearer " << token << "\n"; }  // one trailing newline is ignored
  RelayProcess relay(emulator.url(), {"--auth-header", "Authorization", "--auth-header-file", file}, {}, tmp.path());

  CHECK(post_status(relay, {{"Authorization", "Bearer " + token}}, 21) == 202);
  CHECK(post_status(relay, {{"Authorization", "Bearer " + token + "x"}}, 22) == 401);
  CHECK(post_status(relay, {{"Authorization", token}}, 23) == 401);
  CHECK(post_status(relay, {{"Authorization", "Basic dTpw"}}, 24) == 401);
  auto client = relay.client();
  auto refused = client->Post("/ilert", webhook(25), "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(refused->get_header_value("WWW-Authenticate") == "Bearer realm=\"ilert-sumo-relay\"");
  REQUIRE(emulator.wait_for_messages(1, 20s));
  check_secret_never_shown(relay, token);
  relay.terminate(15s);
  CHECK(emulator.count() == 1);
}

TEST_CASE("relay auth: Basic and a header together: both must match", "[program][relay][auth]") {
  TempDir tmp("ilert-sumo-relay-auth");
  SumoEmulator emulator;
  emulator.start();
  const std::string secret = "both-9d1f3b5a7c";
  RelayProcess relay(
      emulator.url(), {"--auth-header", "X-Ilert-Token"},
      {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", secret}, {"ILERT_SUMO_RELAY_BASIC_AUTH", "ilert:pw-2c4e6a"}}, tmp.path());
  const std::string basic = "Basic aWxlcnQ6cHctMmM0ZTZh";  // ilert:pw-2c4e6a
  CHECK(post_status(relay, {{"Authorization", basic}, {"X-Ilert-Token", secret}}, 31) == 202);
  CHECK(post_status(relay, {{"Authorization", basic}}, 32) == 401);
  CHECK(post_status(relay, {{"X-Ilert-Token", secret}}, 33) == 401);
  CHECK(post_status(relay, {{"Authorization", "Basic aWxlcnQ6d3Jvbmc="}, {"X-Ilert-Token", secret}}, 34) == 401);
  REQUIRE(emulator.wait_for_messages(1, 20s));
  check_secret_never_shown(relay, secret);
  relay.terminate(15s);
  CHECK(emulator.count() == 1);
}

TEST_CASE("relay auth: header configuration mistakes are exit-2 errors that never show the secret",
          "[program][relay][auth]") {
  TempDir tmp("ilert-sumo-relay-auth");
  const std::string err = tmp / "err";
  const std::string empty_file = tmp / "empty";
  { std::ofstream(empty_file) << "\n"; }
  const std::string newline_file = tmp / "two-lines";
  { std::ofstream(newline_file) << "SECRET-part-one\nSECRET-part-two\n"; }
  const std::vector<ilert_sumo::test::ConfigErrorCase> cases = {
      {"empty value variable",
       {"--auth-header", "X-T"},
       {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", ""}},
       "is set but empty"},
      {"empty value file", {"--auth-header", "X-T", "--auth-header-file", empty_file}, {}, "the file is empty"},
      {"empty value file (variable)",
       {"--auth-header", "X-T"},
       {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE_FILE", empty_file}},
       "the file is empty"},
      {"missing value file", {"--auth-header", "X-T", "--auth-header-file", tmp / "nope"}, {}, "cannot read"},
      {"header without value", {"--auth-header", "X-T"}, {}, "needs its value"},
      {"value without header", {}, {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", "SECRET-abc"}}, "no header is named"},
      {"value on the command line",
       {"--auth-header", "X-T", "--auth-header-value", "SECRET-abc"},
       {},
       "not accepted on the command line"},
      {"not a header name",
       {"--auth-header", "X T"},
       {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", "SECRET-abc"}},
       "expected an HTTP header name"},
      {"a framing header",
       {"--auth-header", "Content-Length"},
       {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", "SECRET-abc"}},
       "describes the request itself"},
      {"value with a line break",
       {"--auth-header", "X-T", "--auth-header-file", newline_file},
       {},
       "control character"},
      {"value with a leading space",
       {"--auth-header", "X-T"},
       {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", " SECRET-abc"}},
       "whitespace"},
      {"Authorization header and Basic",
       {"--auth-header", "authorization"},
       {{"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", "Bearer SECRET-abc"}, {"ILERT_SUMO_RELAY_BASIC_AUTH", "u:SECRET-pw"}},
       "both need the Authorization header"},
  };
  ilert_sumo::test::check_config_errors(cases, err);
}
