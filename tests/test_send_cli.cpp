// tests/test_send_cli.cpp [cli-send]: the built ilert-sumo-send program against an in-process Sumo
// emulator: the summary and exit status on success, invalid payloads sent as raw lines with their
// error (or skipped with --skip-invalid), exit 1 when Sumo refuses, exit 2 on usage errors (nothing
// sent), and never a secret (URL code, token) in anything it prints. With --spool-dir: Sumo down
// -> exit 1 within --shutdown-timeout and the events stay spooled (no secret on disk); the next
// run with the same spool and no FILE (stdin not read) delivers them all with their original
// headers, also to a different URL; spooled events go before new ones; a good run leaves no
// segment behind. Without --spool-dir, SIGTERM during a long Retry-After wait ends the program
// within --shutdown-timeout (SumoClient::request_stop()), with its summary and exit 1.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/wait.hpp"

using ilert_sumo::test::EmulatorConfig;
using ilert_sumo::test::Fault;
using ilert_sumo::test::SumoEmulator;
namespace fs = std::filesystem;

namespace {

const char* const kCode = "CliSeCrEtCoDe9f8e7d6c5b4a==";
const char* const kToken = "cli-ToKeN-sEcReT-42a1b2c3";

const char* const kValid1 =
    R"({"id":"4711","eventType":"alert-created","summary":"Disk space low on db-01","details":"92% used",)"
    R"("status":"PENDING","priority":"HIGH","reportTime":"2024-03-14T09:26:53.601Z"})";
const char* const kValid2 =
    R"({"id":4712,"eventType":"alert-resolved","summary":"Checkout latency","status":"RESOLVED",)"
    R"("resolvedOn":"2024-03-14T10:00:00Z"})";
const char* const kInvalid = R"({"id":"4713","eventType":"alert-created","summary":"cut off)";

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

/// A scratch directory for one test case, removed at the end.
struct TempDir {
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("ilert-sumo-send-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const auto p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path path;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Runs ilert-sumo-send with `args` (shell words, already quoted), bounded by `timeout`.
Run run_send(const TempDir& dir, const std::string& args, const std::string& stdin_file = "") {
  const std::string bin = ilert_sumo::test::bin_path("ilert-sumo-send");
  const auto out = dir.path / "stdout.txt";
  const auto err = dir.path / "stderr.txt";
  std::string cmd = "timeout 60 '" + bin + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  cmd += stdin_file.empty() ? " </dev/null" : " <'" + stdin_file + "'";
  const int raw = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

void check_no_secret(const Run& r) {
  for (const std::string& text : {r.out, r.err}) {
    INFO(text);
    CHECK(text.find(kCode) == std::string::npos);
    CHECK(text.find(kToken) == std::string::npos);
    CHECK(text.find(std::string(kCode).substr(2, 12)) == std::string::npos);
  }
}

bool has_line(const std::string& text, const std::string& key, const std::string& value) {
  const std::string needle = key + ":";
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      std::size_t v = pos + needle.size();
      while (v < text.size() && text[v] == ' ') ++v;
      const std::size_t end = text.find('\n', v);
      return text.substr(v, end - v).rfind(value, 0) == 0;
    }
    ++pos;
  }
  return false;
}

EmulatorConfig emulator_config() {
  EmulatorConfig c;
  c.code = kCode;
  c.token = kToken;
  return c;
}

/// A valid alert-created body with its own id.
std::string alert_body(int id) {
  return R"({"id":")" + std::to_string(id) + R"(","eventType":"alert-created","summary":"spool test )" +
         std::to_string(id) + R"(","status":"PENDING","priority":"HIGH","reportTime":"2024-03-14T09:26:53.601Z"})";
}

/// The segment files (`*.spool`) of a spool directory.
std::vector<std::string> segment_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".spool") out.push_back(e.path().string());
  }
  return out;
}

/// The message texts carrying `"id":"<id>"`, counted per id.
std::map<int, int> ids_received(const std::vector<std::string>& texts, int first, int last) {
  std::map<int, int> seen;
  for (const auto& t : texts) {
    for (int id = first; id <= last; ++id) {
      if (t.find("\"id\":\"" + std::to_string(id) + "\"") != std::string::npos) ++seen[id];
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("ilert-sumo-send delivers files and prints a summary", "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  const auto a = dir.write("a.json", kValid1);
  const auto b = dir.write("b.json", kValid2);

  const Run r = run_send(dir, "--url '" + emu.url() +
                                  "' --category prod/ilert --name webhooks --host relay-1 "
                                  "--fields team=sre,env=prod --compression deflate '" +
                                  a + "' '" + b + "'");
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(has_line(r.out, "events read", "2"));
  CHECK(has_line(r.out, "invalid", "0"));
  CHECK(has_line(r.out, "sent", "2"));
  CHECK(has_line(r.out, "requests", "1"));
  CHECK(has_line(r.out, "retries", "0"));
  CHECK(has_line(r.out, "failures", "0"));
  CHECK(has_line(r.out, "raw bytes", ""));
  CHECK(has_line(r.out, "compressed bytes", ""));
  check_no_secret(r);

  const auto msgs = emu.messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].message.find("\"id\":\"4711\"") != std::string::npos);
  CHECK(msgs[0].message.find("alert-created") != std::string::npos);
  CHECK(msgs[1].message.find("alert-resolved") != std::string::npos);
  CHECK(msgs[0].category == "prod/ilert");
  CHECK(msgs[0].name == "webhooks");
  CHECK(msgs[0].host == "relay-1");
  CHECK(msgs[0].fields == "team=sre,env=prod");
  CHECK(msgs[0].encoding == "deflate");
}

TEST_CASE("ilert-sumo-send: the URL from an env var, the endpoint + token form, --ndjson from stdin",
          "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  ::setenv("ILERT_SUMO_TEST_URL", emu.url().c_str(), 1);
  ::setenv("ILERT_SUMO_TEST_TOKEN", kToken, 1);
  const auto in = dir.write("in.ndjson", std::string(kValid1) + "\n\n" + kValid2 + "\r\n" + kValid1 + "\n");

  SECTION("--url-env") {
    const Run r = run_send(dir, "--url-env ILERT_SUMO_TEST_URL --ndjson --compression zstd", in);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(has_line(r.out, "events read", "3"));
    CHECK(emu.count() == 3);
    check_no_secret(r);
  }
  SECTION("--endpoint + --token-env, reading '-'") {
    const Run r = run_send(dir, "--endpoint '" + emu.endpoint() + "' --token-env ILERT_SUMO_TEST_TOKEN --ndjson -", in);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(has_line(r.out, "sent", "3"));
    REQUIRE(emu.requests().size() == 1);
    CHECK(emu.requests()[0].route == "token");
    check_no_secret(r);
  }
}

TEST_CASE("ilert-sumo-send sends an invalid payload as a raw line with its error", "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  const auto good = dir.write("good.json", kValid1);
  const auto bad = dir.write("bad.json", kInvalid);

  SECTION("default: sent") {
    const Run r = run_send(dir, "--url '" + emu.url() + "' '" + good + "' '" + bad + "'");
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(has_line(r.out, "events read", "2"));
    CHECK(has_line(r.out, "invalid", "1"));
    CHECK(has_line(r.out, "sent", "2"));
    CHECK(r.err.find("invalid payload") != std::string::npos);
    CHECK(r.err.find("bad.json") != std::string::npos);
    CHECK(r.err.find("syntax") != std::string::npos);
    const auto texts = emu.message_texts();
    REQUIRE(texts.size() == 2);
    CHECK(texts[0].find("alert-created") != std::string::npos);
    CHECK(texts[1].find("ilert-sumo-invalid-payload") != std::string::npos);
    CHECK(texts[1].find("\"rawBody\"") != std::string::npos);
    CHECK(texts[1].find("cut off") != std::string::npos);
    CHECK(texts[1].find("\"syntax\"") != std::string::npos);
    check_no_secret(r);
  }
  SECTION("--skip-invalid: reported, not sent") {
    const Run r = run_send(dir, "--url '" + emu.url() + "' --skip-invalid '" + good + "' '" + bad + "'");
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(has_line(r.out, "invalid", "1"));
    CHECK(has_line(r.out, "sent", "1"));
    CHECK(r.err.find("bad.json") != std::string::npos);
    CHECK(r.err.find("skipped") != std::string::npos);
    const auto texts = emu.message_texts();
    REQUIRE(texts.size() == 1);
    CHECK(texts[0].find("ilert-sumo-invalid-payload") == std::string::npos);
  }
}

TEST_CASE("ilert-sumo-send exits 1 when Sumo refuses (401), without leaking the secret", "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  const auto a = dir.write("a.json", kValid1);

  SECTION("injected 401 on the presigned URL") {
    emu.fail_next(Fault::http(401), 1);
    const Run r = run_send(dir, "--url '" + emu.url() + "' '" + a + "'");
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(has_line(r.out, "failures", "1"));
    CHECK(has_line(r.out, "requests", "1"));
    CHECK(r.err.find("401") != std::string::npos);
    CHECK(emu.request_count() == 1);
    check_no_secret(r);
  }
  SECTION("wrong token") {
    ::setenv("ILERT_SUMO_TEST_BAD_TOKEN", (std::string(kToken) + "-nope").c_str(), 1);
    const Run r =
        run_send(dir, "--endpoint '" + emu.endpoint() + "' --token-env ILERT_SUMO_TEST_BAD_TOKEN '" + a + "'");
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("401") != std::string::npos);
    check_no_secret(r);
  }
  SECTION("budget exhausted on 503") {
    emu.fail_for({503}, std::chrono::minutes(5));
    const Run r = run_send(dir, "--url '" + emu.url() + "' --retry-budget 0.5 '" + a + "'");
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("503") != std::string::npos);
    check_no_secret(r);
  }
}

TEST_CASE("ilert-sumo-send usage errors exit 2 and send nothing", "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  const auto a = dir.write("a.json", kValid1);
  ::setenv("ILERT_SUMO_TEST_TOKEN", kToken, 1);
  ::unsetenv("ILERT_SUMO_TEST_UNSET");
  ::setenv("ILERT_SUMO_TEST_URL2", emu.url().c_str(), 1);
  const std::string url = "--url '" + emu.url() + "' ";
  std::string many_fields;
  for (int i = 0; i < 31; ++i) many_fields += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";

  const std::vector<std::pair<const char*, std::string>> cases = {
      {"unknown flag", url + "--bogus '" + a + "'"},
      {"flag without value", url + "--category"},
      {"no destination", "'" + a + "'"},
      {"both --url and --endpoint",
       url + "--endpoint '" + emu.endpoint() + "' --token-env ILERT_SUMO_TEST_TOKEN '" + a + "'"},
      {"--url twice", url + url + "'" + a + "'"},
      {"--endpoint without --token-env", "--endpoint '" + emu.endpoint() + "' '" + a + "'"},
      {"missing token env var", "--endpoint '" + emu.endpoint() + "' --token-env ILERT_SUMO_TEST_UNSET '" + a + "'"},
      {"missing url env var", "--url-env ILERT_SUMO_TEST_UNSET '" + a + "'"},
      {"bad --fields syntax", url + "--fields team '" + a + "'"},
      {"bad --fields empty key", url + "--fields =x '" + a + "'"},
      {"too many fields (finalize)", url + "--fields " + many_fields + " '" + a + "'"},
      {"bad category (finalize)", url + "--category \"$(printf 'a\\001b')\" '" + a + "'"},
      {"bad compression", url + "--compression brotli '" + a + "'"},
      {"http to a non-loopback host",
       std::string("--url http://example.com/receiver/v1/http/") + kCode + " '" + a + "'"},
      {"http to a look-alike host",
       std::string("--url http://127.0.0.1.example.com/receiver/v1/http/") + kCode + " '" + a + "'"},
      {"not a URL", std::string("--url ftp://host/receiver/v1/http/") + kCode + " '" + a + "'"},
      {"missing input file", url + "'" + (dir.path / "nope.json").string() + "'"},
      {"bad --retry-budget", url + "--retry-budget -1 '" + a + "'"},
      {"the URL as an input file", "--url-env ILERT_SUMO_TEST_URL2 '" + emu.url() + "'"},
      // --shutdown-timeout without --spool-dir is valid: it bounds the wait after SIGINT/SIGTERM.
      {"bad --shutdown-timeout without --spool-dir", url + "--shutdown-timeout 0 '" + a + "'"},
      {"--spool-max-bytes without --spool-dir", url + "--spool-max-bytes 1G '" + a + "'"},
      {"bad --shutdown-timeout",
       url + "--spool-dir '" + (dir.path / "spool").string() + "' --shutdown-timeout 0 '" + a + "'"},
      {"--shutdown-timeout not a number",
       url + "--spool-dir '" + (dir.path / "spool").string() + "' --shutdown-timeout 1s '" + a + "'"},
      {"--spool-dir without value", url + "'" + a + "' --spool-dir"},
      {"--spool-dir is a file", url + "--spool-dir '" + a + "' '" + a + "'"},
  };
  for (const auto& [what, args] : cases) {
    INFO(what << ": " << args);
    const Run r = run_send(dir, args);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
    check_no_secret(r);
  }
  CHECK(emu.request_count() == 0);

  // `--url=URL` is the same option as `--url URL` (CLI11), not a usage error.
  const Run equals_form = run_send(dir, "--url='" + emu.url() + "' '" + a + "'");
  CHECK(equals_form.status == 0);
  check_no_secret(equals_form);
  CHECK(emu.count() == 1);

  const Run http = run_send(dir, std::string("--url http://example.com/receiver/v1/http/") + kCode + " '" + a + "'");
  CHECK(http.err.find("https://") != std::string::npos);
  CHECK(http.err.find("loopback") != std::string::npos);
}

TEST_CASE("ilert-sumo-send accepts http:// for every loopback spelling", "[program][cli-send]") {
  SumoEmulator emu;
  const int port = emu.start(emulator_config());
  TempDir dir;
  const auto a = dir.write("a.json", kValid1);
  for (const std::string host : {"127.0.0.1", "localhost", "LOCALHOST"}) {
    const std::string url = "http://" + host + ":" + std::to_string(port) + "/receiver/v1/http/" + kCode;
    const Run r = run_send(dir, "--url '" + url + "' '" + a + "'");
    INFO(host << ": " << r.out << r.err);
    CHECK(r.status == 0);
  }
  CHECK(emu.count() == 3);
}

TEST_CASE("ilert-sumo-send --spool-dir: Sumo down spools within --shutdown-timeout, the next run sends it all",
          "[program][cli-send]") {
  TempDir dir;
  const fs::path spool = dir.path / "spool";
  constexpr int kFirst = 9001;
  constexpr int kLast = 9005;
  std::string ndjson;
  for (int id = kFirst; id <= kLast; ++id) ndjson += alert_body(id) + "\n";
  ndjson += std::string(kInvalid) + "\n";  // sent (and spooled) as an invalid-payload line
  const auto in = dir.write("in.ndjson", ndjson);
  constexpr int kLines = kLast - kFirst + 2;

  // A port with nothing listening: start an emulator to learn a free port, then stop it.
  std::string down_url;
  {
    SumoEmulator probe;
    probe.start(emulator_config());
    down_url = probe.url();
    probe.stop();
  }

  // Run 1: Sumo down. Exit 1 within the timeout (+ margin), everything spooled.
  const auto t0 = std::chrono::steady_clock::now();
  const Run r1 = run_send(dir, "--url '" + down_url + "' --category run1/cat --ndjson --spool-dir '" + spool.string() +
                                   "' --shutdown-timeout 1 '" + in + "'");
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  INFO("run 1: " << r1.out << r1.err);
  CHECK(r1.status == 1);
  CHECK(elapsed < std::chrono::milliseconds(1000 + 2500));
  CHECK(has_line(r1.out, "events read", std::to_string(kLines)));
  CHECK(has_line(r1.out, "sent", "0"));
  CHECK(has_line(r1.out, "replayed", "0"));
  CHECK(has_line(r1.out, "spooled",
                 std::to_string(kLines) + " (will be sent by the next run with --spool-dir " + spool.string() + ")"));
  CHECK(has_line(r1.out, "dropped", "0"));
  CHECK(r1.err.find("not delivered within --shutdown-timeout") != std::string::npos);
  check_no_secret(r1);
  const auto segments = segment_files(spool);
  REQUIRE_FALSE(segments.empty());
  for (const auto& seg : segments) {  // lines and headers only: never the URL code
    const std::string bytes = slurp(seg);
    CHECK(bytes.find(kCode) == std::string::npos);
    CHECK(bytes.find("9003") != std::string::npos);
  }

  // Run 2: Sumo up, on another port (the spool holds no URL, so a new one works).
  SumoEmulator emu;
  emu.start(emulator_config());

  SECTION("no FILE: only the spool is sent, stdin is not read") {
    const auto unread = dir.write("stdin.json", alert_body(9100));
    const Run r2 = run_send(
        dir, "--url '" + emu.url() + "' --category run2/cat --spool-dir '" + spool.string() + "' --shutdown-timeout 10",
        unread);
    INFO("run 2: " << r2.out << r2.err);
    CHECK(r2.status == 0);
    CHECK(has_line(r2.out, "replayed", std::to_string(kLines)));
    CHECK(has_line(r2.out, "events read", "0"));
    CHECK(has_line(r2.out, "sent", std::to_string(kLines)));
    CHECK(has_line(r2.out, "spooled", "0"));
    CHECK(has_line(r2.out, "failures", "0"));
    check_no_secret(r2);
    const auto texts = emu.message_texts();
    const auto seen = ids_received(texts, kFirst, 9100);
    for (int id = kFirst; id <= kLast; ++id) {
      INFO("id " << id);
      CHECK(seen.count(id) == 1);
    }
    CHECK(seen.count(9100) == 0);  // stdin was not read
    std::size_t invalid = 0;
    for (const auto& t : texts) invalid += t.find("ilert-sumo-invalid-payload") != std::string::npos ? 1 : 0;
    CHECK(invalid == 1);
    for (const auto& m : emu.messages()) CHECK(m.category == "run1/cat");  // the headers they were spooled with
    CHECK(segment_files(spool).empty());
  }

  SECTION("with new FILEs: the spooled events go first") {
    const auto fresh = dir.write("fresh.json", alert_body(9200));
    const Run r2 = run_send(dir, "--url '" + emu.url() + "' --spool-dir '" + spool.string() + "' '" + fresh + "'");
    INFO("run 2: " << r2.out << r2.err);
    CHECK(r2.status == 0);
    CHECK(has_line(r2.out, "replayed", std::to_string(kLines)));
    CHECK(has_line(r2.out, "events read", "1"));
    CHECK(has_line(r2.out, "sent", std::to_string(kLines + 1)));
    const auto texts = emu.message_texts();
    REQUIRE(texts.size() == static_cast<std::size_t>(kLines + 1));
    CHECK(texts.back().find("\"id\":\"9200\"") != std::string::npos);
    const auto seen = ids_received(texts, kFirst, kLast);
    CHECK(seen.size() == static_cast<std::size_t>(kLast - kFirst + 1));
    CHECK(segment_files(spool).empty());
  }
}

TEST_CASE("ilert-sumo-send --spool-dir: a good run delivers everything and leaves no segment behind",
          "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  const fs::path spool = dir.path / "new" / "spool";  // created, parents too
  const auto a = dir.write("a.json", kValid1);
  const auto b = dir.write("b.json", kInvalid);
  const auto c = dir.write("c.json", kValid2);

  const Run r = run_send(
      dir, "--url '" + emu.url() + "' --spool-dir '" + spool.string() + "' '" + a + "' '" + b + "' - '" + c + "'",
      dir.write("stdin.json", alert_body(9300)));
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(has_line(r.out, "spool dir", spool.string()));
  CHECK(has_line(r.out, "replayed", "0"));
  CHECK(has_line(r.out, "events read", "4"));
  CHECK(has_line(r.out, "invalid", "1"));
  CHECK(has_line(r.out, "sent", "4"));
  CHECK(has_line(r.out, "failures", "0"));
  CHECK(has_line(r.out, "spooled", "0"));
  CHECK(has_line(r.out, "dropped", "0"));
  check_no_secret(r);
  const auto texts = emu.message_texts();
  REQUIRE(texts.size() == 4);
  CHECK(texts[0].find("\"id\":\"4711\"") != std::string::npos);
  CHECK(texts[1].find("ilert-sumo-invalid-payload") != std::string::npos);
  CHECK(texts[2].find("\"id\":\"9300\"") != std::string::npos);  // `-` reads stdin explicitly
  CHECK(texts[3].find("alert-resolved") != std::string::npos);
  CHECK(fs::is_directory(spool));
  CHECK(segment_files(spool).empty());

  SECTION("the next run with nothing spooled and no FILE sends nothing and succeeds") {
    const Run again = run_send(dir, "--url '" + emu.url() + "' --spool-dir '" + spool.string() + "'");
    INFO(again.out << again.err);
    CHECK(again.status == 0);
    CHECK(has_line(again.out, "replayed", "0"));
    CHECK(has_line(again.out, "sent", "0"));
    CHECK(emu.count() == 4);
  }
}

// ---- issue 12: bounded input, special files refused, the spool cap ----

TEST_CASE("ilert-sumo-send refuses directories and special files (exit 2, the path named)", "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  const auto a = dir.write("a.json", kValid1);
  const std::string url = "--url '" + emu.url() + "' ";
  const fs::path sub = dir.path / "a-directory";
  fs::create_directories(sub);
  const fs::path fifo = dir.path / "a-fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"a directory", url + "'" + a + "' '" + sub.string() + "'", sub.string() + ": it is a directory"},
      {"/dev/zero", url + "/dev/zero", "/dev/zero: it is a character device"},
      {"/dev/zero with --ndjson", url + "--ndjson /dev/zero", "/dev/zero: it is a character device"},
      {"a FIFO (never opened for reading, so it cannot block)", url + "'" + fifo.string() + "'",
       fifo.string() + ": it is a FIFO"},
  };
  for (const auto& [what, args, message] : cases) {
    INFO(what << ": " << args);
    const Run r = run_send(dir, args);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(message) != std::string::npos);
  }
  CHECK(emu.request_count() == 0);
  // A file larger than the parser's body limit (without --ndjson) is refused up front too.
  const auto big = dir.write("big.json", std::string(4 * 1024 * 1024 + 1, ' '));
  const Run r = run_send(dir, url + "'" + big + "'");
  CHECK(r.status == 2);
  CHECK(r.err.find("body limit") != std::string::npos);
}

TEST_CASE("ilert-sumo-send: an endless stdin (/dev/zero) ends with a clear error, in bounded memory",
          "[program][cli-send]") {
  SumoEmulator emu;
  emu.start(emulator_config());
  TempDir dir;
  // Without the bound the program read /dev/zero into memory (3 GB in 20 s): under an
  // address-space limit of 1 GiB that fails with bad_alloc (killed), not with exit 1 and a message.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const std::string limit;  // the sanitizers reserve terabytes of address space
#else
  const std::string limit = "ulimit -v 1048576; ";
#endif
  for (const std::string mode : {"", "--ndjson "}) {
    INFO("mode " << mode);
    const std::string bin = ilert_sumo::test::bin_path("ilert-sumo-send");
    const auto out = dir.path / "stdout.txt";
    const auto err = dir.path / "stderr.txt";
    const std::string cmd = "bash -c \"" + limit + "exec timeout 60 '" + bin + "' --url '" + emu.url() + "' " + mode +
                            "- </dev/zero >'" + out.string() + "' 2>'" + err.string() + "'\"";
    const auto t0 = std::chrono::steady_clock::now();
    const int raw = std::system(cmd.c_str());
    const int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    const std::string e = slurp(err);
    INFO(e);
    CHECK(status == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
    CHECK(e.find("<stdin>") != std::string::npos);
    CHECK(e.find("longer than the parser's body limit of 4194304 bytes") != std::string::npos);
  }
  CHECK(emu.request_count() == 0);
}

TEST_CASE("ilert-sumo-send --spool-max-bytes: a full spool refuses (reported, exit 1), never evicts",
          "[program][cli-send]") {
  TempDir dir;
  const fs::path spool = dir.path / "spool";
  std::string ndjson;
  constexpr int kCount = 1000;
  for (int id = 1; id <= kCount; ++id) ndjson += alert_body(100000 + id) + "\n";
  const auto in = dir.write("in.ndjson", ndjson);
  std::string down_url;
  {
    SumoEmulator probe;
    probe.start(emulator_config());
    down_url = probe.url();
    probe.stop();
  }
  {
    const Run bad = run_send(dir, "--url '" + down_url + "' --spool-max-bytes 64k '" + in + "'");
    CHECK(bad.status == 2);  // needs --spool-dir
    const Run small = run_send(
        dir, "--url '" + down_url + "' --spool-dir '" + spool.string() + "' --spool-max-bytes 1000 '" + in + "'");
    CHECK(small.status == 2);
  }
  const Run r1 = run_send(dir, "--url '" + down_url + "' --ndjson --spool-dir '" + spool.string() +
                                   "' --spool-max-bytes 128k --shutdown-timeout 1 '" + in + "'");
  INFO("run 1: " << r1.out << r1.err);
  CHECK(r1.status == 1);
  CHECK(r1.err.find("refused_spool_full") != std::string::npos);
  CHECK(r1.err.find("spool_full") != std::string::npos);
  CHECK(r1.err.find("refused: spool full (--spool-max-bytes)") != std::string::npos);
  std::uint64_t on_disk = 0;
  for (const auto& seg : segment_files(spool)) on_disk += fs::file_size(seg);
  CHECK(on_disk <= 128 * 1024);
  // Everything that was accepted is delivered by the next run: nothing was evicted.
  SumoEmulator emu;
  emu.start(emulator_config());
  const Run r2 = run_send(dir, "--url '" + emu.url() + "' --spool-dir '" + spool.string() + "'");
  INFO("run 2: " << r2.out << r2.err);
  CHECK(r2.status == 0);
  const auto texts = emu.message_texts();
  CHECK(texts.size() > 100);
  CHECK(texts.size() < static_cast<std::size_t>(kCount));
  // The accepted ones are exactly the first ones read.
  const auto seen = ids_received(texts, 100001, 100000 + kCount);
  CHECK(seen.size() == texts.size());
  for (int id = 100001; id < 100001 + static_cast<int>(texts.size()); ++id) CHECK(seen.count(id) == 1);
}

TEST_CASE("ilert-sumo-send --spool-dir: a directory others can write is refused (exit 2)", "[program][cli-send]") {
  TempDir dir;
  const auto a = dir.write("a.json", kValid1);
  const fs::path spool = dir.path / "shared-spool";
  fs::create_directories(spool);
  REQUIRE(::chmod(spool.c_str(), 0777) == 0);
  SumoEmulator emu;
  emu.start(emulator_config());
  const Run r = run_send(dir, "--url '" + emu.url() + "' --spool-dir '" + spool.string() + "' '" + a + "'");
  CHECK(r.status == 2);
  CHECK(r.err.find("writable by group or others") != std::string::npos);
  CHECK(r.err.find(spool.string()) != std::string::npos);
  CHECK(emu.request_count() == 0);
}

TEST_CASE("ilert-sumo-send without a spool: SIGTERM during a Retry-After wait exits within --shutdown-timeout",
          "[program][cli-send][signal]") {
  using namespace std::chrono_literals;
  SumoEmulator emu;
  emu.start(emulator_config());
  // Every request refused with Retry-After: 30 (the emulator sends Retry-After with 429 only), well
  // inside the default 600 s retry budget: after its first attempt the program waits 30 s.
  emu.set_retry_after(30);
  emu.fail_for({429}, std::chrono::minutes(10));
  TempDir dir;
  const auto in = dir.write("in.ndjson", alert_body(9801) + "\n" + alert_body(9802) + "\n");
  const std::string err_path = (dir.path / "stderr.txt").string();
  ilert_sumo::test::ChildProcess child(ilert_sumo::test::bin_path("ilert-sumo-send"),
                                       {"--url-env", "SEND_STOP_TEST_URL", "--ndjson", "--shutdown-timeout", "2", in},
                                       {{"SEND_STOP_TEST_URL", emu.url()}}, err_path);
  REQUIRE(ilert_sumo::test::wait_until([&] { return emu.request_count() >= 1; }, 30s));
  CHECK(child.running());

  child.signal(SIGTERM);
  // 2 s plus a margin for a loaded machine, well below the 30 s wait the program was in. The
  // summary (a few lines) fits the pipe, so it is read after the exit.
  const auto status = child.wait(15s);
  std::string out;
  if (status) {
    while (auto line = child.read_line(5s)) out += *line + "\n";
  }
  Run r;
  r.out = out;
  r.err = slurp(err_path);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(status.has_value());
  CHECK(status->exited);
  CHECK(status->code == 1);
  CHECK(has_line(r.out, "events read", "2"));
  CHECK(has_line(r.out, "sent", "0"));
  CHECK(has_line(r.out, "failures", "2"));
  CHECK(has_line(r.out, "interrupted", "SIGTERM"));
  CHECK(r.err.find("lines 1..2 not delivered") != std::string::npos);
  CHECK(r.err.find("cut off: --shutdown-timeout after the stop signal") != std::string::npos);
  CHECK(emu.request_count() == 1);  // no attempt after the stop
  CHECK(emu.count() == 0);
  check_no_secret(r);
}
