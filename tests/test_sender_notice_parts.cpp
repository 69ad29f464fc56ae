// tests/test_sender_notice_parts.cpp: the sender's notice parts (src/sender/notices.hpp) with
// time as an argument. NoticeQueue: bounded, oldest first, drops counted. FailureRun: the first
// failed attempt is a notice at once, further failures are summarised at most once per interval,
// the first success after failures says how many failed over how long, a success without
// failures says nothing. (test_sender_notices.cpp shows the same through a whole sender and real
// libcurl.)
#include <chrono>
#include <optional>
#include <string>

#include "sender/notices.hpp"
#include "support/catch.hpp"
#include "util/errors.hpp"

using namespace std::chrono_literals;
using ilert_sumo::Error;
using ilert_sumo::ErrorCode;
using ilert_sumo::detail::FailureRun;
using ilert_sumo::detail::make_error;
using ilert_sumo::detail::NoticeQueue;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("sender notices: the queue is bounded, keeps order and counts what it drops", "[unit][sender]") {
  NoticeQueue q(2);
  CHECK(q.empty());
  CHECK(q.push(make_error(ErrorCode::io, "one")));
  CHECK(q.push(make_error(ErrorCode::io, "two")));
  CHECK_FALSE(q.push(make_error(ErrorCode::io, "three")));
  CHECK(q.total() == 3);
  CHECK(q.dropped() == 1);
  auto taken = q.take();
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].message == "one");
  CHECK(taken[1].message == "two");
  CHECK(q.empty());
  CHECK(q.push(make_error(ErrorCode::io, "four")));  // room again after take()
  CHECK(q.total() == 4);
  CHECK(q.dropped() == 1);
}

TEST_CASE("sender notices: a failure run is told at once, summarised per interval, and its end", "[unit][sender]") {
  FailureRun run(60s);
  const FailureRun::Clock::time_point t0{};

  // Successes without failures: silent.
  CHECK_FALSE(run.on_attempt(200, std::nullopt, t0));

  // The first failure: a notice right away, with the status and the reason.
  auto first = run.on_attempt(503, std::nullopt, t0 + 1s);
  REQUIRE(first);
  CHECK(first->code == ErrorCode::http_status);
  CHECK(contains(first->message, "delivery attempt failed (status 503): status 503"));
  CHECK(contains(first->message, "one summary per 60 s"));

  // More failures within the interval: counted, not told.
  CHECK_FALSE(run.on_attempt(429, std::nullopt, t0 + 2s));
  CHECK_FALSE(run.on_attempt(0, make_error(ErrorCode::transport, "connection refused"), t0 + 30s));
  CHECK(run.failed_attempts() == 3);

  // At the interval: one summary with the count since the last notice and the latest reason.
  auto summary = run.on_attempt(0, make_error(ErrorCode::timeout, "timed out"), t0 + 61s);
  REQUIRE(summary);
  CHECK(summary->code == ErrorCode::timeout);
  CHECK(contains(summary->message, "delivery still failing: 3 more failed attempt(s), 4 in 60 s"));
  CHECK(contains(summary->message, "latest (status 0): timed out"));
  CHECK_FALSE(run.on_attempt(503, std::nullopt, t0 + 62s));  // the interval starts again

  // A 2xx that came with an error is not a success.
  CHECK_FALSE(run.on_attempt(200, make_error(ErrorCode::transport, "body cut"), t0 + 63s));

  // The first success: how many failed, over how long; then silence.
  auto recovered = run.on_attempt(200, std::nullopt, t0 + 91s);
  REQUIRE(recovered);
  CHECK(recovered->code == ErrorCode::ok);
  CHECK(recovered->message == "delivery recovered: Sumo accepted a request after 6 failed attempt(s) over 90 s");
  CHECK(run.failed_attempts() == 0);
  CHECK_FALSE(run.on_attempt(204, std::nullopt, t0 + 92s));

  // A new run starts with a notice again.
  CHECK(run.on_attempt(401, std::nullopt, t0 + 100s));
}
