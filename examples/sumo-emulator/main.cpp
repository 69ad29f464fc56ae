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
// it with --port 0 and read the port. Run with --help for the flags.
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

namespace {

using ilert_sumo::test::EmulatorConfig;
using ilert_sumo::test::Fault;
using ilert_sumo::test::RecordedMessage;
using ilert_sumo::test::RecordedRequest;
using ilert_sumo::test::SumoEmulator;

const char* const kUsage =
    "usage: sumo-emulator [options]\n"
    "       sumo-emulator --render FILE|-\n"
    "\n"
    "A local Sumo Logic HTTP Logs source on 127.0.0.1. The first stdout line is\n"
    "`listening on 127.0.0.1:PORT`. Send to http://127.0.0.1:PORT/receiver/v1/http/<code>,\n"
    "or to http://127.0.0.1:PORT/receiver/v1/http with the header x-sumo-token: <token>.\n"
    "\n"
    "options:\n"
    "  --port N              port on 127.0.0.1 (default 0: any free port)\n"
    "  --code CODE           accepted URL code (default: local-code)\n"
    "  --token TOKEN         accepted x-sumo-token (default: local-token)\n"
    "  --code-env VAR        read the code from an environment variable\n"
    "  --token-env VAR       read the token from an environment variable\n"
    "  --record FILE|-       write every received message to FILE (truncated) or stdout,\n"
    "                        one NDJSON object per message:\n"
    "                        {\"seq\":..,\"category\":..,\"name\":..,\"host\":..,\"fields\":..,\n"
    "                         \"encoding\":..,\"message\":\"<the line>\"}\n"
    "  --pretty              with --record: write `[category] message` lines instead\n"
    "  --fail SPEC           inject a fault for the next requests: STATUSxN (429x3, 503x2,\n"
    "                        401x1) or resetxN (close the connection with a TCP reset, no\n"
    "                        answer). Repeatable; applied in order.\n"
    "  --fail-for SPEC       answer STATUS[,STATUS...] (cycled per request; `reset` allowed)\n"
    "                        for a duration counted from the first request, then recover:\n"
    "                        --fail-for 429,503:5s. Durations: 500ms, 5s, 2m.\n"
    "  --retry-after N       seconds sent in Retry-After with a 429 (default 1)\n"
    "  --delay MS            wait MS milliseconds before answering each request\n"
    "  --warn                answer accepted requests with 200 and a warning body\n"
    "  --warn-text TEXT      the warning body (implies --warn)\n"
    "  --exit-after N        exit after N accepted (200) requests\n"
    "  --threads N           worker threads = concurrent connections (default 16)\n"
    "  --quiet               do not log each request on stderr\n"
    "  --render FILE|-       print a --record NDJSON file as `[category] message` lines, exit\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit status: 0 after SIGINT/SIGTERM or --exit-after, 1 on a runtime error, 2 on a usage error.\n";

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
  if (!parse_uint(text, v) || v > max) throw UsageError{flag + ": expected a number up to " + std::to_string(max) + ", got '" + text + "'"};
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
  if (!parse_uint(text, v) || v < 100 || v > 599) throw UsageError{flag + ": bad status '" + text + "' (100..599 or reset)"};
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
  if (colon == std::string::npos) throw UsageError{"--fail-for: expected STATUS[,STATUS...]:DURATION, got '" + text + "'"};
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

Options parse_args(int argc, char** argv) {
  Options o;
  o.config.code = "local-code";
  o.config.token = "local-token";
  o.config.keep_in_memory = false;
  o.config.retry_after_seconds = 1;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError{a + " needs a value"};
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--port") {
      o.config.port = static_cast<int>(need_uint(a, value(), 65535));
    } else if (a == "--code") {
      o.config.code = value();
    } else if (a == "--token") {
      o.config.token = value();
    } else if (a == "--code-env") {
      o.config.code = env_or_throw(a, value());
    } else if (a == "--token-env") {
      o.config.token = env_or_throw(a, value());
    } else if (a == "--record") {
      o.record = value();
    } else if (a == "--pretty") {
      o.pretty = true;
    } else if (a == "--fail") {
      o.faults.push_back(parse_fail(value()));
    } else if (a == "--fail-for") {
      parse_fail_for(value(), o);
    } else if (a == "--retry-after") {
      o.config.retry_after_seconds = static_cast<int>(need_uint(a, value(), 86400));
    } else if (a == "--delay") {
      o.delay = std::chrono::milliseconds(static_cast<std::int64_t>(need_uint(a, value(), 3600000)));
    } else if (a == "--warn") {
      if (!o.warning) o.warning = kDefaultWarning;
    } else if (a == "--warn-text") {
      o.warning = value();
    } else if (a == "--exit-after") {
      o.exit_after = need_uint(a, value(), 1000000000);
    } else if (a == "--threads") {
      o.config.threads = static_cast<std::size_t>(need_uint(a, value(), 1024));
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--render") {
      o.render = value();
    } else {
      throw UsageError{"unknown argument '" + a + "'"};
    }
  }
  if (o.pretty && o.record.empty()) throw UsageError{"--pretty needs --record FILE|-"};
  return o;
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
  std::string s = "#" + std::to_string(r.seq) + " " + r.route + " " + r.encoding + " " +
                  std::to_string(r.wire_bytes) + " B";
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
  try {
    opt = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "sumo-emulator: " << e.message << "\n(run with --help for usage)\n";
    return 2;
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
