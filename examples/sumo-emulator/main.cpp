// examples/sumo-emulator: a local stand-in for a Sumo Logic HTTP Logs source.
//
// Try the library (or ilert-sumo-send) without a Sumo account: the emulator listens on 127.0.0.1,
// accepts `POST /receiver/v1/http/<code>` and `POST /receiver/v1/http` + `x-sumo-token`, decodes
// gzip/deflate/zstd, enforces Sumo's limits (1 MiB decoded, UTF-8), records every message with its
// metadata headers as NDJSON (or readable lines), and injects faults on command (429 with
// Retry-After, 503, 401, connection resets, delays, a 200 with a warning). The implementation is
// shared with the test suite: tests/support/sumo_emulator.{hpp,cpp}.
//
// The first line on stdout is always `listening on 127.0.0.1:PORT` (flushed), so scripts can start
// it with --port 0 and read the port. Run with --help for the flags. Command line: CLI11, with the
// convention of examples/common/cli.hpp (--help, --version, one usage-error format, exit codes).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/sumo_emulator.hpp"

#include "../common/cli.hpp"

namespace {

using ilert_sumo::test::EmulatorConfig;
using ilert_sumo::test::Fault;
using ilert_sumo::test::RecordedMessage;
using ilert_sumo::test::RecordedRequest;
using ilert_sumo::test::SumoEmulator;

const char* const kProgram = "sumo-emulator";

const char* const kDefaultWarning =
    "{\"warning\":\"Some fields were dropped: X-Sumo-Fields exceeded the limit of 30 fields\"}";

struct Options {
  EmulatorConfig config;
  std::vector<std::pair<Fault, std::size_t>> faults;
  std::vector<int> fail_for_statuses;
  std::chrono::milliseconds fail_for_duration{0};
  std::chrono::milliseconds delay{0};
  std::optional<std::string> warning;
  std::string record;  // "" none, "-" stdout
  bool pretty = false;
  bool quiet = false;
  std::uint64_t exit_after = 0;
  std::string render;
};

struct UsageError {
  std::string message;
};

bool parse_uint(const std::string& text, std::uint64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

std::uint64_t need_uint(const std::string& flag, const std::string& text, std::uint64_t max) {
  std::uint64_t v = 0;
  if (!parse_uint(text, v) || v > max)
    throw UsageError{flag + ": expected a number up to " + std::to_string(max) + ", got '" + text + "'"};
  return v;
}

std::chrono::milliseconds parse_duration(const std::string& flag, const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::uint64_t n = 0;
  if (digits == 0 || !parse_uint(text.substr(0, digits), n) || n > 1000000000ull) {
    throw UsageError{flag + ": bad duration '" + text + "' (use 500ms, 5s or 2m)"};
  }
  const std::string unit = text.substr(digits);
  const auto count = static_cast<std::chrono::milliseconds::rep>(n);
  if (unit == "ms") return std::chrono::milliseconds(count);
  if (unit == "s" || unit.empty()) return std::chrono::seconds(count);
  if (unit == "m") return std::chrono::minutes(count);
  throw UsageError{flag + ": bad duration unit in '" + text + "' (use ms, s or m)"};
}

int parse_status(const std::string& flag, const std::string& text) {
  if (text == "reset") return 0;
  std::uint64_t v = 0;
  if (!parse_uint(text, v) || v < 100 || v > 599)
    throw UsageError{flag + ": bad status '" + text + "' (100..599 or reset)"};
  return static_cast<int>(v);
}

std::pair<Fault, std::size_t> parse_fail(const std::string& text) {
  const auto x = text.rfind('x');
  if (x == std::string::npos || x == 0) throw UsageError{"--fail: expected STATUSxN or resetxN, got '" + text + "'"};
  const int status = parse_status("--fail", text.substr(0, x));
  const auto count = need_uint("--fail", text.substr(x + 1), 1000000);
  if (count == 0) throw UsageError{"--fail: the count must be at least 1"};
  return {Fault{status}, static_cast<std::size_t>(count)};
}

void parse_fail_for(const std::string& text, Options& o) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw UsageError{"--fail-for: expected STATUS[,STATUS...]:DURATION, got '" + text + "'"};
  o.fail_for_statuses.clear();
  std::string list = text.substr(0, colon);
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    o.fail_for_statuses.push_back(parse_status("--fail-for", list.substr(start, comma - start)));
    start = comma + 1;
  }
  o.fail_for_duration = parse_duration("--fail-for", text.substr(colon + 1));
}

std::string env_or_throw(const std::string& flag, const std::string& var) {
  const char* v = std::getenv(var.c_str());
  if (v == nullptr || *v == '\0') throw UsageError{flag + ": environment variable " + var + " is not set or empty"};
  return v;
}

/// The command line as CLI11 reads it; apply() turns the SPEC strings into Options.
struct Args {
  std::optional<std::string> code_env;
  std::optional<std::string> token_env;
  std::vector<std::string> fail;
  std::optional<std::string> fail_for;
  std::optional<std::string> warn_text;
  bool warn = false;
  std::int64_t delay_ms = 0;
};

void add_options(CLI::App& app, Options& o, Args& a) {
  o.config.code = "local-code";
  o.config.token = "local-token";
  o.config.keep_in_memory = false;
  o.config.retry_after_seconds = 1;
  app.add_option("--port", o.config.port, "Port on 127.0.0.1 (0: any free port)")
      ->type_name("N")
      ->check(CLI::Range(0, 65535).description(""))
      ->capture_default_str();
  app.add_option("--code", o.config.code, "Accepted URL code")->capture_default_str();
  app.add_option("--token", o.config.token, "Accepted x-sumo-token")->capture_default_str();
  app.add_option("--code-env", a.code_env, "Read the code from environment variable VAR")
      ->type_name("VAR")
      ->excludes("--code");
  app.add_option("--token-env", a.token_env, "Read the token from environment variable VAR")
      ->type_name("VAR")
      ->excludes("--token");
  app.add_option("--record", o.record,
                 "Write every received message to FILE (truncated) or stdout (-), one NDJSON object per "
                 "message: {\"seq\":..,\"category\":..,\"name\":..,\"host\":..,\"fields\":..,"
                 "\"encoding\":..,\"message\":\"<the line>\"}")
      ->type_name("FILE|-");
  app.add_flag("--pretty", o.pretty, "With --record: write `[category] message` lines instead");
  app.add_option("--fail", a.fail,
                 "Inject a fault for the next requests: STATUSxN (429x3, 503x2, 401x1) or resetxN (close "
                 "the connection with a TCP reset, no answer). Repeatable; applied in order.")
      ->type_name("SPEC")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--fail-for", a.fail_for,
                 "Answer STATUS[,STATUS...] (cycled per request; `reset` allowed) for a duration counted "
                 "from the first request, then recover: --fail-for 429,503:5s. Durations: 500ms, 5s, 2m.")
      ->type_name("SPEC");
  app.add_option("--retry-after", o.config.retry_after_seconds, "Seconds sent in Retry-After with a 429")
      ->type_name("N")
      ->check(CLI::Range(0, 86400).description(""))
      ->capture_default_str();
  app.add_option("--delay", a.delay_ms, "Wait MS milliseconds before answering each request (at most 3600000)")
      ->type_name("MS")
      ->check(CLI::Range(0, 3600000).description(""));
  app.add_flag("--warn", a.warn, "Answer accepted requests with 200 and a warning body");
  app.add_option("--warn-text", a.warn_text, "The warning body (implies --warn)")->type_name("TEXT");
  app.add_option("--exit-after", o.exit_after, "Exit after N accepted (200) requests")
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1000000000}).description(""));
  app.add_option("--threads", o.config.threads,
                 "Worker threads = concurrent connections (at most 1024; fewer than 2 means 2)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1024}).description(""))
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "Do not log each request on stderr");
  app.add_option("--render", o.render, "Print a --record NDJSON file as `[category] message` lines, then exit")
      ->type_name("FILE|-");
}

/// The SPEC options and environment variables into `o` (throws UsageError).
void apply(const Args& a, Options& o) {
  if (a.code_env) o.config.code = env_or_throw("--code-env", *a.code_env);
  if (a.token_env) o.config.token = env_or_throw("--token-env", *a.token_env);
  for (const auto& spec : a.fail) o.faults.push_back(parse_fail(spec));
  if (a.fail_for) parse_fail_for(*a.fail_for, o);
  o.delay = std::chrono::milliseconds(a.delay_ms);
  if (a.warn) o.warning = kDefaultWarning;
  if (a.warn_text) o.warning = *a.warn_text;
  if (o.pretty && o.record.empty()) throw UsageError{"--pretty needs --record FILE|-"};
}

int render(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      std::cerr << "sumo-emulator: cannot read " << path << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    in = &file;
  }
  std::string line;
  std::size_t bad = 0;
  while (std::getline(*in, line)) {
    if (line.empty()) continue;
    if (auto m = ilert_sumo::test::parse_ndjson(line)) {
      std::cout << ilert_sumo::test::to_readable(*m) << "\n";
    } else {
      ++bad;
    }
  }
  std::cout.flush();
  if (bad != 0) {
    std::cerr << "sumo-emulator: " << bad << " line(s) were not emulator records\n";
    return 1;
  }
  return 0;
}

std::string describe(const RecordedRequest& r) {
  std::string s =
      "#" + std::to_string(r.seq) + " " + r.route + " " + r.encoding + " " + std::to_string(r.wire_bytes) + " B";
  if (r.decoded_bytes != 0) s += " -> " + std::to_string(r.decoded_bytes) + " B decoded";
  if (r.lines != 0) s += ", " + std::to_string(r.lines) + " message(s)";
  if (!r.category.empty()) s += ", category '" + r.category + "'";
  s += r.status == 0 ? std::string(": connection reset") : ": " + std::to_string(r.status);
  if (!r.reason.empty()) s += " (" + r.reason + ")";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  Args args;
  CLI::App app(
      "A local Sumo Logic HTTP Logs source on 127.0.0.1. The first stdout line is\n"
      "`listening on 127.0.0.1:PORT`. Send to http://127.0.0.1:PORT/receiver/v1/http/<code>,\n"
      "or to http://127.0.0.1:PORT/receiver/v1/http with the header x-sumo-token: <token>.\n"
      "With --render FILE|-, it prints a --record file as `[category] message` lines instead.");
  ilert_sumo_cli::configure(app, kProgram, SUMO_EMULATOR_VERSION);
  add_options(app, opt, args);
  app.footer("Exit status: 0 after SIGINT/SIGTERM or --exit-after, 1 on a runtime error, 2 on a usage error.");
  if (const auto exit_code = ilert_sumo_cli::parse(app, argc, argv)) return *exit_code;
  try {
    apply(args, opt);
  } catch (const UsageError& e) {
    return ilert_sumo_cli::usage_error(kProgram, e.message);
  }
  if (!opt.render.empty()) return render(opt.render);

  // Signals are taken by sigtimedwait() below; every thread started from here inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::ofstream record_file;
  std::ostream* record = nullptr;
  if (opt.record == "-") {
    record = &std::cout;
  } else if (!opt.record.empty()) {
    record_file.open(opt.record, std::ios::binary | std::ios::trunc);
    if (!record_file) {
      std::cerr << "sumo-emulator: cannot write " << opt.record << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    record = &record_file;
  }

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<bool> done{false};
  SumoEmulator emulator;
  if (record != nullptr) {
    const bool pretty = opt.pretty;
    emulator.on_accepted([record, pretty](const RecordedRequest&, const std::vector<RecordedMessage>& lines) {
      std::string out;
      for (const auto& m : lines) {
        out += pretty ? ilert_sumo::test::to_readable(m) : ilert_sumo::test::to_ndjson(m);
        out.push_back('\n');
      }
      record->write(out.data(), static_cast<std::streamsize>(out.size()));
      record->flush();
    });
  }
  const bool quiet = opt.quiet;
  const std::uint64_t exit_after = opt.exit_after;
  emulator.on_request([&accepted, &done, quiet, exit_after](const RecordedRequest& r) {
    if (!quiet) std::cerr << "sumo-emulator: " << describe(r) << std::endl;
    if (r.status >= 200 && r.status < 300) {
      const auto n = accepted.fetch_add(1) + 1;
      if (exit_after != 0 && n >= exit_after) done.store(true);
    }
  });

  int port = 0;
  try {
    port = emulator.start(opt.config);
  } catch (const std::exception& e) {
    std::cerr << "sumo-emulator: " << e.what() << "\n";
    return 1;
  }
  for (const auto& [fault, count] : opt.faults) emulator.fail_next(fault, count);
  if (!opt.fail_for_statuses.empty()) emulator.fail_for(opt.fail_for_statuses, opt.fail_for_duration);
  emulator.set_delay(opt.delay);
  if (opt.warning) emulator.set_warning(opt.warning);

  std::cout << "listening on 127.0.0.1:" << port << std::endl;
  if (!quiet) {
    std::cerr << "sumo-emulator: POST http://127.0.0.1:" << port << "/receiver/v1/http/<code>"
              << " or http://127.0.0.1:" << port << "/receiver/v1/http with x-sumo-token\n";
  }

  // Wait for a signal or --exit-after (bounded wake-ups: 50 ms).
  int exit_code = 0;
  for (;;) {
    timespec tick{0, 50 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig > 0) {
      if (!quiet) std::cerr << "sumo-emulator: signal " << sig << ", stopping\n";
      break;
    }
    if (done.load()) break;
  }
  emulator.stop();
  if (record != nullptr) {
    record->flush();
    if (!*record) exit_code = 1;
  }
  if (!quiet) {
    const auto c = emulator.counters();
    std::cerr << "sumo-emulator: " << c.requests << " request(s), " << c.accepted_requests << " accepted, "
              << c.messages << " message(s)\n";
  }
  return exit_code;
}
