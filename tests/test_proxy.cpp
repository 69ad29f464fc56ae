// tests/test_proxy.cpp [proxy]: delivery through a real local proxy (tests/support/http_proxy.hpp)
// to the real emulator, with real libcurl:
// - an explicit proxy (SumoConfig::http.proxy): through a CONNECT tunnel (http.proxy_tunnel, as
//   every https:// Sumo URL is) and by absolute-form forwarding (plain http:// without a tunnel);
// - libcurl's environment variables: http_proxy (lower case only; HTTP_PROXY is ignored), ALL_PROXY,
//   and https_proxy/HTTPS_PROXY for an https:// URL (the proxy sees the CONNECT; the TLS handshake
//   then fails against the plain-HTTP emulator, which is expected);
// - NO_PROXY and http.no_proxy bypass the proxy ("*" also overrides the environment);
// - proxy credentials: delivered when right; when wrong (407) or when TLS fails behind an
//   authorised tunnel, no message, report, notice, stats field or program output carries them;
// - ilert-sumo-send --proxy URL, and its fallback to the environment variables;
// - ilert-sumo-relay --proxy URL (over ILERT_SUMO_RELAY_PROXY), credentials from that variable
//   (shown masked), --no-proxy, and credentials refused in a flag or the config file.
// The environment is changed in-process (setenv) only while no other thread of this test reads it:
// EnvGuard clears every proxy variable first and restores them at the end of the test case.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/http_proxy.hpp"
#include "support/process.hpp"
#include "support/relay_process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;
using test::HttpProxy;
using test::SumoEmulator;

namespace {

const char* const kProxyUser = "proxyuser";
const char* const kProxyPassword = "Pr0xy-S3cret-pw";
/// "Basic " + base64("proxyuser:Pr0xy-S3cret-pw").
const char* const kProxyAuth = "Basic cHJveHl1c2VyOlByMHh5LVMzY3JldC1wdw==";
const char* const kWrongPassword = "Wr0ng-pw-9xQ";

const char* const kProxyVariables[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                       "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};

using Env = std::map<std::string, std::string>;

/// Clears every proxy environment variable, sets the given ones, restores all on destruction.
class EnvGuard {
 public:
  explicit EnvGuard(const Env& set = {}) {
    for (const char* name : kProxyVariables) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v == nullptr ? std::nullopt : std::optional<std::string>(v));
      ::unsetenv(name);
    }
    for (const auto& [name, value] : set) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::string with_credentials(const HttpProxy& proxy, const std::string& password) {
  return "http://" + std::string(kProxyUser) + ":" + password + "@127.0.0.1:" + std::to_string(proxy.port());
}

/// The emulator's URL, quick retries (a test never waits for production backoffs).
SumoConfig base_config(const SumoEmulator& emu) {
  SumoConfig c;
  c.url = emu.url();
  c.allow_insecure_http = true;
  c.retry.initial_backoff = 10ms;
  c.retry.max_backoff = 50ms;
  c.retry.budget = 5s;
  return c;
}

FinalizedSumoConfig finalized(SumoConfig c) {
  auto f = finalize(std::move(c));
  if (!f) FAIL("finalize: " << f.error().to_string());
  return std::move(f).value();
}

/// Sends `n` lines in `n` requests; returns the summary.
DeliverySummary send(const SumoConfig& c, std::size_t n = 3) {
  SumoConfig one_per_request = c;
  one_per_request.batch.max_events = 1;
  SumoClient client(finalized(one_per_request));
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < n; ++i) lines.push_back("{\"line\":" + std::to_string(i) + "}");
  return client.send_lines(lines);
}

std::string emulator_hostport(const SumoEmulator& emu) { return "127.0.0.1:" + std::to_string(emu.port()); }

/// No form of the proxy password (or the wrong one) in `text`.
void require_no_proxy_secret(const std::string& text) {
  INFO("text: " << text);
  CHECK(text.find(kProxyPassword) == std::string::npos);
  CHECK(text.find(kWrongPassword) == std::string::npos);
  CHECK(text.find("cHJveHl1c2Vy") == std::string::npos);  // the base64 credentials
}

}  // namespace

TEST_CASE("proxy: an explicit proxy carries every request, through a CONNECT tunnel or forwarded",
          "[integration][proxy]") {
  const EnvGuard env;
  SumoEmulator emu;
  emu.start();
  HttpProxy proxy;
  SumoConfig c = base_config(emu);
  c.http.proxy = proxy.url();
  SECTION("CONNECT tunnel (http.proxy_tunnel; what libcurl does for every https:// URL)") {
    c.http.proxy_tunnel = true;
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(emu.count() == 3);
    REQUIRE(proxy.count("CONNECT") >= 1);
    CHECK(proxy.count() == proxy.count("CONNECT"));  // nothing went around the tunnel
    for (const test::ProxyRequest& r : proxy.requests()) CHECK(r.target == emulator_hostport(emu));
  }
  SECTION("absolute-form forwarding (plain http:// without a tunnel)") {
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(emu.count() == 3);
    CHECK(proxy.count("CONNECT") == 0);
    REQUIRE(proxy.count("POST") == 3);
    for (const test::ProxyRequest& r : proxy.requests()) CHECK(r.target == emu.url());
  }
  SECTION("without a proxy setting or variable, the proxy sees nothing") {
    c.http.proxy.clear();
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(proxy.count() == 0);
  }
}

TEST_CASE("proxy: libcurl's environment variables choose the proxy", "[integration][proxy]") {
  SumoEmulator emu;
  emu.start();
  HttpProxy proxy;
  SumoConfig c = base_config(emu);
  SECTION("http_proxy for an http:// URL") {
    const EnvGuard env(Env{{"http_proxy", proxy.url()}});
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(proxy.count("POST") == 3);
  }
  SECTION("http_proxy with http.proxy_tunnel: CONNECT") {
    const EnvGuard env(Env{{"http_proxy", proxy.url()}});
    c.http.proxy_tunnel = true;
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(proxy.count("CONNECT") >= 1);
    CHECK(proxy.count("POST") == 0);
  }
  SECTION("ALL_PROXY when no scheme-specific variable is set") {
    const EnvGuard env(Env{{"ALL_PROXY", proxy.url()}});
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(proxy.count("POST") == 3);
  }
  SECTION("HTTP_PROXY in upper case is ignored (libcurl reads http_proxy only in lower case)") {
    const EnvGuard env(Env{{"HTTP_PROXY", proxy.url()}});
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(proxy.count() == 0);
  }
  SECTION("an explicit http.proxy wins over the variables") {
    HttpProxy other;
    const EnvGuard env(Env{{"http_proxy", other.url()}, {"ALL_PROXY", other.url()}});
    c.http.proxy = proxy.url();
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(proxy.count("POST") == 3);
    CHECK(other.count() == 0);
  }
  for (const char* variable : {"https_proxy", "HTTPS_PROXY"}) {
    DYNAMIC_SECTION(variable << " for an https:// URL, with credentials: CONNECT seen, no secret printed") {
      HttpProxy authed(kProxyAuth);
      const EnvGuard env(Env{{variable, with_credentials(authed, kProxyPassword)}});
      SumoConfig https = c;
      https.url = "https://127.0.0.1:" + std::to_string(emu.port()) + "/receiver/v1/http/" + emu.config().code;
      https.retry.budget = 0ms;  // one attempt: the TLS handshake with the plain emulator fails
      const DeliverySummary s = send(https, 1);
      CHECK(s.events_delivered == 0);
      REQUIRE(authed.count("CONNECT") == 1);
      const test::ProxyRequest r = authed.requests().front();
      CHECK(r.target == emulator_hostport(emu));
      CHECK(r.proxy_authorization == kProxyAuth);
      CHECK(r.status == 200);
      REQUIRE(s.requests.size() == 1);
      REQUIRE(s.requests[0].error);
      require_no_proxy_secret(s.requests[0].error->to_string());
      CHECK(s.requests[0].error->message.find(emu.config().code) == std::string::npos);
    }
  }
}

TEST_CASE("proxy: NO_PROXY and http.no_proxy bypass the proxy", "[integration][proxy]") {
  SumoEmulator emu;
  emu.start();
  HttpProxy proxy;
  SumoConfig c = base_config(emu);
  SECTION("NO_PROXY=127.0.0.1 with http_proxy set") {
    const EnvGuard env(Env{{"http_proxy", proxy.url()}, {"NO_PROXY", "localhost,127.0.0.1"}});
    CHECK(send(c).events_delivered == 3);
    CHECK(proxy.count() == 0);
  }
  SECTION("no_proxy (lower case) applies to an explicit http.proxy too") {
    const EnvGuard env(Env{{"no_proxy", "127.0.0.1"}});
    c.http.proxy = proxy.url();
    CHECK(send(c).events_delivered == 3);
    CHECK(proxy.count() == 0);
  }
  SECTION("http.no_proxy lists the host") {
    const EnvGuard env;
    c.http.proxy = proxy.url();
    c.http.no_proxy = "example.com,127.0.0.1";
    CHECK(send(c).events_delivered == 3);
    CHECK(proxy.count() == 0);
  }
  SECTION("http.no_proxy \"*\" turns the environment's proxy off") {
    const EnvGuard env(Env{{"http_proxy", proxy.url()}, {"ALL_PROXY", proxy.url()}});
    c.http.no_proxy = "*";
    CHECK(send(c).events_delivered == 3);
    CHECK(proxy.count() == 0);
  }
  SECTION("http.no_proxy overrides NO_PROXY (a list without our host: proxied)") {
    const EnvGuard env(Env{{"http_proxy", proxy.url()}, {"NO_PROXY", "127.0.0.1"}});
    c.http.no_proxy = "example.com";
    CHECK(send(c).events_delivered == 3);
    CHECK(proxy.count("POST") == 3);
  }
}

TEST_CASE("proxy: credentials are sent and never printed", "[integration][proxy]") {
  const EnvGuard env;
  SumoEmulator emu;
  emu.start();
  HttpProxy proxy(kProxyAuth);
  SumoConfig c = base_config(emu);
  c.http.proxy_tunnel = true;
  SECTION("right credentials: delivered through the tunnel with Proxy-Authorization") {
    c.http.proxy = with_credentials(proxy, kProxyPassword);
    const DeliverySummary s = send(c);
    CHECK(s.events_delivered == 3);
    CHECK(emu.count() == 3);
    REQUIRE(proxy.count("CONNECT") >= 1);
    CHECK(proxy.auth_failures() == 0);
    for (const test::ProxyRequest& r : proxy.requests()) CHECK(r.proxy_authorization == kProxyAuth);
    const std::string described = to_string(c);
    CHECK(described.find("proxy=\"http://proxyuser:***@127.0.0.1:") != std::string::npos);
    require_no_proxy_secret(described);
  }
  SECTION("wrong credentials, CONNECT: 407, nothing delivered, no secret in the report") {
    c.http.proxy = with_credentials(proxy, kWrongPassword);
    c.retry.max_attempts = 2;
    const DeliverySummary s = send(c, 1);
    CHECK(s.events_delivered == 0);
    CHECK(emu.count() == 0);
    CHECK(proxy.auth_failures() >= 1);
    REQUIRE(s.requests.size() == 1);
    REQUIRE(s.requests[0].error);
    INFO(s.requests[0].error->to_string());
    CHECK(s.requests[0].error->message.find("407") != std::string::npos);
    require_no_proxy_secret(s.requests[0].error->to_string());
  }
  SECTION("wrong credentials, forwarded: HTTP 407, no secret in the report") {
    c.http.proxy_tunnel = false;
    c.http.proxy = with_credentials(proxy, kWrongPassword);
    const DeliverySummary s = send(c, 1);
    CHECK(s.events_delivered == 0);
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].final_status == 407);
    REQUIRE(s.requests[0].error);
    require_no_proxy_secret(s.requests[0].error->to_string());
  }
  SECTION("SumoSender: reports, notices and stats carry no secret") {
    c.http.proxy = with_credentials(proxy, kWrongPassword);
    c.retry.budget = 200ms;
    c.shutdown_timeout = 2s;
    std::mutex m;
    std::vector<std::string> captured;
    auto sender = SumoSender::create(
        finalized(c), nullptr,
        [&](const DeliveryReport& r) {
          std::lock_guard<std::mutex> lock(m);
          if (r.error) captured.push_back(r.error->to_string());
        },
        [&](const Error& notice) {
          std::lock_guard<std::mutex> lock(m);
          captured.push_back(notice.to_string());
        });
    REQUIRE(sender);
    for (int i = 0; i < 3; ++i)
      REQUIRE((*sender)->enqueue_line("{\"n\":" + std::to_string(i) + "}") == EnqueueStatus::accepted);
    const FlushResult r = (*sender)->flush(10s);
    CHECK(r.completed);
    const SenderStats stats = (*sender)->stats();
    CHECK(stats.dropped_budget_exhausted + stats.dropped_permanent_error == 3);
    REQUIRE_FALSE(stats.last_error.empty());
    require_no_proxy_secret(stats.last_error);
    (*sender)->shutdown(2s);
    std::lock_guard<std::mutex> lock(m);
    REQUIRE_FALSE(captured.empty());
    for (const std::string& text : captured) require_no_proxy_secret(text);
  }
  SECTION("finalize rejects a proxy URL with a path without printing its password") {
    c.http.proxy = with_credentials(proxy, kProxyPassword) + "/some/path";
    const auto f = finalize(c);
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::invalid_url);
    CHECK(f.error().message.find("http.proxy") == 0);
    require_no_proxy_secret(f.error().to_string());
  }
}

TEST_CASE("proxy: ilert-sumo-send --proxy, and the environment when it is not given", "[program][proxy][cli-send]") {
  SumoEmulator emu;
  emu.start();
  HttpProxy proxy(kProxyAuth);
  test::TempDir dir("ilert-sumo-proxy");
  const std::string input = dir / "alert.json";
  std::ofstream(input, std::ios::binary)
      << R"({"id":"4711","eventType":"alert-created","summary":"Disk space low on db-01","status":"PENDING",)"
         R"("priority":"HIGH","reportTime":"2024-03-14T09:26:53.601Z"})";
  const std::string url_var = "ILERT_SUMO_PROXY_TEST_URL";

  const auto run = [&](std::vector<std::string> args, std::map<std::string, std::optional<std::string>> env) {
    for (const char* name : kProxyVariables) env.emplace(name, std::nullopt);  // only what the case sets
    env[url_var] = emu.url();
    std::vector<std::string> all = {"--url-env", url_var, "--retry-budget", "1"};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back(input);
    test::ChildProcess child(test::bin_path("ilert-sumo-send"), all, env, dir / "stderr.txt");
    std::string out;
    while (auto line = child.read_line(30s)) out += *line + "\n";
    const auto status = child.wait(30s);
    REQUIRE(status);
    return std::make_pair(*status, out + test::read_file(dir / "stderr.txt"));
  };

  SECTION("--proxy URL with credentials") {
    const auto [status, output] = run({"--proxy", with_credentials(proxy, kProxyPassword)}, {});
    INFO(output);
    CHECK(status.ok());
    CHECK(emu.count() == 1);
    CHECK(proxy.count("POST") == 1);
    require_no_proxy_secret(output);
  }
  SECTION("http_proxy from the environment when --proxy is absent") {
    const auto [status, output] = run({}, {{"http_proxy", with_credentials(proxy, kProxyPassword)}});
    INFO(output);
    CHECK(status.ok());
    CHECK(emu.count() == 1);
    CHECK(proxy.count("POST") == 1);
    require_no_proxy_secret(output);
  }
  SECTION("wrong credentials: exit 1, the proxy's 407 reported, no secret printed") {
    const auto [status, output] = run({"--proxy", with_credentials(proxy, kWrongPassword)}, {});
    INFO(output);
    CHECK(status.exited);
    CHECK(status.code == 1);
    CHECK(emu.count() == 0);
    CHECK(proxy.auth_failures() >= 1);
    CHECK(output.find("407") != std::string::npos);
    require_no_proxy_secret(output);
  }
  SECTION("a bad --proxy is a usage error (exit 2) that does not echo the password") {
    const auto [status, output] = run({"--proxy", "ftp://proxyuser:" + std::string(kProxyPassword) + "@h:1"}, {});
    INFO(output);
    CHECK(status.exited);
    CHECK(status.code == 2);
    CHECK(output.find("http.proxy") != std::string::npos);
    require_no_proxy_secret(output);
  }
}

TEST_CASE("proxy: ilert-sumo-relay --proxy, ILERT_SUMO_RELAY_PROXY and --no-proxy", "[program][proxy][relay]") {
  SumoEmulator emu;
  emu.start();
  test::TempDir dir("ilert-sumo-relay-proxy");
  const std::string body =
      R"({"id":"4712","eventType":"alert-created","summary":"Disk space low on db-02","status":"PENDING",)"
      R"("priority":"HIGH","reportTime":"2024-03-14T09:26:53.601Z"})";
  // No proxy variable from the developer's environment: only what a section sets.
  test::RelayEnv env = {{"ILERT_SUMO_RELAY_PROXY", std::nullopt}, {"ILERT_SUMO_RELAY_NO_PROXY", std::nullopt}};
  for (const char* name : kProxyVariables) env.emplace(name, std::nullopt);
  const auto deliver_one = [&](test::RelayProcess& relay) {
    const auto answer = relay.client()->Post("/ilert", body, "application/json");
    REQUIRE(answer);
    CHECK(answer->status == 202);
    REQUIRE(test::wait_until([&] { return emu.count() == 1; }, 20s));
  };

  SECTION("--proxy URL carries the delivery, and wins over ILERT_SUMO_RELAY_PROXY") {
    HttpProxy proxy;
    env["ILERT_SUMO_RELAY_PROXY"] = "http://127.0.0.1:9";  // nothing listens there
    test::RelayProcess relay(emu.url(), {"--proxy", proxy.url()}, env, dir.path());
    deliver_one(relay);
    CHECK(proxy.count("POST") >= 1);  // forwarded: the emulator's URL is plain http://
    relay.terminate(20s);
  }
  SECTION("credentials from ILERT_SUMO_RELAY_PROXY: delivered, shown only masked") {
    HttpProxy proxy(kProxyAuth);
    env["ILERT_SUMO_RELAY_PROXY"] = with_credentials(proxy, kProxyPassword);
    test::RelayProcess relay(emu.url(), {}, env, dir.path());
    deliver_one(relay);
    CHECK(proxy.count("POST") >= 1);
    CHECK(proxy.auth_failures() == 0);
    relay.terminate(20s);
    const std::string log = relay.read_stderr();
    CHECK(log.find("via proxy http://") != std::string::npos);
    CHECK(log.find(":" + std::to_string(proxy.port())) != std::string::npos);
    require_no_proxy_secret(log);
  }
  SECTION("--no-proxy exempts the Sumo host") {
    HttpProxy proxy;
    env["ILERT_SUMO_RELAY_PROXY"] = proxy.url();
    test::RelayProcess relay(emu.url(), {"--no-proxy", "127.0.0.1"}, env, dir.path());
    deliver_one(relay);
    CHECK(proxy.count() == 0);
    relay.terminate(20s);
  }
  SECTION("credentials are refused on the command line and in the config file, and never printed") {
    const std::string secret_proxy = "http://proxyuser:" + std::string(kProxyPassword) + "@127.0.0.1:3128";
    const std::string config = dir / "relay.ini";
    std::ofstream(config) << "proxy = " << secret_proxy << "\n";
    const std::vector<test::ConfigErrorCase> cases = {
        {"--proxy", {"--proxy", secret_proxy}, env, "--proxy: a proxy URL with credentials"},
        {"--proxy=", {"--proxy=" + secret_proxy}, env, "set ILERT_SUMO_RELAY_PROXY"},
        {"config file", {"--config", config}, env, "proxy: a proxy URL with credentials (user:password@) is a secret"},
    };
    test::check_config_errors(cases, dir / "stderr.txt", kProxyPassword);
  }
}
