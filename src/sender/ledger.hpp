// src/sender/ledger.hpp (private): the sender's event accounting, in one place.
//
// Every event the sender is told about is, at any moment, in exactly one state: in memory
// (pending), on disk only (spool backlog), delivered, or dropped with a reason. The ledger owns
// those counters and changes them only through transitions, each of which moves events from one
// state to another (or counts a new one in), so that
//
//     enqueued + recovered == delivered + dropped_total + pending + backlog
//
// holds after every transition. Debug builds assert it in each one (balanced()); tests drive long
// random sequences of transitions through it. The counters are SenderStats' fields of the same
// names; fill() copies them into a snapshot.
//
// Locking: none of its own; the sender changes and reads it under its mutex mu_, so every
// snapshot (stats(), flush(), shutdown()) sees the identity hold.
#pragma once

#include <cstdint>

#include "ilert_sumo/sumo_sender.hpp"

namespace ilert_sumo::detail {

class Ledger {
 public:
  /// Why enqueue refused an event (the caller was told; SenderStats::refused_total()).
  enum class Refusal : std::uint8_t {
    queue_full,    ///< dropped_queue_full
    too_large,     ///< dropped_too_large
    bad_metadata,  ///< dropped_bad_metadata
    spool_full,    ///< refused_spool_full
    spool_error,   ///< refused_spool_error
  };

  // ---- new events ----
  /// At start: events found in the spool, `intact` of them now backlog, `corrupt` lost.
  void recover(std::uint64_t intact, std::uint64_t corrupt) noexcept;
  /// An enqueue refused for `why`.
  void refuse(Refusal why) noexcept;
  /// An enqueue accepted into memory; `written_ahead`: also appended to the spool (write_ahead).
  void admit(bool written_ahead) noexcept;
  /// An enqueue written straight to the spool (OverflowPolicy::spill): backlog.
  void spill() noexcept;

  // ---- from memory ----
  /// Acknowledged by Sumo.
  void deliver(std::uint64_t n) noexcept;
  /// Evicted from the queue to make room (drop_oldest).
  void evict_oldest(std::uint64_t n) noexcept;
  /// A batch failed for good with no spool: `permanent` (a 4xx) or its retry budget ran out.
  void drop_failed(std::uint64_t n, bool permanent) noexcept;
  /// Records already on disk (write_ahead, or read back) that become backlog again in place.
  void release_to_backlog(std::uint64_t n) noexcept;
  /// Written to the spool now (a failed batch, or shutdown): backlog.
  void spool_from_memory(std::uint64_t n) noexcept;
  /// The spool write for them failed: lost (dropped_spool_error). `at_deadline`: at shutdown
  /// (also counted in lost_at_deadline).
  void lose_spool_error(std::uint64_t n, bool at_deadline) noexcept;
  /// Still in memory at the shutdown deadline with no spool: lost.
  void drop_at_shutdown(std::uint64_t n) noexcept;

  // ---- from the spool backlog ----
  /// Read back into memory.
  void replay(std::uint64_t n) noexcept;
  /// Evicted from disk by the spool's size cap.
  void evict_from_spool(std::uint64_t n) noexcept;
  /// Found damaged while reading back.
  void corrupt_on_replay(std::uint64_t n) noexcept;

  // ---- reading ----
  /// Events in memory / only on disk.
  std::uint64_t pending() const noexcept { return c_.queue_events; }
  std::uint64_t backlog() const noexcept { return c_.spool_backlog; }
  std::uint64_t delivered() const noexcept { return c_.delivered_events; }
  std::uint64_t dropped_total() const noexcept { return c_.dropped_total(); }
  std::uint64_t refused_total() const noexcept { return c_.refused_total(); }
  /// The identity above.
  bool balanced() const noexcept {
    return c_.enqueued + c_.recovered == c_.delivered_events + c_.dropped_total() + c_.queue_events + c_.spool_backlog;
  }
  /// Copies the ledger's counters (enqueued, recovered, delivered_events, dropped_*, refused_*,
  /// lost_at_deadline, spooled, replayed, spool_backlog, queue_events) into `s`; other fields
  /// are left alone.
  void fill(SenderStats& s) const noexcept;
  /// delivered, pending, spooled (backlog), dropped and refused of a FlushResult.
  FlushResult result() const noexcept;

 private:
  /// from -= n (asserted not to underflow; clamped at 0 in release builds, as the sender always did).
  static void take(std::uint64_t& from, std::uint64_t n) noexcept;
  void check() const noexcept;

  /// Only the counters fill() names are used.
  SenderStats c_;
};

}  // namespace ilert_sumo::detail
