// src/sender/ledger.cpp: see ledger.hpp.
#include "sender/ledger.hpp"

#include <algorithm>
#include <cassert>

namespace ilert_sumo::detail {

void Ledger::take(std::uint64_t& from, std::uint64_t n) noexcept {
  assert(n <= from && "ledger: more events leave a state than are in it");
  from -= std::min(from, n);
}

void Ledger::check() const noexcept {
  assert(balanced() && "ledger: enqueued + recovered != delivered + dropped + pending + backlog");
}

void Ledger::recover(std::uint64_t intact, std::uint64_t corrupt) noexcept {
  c_.recovered += intact + corrupt;
  c_.dropped_spool_corrupt += corrupt;
  c_.spool_backlog += intact;
  check();
}

void Ledger::refuse(Refusal why) noexcept {
  ++c_.enqueued;
  switch (why) {
    case Refusal::queue_full: ++c_.dropped_queue_full; break;
    case Refusal::too_large: ++c_.dropped_too_large; break;
    case Refusal::bad_metadata: ++c_.dropped_bad_metadata; break;
    case Refusal::spool_full: ++c_.refused_spool_full; break;
    case Refusal::spool_error: ++c_.refused_spool_error; break;
  }
  check();
}

void Ledger::admit(bool written_ahead) noexcept {
  ++c_.enqueued;
  ++c_.queue_events;
  if (written_ahead) ++c_.spooled;
  check();
}

void Ledger::spill() noexcept {
  ++c_.enqueued;
  ++c_.spooled;
  ++c_.spool_backlog;
  check();
}

void Ledger::deliver(std::uint64_t n) noexcept {
  take(c_.queue_events, n);
  c_.delivered_events += n;
  check();
}

void Ledger::evict_oldest(std::uint64_t n) noexcept {
  take(c_.queue_events, n);
  c_.dropped_oldest += n;
  check();
}

void Ledger::drop_failed(std::uint64_t n, bool permanent) noexcept {
  take(c_.queue_events, n);
  (permanent ? c_.dropped_permanent_error : c_.dropped_budget_exhausted) += n;
  check();
}

void Ledger::release_to_backlog(std::uint64_t n) noexcept {
  take(c_.queue_events, n);
  c_.spool_backlog += n;
  check();
}

void Ledger::spool_from_memory(std::uint64_t n) noexcept {
  take(c_.queue_events, n);
  c_.spooled += n;
  c_.spool_backlog += n;
  check();
}

void Ledger::lose_spool_error(std::uint64_t n, bool at_deadline) noexcept {
  take(c_.queue_events, n);
  c_.dropped_spool_error += n;
  if (at_deadline) c_.lost_at_deadline += n;
  check();
}

void Ledger::drop_at_shutdown(std::uint64_t n) noexcept {
  take(c_.queue_events, n);
  c_.dropped_at_shutdown += n;
  c_.lost_at_deadline += n;
  check();
}

void Ledger::replay(std::uint64_t n) noexcept {
  take(c_.spool_backlog, n);
  c_.queue_events += n;
  c_.replayed += n;
  check();
}

void Ledger::evict_from_spool(std::uint64_t n) noexcept {
  take(c_.spool_backlog, n);
  c_.dropped_spool_evicted += n;
  check();
}

void Ledger::corrupt_on_replay(std::uint64_t n) noexcept {
  take(c_.spool_backlog, n);
  c_.dropped_spool_corrupt += n;
  check();
}

void Ledger::fill(SenderStats& s) const noexcept {
  s.enqueued = c_.enqueued;
  s.recovered = c_.recovered;
  s.delivered_events = c_.delivered_events;
  s.dropped_queue_full = c_.dropped_queue_full;
  s.dropped_oldest = c_.dropped_oldest;
  s.dropped_too_large = c_.dropped_too_large;
  s.dropped_permanent_error = c_.dropped_permanent_error;
  s.dropped_budget_exhausted = c_.dropped_budget_exhausted;
  s.dropped_spool_evicted = c_.dropped_spool_evicted;
  s.dropped_spool_corrupt = c_.dropped_spool_corrupt;
  s.dropped_at_shutdown = c_.dropped_at_shutdown;
  s.dropped_bad_metadata = c_.dropped_bad_metadata;
  s.dropped_spool_error = c_.dropped_spool_error;
  s.refused_spool_full = c_.refused_spool_full;
  s.refused_spool_error = c_.refused_spool_error;
  s.lost_at_deadline = c_.lost_at_deadline;
  s.spooled = c_.spooled;
  s.replayed = c_.replayed;
  s.spool_backlog = c_.spool_backlog;
  s.queue_events = c_.queue_events;
}

FlushResult Ledger::result() const noexcept {
  FlushResult r;
  r.delivered = c_.delivered_events;
  r.pending = c_.queue_events;
  r.spooled = c_.spool_backlog;
  r.dropped = c_.dropped_total();
  r.refused = c_.refused_total();
  return r;
}

}  // namespace ilert_sumo::detail
