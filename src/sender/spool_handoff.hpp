// src/sender/spool_handoff.hpp (private): every move of events between the sender's memory and
// its disk spool, with the bookkeeping that goes with it.
//
//   append    a producer's line goes to disk: written ahead (it stays in memory too) or spilled
//             (disk only). In overflow mode the spool may evict whole old segments to make room:
//             their events are counted as dropped (spool_evicted) and logged.
//   requeue   a batch that failed for good: its lines become spool backlog, retried later.
//             Lines already on disk (written ahead, or read back) are released where they are,
//             so each event is written once; only the others are appended.
//   spool_rest at the end, what is left in memory goes to the spool; without one (or when the
//             write fails) it is lost at shutdown, counted and logged.
//   load      records read back from the spool join their set's queue; damaged ones are counted
//             as lost (spool_corrupt) and logged.
// Each keeps the ledger (every event's state) and the flush epochs right, and says what the log
// and SenderStats::last_error should learn in HandoffNotes (not yet redacted: the sender masks
// them once, when it records them).
//
// Locking: none of its own; the sender uses it under its mutex mu_ (Spool has its own lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ilert_sumo/error.hpp"
#include "ilert_sumo/expected.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "sender/epochs.hpp"
#include "sender/ledger.hpp"
#include "sender/set_queues.hpp"
#include "spool/spool.hpp"

namespace ilert_sumo::detail {

/// What a hand-off has to tell.
struct HandoffNotes {
  /// For the log callback.
  std::vector<Error> notices;
  /// For SenderStats::last_error.
  std::optional<std::string> last_error;
  /// Events left the sender (dropped or lost): flush() waiters should look again.
  bool progress = false;
};

class SpoolHandoff {
 public:
  /// `max_bytes`: the spool's cap (named in the eviction notice).
  SpoolHandoff(Ledger& ledger, EpochTracker& epochs, std::uint64_t max_bytes) noexcept
      : ledger_(ledger), epochs_(epochs), max_bytes_(max_bytes) {}

  /// Appends one producer line tagged with flush epoch `epoch` (disk_only: spilled, else written
  /// ahead). The caller counts the event itself (Ledger::spill / admit) when this succeeds.
  Expected<SpoolRef> append(Spool& spool, MetadataId md, std::string_view line, bool disk_only, std::uint32_t epoch,
                            HandoffNotes& notes);

  /// `batch` (all of set `md`, out of memory now) failed for good: it becomes spool backlog.
  void requeue(Spool& spool, MetadataId md, const std::vector<QueueEntry>& batch, HandoffNotes& notes);

  /// At the end: `rest` (out of memory now) goes to `spool`, or is lost when there is none.
  void spool_rest(Spool* spool, std::vector<std::pair<MetadataId, QueueEntry>>& rest, HandoffNotes& notes);

  /// Records read back (`ids[i]`: the set of records[i]) join their queues, queued at `now`;
  /// `corrupt` (damaged records met while reading) are lost.
  void load(std::vector<SpoolRecord>& records, const std::vector<MetadataId>& ids, const TagCounts& corrupt,
            SetQueues& queues, std::chrono::steady_clock::time_point now, HandoffNotes& notes);

 private:
  /// Records the last append evicted (the cap, overflow mode) are dropped.
  void apply_evicted(HandoffNotes& notes);

  Ledger& ledger_;
  EpochTracker& epochs_;
  std::uint64_t max_bytes_;
  TagCounts evicted_;
};

}  // namespace ilert_sumo::detail
