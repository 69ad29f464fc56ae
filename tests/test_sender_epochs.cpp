// tests/test_sender_epochs.cpp: what flush() waits for (src/sender/epochs.hpp). A flush opens a
// new epoch and is done when no event of an older epoch is open; events that arrive meanwhile
// (the new epoch) do not hold it up; counts for epochs already closed (or not yet opened) are
// ignored.
#include <cstdint>

#include "sender/epochs.hpp"
#include "support/catch.hpp"

using ilert_sumo::detail::EpochTracker;

TEST_CASE("sender epochs: a flush waits for the events before it, not for later ones", "[unit][sender]") {
  EpochTracker t;
  CHECK(t.idle());
  CHECK(t.current() == 0);
  t.add(t.current(), 3);  // three events before the flush
  CHECK_FALSE(t.idle());

  const std::uint32_t target = t.advance();  // flush()
  CHECK(target == 0);
  CHECK(t.current() == 1);
  CHECK_FALSE(t.done_through(target));
  t.add(t.current(), 5);  // five arrive while the flush waits

  t.finish(0, 2);
  CHECK_FALSE(t.done_through(target));
  t.finish(0, 1);
  CHECK(t.done_through(target));  // the later five do not hold it
  CHECK_FALSE(t.done_through(1));
  CHECK_FALSE(t.idle());
  t.finish(1, 5);
  CHECK(t.idle());
}

TEST_CASE("sender epochs: an epoch is done only when every older one is", "[unit][sender]") {
  EpochTracker t;
  t.add(0, 1);
  const std::uint32_t first = t.advance();
  t.add(1, 1);
  const std::uint32_t second = t.advance();
  CHECK(second == 1);
  t.finish(1, 1);  // the newer one finishes first
  CHECK_FALSE(t.done_through(first));
  CHECK_FALSE(t.done_through(second));
  t.finish(0, 1);
  CHECK(t.done_through(first));
  CHECK(t.done_through(second));
  CHECK(t.idle());
}

TEST_CASE("sender epochs: a flush with nothing open is done at once", "[unit][sender]") {
  EpochTracker t;
  const std::uint32_t target = t.advance();
  CHECK(t.done_through(target));
  CHECK(t.idle());
  CHECK(t.current() == target + 1);
}

TEST_CASE("sender epochs: counts for closed or unknown epochs are ignored, finish never underflows", "[unit][sender]") {
  EpochTracker t;
  t.add(0, 1);
  t.advance();
  t.finish(0, 1);  // epoch 0 closes
  t.add(0, 4);     // a spool record tagged with a closed epoch (an earlier run)
  t.finish(0, 4);
  t.add(7, 2);  // an epoch not opened yet
  CHECK(t.idle());
  t.add(t.current(), 1);
  t.finish(t.current(), 10);  // more than open: clamps to zero
  CHECK(t.idle());
  t.add(t.current(), 1);
  CHECK_FALSE(t.idle());
}
