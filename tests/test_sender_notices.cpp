// tests/test_sender_notices.cpp: operators see a failing Sumo at once (issue 11, point 4). The
// sender's log callback gets the first failed attempt right after it (while the batch is still
// being retried, long before its final outcome), no more notices while failures continue within
// the summary interval, and one "delivery recovered" notice with the count at the first success.
// Real libcurl against the test emulator, whose fault injection plays the failing Sumo.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "support/catch.hpp"
#include "support/sender_identity.hpp"
#include "support/sumo_emulator.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using namespace ilert_sumo;
using ilert_sumo::test::SumoEmulator;

namespace {

struct Notices {
  std::mutex mu;
  std::vector<Error> all;
  std::vector<Error> snapshot() {
    std::lock_guard<std::mutex> lk(mu);
    return all;
  }
};

Event event(int n) {
  AlertCreated e;
  e.received_type = "alert-created";
  e.alert.id = 4200 + n;
  e.alert.summary = "notice test " + std::to_string(n);
  return e;
}

}  // namespace

TEST_CASE("sender notices: the first failed attempt at once, then one 'recovered' with the count",
          "[integration][sender][notices]") {
  SumoEmulator emu;
  emu.start();
  emu.fail_for({503}, 3000ms);  // every request fails for 3 s (from the first one), then Sumo is back

  SumoConfig c;
  c.url = emu.url();
  c.allow_insecure_http = true;
  c.batch.max_age = 10ms;
  c.retry.initial_backoff = 50ms;
  c.retry.max_backoff = 200ms;
  auto finalized = finalize(c);
  REQUIRE(finalized.has_value());
  auto notices = std::make_shared<Notices>();
  auto sender = SumoSender::create(std::move(*finalized), nullptr, nullptr, [notices](const Error& n) {
    std::lock_guard<std::mutex> lk(notices->mu);
    notices->all.push_back(n);
  });
  REQUIRE(sender.has_value());
  REQUIRE((*sender)->enqueue(event(1)) == EnqueueStatus::accepted);

  // The first failure is reported while Sumo is still failing (the batch is still being retried).
  REQUIRE(ilert_sumo::test::wait_until([&] { return !notices->snapshot().empty(); }, 2500ms));
  CHECK(emu.count() == 0);
  const Error first = notices->snapshot().front();
  CHECK(first.code == ErrorCode::http_status);
  CHECK(first.message.find("delivery attempt failed (status 503)") != std::string::npos);
  CHECK(first.message.find("emulator-test-code") == std::string::npos);  // the URL's code is a secret

  // Then it recovers: delivered, and exactly one more notice, with the count of failed attempts.
  REQUIRE(emu.wait_for_messages(1, 10s));
  REQUIRE(ilert_sumo::test::wait_until([&] { return notices->snapshot().size() >= 2; }, 5s));
  const auto all = notices->snapshot();
  REQUIRE(all.size() == 2);  // no "still failing" summary within the 60 s interval
  CHECK(all[1].code == ErrorCode::ok);
  const SenderStats st = (*sender)->stats();
  const std::uint64_t failed = st.requests_by_status.count(503) ? st.requests_by_status.at(503) : 0;
  CHECK(failed >= 2);
  CHECK(all[1].message.find("delivery recovered: Sumo accepted a request after " + std::to_string(failed) +
                            " failed attempt(s)") != std::string::npos);
  ilert_sumo::test::check_identity(st);
  CHECK((*sender)->shutdown(2s).completed);
}

TEST_CASE("sender notices: none while Sumo answers", "[integration][sender][notices]") {
  SumoEmulator emu;
  emu.start();
  SumoConfig c;
  c.url = emu.url();
  c.allow_insecure_http = true;
  c.batch.max_age = 10ms;
  auto finalized = finalize(c);
  REQUIRE(finalized.has_value());
  auto notices = std::make_shared<Notices>();
  auto sender = SumoSender::create(std::move(*finalized), nullptr, nullptr, [notices](const Error& n) {
    std::lock_guard<std::mutex> lk(notices->mu);
    notices->all.push_back(n);
  });
  REQUIRE(sender.has_value());
  for (int i = 0; i < 5; ++i) REQUIRE((*sender)->enqueue(event(i)) == EnqueueStatus::accepted);
  REQUIRE(emu.wait_for_messages(5, 10s));
  CHECK((*sender)->shutdown(2s).completed);
  CHECK(notices->snapshot().empty());
}
