// tests/test_relay_cli.cpp: the relay's command line (issue 11, point 2): the shared CLI convention
// (--help, --version, usage errors on stderr with exit 2 and nothing on stdout), the --config file
// and its precedence (flag > environment > config file > default), secrets refused in a config
// file, and SIGHUP (flush now, keep running). Real processes against the real emulator; no sleeps.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "ilert_sumo/version.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
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

namespace {

struct Run {
  ilert_sumo::test::ExitStatus status;
  std::string out;
  std::string err;
};

// Runs the relay to its exit on a clean environment (a loopback Sumo URL nobody listens on).
Run run_relay(const std::vector<std::string>& args, const TempDir& dir, ilert_sumo::test::RelayEnv env = {}) {
  const std::string program = ilert_sumo::test::bin_path("ilert-sumo-relay");
  REQUIRE(fs::exists(program));
  env.emplace("ILERT_SUMO_URL", "http://127.0.0.1:9/receiver/v1/http/CODE");
  const std::string err = dir / "run.stderr";
  ChildProcess p(program, args, ilert_sumo::test::clean_relay_env(std::move(env)), err);
  Run r;
  while (auto line = p.read_line(20s)) r.out += *line + "\n";
  const auto st = p.wait(20s);
  REQUIRE(st.has_value());
  r.status = *st;
  r.err = ilert_sumo::test::read_file(err);
  return r;
}

std::string sample_body() {
  return ilert_sumo::test::read_file(ilert_sumo::test::fixture_path("../../examples/samples/01-alert-created.json"));
}

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("relay cli: --help and --version print on stdout and exit 0", "[program][relay][cli]") {
  TempDir tmp("ilert-sumo-relay-cli");
  const Run help = run_relay({"--help"}, tmp);
  CHECK(help.status.ok());
  CHECK(help.out.rfind("Usage:", 0) == 0);
  for (const char* flag : {"--listen", "--path", "--config", "--spool-dir", "--url-file", "ILERT_SUMO_RELAY_PATH"}) {
    INFO(flag);
    CHECK(help.out.find(flag) != std::string::npos);
  }
  CHECK(help.err.empty());

  const Run version = run_relay({"--version"}, tmp);
  CHECK(version.status.ok());
  CHECK(version.out == std::string("ilert-sumo-relay ") + ilert_sumo::kVersion + "\n");
  CHECK(version.err.empty());
}

TEST_CASE("relay cli: usage errors exit 2 with the shared format on stderr and nothing on stdout",
          "[program][relay][cli]") {
  TempDir tmp("ilert-sumo-relay-cli");
  SECTION("an unknown flag") {
    const Run r = run_relay({"--no-such-flag"}, tmp);
    CHECK((r.status.exited && r.status.code == 2));
    CHECK(r.out.empty());
    CHECK(r.err.rfind("ilert-sumo-relay: error: ", 0) == 0);
    CHECK(r.err.find("--no-such-flag") != std::string::npos);
    CHECK(r.err.find("Run with --help for more information.") != std::string::npos);
  }
  SECTION("a bad numeric value") {
    const Run r = run_relay({"--max-body", "lots"}, tmp);
    CHECK((r.status.exited && r.status.code == 2));
    CHECK(r.out.empty());
    CHECK(r.err.rfind("ilert-sumo-relay: error: --max-body: expected a size", 0) == 0);
  }
  SECTION("a missing value") {
    const Run r = run_relay({"--threads"}, tmp);
    CHECK((r.status.exited && r.status.code == 2));
    CHECK(r.out.empty());
    CHECK(r.err.find("--threads") != std::string::npos);
  }
  SECTION("a mistyped secret flag never echoes the URL's code") {
    const Run r = run_relay({"--sumo-url", "https://h.example/receiver/v1/http/ZaSECRETcode0123"}, tmp);
    CHECK((r.status.exited && r.status.code == 2));
    CHECK(r.err.find("SECRETcode") == std::string::npos);
    CHECK(r.err.find("ilert-sumo-relay: error: ") == 0);
  }
}

TEST_CASE("relay cli: the config file sets options, the environment and flags override it", "[program][relay][cli]") {
  TempDir tmp("ilert-sumo-relay-cli");
  SumoEmulator emulator;
  emulator.start();
  const std::string config = write_file(tmp / "relay.ini",
                                        "# the relay's settings\n"
                                        "path = /from-config\n"
                                        "category = from-config/category\n"
                                        "source-name = from-config-name\n"
                                        "source-host = from-config-host\n"
                                        "fields-from-event = true\n");
  // category: config < environment; source-name: config < flag; path and source-host: config only.
  RelayProcess relay(emulator.url(), {"--config", config, "--source-name", "from-flag-name"},
                     {{"ILERT_SUMO_RELAY_CATEGORY", "from-env/category"}}, tmp.path());
  auto client = relay.client();
  auto res = client->Post("/from-config", sample_body(), "application/json");
  REQUIRE(res);
  CHECK(res->status == 202);
  auto old_path = client->Post("/ilert", sample_body(), "application/json");
  REQUIRE(old_path);
  CHECK(old_path->status == 404);
  REQUIRE(emulator.wait_for_messages(1, 20s));
  const auto messages = emulator.messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].category == "from-env/category");
  CHECK(messages[0].name == "from-flag-name");
  CHECK(messages[0].host == "from-config-host");
  CHECK(messages[0].fields.find("eventType=alert-created") != std::string::npos);
  relay.terminate(15s);
}

TEST_CASE("relay cli: a config file may not hold secrets or unknown keys", "[program][relay][cli]") {
  TempDir tmp("ilert-sumo-relay-cli");
  const std::string err = tmp / "err";
  const auto config = [&](const std::string& name, const std::string& text) { return write_file(tmp / name, text); };
  const std::vector<ilert_sumo::test::ConfigErrorCase> cases = {
      {"url",
       {"--config", config("url.ini", "url = https://h.example/receiver/v1/http/ZaSECRETcode0123\n")},
       {},
       "secrets are not read from a config file"},
      {"token", {"--config", config("token.toml", "token = \"SECRET-token\"\n")}, {}, "'token'"},
      {"basic-auth",
       {"--config", config("basic.ini", "basic-auth = u:SECRET-pw\n")},
       {},
       "ILERT_SUMO_RELAY_BASIC_AUTH"},
      {"auth-header-value",
       {"--config", config("hv.ini", "auth-header = X-T\nauth-header-value = SECRET-v\n")},
       {},
       "secrets are not read from a config file"},
      {"unknown key", {"--config", config("unknown.ini", "no-such-setting = 1\n")}, {}, "no-such-setting"},
      {"bad value", {"--config", config("bad.ini", "max-body = lots\n")}, {}, "max-body: expected a size"},
      {"missing file", {"--config", tmp / "absent.ini"}, {}, "cannot read the file"},
      {"via ILERT_SUMO_RELAY_CONFIG",
       {},
       {{"ILERT_SUMO_RELAY_CONFIG", config("env.ini", "path = /metrics\n")}},
       "own endpoint"},
  };
  ilert_sumo::test::check_config_errors(cases, err);
}

TEST_CASE("relay: SIGHUP sends the queue now and keeps the relay running, SIGTERM still stops it",
          "[program][relay][cli][signals]") {
  TempDir tmp("ilert-sumo-relay-cli");
  SumoEmulator emulator;
  emulator.start();
  // A batch would wait a minute: only the SIGHUP can send it within the test's deadlines.
  RelayProcess relay(emulator.url(), {"--batch-age", "60s"}, {}, tmp.path());
  auto client = relay.client();
  for (int i = 0; i < 3; ++i) {
    auto res = client->Post("/ilert", sample_body(), "application/json");
    REQUIRE(res);
    CHECK(res->status == 202);
  }
  relay.process().signal(SIGHUP);
  if (!emulator.wait_for_messages(3, 20s))
    FAIL("after SIGHUP: " << emulator.count() << " of 3; " << relay.read_stderr());
  CHECK(relay.process().running());
  CHECK(ilert_sumo::test::wait_until([&] { return relay.read_stderr().find("received SIGHUP") != std::string::npos; },
                                     10s));

  // Still answering; a second SIGHUP sends the next webhook too.
  auto health = client->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto res = client->Post("/ilert", sample_body(), "application/json");
  REQUIRE(res);
  CHECK(res->status == 202);
  relay.process().signal(SIGHUP);
  if (!emulator.wait_for_messages(4, 20s))
    FAIL("after 2nd SIGHUP: " << emulator.count() << " of 4; " << relay.read_stderr());
  CHECK(relay.process().running());

  // SIGTERM: a clean exit (status 0) within the shutdown deadline (10 s) plus a margin.
  relay.terminate(15s);
  CHECK(relay.read_stderr().find("shutting down") != std::string::npos);
}
