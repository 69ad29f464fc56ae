// tests/test_client_stop.cpp [client]: SumoClient::request_stop() ends a send() from another
// thread. The tests' FakeHttp answers 503 with Retry-After: 30 (the client then waits 30 s before
// its next attempt) or holds the request until HttpRequest::cancel is set; the stop must end the wait
// or the transfer at once, start no further attempt or request, and report every undelivered event
// as failed with ErrorCode::aborted. send() runs on a std::async thread and the test waits for it
// with a deadline below the 30 s wait, so a stop that does not work fails instead of hanging.
// The last case does the same with real libcurl against the in-process emulator.
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "support/catch.hpp"
#include "support/fake_http.hpp"
#include "support/sumo_emulator.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using namespace ilert_sumo;
using ilert_sumo::test::FakeHttp;
using ilert_sumo::test::FakeReply;
using ilert_sumo::test::wait_until;

namespace {

constexpr const char* kStopped = "stopped by SumoClient::request_stop(): ";

/// Every POST answered 503 with Retry-After: 30, or (hang) held until its cancel flag is set.
std::shared_ptr<FakeHttp> unavailable(bool hang = false) {
  auto http = std::make_shared<FakeHttp>();
  http->otherwise(hang ? FakeReply::hanging() : FakeReply::retry_after(503, "30"));
  return http;
}

constexpr const char* kFakeUrl = "https://collectors.example.com/receiver/v1/http/c2VjcmV0LWNvZGUtZm9yLXN0b3AtdGVzdHM=";

/// `change` applied to a config for `url` whose retry budget (10 minutes) only the stop can cut.
FinalizedSumoConfig config_for(const std::string& url, const std::function<void(SumoConfig&)>& change = {}) {
  SumoConfig c;
  c.url = url;
  c.allow_insecure_http = true;
  c.retry.budget = std::chrono::minutes(10);
  if (change) change(c);
  auto f = finalize(std::move(c));
  REQUIRE(f);
  return std::move(f).value();
}

std::vector<std::string> lines(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("{\"n\":" + std::to_string(i) + "}");
  return out;
}

/// Sends `n` lines on another thread, waits until `arrived()` (the first request reached the
/// server), stops the client and returns the send()'s summary. Fails instead of hanging when the
/// send() does not return within 20 s of the stop (far below the 30 s Retry-After and the 5 min
/// delays used here); the client is stopped however the function ends, so the future's destructor
/// never waits long either.
DeliverySummary stop_after_first_request(SumoClient& client, int n, const std::function<bool()>& arrived) {
  struct StopOnExit {
    SumoClient& client;
    ~StopOnExit() { client.request_stop(); }
  };
  auto running = std::async(std::launch::async, [&client, n] { return client.send_lines(lines(n)); });
  const StopOnExit guard{client};
  REQUIRE(wait_until(arrived, 20s));
  CHECK_FALSE(client.stop_requested());
  client.request_stop();
  CHECK(client.stop_requested());
  REQUIRE(running.wait_for(20s) == std::future_status::ready);
  return running.get();
}

/// Nothing delivered, `events` failed, every request aborted by the stop, reports in input order.
void check_stopped(const DeliverySummary& s, std::size_t events) {
  CHECK(s.events_delivered == 0);
  CHECK(s.events_failed == events);
  CHECK_FALSE(s.all_delivered());
  REQUIRE_FALSE(s.requests.empty());
  std::size_t next = 0;
  for (const auto& r : s.requests) {
    CHECK(r.first_index == next);
    next += r.events;
    CHECK_FALSE(r.delivered);
    REQUIRE(r.error.has_value());
    CHECK(r.error->code == ErrorCode::aborted);
    CHECK(r.error->message.rfind(kStopped, 0) == 0);
  }
  CHECK(next == events);
}

}  // namespace

TEST_CASE("SumoClient::request_stop ends a Retry-After wait at once", "[component][client]") {
  auto http = unavailable();
  SumoClient client(config_for(kFakeUrl), http);
  // Refused once with Retry-After: 30: the client is in (or about to begin) that wait when stopped.
  const DeliverySummary s = stop_after_first_request(client, 3, [&] { return http->request_count() >= 1; });
  check_stopped(s, 3);
  REQUIRE(s.requests.size() == 1);
  CHECK(s.requests[0].attempts == 1);
  CHECK(s.requests[0].final_status == 503);
  CHECK(s.requests[0].error->message.find("HTTP 503") != std::string::npos);  // the last error is kept
  CHECK(s.requests[0].error->message.find("c2VjcmV0LWNvZGUt") == std::string::npos);
  CHECK(http->request_count() == 1);  // no attempt after the stop

  // Final: a later send() returns without sending.
  check_stopped(client.send_lines(lines(2)), 2);
  CHECK(http->request_count() == 1);
}

TEST_CASE("SumoClient::request_stop: the requests after the one it stopped are neither sent nor lost silently",
          "[component][client]") {
  // One line per request, gzip with two compression threads: the later requests are being
  // compressed ahead (the pipeline) when the stop comes.
  const FinalizedSumoConfig config = config_for(kFakeUrl, [](SumoConfig& c) {
    c.batch.max_events = 1;
    c.compression = Compression::gzip;
    c.compression_threads = 2;
  });
  auto http = unavailable();
  SumoClient client(config, http);
  const DeliverySummary s = stop_after_first_request(client, 20, [&] { return http->request_count() >= 1; });
  check_stopped(s, 20);
  CHECK(s.requests.size() == 20);
  CHECK(s.requests[0].attempts == 1);
  for (std::size_t i = 1; i < s.requests.size(); ++i) CHECK(s.requests[i].attempts == 0);
  CHECK(http->request_count() == 1);
}

TEST_CASE("SumoClient::request_stop cancels a transfer in flight", "[component][client]") {
  auto http = unavailable(/*hang=*/true);
  SumoClient client(config_for(kFakeUrl), http);
  const DeliverySummary s = stop_after_first_request(client, 2, [&] { return http->request_count() >= 1; });
  check_stopped(s, 2);
  CHECK(s.requests[0].attempts == 1);
  CHECK(http->aborted_count() == 1);
  CHECK(http->request_count() == 1);  // the cancelled transfer is not retried
}

TEST_CASE("SumoClient::request_stop aborts a libcurl transfer in flight", "[client][integration]") {
  ilert_sumo::test::SumoEmulator emu;
  emu.start();
  emu.set_delay(std::chrono::minutes(5));  // the answer would come long after the test's deadline
  SumoClient client(config_for(emu.url()));
  // counters().requests: arrived (request_count() counts answered ones).
  check_stopped(stop_after_first_request(client, 1, [&] { return emu.counters().requests >= 1; }), 1);
  emu.stop();
}
