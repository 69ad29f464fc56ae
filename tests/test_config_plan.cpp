// tests/test_config_plan.cpp [config]: the config is consumed once (issue 13). finalize() computes
// what delivery needs (target with the config's one Redactor, the default request headers, the
// effective compression level and threads) exactly once, copies of the FinalizedSumoConfig share
// it, and SumoClient uses it as is: constructing and sending builds no further Redactor, and
// so does SumoSender; every text from outside (an HttpClient error, a server's answer) is redacted exactly once while
// the reports stay masked. Counted with detail::Redactor::constructed() and applied().
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/redact.hpp"
#include "delivery/compress.hpp"
#include "delivery/delivery.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "support/catch.hpp"
#include "support/fake_http.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;
using ilert_sumo::test::FakeHttp;
using Reply = ilert_sumo::test::FakeReply;

namespace {

constexpr const char* kCode = "UGxhbk9uY2VTZWNyZXRDb2RlRm9yVGVzdHMxMjM0NTY3ODkw";
constexpr const char* kToken = "plan-token-5d1c9e07a3f2";

SumoConfig base_config() {
  SumoConfig c;
  c.url = std::string("https://collectors.example.com/receiver/v1/http/") + kCode;
  c.metadata.category = "ilert/alerts";
  c.metadata.fields = {{"team", "ops"}};
  c.retry.initial_backoff = 1ms;  // the client's real sleeper: keep waits at 1 ms
  c.retry.max_backoff = 1ms;
  return c;
}

FinalizedSumoConfig finalized(const SumoConfig& c) {
  auto f = finalize(c);
  INFO((f ? std::string() : f.error().to_string()));
  REQUIRE(f);
  return std::move(f).value();
}

void require_masked(const std::string& text) {
  INFO(text);
  CHECK(text.find(kCode) == std::string::npos);
  CHECK(text.find(std::string(kCode).substr(4, 16)) == std::string::npos);
  CHECK(text.find(kToken) == std::string::npos);
}

bool same_headers(const std::vector<HttpHeader>& a, const std::vector<HttpHeader>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const HttpHeader& x, const HttpHeader& y) { return x.name == y.name && x.value == y.value; });
}

}  // namespace

TEST_CASE("finalize builds the delivery plan once and copies share it", "[unit][config]") {
  SumoConfig c = base_config();
  c.token = kToken;
  const std::uint64_t before = detail::Redactor::constructed();
  const FinalizedSumoConfig f = finalized(c);
  CHECK(detail::Redactor::constructed() == before + 1);  // the one finalize() checks with, kept

  const FinalizedSumoConfig copy = f;  // copies are the point here
  const FinalizedSumoConfig copy_of_copy = copy;
  CHECK(&detail::delivery_plan(copy) == &detail::delivery_plan(f));
  CHECK(&detail::delivery_plan(copy_of_copy) == &detail::delivery_plan(f));
  CHECK(detail::Redactor::constructed() == before + 1);

  const detail::DeliveryPlan& plan = detail::delivery_plan(f);
  CHECK(plan.target.url == c.url);
  CHECK(plan.target.redacted_url == f.redacted_url());
  CHECK(plan.target.redacted_url == redact_url(c.url));
  CHECK(plan.target.connect_timeout == c.connect_timeout);
  CHECK(plan.target.request_timeout == c.request_timeout);
  CHECK(plan.target.retry.initial_backoff == c.retry.initial_backoff);
  CHECK(plan.target.redactor(std::string("token ") + kToken) == "token ***");
  CHECK(same_headers(plan.headers, detail::build_request_headers(c, c.metadata)));
  // gzip, level -1 and threads -1 (the defaults): the codec's default level, the automatic count.
  CHECK(plan.codec == Compression::gzip);
  CHECK(plan.compression_level == detail::default_compression_level(Compression::gzip));
  CHECK(plan.compression_level == 6);
  CHECK(plan.compression_threads == std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
}

TEST_CASE("the plan resolves the compression level and threads as the client always did", "[unit][config]") {
  SECTION("explicit level and threads are kept") {
    SumoConfig c = base_config();
    c.compression = Compression::deflate;
    c.compression_level = 1;
    c.compression_threads = 2;
    const FinalizedSumoConfig f = finalized(c);
    CHECK(detail::delivery_plan(f).codec == Compression::deflate);
    CHECK(detail::delivery_plan(f).compression_level == 1);
    CHECK(detail::delivery_plan(f).compression_threads == 2);
  }
  SECTION("none: level 0 and no threads, whatever was asked") {
    SumoConfig c = base_config();
    c.compression = Compression::none;
    c.compression_threads = 3;
    const FinalizedSumoConfig f = finalized(c);
    CHECK(detail::delivery_plan(f).compression_level == 0);
    CHECK(detail::delivery_plan(f).compression_threads == 0);
  }
  SECTION("zstd's default level") {
    if (!compression_available(Compression::zstd)) return;
    SumoConfig c = base_config();
    c.compression = Compression::zstd;
    c.compression_threads = 0;
    const FinalizedSumoConfig f = finalized(c);
    CHECK(detail::delivery_plan(f).compression_level == detail::default_compression_level(Compression::zstd));
    CHECK(detail::delivery_plan(f).compression_level == 3);
    CHECK(detail::delivery_plan(f).compression_threads == 0);
  }
}

TEST_CASE("SumoClient builds no Redactor and redacts each outside text once", "[unit][config]") {
  SumoConfig c = base_config();
  c.token = kToken;
  c.compression = Compression::none;  // no compression threads: a [unit] case
  c.batch.max_events = 1;
  c.retry.max_attempts = 3;
  const FinalizedSumoConfig f = finalized(c);
  const std::string leaky = "could not POST " + c.url + " with x-sumo-token: " + kToken;
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::failure(ErrorCode::transport, leaky),  // request 1: three attempts
                Reply::failure(ErrorCode::timeout, leaky), Reply::http(503, "busy: " + leaky),
                Reply::http(200, std::string("warning about ") + kToken),                    // request 2
                Reply::http(401, std::string("invalid token ") + kToken + " for " + kCode),  // request 3
                Reply::http(200)});                                                          // request 4
  // Texts from outside: three errors of request 1, the warning of 2, the 401 body of 3.
  constexpr std::uint64_t kOutsideTexts = 5;

  const std::uint64_t built = detail::Redactor::constructed();
  const std::uint64_t applied = detail::Redactor::applied();
  SumoClient client(f, http);
  const DeliverySummary s = client.send_lines({"a", "b", "c", "d"});
  CHECK(detail::Redactor::constructed() == built);  // finalize()'s Redactor is the only one
  CHECK(detail::Redactor::applied() - applied == kOutsideTexts);

  REQUIRE(s.requests.size() == 4);
  CHECK_FALSE(s.requests[0].delivered);
  CHECK(s.requests[0].attempts == 3);
  CHECK(s.requests[1].delivered);
  CHECK_FALSE(s.requests[2].delivered);
  CHECK(s.requests[3].delivered);
  for (const DeliveryReport& r : s.requests) {
    if (r.error) {
      require_masked(r.error->message);
      require_masked(r.error->to_string());
    }
    require_masked(r.warning);
  }
  REQUIRE(s.requests[0].error);
  CHECK(s.requests[0].error->message.find("max_attempts") != std::string::npos);
  CHECK(s.requests[0].error->message.find("/receiver/v1/http/UG***") != std::string::npos);
  CHECK(s.requests[1].warning == "warning about ***");
  REQUIRE(s.requests[2].error);
  CHECK(s.requests[2].error->code == ErrorCode::http_status);
  CHECK(s.requests[2].error->message.find("invalid token ***") != std::string::npos);
  // The requests carry the plan's headers and go to the plan's URL.
  for (const test::FakeRequest& seen : http->requests()) {
    CHECK(seen.url == c.url);
    CHECK(same_headers(seen.headers, detail::delivery_plan(f).headers));
  }
}

TEST_CASE("SumoClient compresses with the plan's effective level", "[unit][config]") {
  SumoConfig c = base_config();
  c.compression = Compression::gzip;  // level -1: the codec's default
  c.compression_threads = 0;          // on the calling thread: a [unit] case
  const FinalizedSumoConfig f = finalized(c);
  const detail::DeliveryPlan& plan = detail::delivery_plan(f);
  REQUIRE(plan.compression_level == 6);
  auto http = std::make_shared<FakeHttp>();
  SumoClient client(f, http);
  const std::vector<std::string> lines(200, R"({"eventType":"alert-created","summary":"disk full on db-1"})");
  const DeliverySummary s = client.send_lines(lines);
  REQUIRE(s.all_delivered());
  const auto seen = http->requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("Content-Encoding") == "gzip");

  std::string raw;
  for (const std::string& line : lines) raw += line + "\n";
  auto compressor = detail::Compressor::create(plan.codec, plan.compression_level);
  REQUIRE(compressor);
  std::string expected;
  REQUIRE(compressor.value().compress(raw, expected));
  CHECK(seen[0].body == expected);
}

TEST_CASE("SumoSender builds no Redactor and redacts each outside text once", "[component][config]") {
  SumoConfig c = base_config();
  c.token = kToken;
  c.compression = Compression::none;
  c.batch.max_events = 1;
  c.retry.max_attempts = 3;
  const FinalizedSumoConfig f = finalized(c);
  const std::string leaky = "could not POST " + c.url + " with x-sumo-token: " + kToken;
  auto http = std::make_shared<FakeHttp>();
  http->script({Reply::failure(ErrorCode::transport, leaky),  // event 1: three attempts, then dropped
                Reply::failure(ErrorCode::timeout, leaky), Reply::http(503, "busy: " + leaky),
                Reply::http(200, std::string("warning about ") + kToken),                    // event 2
                Reply::http(401, std::string("invalid token ") + kToken + " for " + kCode),  // event 3
                Reply::http(200)});                                                          // event 4
  constexpr std::uint64_t kOutsideTexts = 5;

  std::mutex mu;
  std::vector<DeliveryReport> reports;
  std::vector<Error> notices;
  const std::uint64_t built = detail::Redactor::constructed();
  const std::uint64_t applied = detail::Redactor::applied();
  {
    auto sender = SumoSender::create(
        f, http,
        [&](const DeliveryReport& r) {
          std::lock_guard<std::mutex> lk(mu);
          reports.push_back(r);
        },
        [&](const Error& e) {
          std::lock_guard<std::mutex> lk(mu);
          notices.push_back(e);
        });
    REQUIRE(sender);
    for (const char* line : {"{\"a\":1}", "{\"a\":2}", "{\"a\":3}", "{\"a\":4}"}) {
      REQUIRE(sender.value()->enqueue_line(line) == EnqueueStatus::accepted);
    }
    const FlushResult flushed = sender.value()->flush(10s);
    CHECK(flushed.completed);
    const SenderStats stats = sender.value()->stats();
    CHECK(stats.delivered_events == 2);
    require_masked(stats.last_error);
    sender.value()->shutdown(5s);
  }
  CHECK(detail::Redactor::constructed() == built);  // the sender uses finalize()'s Redactor
  CHECK(detail::Redactor::applied() - applied == kOutsideTexts);

  std::lock_guard<std::mutex> lk(mu);
  REQUIRE(reports.size() == 4);
  for (const DeliveryReport& r : reports) {
    if (r.error) require_masked(r.error->to_string());
    require_masked(r.warning);
  }
  CHECK_FALSE(notices.empty());  // the failed attempts and the recovery
  for (const Error& n : notices) require_masked(n.message);
  for (const test::FakeRequest& seen : http->requests()) {
    CHECK(same_headers(seen.headers, detail::delivery_plan(f).headers));
  }
}
