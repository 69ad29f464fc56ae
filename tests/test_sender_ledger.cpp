// tests/test_sender_ledger.cpp: the sender's ledger (src/sender/ledger.hpp) alone: each transition
// moves events between exactly the states it names, and a randomized sequence of thousands of
// transitions (fixed seed) keeps enqueued + recovered = delivered + dropped + pending + backlog
// after every step, with every counter equal to an independent model's.
#include <cstdint>
#include <random>
#include <string>

#include "sender/ledger.hpp"
#include "support/catch.hpp"
#include "support/sender_identity.hpp"

using namespace ilert_sumo;
using ilert_sumo::detail::Ledger;
using Refusal = ilert_sumo::detail::Ledger::Refusal;

namespace {

SenderStats snapshot(const Ledger& l) {
  SenderStats s;
  l.fill(s);
  return s;
}

}  // namespace

TEST_CASE("sender ledger: each transition moves events between the states it names", "[unit][sender]") {
  Ledger l;
  l.recover(5, 2);  // 5 intact records: backlog; 2 damaged: dropped
  SenderStats s = snapshot(l);
  CHECK(s.recovered == 7);
  CHECK(s.spool_backlog == 5);
  CHECK(s.dropped_spool_corrupt == 2);
  CHECK(l.balanced());

  l.admit(false);
  l.admit(true);  // write_ahead: in memory and on disk
  l.spill();      // on disk only
  l.refuse(Refusal::queue_full);
  l.refuse(Refusal::too_large);
  l.refuse(Refusal::bad_metadata);
  l.refuse(Refusal::spool_full);
  l.refuse(Refusal::spool_error);
  s = snapshot(l);
  CHECK(s.enqueued == 8);
  CHECK(s.queue_events == 2);
  CHECK(s.spooled == 2);
  CHECK(s.spool_backlog == 6);
  CHECK(s.refused_total() == 5);
  CHECK(l.refused_total() == 5);
  CHECK(s.refused_spool_full == 1);
  CHECK(s.refused_spool_error == 1);
  CHECK(l.balanced());

  l.replay(4);  // backlog -> memory
  CHECK(l.pending() == 6);
  CHECK(l.backlog() == 2);
  CHECK(snapshot(l).replayed == 4);
  l.deliver(2);
  l.evict_oldest(1);
  l.drop_failed(1, true);
  l.drop_failed(1, false);
  s = snapshot(l);
  CHECK(s.delivered_events == 2);
  CHECK(s.dropped_oldest == 1);
  CHECK(s.dropped_permanent_error == 1);
  CHECK(s.dropped_budget_exhausted == 1);
  CHECK(l.pending() == 1);
  l.release_to_backlog(1);  // back to disk where it is: not written again
  CHECK(snapshot(l).spooled == 2);
  l.replay(3);
  l.spool_from_memory(1);  // written now
  CHECK(snapshot(l).spooled == 3);
  l.lose_spool_error(1, false);
  l.drop_at_shutdown(1);
  s = snapshot(l);
  CHECK(s.dropped_spool_error == 1);
  CHECK(s.dropped_at_shutdown == 1);
  CHECK(s.lost_at_deadline == 1);
  l.evict_from_spool(1);
  CHECK(snapshot(l).dropped_spool_evicted == 1);
  l.corrupt_on_replay(0);  // nothing: a no-op
  CHECK(l.pending() == 0);
  CHECK(l.backlog() == 0);
  CHECK(l.balanced());
  test::check_identity(snapshot(l));

  const FlushResult r = l.result();
  CHECK(r.delivered == 2);
  CHECK(r.pending == 0);
  CHECK(r.spooled == 0);
  CHECK(r.dropped == snapshot(l).dropped_total());
  CHECK(r.refused == 5);
}

TEST_CASE("sender ledger: a random sequence of 20000 transitions keeps the identity after every step",
          "[unit][sender]") {
  // The model: the same counters kept the plain way, with its own choice of what is possible.
  struct Model {
    std::uint64_t enqueued = 0, recovered = 0, delivered = 0, dropped = 0, refused = 0, pending = 0, backlog = 0;
    std::uint64_t spooled = 0, replayed = 0, lost_at_deadline = 0;
  } m;
  Ledger l;
  std::mt19937_64 rng(20240613);  // fixed: the same sequence every run
  auto pick = [&rng](std::uint64_t max) {
    return max == 0 ? 0 : std::uniform_int_distribution<std::uint64_t>(0, max)(rng);
  };
  int transitions_seen[18] = {};
  for (int step = 0; step < 20000; ++step) {
    const int t = static_cast<int>(rng() % 18);
    ++transitions_seen[t];
    switch (t) {
      case 0: {
        const std::uint64_t intact = pick(5), corrupt = pick(2);
        l.recover(intact, corrupt);
        m.recovered += intact + corrupt;
        m.backlog += intact;
        m.dropped += corrupt;
        break;
      }
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        l.refuse(static_cast<Refusal>(t - 1));
        ++m.enqueued;
        ++m.dropped;
        ++m.refused;
        break;
      case 6:
      case 7: {
        const bool ahead = t == 7;
        l.admit(ahead);
        ++m.enqueued;
        ++m.pending;
        if (ahead) ++m.spooled;
        break;
      }
      case 8:
        l.spill();
        ++m.enqueued;
        ++m.spooled;
        ++m.backlog;
        break;
      case 9: {
        const std::uint64_t n = pick(m.pending);
        l.deliver(n);
        m.pending -= n;
        m.delivered += n;
        break;
      }
      case 10:
      case 11: {
        const std::uint64_t n = pick(m.pending);
        if (t == 10) {
          l.evict_oldest(n);
        } else {
          l.drop_failed(n, (rng() & 1) != 0);
        }
        m.pending -= n;
        m.dropped += n;
        break;
      }
      case 12: {
        const std::uint64_t n = pick(m.pending);
        l.release_to_backlog(n);
        m.pending -= n;
        m.backlog += n;
        break;
      }
      case 13: {
        const std::uint64_t n = pick(m.pending);
        l.spool_from_memory(n);
        m.pending -= n;
        m.backlog += n;
        m.spooled += n;
        break;
      }
      case 14: {
        const std::uint64_t n = pick(m.pending);
        const bool at_deadline = (rng() & 1) != 0;
        if (at_deadline && (rng() & 1) != 0) {
          l.drop_at_shutdown(n);
        } else {
          l.lose_spool_error(n, at_deadline);
        }
        m.pending -= n;
        m.dropped += n;
        if (at_deadline) m.lost_at_deadline += n;
        break;
      }
      case 15: {
        const std::uint64_t n = pick(m.backlog);
        l.replay(n);
        m.backlog -= n;
        m.pending += n;
        m.replayed += n;
        break;
      }
      case 16:
      case 17: {
        const std::uint64_t n = pick(m.backlog);
        if (t == 16) {
          l.evict_from_spool(n);
        } else {
          l.corrupt_on_replay(n);
        }
        m.backlog -= n;
        m.dropped += n;
        break;
      }
    }
    const SenderStats s = snapshot(l);
    INFO("step " << step << ", transition " << t);
    REQUIRE(l.balanced());
    REQUIRE(s.enqueued + s.recovered == s.delivered_events + s.dropped_total() + s.queue_events + s.spool_backlog);
    REQUIRE(s.enqueued == m.enqueued);
    REQUIRE(s.recovered == m.recovered);
    REQUIRE(s.delivered_events == m.delivered);
    REQUIRE(s.dropped_total() == m.dropped);
    REQUIRE(s.refused_total() == m.refused);
    REQUIRE(s.queue_events == m.pending);
    REQUIRE(s.spool_backlog == m.backlog);
    REQUIRE(s.spooled == m.spooled);
    REQUIRE(s.replayed == m.replayed);
    REQUIRE(s.lost_at_deadline == m.lost_at_deadline);
  }
  for (int t = 0; t < 18; ++t) CHECK(transitions_seen[t] > 500);  // every transition was exercised
  CHECK(m.delivered > 0);
  CHECK(m.backlog + m.pending > 0);  // the run did not collapse to nothing in flight
}
