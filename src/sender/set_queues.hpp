// src/sender/set_queues.hpp (private): the sender's in-memory queue, one FIFO per metadata set.
//
// Producers push fitted lines (each ending in '\n') into the queue of their set; the sender thread
// asks which set is ready (pick_ready: urgent, a full batch by bytes or count, or the oldest line
// past batch.max_age; the set whose first line is oldest wins), takes a batch from it (take_batch)
// and, when the batch is done, release()s it. Under OverflowPolicy::drop_oldest, evict_oldest()
// makes room by dropping the oldest queued lines across all sets (never a taken batch).
//
// The bound: every line costs what it takes in memory (entry_cost: its heap allocation plus the
// entry's bookkeeping); alloc() is the sum over everything in memory, taken batches included, and
// is what queue.max_bytes bounds. bytes() is the same for line bytes (stats).
//
// Time: callers pass `now` (steady_clock); nothing here reads a clock. Locking: none of its own;
// the sender uses it under its mutex mu_. Event counts belong to the Ledger (ledger.hpp), not here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "spool/spool.hpp"
#include "ilert_sumo/sumo_sender.hpp"

namespace ilert_sumo::detail {

/// One queued line.
struct QueueEntry {
  /// The fitted line, ending in '\n'.
  std::string line;
  /// Where it is on disk (write_ahead, or read back from the spool); invalid otherwise.
  SpoolRef ref;
  /// When it was queued (batch.max_age, oldest-first eviction).
  std::chrono::steady_clock::time_point queued;
  /// flush() epoch.
  std::uint32_t epoch = 0;
  /// Its details were truncated to fit.
  bool truncated = false;
};

/// What a string's heap buffer takes from glibc malloc: capacity + NUL + the chunk header, rounded
/// to 16 bytes (at least 32); 0 while the string is in its inline (SSO) buffer.
std::size_t heap_bytes(const std::string& s) noexcept;
/// What one queued line costs against queue.max_bytes: its allocation plus its entry.
inline std::size_t entry_cost(const std::string& line) noexcept { return heap_bytes(line) + sizeof(QueueEntry); }

/// When a set is ready to send.
struct ReadyRule {
  /// Send now whatever is queued (flush, shutdown).
  bool urgent = false;
  /// A set with this many line bytes is ready (the throttle ramp's current cap).
  std::size_t batch_bytes = 0;
  /// A set with this many lines is ready (batch.max_events).
  std::size_t batch_events = 0;
  /// A set whose first line is this old is ready (batch.max_age).
  std::chrono::milliseconds max_age{0};
};

class SetQueues {
 public:
  using Clock = std::chrono::steady_clock;

  /// What a push left behind in the set (the sender's wake-up rule uses it).
  struct Pushed {
    /// The set was empty before.
    bool was_empty = false;
    /// Line bytes and lines now queued in the set.
    std::size_t set_bytes = 0;
    std::size_t set_events = 0;
  };

  /// Appends at the back of set `md`.
  Pushed push(MetadataId md, QueueEntry&& e);
  /// Puts a batch taken from set `md` (in its order) back at the front of that set; clears
  /// `entries`. Its cost was never released, so the totals do not change.
  void put_back(MetadataId md, std::vector<QueueEntry>& entries);

  /// The ready set whose first line is oldest, in `out`; false when none is ready. For sets not
  /// ready, `next_wake` is lowered to when they will be (first line + max_age).
  bool pick_ready(Clock::time_point now, const ReadyRule& rule, MetadataId& out, Clock::time_point& next_wake) const;
  /// Moves the first lines of set `md` into `out` (cleared first): at least one, at most
  /// `max_events`, and no more than `max_bytes` line bytes unless the first line alone is more.
  /// They stay in alloc()/bytes() until release().
  void take_batch(MetadataId md, std::size_t max_events, std::size_t max_bytes, std::vector<QueueEntry>& out);
  /// A taken batch left memory (delivered, dropped or spooled): its cost and bytes are released.
  void release(const std::vector<QueueEntry>& taken) noexcept;

  /// drop_oldest: removes the oldest queued lines (by queue time, across sets; never a taken
  /// batch) until alloc() + `cost` <= `max`, appending them to `evicted`. False, and nothing
  /// removed, when even removing every queued line would not make room.
  bool evict_oldest(std::size_t cost, std::size_t max, std::vector<QueueEntry>& evicted);

  /// Moves every queued line out (set by set, each in order) and sets the totals to 0: a taken
  /// batch still out is forgotten too (the caller deals with it).
  void drain(std::vector<std::pair<MetadataId, QueueEntry>>& out);

  /// No line is queued (taken batches aside).
  bool empty() const noexcept { return active_.empty(); }
  /// Lines queued in set `md`.
  std::size_t size(MetadataId md) const noexcept;
  /// Line bytes / cost of everything in memory, taken batches included.
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::uint64_t alloc() const noexcept { return alloc_; }

 private:
  struct Set {
    std::deque<QueueEntry> entries;
    /// Line bytes (batching) and their cost against the bound (entry_cost).
    std::size_t bytes = 0;
    std::size_t alloc = 0;
  };
  Set& set(MetadataId md);

  std::vector<std::unique_ptr<Set>> sets_;
  /// Sets with queued lines, in the order they became non-empty.
  std::vector<MetadataId> active_;
  std::uint64_t bytes_ = 0;
  std::uint64_t alloc_ = 0;
};

}  // namespace ilert_sumo::detail
