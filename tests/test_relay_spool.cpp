// tests/test_relay_spool.cpp: ilert-sumo-relay with a write-ahead spool at its cap [relay][spool].
//
// Issue 12: when the spool reaches --spool-max-bytes the relay answers 503 + Retry-After (nothing
// accepted is evicted to make room), /metrics and the shutdown line count the refusals per reason
// and the losses at the deadline, and a restart delivers every webhook that got a 202.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/sumo_emulator.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::SumoEmulator;

using ilert_sumo::test::TempDir;

namespace {

struct Relay {
  std::unique_ptr<ChildProcess> process;
  std::string stderr_path;
  int port = 0;
  Relay(const std::string& sumo_url, const std::vector<std::string>& extra, const fs::path& log) {
    std::map<std::string, std::optional<std::string>> env;
    for (const char* v : {"ILERT_SUMO_URL_FILE", "ILERT_SUMO_ENDPOINT", "ILERT_SUMO_TOKEN", "ILERT_SUMO_TOKEN_FILE",
                          "ILERT_SUMO_RELAY_BASIC_AUTH", "ILERT_SUMO_RELAY_BASIC_AUTH_FILE", "ILERT_SUMO_RELAY_LISTEN",
                          "ILERT_SUMO_RELAY_SPOOL_DIR", "ILERT_SUMO_RELAY_SPOOL_MAX_BYTES"}) {
      env.emplace(v, std::nullopt);
    }
    env["ILERT_SUMO_URL"] = sumo_url;
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--batch-age", "50ms", "--retry-after", "7"};
    args.insert(args.end(), extra.begin(), extra.end());
    stderr_path = log.string();
    process = std::make_unique<ChildProcess>(ilert_sumo::test::bin_path("ilert-sumo-relay"), args, env, stderr_path);
    const auto line = process->read_line(20s);
    INFO("relay stderr: " << log_text());
    REQUIRE(line.has_value());
    const auto p = ilert_sumo::test::parse_listening_port(*line);
    REQUIRE(p.has_value());
    port = *p;
  }
  std::string log_text() const {
    try {
      return ilert_sumo::test::read_file(stderr_path);
    } catch (...) {
      return "";
    }
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(10, 0);
    return c;
  }
};

std::string body(int id) {
  return R"({"id":")" + std::to_string(id) + R"(","eventType":"alert-created","summary":"relay spool cap )" +
         std::to_string(id) + R"(","status":"PENDING","priority":"HIGH","reportTime":"2024-03-14T09:26:53.601Z"})";
}

}  // namespace

TEST_CASE("relay: a full write-ahead spool answers 503 + Retry-After, evicts nothing, and counts the refusals",
          "[program][relay][spool]") {
  TempDir dir("ilert-sumo-relay-spool");
  const fs::path spool = fs::path(dir / "spool");
  const std::string down = "http://127.0.0.1:" + std::to_string(ilert_sumo::test::closed_loopback_port()) +
                           "/receiver/v1/http/emulator-test-code";
  std::vector<int> accepted;
  int refused = 0;
  {
    Relay relay(down, {"--spool-dir", spool.string(), "--spool-max-bytes", "64k", "--shutdown-timeout", "1"},
                fs::path(dir / "relay1.stderr"));
    auto c = relay.client();
    for (int id = 1; id <= 1500 && refused < 5; ++id) {
      auto res = c.Post("/ilert", body(id), "application/json");
      REQUIRE(res);
      if (res->status == 202) {
        REQUIRE(refused == 0);  // refusals start at the cap and go on (Sumo is down)
        accepted.push_back(id);
        continue;
      }
      INFO(res->body);
      REQUIRE(res->status == 503);
      CHECK(res->get_header_value("Retry-After") == "7");
      CHECK(res->body.find("spool_full") != std::string::npos);
      ++refused;
    }
    CHECK(accepted.size() > 50);
    CHECK(refused == 5);
    auto metrics = c.Get("/metrics");
    REQUIRE(metrics);
    INFO(metrics->body);
    CHECK(metrics->body.find("ilert_sumo_sender_refused_total{reason=\"spool_full\"} 5") != std::string::npos);
    CHECK(metrics->body.find("ilert_sumo_sender_dropped_total{reason=\"spool_evicted\"} 0") != std::string::npos);
    CHECK(metrics->body.find("ilert_sumo_sender_lost_at_deadline_total 0") != std::string::npos);
    relay.process->signal(SIGTERM);
    const auto status = relay.process->wait(15s);
    REQUIRE(status.has_value());
    const std::string log = relay.log_text();
    INFO(log);
    CHECK(log.find("lost at the deadline 0") != std::string::npos);
    CHECK(log.find("spool full 5") != std::string::npos);
    CHECK(log.find("spool_full") != std::string::npos);  // the sender's notice, logged once
  }
  // Every 202 reaches Sumo after a restart.
  SumoEmulator emu;
  ilert_sumo::test::EmulatorConfig ec;
  ec.code = "emulator-test-code";
  emu.start(ec);
  Relay relay(emu.url(), {"--spool-dir", spool.string(), "--spool-max-bytes", "64k"}, fs::path(dir / "relay2.stderr"));
  INFO(relay.log_text());
  REQUIRE(emu.wait_for_messages(accepted.size(), 20s));
  const auto texts = emu.message_texts();
  CHECK(texts.size() == accepted.size());
  for (int id : accepted) {
    bool found = false;
    for (const auto& t : texts) found = found || t.find("\"id\":\"" + std::to_string(id) + "\"") != std::string::npos;
    CHECK(found);
  }
}
