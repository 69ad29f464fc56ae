// tests/test_sender_throttle.cpp: the sender's throttle ramp (src/sender/throttle_ramp.hpp) by
// table: which answers throttle (429, 503 only with Retry-After), the cap after a throttled batch
// (1/16 of batch.max_bytes, at least 16 KiB, never above batch.max_bytes), doubling back with
// every delivered batch, a failed throttled batch dropping it too, an aborted one changing nothing.
#include <cstddef>
#include <string>
#include <vector>

#include "sender/throttle_ramp.hpp"
#include "support/catch.hpp"

using ilert_sumo::detail::ThrottleRamp;
using Outcome = ThrottleRamp::Outcome;

namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * 1024;

/// One batch: the statuses of its attempts (with Retry-After or not), how it ended, and the cap
/// and `throttled` expected after it.
struct Attempt {
  int status;
  bool retry_after;
};
struct Row {
  std::vector<Attempt> attempts;
  Outcome outcome;
  std::size_t cap_after;
};

void run(std::size_t max_bytes, const std::vector<Row>& rows) {
  ThrottleRamp ramp(max_bytes);
  CHECK(ramp.cap() == max_bytes);
  CHECK_FALSE(ramp.throttled());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("max_bytes " << max_bytes << ", batch " << i);
    ramp.start_batch();
    for (const Attempt& a : rows[i].attempts) {
      ramp.on_attempt(a.status, a.retry_after);
      CHECK(ramp.throttled() == (a.status == 429 || (a.status == 503 && a.retry_after)));
    }
    ramp.finish_batch(rows[i].outcome);
    CHECK_FALSE(ramp.throttled());
    CHECK(ramp.cap() == rows[i].cap_after);
  }
}

}  // namespace

TEST_CASE("sender throttle: the floor is 1/16 of batch.max_bytes, at least 16 KiB, at most batch.max_bytes",
          "[unit][sender]") {
  struct {
    std::size_t max_bytes, floor;
  } table[] = {
      {1 * MiB, 64 * KiB},
      {512 * KiB, 32 * KiB},
      {256 * KiB, 16 * KiB},
      {128 * KiB, 16 * KiB},
      {16 * KiB, 16 * KiB},
      {10 * KiB, 10 * KiB},
      {1, 1},
  };
  for (const auto& row : table) {
    INFO("max_bytes " << row.max_bytes);
    CHECK(ThrottleRamp::floor(row.max_bytes) == row.floor);
  }
}

TEST_CASE("sender throttle: 429 drops the cap, delivered batches double it back", "[unit][sender]") {
  run(1 * MiB, {
                   {{{200, false}}, Outcome::delivered, 1 * MiB},                              // nothing throttled
                   {{{429, true}, {429, false}, {200, false}}, Outcome::delivered, 64 * KiB},  // throttled, then ok
                   {{{200, false}}, Outcome::delivered, 128 * KiB},
                   {{{200, false}}, Outcome::delivered, 256 * KiB},
                   {{{500, false}, {200, false}}, Outcome::delivered, 512 * KiB},  // a 500 is not a throttle
                   {{{200, false}}, Outcome::delivered, 1 * MiB},
                   {{{200, false}}, Outcome::delivered, 1 * MiB},  // never above max_bytes
               });
}

TEST_CASE("sender throttle: 503 throttles only with Retry-After", "[unit][sender]") {
  run(1 * MiB, {
                   {{{503, false}, {200, false}}, Outcome::delivered, 1 * MiB},
                   {{{503, true}, {200, false}}, Outcome::delivered, 64 * KiB},
                   {{{503, false}, {200, false}}, Outcome::delivered, 128 * KiB},
               });
}

TEST_CASE(
    "sender throttle: a failed throttled batch drops the cap, a failed plain one keeps it, an aborted one "
    "changes nothing",
    "[unit][sender]") {
  run(1 * MiB, {
                   {{{429, true}, {429, true}}, Outcome::failed, 64 * KiB},  // budget ran out while throttled
                   {{{200, false}}, Outcome::delivered, 128 * KiB},
                   {{{500, false}, {0, false}}, Outcome::failed, 128 * KiB},  // failed, not throttled: kept
                   {{{429, true}}, Outcome::aborted, 128 * KiB},              // shutdown cut it off
                   {{{200, false}}, Outcome::delivered, 256 * KiB},
                   {{{429, true}}, Outcome::failed, 64 * KiB},
               });
  // A small batch.max_bytes: the floor is max_bytes itself, so the cap never moves.
  run(10 * KiB, {
                    {{{429, true}, {200, false}}, Outcome::delivered, 10 * KiB},
                    {{{200, false}}, Outcome::delivered, 10 * KiB},
                });
}

TEST_CASE("sender throttle: the throttled flag follows the last attempt of the batch in flight", "[unit][sender]") {
  ThrottleRamp ramp(1 * MiB);
  ramp.start_batch();
  ramp.on_attempt(429, false);
  CHECK(ramp.throttled());
  ramp.on_attempt(200, false);
  CHECK_FALSE(ramp.throttled());
  CHECK(ramp.cap() == 1 * MiB);  // unchanged until the batch ends
  ramp.finish_batch(Outcome::delivered);
  CHECK(ramp.cap() == 64 * KiB);  // the batch was throttled on one of its attempts
  ramp.start_batch();             // a new batch starts unthrottled
  ramp.finish_batch(Outcome::delivered);
  CHECK(ramp.cap() == 128 * KiB);
}
