// tests/test_client_pipeline.cpp [client][pipeline]: SumoClient compresses the next requests on
// its compression threads while the calling thread POSTs the current one. Checked here with the
// recording fake HttpClient (support/fake_http.hpp, no network): every codec arrives decoded to
// exactly the lines sent, in order; requests are POSTed one at a time from the calling thread;
// requests really are compressed while an earlier one is on the wire (observed through the test
// hook, with a deadline, never by timing); the look-ahead is bounded; a failed request does not
// stop the rest; a send() that makes one request never uses the threads; compression_threads is
// validated.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "delivery/delivery.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "support/catch.hpp"
#include "support/fake_http.hpp"
#include "support/sumo_emulator.hpp"
#include "support/wait.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;

namespace {

constexpr const char* kCode = "UGlwZWxpbmVUZXN0Q29kZU5vdEFSZWFsU2VjcmV0MTIzNA==";

/// Installs the compression hook for one test and removes it (after the client is gone).
class HookGuard {
 public:
  explicit HookGuard(std::function<void(std::size_t)> hook) {
    detail::on_request_compressed_for_tests = std::move(hook);
  }
  ~HookGuard() { detail::on_request_compressed_for_tests = nullptr; }
  HookGuard(const HookGuard&) = delete;
  HookGuard& operator=(const HookGuard&) = delete;
};

/// Counts what the compression threads and the HttpClient did.
struct Observed {
  std::mutex mu;
  std::vector<std::size_t> compressed;  // first_index of each request compressed by a thread
  std::size_t posts_started = 0;
  std::size_t max_ahead = 0;  // most requests compressed by threads and not yet being POSTed

  void on_compressed(std::size_t first_index) {
    const std::lock_guard<std::mutex> lock(mu);
    compressed.push_back(first_index);
    max_ahead = std::max(max_ahead, compressed.size() > posts_started ? compressed.size() - posts_started : 0);
  }
  std::size_t compressed_count() {
    const std::lock_guard<std::mutex> lock(mu);
    return compressed.size();
  }
};

/// A recording FakeHttp that counts its posts in `observed` (for the look-ahead bound) and runs
/// `during_first_post` inside the first POST (the pipeline is then running).
std::shared_ptr<test::FakeHttp> recording_http(Observed& observed, std::function<void()> during_first_post = nullptr) {
  auto http = std::make_shared<test::FakeHttp>();
  http->on_post([&observed, during_first_post = std::move(during_first_post)](std::size_t index) {
    {
      const std::lock_guard<std::mutex> lock(observed.mu);
      ++observed.posts_started;
    }
    if (index == 0 && during_first_post) during_first_post();
  });
  return http;
}

FinalizedSumoConfig config_for(Compression codec, int threads, std::size_t max_bytes = 4096) {
  SumoConfig c;
  c.url = std::string("https://collectors.example.com/receiver/v1/http/") + kCode;
  c.compression = codec;
  c.compression_threads = threads;
  c.batch.max_bytes = max_bytes;
  c.retry.max_attempts = 1;
  auto f = finalize(c);
  INFO((f ? std::string() : f.error().to_string()));
  REQUIRE(f);
  return std::move(f).value();
}

std::vector<std::string> make_lines(std::size_t n) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < n; ++i) {
    lines.push_back("{\"n\":" + std::to_string(i) + ",\"text\":\"" + std::string(20 + (i * 31) % 300, 'a' + i % 26) +
                    "\"}");
  }
  return lines;
}

std::vector<std::string> lines_of(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < body.size()) {
    const std::size_t nl = body.find('\n', start);
    REQUIRE(nl != std::string::npos);
    out.push_back(body.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("pipelined SumoClient: every codec arrives in order, from the calling thread",
          "[component][client][pipeline]") {
  std::vector<Compression> codecs = {Compression::gzip, Compression::deflate};
  if (compression_available(Compression::zstd)) codecs.push_back(Compression::zstd);
  for (const Compression codec : codecs) {
    for (const int threads : {1, 3}) {
      DYNAMIC_SECTION(to_string(codec) << " with " << threads << " compression threads") {
        Observed observed;
        HookGuard hook([&](std::size_t first) { observed.on_compressed(first); });
        auto http = recording_http(observed);
        const std::vector<std::string> lines = make_lines(600);
        DeliverySummary s;
        {
          SumoClient client(config_for(codec, threads), http);
          s = client.send_lines(lines);
        }
        REQUIRE(s.all_delivered());
        CHECK(s.events_delivered == lines.size());
        const auto posts = http->requests();
        REQUIRE(s.requests.size() == posts.size());
        CHECK(s.requests.size() > 20);
        std::vector<std::string> received;
        std::size_t expected_first = 0;
        for (std::size_t r = 0; r < posts.size(); ++r) {
          const auto& post = posts[r];
          const std::string encoding = post.header("Content-Encoding");
          CHECK(post.thread == std::this_thread::get_id());  // the HttpClient never leaves this thread
          CHECK(encoding == to_string(codec));
          const test::DecodeResult decoded = test::decode_body(encoding, post.body, 1024 * 1024);
          REQUIRE(decoded.status == 200);
          CHECK(decoded.body.size() == s.requests[r].raw_bytes);
          CHECK(post.body.size() == s.requests[r].compressed_bytes);
          CHECK(s.requests[r].first_index == expected_first);
          expected_first += s.requests[r].events;
          for (auto& l : lines_of(decoded.body)) received.push_back(std::move(l));
        }
        CHECK(received == lines);
        CHECK(http->max_concurrent() == 1);  // one request at a time
        // Every request went through the compression threads except possibly the first
        // (compressed by them too once the second request existed).
        CHECK(observed.compressed_count() + 1 >= s.requests.size());
        CHECK(observed.max_ahead <= static_cast<std::size_t>(threads) + 2);
      }
    }
  }
}

TEST_CASE("pipelined SumoClient compresses later requests while the first is on the wire",
          "[component][client][pipeline]") {
  {
    Observed observed;
    HookGuard hook([&](std::size_t first) { observed.on_compressed(first); });
    // Inside the first POST: wait (deadline 10 s) until the threads have compressed two more
    // requests. Without a pipeline nothing else is compressed while a POST is in progress.
    bool first_post_result = false;
    auto http = recording_http(
        observed, [&] { first_post_result = test::wait_until([&] { return observed.compressed_count() >= 3; }, 10s); });
    SumoClient client(config_for(Compression::gzip, 2), http);
    const DeliverySummary s = client.send_lines(make_lines(400));
    CHECK(s.all_delivered());
    CHECK(first_post_result);
    CHECK(observed.max_ahead <= 2 + 2);
  }  // the client (and its threads) is gone before the hook changes

  // The same with compression_threads = 0: nothing is compressed by a thread, ever.
  Observed none;
  HookGuard hook0([&](std::size_t first) { none.on_compressed(first); });
  bool first_post_result0 = false;
  auto http0 = recording_http(none, [&] { first_post_result0 = none.compressed_count() == 0; });
  SumoClient inline_client(config_for(Compression::gzip, 0), http0);
  CHECK(inline_client.send_lines(make_lines(400)).all_delivered());
  CHECK(first_post_result0);
  CHECK(none.compressed_count() == 0);
}

TEST_CASE("pipelined SumoClient: a failed request does not stop the others, reports stay in order",
          "[component][client][pipeline]") {
  Observed observed;
  auto http = recording_http(observed);
  http->script({test::FakeReply::http(200), test::FakeReply::http(401), test::FakeReply::http(200),
                test::FakeReply::http(403), test::FakeReply::http(200)});
  SumoClient client(config_for(Compression::gzip, 2), http);
  const std::vector<std::string> lines = make_lines(300);
  const DeliverySummary s = client.send_lines(lines);
  REQUIRE(s.requests.size() > 5);
  CHECK(s.requests[0].delivered);
  CHECK_FALSE(s.requests[1].delivered);
  CHECK(s.requests[1].final_status == 401);
  CHECK(s.requests[2].delivered);
  CHECK_FALSE(s.requests[3].delivered);
  for (std::size_t r = 4; r < s.requests.size(); ++r) CHECK(s.requests[r].delivered);
  CHECK(s.events_failed == s.requests[1].events + s.requests[3].events);
  CHECK(s.events_delivered + s.events_failed == lines.size());
  std::size_t first = 0;
  for (const DeliveryReport& r : s.requests) {
    CHECK(r.first_index == first);
    first += r.events;
  }
}

TEST_CASE("pipelined SumoClient: a line too large for any request keeps its place", "[component][client][pipeline]") {
  Observed observed;
  auto http = recording_http(observed);
  SumoClient client(config_for(Compression::gzip, 2, 150), http);
  std::vector<std::string> lines;
  for (int i = 0; i < 12; ++i) lines.push_back(i == 5 ? std::string(400, 'x') : "line " + std::to_string(i));
  const DeliverySummary s = client.send_lines(lines);
  std::size_t first = 0;
  bool saw_too_large = false;
  for (const DeliveryReport& r : s.requests) {
    CHECK(r.first_index == first);
    first += r.events;
    if (r.error && r.error->code == ErrorCode::event_too_large) {
      saw_too_large = true;
      CHECK(r.first_index == 5);
      CHECK(r.attempts == 0);
    } else {
      CHECK(r.delivered);
    }
  }
  CHECK(first == lines.size());
  CHECK(saw_too_large);
  CHECK(s.events_failed == 1);
}

TEST_CASE("pipelined SumoClient: one request never uses the threads, the pool is reused",
          "[component][client][pipeline]") {
  Observed observed;
  HookGuard hook([&](std::size_t first) { observed.on_compressed(first); });
  auto http = recording_http(observed);
  SumoClient client(config_for(Compression::gzip, 4, 64 * 1024), http);
  CHECK(client.send_lines(make_lines(50)).all_delivered());
  CHECK(http->request_count() == 1);
  CHECK(observed.compressed_count() == 0);
  // Many requests, then one again, then many: all delivered, in order each time.
  for (int round = 0; round < 3; ++round) {
    const std::size_t posts_before = http->request_count();
    const std::size_t compressed_before = observed.compressed_count();
    const std::vector<std::string> lines = make_lines(round == 1 ? 10 : 4000);
    const DeliverySummary s = client.send_lines(lines);
    CHECK(s.all_delivered());
    CHECK(s.events_delivered == lines.size());
    CHECK(http->request_count() - posts_before == s.requests.size());
    if (round == 1) {
      CHECK(s.requests.size() == 1);
      CHECK(observed.compressed_count() == compressed_before);
    } else {
      CHECK(s.requests.size() > 1);
      CHECK(observed.compressed_count() > compressed_before);
    }
  }
}

TEST_CASE("compression_threads is validated and shown by to_string", "[unit][client][pipeline][config]") {
  SumoConfig c;
  c.url = std::string("https://collectors.example.com/receiver/v1/http/") + kCode;
  for (const int ok : {-1, 0, 1, 64}) {
    c.compression_threads = ok;
    CHECK(finalize(c));
  }
  for (const int bad : {-2, 65, 1000}) {
    c.compression_threads = bad;
    const auto f = finalize(c);
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::invalid_config);
    CHECK(f.error().message.find("compression_threads") != std::string::npos);
  }
  c.compression_threads = -1;
  CHECK(to_string(c).find("compression_threads=-1 (automatic)") != std::string::npos);
  c.compression_threads = 3;
  CHECK(to_string(c).find("compression_threads=3") != std::string::npos);
}
