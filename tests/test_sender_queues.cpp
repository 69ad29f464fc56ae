// tests/test_sender_queues.cpp: the sender's per-set queues (src/sender/set_queues.hpp) alone, with
// `now` passed in: readiness by age, bytes, count and urgency (the oldest ready set first, the
// next wake-up of the others), batches cut by count and bytes, a batch put back in order, the
// memory bound's bookkeeping, and drop_oldest's oldest-first eviction across sets.
#include <chrono>
#include <string>
#include <vector>

#include "sender/set_queues.hpp"
#include "support/catch.hpp"

using namespace ilert_sumo;
using namespace ilert_sumo::detail;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const Clock::time_point t0 = Clock::time_point{} + 1h;

QueueEntry entry(const std::string& text, Clock::time_point queued, std::uint32_t epoch = 0) {
  QueueEntry e;
  e.line = text + "\n";
  e.line.shrink_to_fit();
  e.queued = queued;
  e.epoch = epoch;
  return e;
}

ReadyRule rule(std::size_t bytes = 1 << 20, std::size_t events = 1000, std::chrono::milliseconds age = 1000ms) {
  ReadyRule r;
  r.batch_bytes = bytes;
  r.batch_events = events;
  r.max_age = age;
  return r;
}

std::vector<std::string> lines(const std::vector<QueueEntry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.line);
  return out;
}

}  // namespace

TEST_CASE("sender queues: a set is ready by age, bytes, count or urgency, else the next wake is its due time",
          "[unit][sender]") {
  SetQueues q;
  MetadataId id = 99;
  Clock::time_point wake = Clock::time_point::max();
  CHECK_FALSE(q.pick_ready(t0, rule(), id, wake));
  CHECK(wake == Clock::time_point::max());

  auto p = q.push(3, entry("a", t0));
  CHECK(p.was_empty);
  CHECK(p.set_events == 1);
  CHECK(p.set_bytes == 2);
  p = q.push(3, entry("bb", t0 + 10ms));
  CHECK_FALSE(p.was_empty);
  CHECK(p.set_bytes == 5);

  // Young, small, few: not ready; wake when the first line reaches max_age.
  wake = Clock::time_point::max();
  CHECK_FALSE(q.pick_ready(t0 + 999ms, rule(), id, wake));
  CHECK(wake == t0 + 1000ms);
  // Age.
  CHECK(q.pick_ready(t0 + 1000ms, rule(), id, wake));
  CHECK(id == 3);
  // Bytes (5 line bytes queued), count (2 lines), urgency: all ready at once.
  CHECK(q.pick_ready(t0, rule(5), id, wake));
  CHECK_FALSE(q.pick_ready(t0, rule(6), id, wake));
  CHECK(q.pick_ready(t0, rule(1 << 20, 2), id, wake));
  CHECK_FALSE(q.pick_ready(t0, rule(1 << 20, 3), id, wake));
  ReadyRule urgent = rule();
  urgent.urgent = true;
  CHECK(q.pick_ready(t0, urgent, id, wake));
}

TEST_CASE("sender queues: of the ready sets the one with the oldest first line goes first", "[unit][sender]") {
  SetQueues q;
  q.push(1, entry("one", t0 + 20ms));
  q.push(2, entry("two", t0 + 5ms));
  q.push(4, entry("four", t0 + 50ms));
  MetadataId id = 0;
  Clock::time_point wake = Clock::time_point::max();
  ReadyRule urgent = rule();
  urgent.urgent = true;
  REQUIRE(q.pick_ready(t0 + 60ms, urgent, id, wake));
  CHECK(id == 2);
  // By age: sets 1 and 2 are due, set 4 is not; the older of the two goes, then set 1, and the
  // wake is set 4's due time.
  wake = Clock::time_point::max();
  REQUIRE(q.pick_ready(t0 + 1020ms, rule(), id, wake));
  CHECK(id == 2);
  wake = Clock::time_point::max();
  std::vector<QueueEntry> out;
  q.take_batch(2, 10, 1 << 20, out);
  q.release(out);
  REQUIRE(q.pick_ready(t0 + 1020ms, rule(), id, wake));
  CHECK(id == 1);
  CHECK(wake == t0 + 1050ms);
}

TEST_CASE("sender queues: a batch is cut by count and bytes, stays counted until released, and can be put back",
          "[unit][sender]") {
  SetQueues q;
  for (int i = 0; i < 5; ++i) q.push(0, entry("line" + std::to_string(i), t0));  // 6 bytes each
  const std::uint64_t alloc = q.alloc();
  CHECK(q.bytes() == 30);
  CHECK(alloc == 5 * entry_cost(entry("line0", t0).line));
  std::vector<QueueEntry> out;
  q.take_batch(0, 2, 1 << 20, out);  // by count
  CHECK(lines(out) == std::vector<std::string>{"line0\n", "line1\n"});
  CHECK(q.size(0) == 3);
  CHECK(q.bytes() == 30);  // taken, not released
  CHECK(q.alloc() == alloc);
  q.put_back(0, out);
  CHECK(out.empty());
  CHECK(q.size(0) == 5);
  q.take_batch(0, 100, 13, out);  // by bytes: two lines (12), a third would be 18
  CHECK(out.size() == 2);
  CHECK(out.front().line == "line0\n");
  q.release(out);
  CHECK(q.bytes() == 18);
  q.take_batch(0, 100, 1, out);  // the first line alone is more than the cap: it still goes
  CHECK(lines(out) == std::vector<std::string>{"line2\n"});
  q.release(out);
  q.take_batch(0, 100, 1 << 20, out);
  CHECK(out.size() == 2);
  q.release(out);
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
  CHECK(q.alloc() == 0);
}

TEST_CASE("sender queues: drop_oldest evicts the oldest lines across sets, never a taken batch", "[unit][sender]") {
  SetQueues q;
  q.push(1, entry("a1", t0 + 1ms));
  q.push(2, entry("b1", t0 + 2ms));
  q.push(1, entry("a2", t0 + 3ms));
  q.push(2, entry("b2", t0 + 4ms));
  q.push(3, entry("c1", t0 + 0ms));
  const std::size_t cost = entry_cost(entry("xx", t0).line);
  std::vector<QueueEntry> taken;
  q.take_batch(3, 10, 1 << 20, taken);  // c1, the oldest, is in flight
  const std::uint64_t max = q.alloc();  // full

  std::vector<QueueEntry> evicted;
  REQUIRE(q.evict_oldest(2 * cost, max, evicted));
  CHECK(lines(evicted) == std::vector<std::string>{"a1\n", "b1\n"});
  CHECK(q.alloc() + 2 * cost == max);
  CHECK(q.size(1) == 1);
  CHECK(q.size(2) == 1);

  // More than all queued lines free (the taken batch stays): refused, nothing evicted.
  evicted.clear();
  CHECK_FALSE(q.evict_oldest(5 * cost, max, evicted));
  CHECK(evicted.empty());
  CHECK(q.size(1) + q.size(2) == 2);

  // Exactly everything queued: both go, set 1's first (older).
  REQUIRE(q.evict_oldest(4 * cost, max, evicted));
  CHECK(lines(evicted) == std::vector<std::string>{"a2\n", "b2\n"});
  CHECK(q.empty());
  q.release(taken);
  CHECK(q.alloc() == 0);
}

TEST_CASE("sender queues: drain hands over every queued line, set by set in order, and zeroes the totals",
          "[unit][sender]") {
  SetQueues q;
  q.push(5, entry("x1", t0));
  q.push(0, entry("y1", t0));
  q.push(5, entry("x2", t0));
  std::vector<std::pair<MetadataId, QueueEntry>> out;
  q.drain(out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].first == 5);
  CHECK(out[0].second.line == "x1\n");
  CHECK(out[1].second.line == "x2\n");
  CHECK(out[2].first == 0);
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
  CHECK(q.alloc() == 0);
  CHECK(heap_bytes(std::string("short")) == 0);
  CHECK(heap_bytes(std::string(100, 'x')) % 16 == 0);
}
