// tests/test_cli_convention.cpp: the one command-line convention of the programs under examples/
// (issue 11, point 2; examples/common/cli.hpp): --help and --version on stdout with exit 0, the
// same usage-error format on stderr with exit 2 for an unknown flag and a bad value, nothing on
// stdout then; and ilert-sumo-send's SIGINT/SIGTERM handling (stop reading, flush within
// --shutdown-timeout, spool what is left, print the summary, exit 1 when something is undelivered).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ilert_sumo/version.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace fs = std::filesystem;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::ExitStatus;
using ilert_sumo::test::SumoEmulator;
using namespace std::chrono_literals;

namespace {

struct Run {
  std::optional<ExitStatus> status;
  std::string out;
  std::string err;
  int code() const { return status && status->exited ? status->code : -1; }
};

/// Runs `program args` to its end (stdout read to EOF, stderr from its file).
Run run_program(const std::string& program, const std::vector<std::string>& args,
                const std::map<std::string, std::optional<std::string>>& env = {}) {
  ilert_sumo::test::TempDir dir("ilert-sumo-cli-convention");
  const std::string err_path = (fs::path(dir.path()) / "stderr").string();
  ChildProcess child(ilert_sumo::test::bin_path(program), args, env, err_path);
  Run r;
  while (auto line = child.read_line(20s)) r.out += *line + "\n";
  r.status = child.wait(20s);
  r.err = ilert_sumo::test::read_file(err_path);
  return r;
}

/// The shared usage-error format.
std::string usage_error(const std::string& program, const std::string& message) {
  return program + ": error: " + message + "\nRun with --help for more information.\n";
}

struct Program {
  std::string name;
  std::vector<std::string> bad_value;  // a bad value of a numeric option (report: of --by)
};

const std::vector<Program> kPrograms = {
    {"ilert-parse", {"--max-line-bytes", "many"}},
    {"ilert-sumo-send", {"--timeout", "soon"}},
    {"sumo-emulator", {"--port", "x80"}},
    {"ilert-sumo-report", {"--by", "team"}},  // it has no numeric option
};

}  // namespace

TEST_CASE("every program: --help, --version, unknown flag and bad value in one convention",
          "[program][cli-convention]") {
  for (const Program& p : kPrograms) {
    INFO(p.name);
    SECTION(p.name + " --help") {
      const Run r = run_program(p.name, {"--help"});
      CHECK(r.code() == 0);
      CHECK(r.out.rfind("Usage: " + p.name + " [OPTIONS]", 0) == 0);
      CHECK(r.out.find("--version") != std::string::npos);
      CHECK(r.out.find("Exit status: 0") != std::string::npos);
      CHECK(r.err.empty());
    }
    SECTION(p.name + " --version") {
      const Run r = run_program(p.name, {"--version"});
      CHECK(r.code() == 0);
      CHECK(r.out == p.name + " " + ILERT_SUMO_VERSION_STRING + "\n");
      CHECK(r.err.empty());
    }
    SECTION(p.name + " --no-such-flag") {
      const Run r = run_program(p.name, {"--no-such-flag"});
      CHECK(r.code() == 2);
      CHECK(r.out.empty());
      CHECK(r.err == usage_error(p.name, "The following argument was not expected: --no-such-flag"));
    }
    SECTION(p.name + " bad value") {
      const Run r = run_program(p.name, p.bad_value);
      CHECK(r.code() == 2);
      CHECK(r.out.empty());
      CHECK(r.err.rfind(p.name + ": error: " + p.bad_value[0] + ": ", 0) == 0);
      CHECK(r.err.find("\nRun with --help for more information.\n") != std::string::npos);
    }
  }
}

TEST_CASE("ilert-sumo-send: a usage error never echoes a presigned URL", "[program][cli-convention]") {
  const std::string url = "https://collectors.sumologic.com/receiver/v1/http/ConventionSeCrEt42==";
  const Run r = run_program("ilert-sumo-send", {"--url", url, "--no-such-flag=" + url, url + "x"});
  CHECK(r.code() == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("ilert-sumo-send: error: ", 0) == 0);
  CHECK(r.err.find("ConventionSeCrEt42") == std::string::npos);
}

namespace {

const char* const kCode = "SignalSeCrEtCoDe0123==";

std::string event_line(int id) {
  return R"({"id":")" + std::to_string(id) +
         R"(","eventType":"alert-created","summary":"signal test","status":"PENDING","priority":"HIGH",)"
         R"("reportTime":"2024-03-14T09:26:53.601Z"})";
}

/// Everything in the files under `dir`.
std::string all_bytes(const fs::path& dir) {
  std::string out;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) out += ilert_sumo::test::read_file(entry.path().string());
  }
  return out;
}

/// Reads the child's stdout to EOF.
std::string read_all(ChildProcess& child) {
  std::string out;
  while (auto line = child.read_line(30s)) out += *line + "\n";
  return out;
}

}  // namespace

TEST_CASE("ilert-sumo-send: SIGTERM on a FIFO with Sumo failing spools the events and prints the summary",
          "[program][cli-convention][signal]") {
  SumoEmulator emu;
  ilert_sumo::test::EmulatorConfig config;
  config.code = kCode;
  emu.start(config);
  emu.fail_for({503}, std::chrono::minutes(10));

  ilert_sumo::test::TempDir dir("ilert-sumo-send-signal");
  const fs::path fifo = fs::path(dir.path()) / "input.fifo";
  const fs::path spool = fs::path(dir.path()) / "spool";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // O_RDWR: does not wait for the reader, and the FIFO never reaches EOF while it is open, so the
  // program would read forever without the signal.
  const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(writer >= 0);
  const std::string lines = event_line(9701) + "\n" + event_line(9702) + "\n";
  REQUIRE(::write(writer, lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()));

  const std::string command = "exec '" + ilert_sumo::test::bin_path("ilert-sumo-send") + "' --url-env SIGNAL_TEST_URL" +
                              " --ndjson --spool-dir '" + spool.string() + "' --shutdown-timeout 2 - < '" +
                              fifo.string() + "'";
  const std::string err_path = (fs::path(dir.path()) / "stderr").string();
  ChildProcess child("/bin/sh", {"-c", command}, {{"SIGNAL_TEST_URL", emu.url()}}, err_path);
  // Both events are read (on disk, write-ahead) and Sumo has refused a request.
  REQUIRE(ilert_sumo::test::wait_until([&] { return emu.request_count() >= 1; }, 30s));
  REQUIRE(ilert_sumo::test::wait_until(
      [&] {
        const std::string bytes = all_bytes(spool);
        return bytes.find("9701") != std::string::npos && bytes.find("9702") != std::string::npos;
      },
      30s));
  CHECK(child.running());

  child.signal(SIGTERM);
  const std::string out = read_all(child);
  // --shutdown-timeout 2 plus a generous margin for a loaded machine (no timing assertion beyond it).
  const auto status = child.wait(20s);
  ::close(writer);
  INFO("stdout: " << out << "\nstderr: " << ilert_sumo::test::read_file(err_path));
  REQUIRE(status.has_value());
  CHECK(status->exited);
  CHECK(status->code == 1);
  CHECK(out.find("events read:      2\n") != std::string::npos);
  CHECK(out.find("sent:             0\n") != std::string::npos);
  CHECK(out.find("spooled:          2") != std::string::npos);
  CHECK(out.find("interrupted:      SIGTERM") != std::string::npos);
  CHECK(out.find(kCode) == std::string::npos);
  // What was not delivered is in the spool for the next run.
  const std::string bytes = all_bytes(spool);
  CHECK(bytes.find("9701") != std::string::npos);
  CHECK(bytes.find("9702") != std::string::npos);
  CHECK(emu.count() == 0);
}

TEST_CASE("ilert-sumo-send: SIGINT without a spool ends retries and an in-flight request within --shutdown-timeout",
          "[program][cli-convention][signal]") {
  SumoEmulator emu;
  ilert_sumo::test::EmulatorConfig config;
  config.code = kCode;
  emu.start(config);
  emu.fail_for({503}, std::chrono::minutes(10));

  ilert_sumo::test::TempDir dir("ilert-sumo-send-signal");
  const fs::path input = fs::path(dir.path()) / "events.ndjson";
  {
    const std::string lines = event_line(9711) + "\n" + event_line(9712) + "\n" + event_line(9713) + "\n";
    std::FILE* f = std::fopen(input.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(lines.data(), 1, lines.size(), f);
    std::fclose(f);
  }
  const std::string err_path = (fs::path(dir.path()) / "stderr").string();
  // The default retry budget (600 s) would keep it retrying for ten minutes.
  ChildProcess child(ilert_sumo::test::bin_path("ilert-sumo-send"),
                     {"--url-env", "SIGNAL_TEST_URL", "--ndjson", "--shutdown-timeout", "2", input.string()},
                     {{"SIGNAL_TEST_URL", emu.url()}}, err_path);
  // Two refused attempts: it is retrying. From now on a request hangs (in flight at the signal).
  REQUIRE(ilert_sumo::test::wait_until([&] { return emu.request_count() >= 2; }, 30s));
  emu.set_delay(std::chrono::minutes(5));
  CHECK(child.running());

  child.signal(SIGINT);
  const std::string out = read_all(child);
  const auto status = child.wait(20s);  // 2 s + the backoff begun before the signal + margin
  const std::string err = ilert_sumo::test::read_file(err_path);
  INFO("stdout: " << out << "\nstderr: " << err);
  REQUIRE(status.has_value());
  CHECK(status->exited);
  CHECK(status->code == 1);
  CHECK(out.find("events read:      3\n") != std::string::npos);
  CHECK(out.find("sent:             0\n") != std::string::npos);
  CHECK(out.find("failures:         3\n") != std::string::npos);
  CHECK(out.find("interrupted:      SIGINT") != std::string::npos);
  CHECK(err.find("not delivered") != std::string::npos);
  CHECK(err.find(kCode) == std::string::npos);
  emu.stop();
}
