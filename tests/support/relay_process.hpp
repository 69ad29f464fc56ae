// tests/support/relay_process.hpp: the built ilert-sumo-relay as a child process, for the relay's
// end-to-end tests (test_relay_e2e.cpp, test_relay_metrics.cpp, test_relay_auth.cpp,
// test_relay_overflow.cpp), and a reader for its Prometheus page.
//
// RelayProcess starts the program on 127.0.0.1:0 with a clean environment (nothing from the
// developer's ILERT_SUMO_* variables leaks in), reads the port from its first stdout line, hands
// out httplib clients and stops it with SIGTERM, failing the test when it does not exit cleanly or
// a sanitizer reported into its stderr. Header-only: it uses Catch2's assertions, and the support
// library is also linked into programs without Catch2.
#pragma once

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"

namespace ilert_sumo::test {

using RelayEnv = std::map<std::string, std::optional<std::string>>;

/// Every environment variable the relay reads; each test sets what it needs on top of none.
inline const std::vector<const char*>& relay_environment_variables() {
  static const std::vector<const char*> names = {"ILERT_SUMO_URL",
                                                 "ILERT_SUMO_URL_FILE",
                                                 "ILERT_SUMO_ENDPOINT",
                                                 "ILERT_SUMO_TOKEN",
                                                 "ILERT_SUMO_TOKEN_FILE",
                                                 "ILERT_SUMO_RELAY_BASIC_AUTH",
                                                 "ILERT_SUMO_RELAY_BASIC_AUTH_FILE",
                                                 "ILERT_SUMO_RELAY_AUTH_HEADER",
                                                 "ILERT_SUMO_RELAY_AUTH_HEADER_VALUE",
                                                 "ILERT_SUMO_RELAY_AUTH_HEADER_VALUE_FILE",
                                                 "ILERT_SUMO_RELAY_LISTEN",
                                                 "ILERT_SUMO_RELAY_PATH",
                                                 "ILERT_SUMO_RELAY_SPOOL_DIR",
                                                 "ILERT_SUMO_RELAY_CATEGORY",
                                                 "ILERT_SUMO_RELAY_OVERFLOW",
                                                 "ILERT_SUMO_RELAY_QUEUE_BYTES",
                                                 "ILERT_SUMO_RELAY_INVALID_STATUS",
                                                 "ILERT_SUMO_RELAY_CA_FILE",
                                                 "ILERT_SUMO_RELAY_CONFIG"};
  return names;
}

/// `env` with every relay variable it does not set removed.
inline RelayEnv clean_relay_env(RelayEnv env) {
  for (const char* v : relay_environment_variables()) env.emplace(v, std::nullopt);
  return env;
}

class RelayProcess {
 public:
  /// Starts the relay with `--listen 127.0.0.1:0 --batch-age 50ms --retry-after 7` + `args` (the
  /// --batch-age and --retry-after defaults only when `args` has none: a flag given twice is a usage
  /// error); its stderr goes to `<log_dir>/<name>.stderr`.
  RelayProcess(const std::string& sumo_url, const std::vector<std::string>& args, RelayEnv env,
               const std::filesystem::path& log_dir, const std::string& name = "relay") {
    using namespace std::chrono_literals;
    const std::string program = bin_path("ilert-sumo-relay");
    REQUIRE(std::filesystem::exists(program));  // built with the examples (ILERT_SUMO_BUILD_EXAMPLES)
    env = clean_relay_env(std::move(env));
    env["ILERT_SUMO_URL"] = sumo_url;
    std::vector<std::string> all = {"--listen", "127.0.0.1:0"};
    const auto given = [&](const char* flag) {
      for (const auto& a : args) {
        if (a == flag || a.rfind(std::string(flag) + "=", 0) == 0) return true;
      }
      return false;
    };
    if (!given("--batch-age")) all.insert(all.end(), {"--batch-age", "50ms"});
    if (!given("--retry-after")) all.insert(all.end(), {"--retry-after", "7"});
    all.insert(all.end(), args.begin(), args.end());
    stderr_path_ = (log_dir / (name + ".stderr")).string();
    process_ = std::make_unique<ChildProcess>(program, all, env, stderr_path_);
    const auto line = process_->read_line(20s);
    INFO("relay stderr: " << read_stderr());
    REQUIRE(line.has_value());
    const auto port = parse_listening_port(*line);
    REQUIRE(port.has_value());
    port_ = *port;
  }

  int port() const { return port_; }
  ChildProcess& process() { return *process_; }
  std::string read_stderr() const {
    try {
      return read_file(stderr_path_);
    } catch (...) {
      return "";
    }
  }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(10, 0);
    c->set_write_timeout(10, 0);
    return c;
  }
  /// SIGTERM, and the time until it exited (fails the test when it does not exit in `limit`).
  std::chrono::milliseconds terminate(std::chrono::milliseconds limit) {
    const auto t0 = std::chrono::steady_clock::now();
    process_->signal(SIGTERM);
    const auto status = process_->wait(limit);
    INFO("relay stderr: " << read_stderr());
    REQUIRE(status.has_value());
    CHECK(status->ok());
    // A sanitizer build of the relay reports into its stderr.
    const std::string log = read_stderr();
    CHECK(log.find("Sanitizer") == std::string::npos);
    CHECK(log.find("runtime error:") == std::string::npos);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  }

 private:
  std::string stderr_path_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

/// A start-up that must fail: the relay with `args` (after `--listen 127.0.0.1:0`) and `env` (on
/// a clean environment, with an unused loopback Sumo URL unless `env` sets one).
struct ConfigErrorCase {
  const char* name;
  std::vector<std::string> args;
  RelayEnv env;
  /// Text the error message must contain.
  const char* message;
};

/// Each case exits 2 with `message` on stderr, which never contains `never_shown` (the secrets the
/// cases use carry it).
inline void check_config_errors(const std::vector<ConfigErrorCase>& cases, const std::string& stderr_path,
                                const std::string& never_shown = "SECRET") {
  using namespace std::chrono_literals;
  const std::string program = bin_path("ilert-sumo-relay");
  REQUIRE(std::filesystem::exists(program));
  for (const auto& c : cases) {
    INFO("case: " << c.name);
    std::vector<std::string> args = {"--listen", "127.0.0.1:0"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RelayEnv env = c.env;
    env.emplace("ILERT_SUMO_URL", "http://127.0.0.1:9/receiver/v1/http/CODE");
    ChildProcess p(program, args, clean_relay_env(std::move(env)), stderr_path);
    const auto st = p.wait(20s);
    REQUIRE(st.has_value());
    CHECK((st->exited && st->code == 2));
    const std::string text = read_file(stderr_path);
    INFO("stderr: " << text);
    CHECK(text.find(c.message) != std::string::npos);
    CHECK(text.find(never_shown) == std::string::npos);
  }
}

/// A value from a Prometheus text page: the sample whose name+labels are exactly `series`.
inline std::optional<double> prometheus_value(const std::string& page, const std::string& series) {
  std::size_t pos = 0;
  while (pos < page.size()) {
    auto eol = page.find('\n', pos);
    if (eol == std::string::npos) eol = page.size();
    if (eol - pos > series.size() && page.compare(pos, series.size(), series) == 0 &&
        page[pos + series.size()] == ' ') {
      return std::stod(page.substr(pos + series.size() + 1, eol - pos - series.size() - 1));
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

}  // namespace ilert_sumo::test
