// ilert_sumo/sumo_sender.hpp: background delivery that loses nothing.
//
// SumoSender owns one thread. enqueue() is thread-safe, never throws, never blocks past its
// configured timeout, and returns what happened to the event. The thread batches by bytes, count
// and age, groups by metadata set, compresses once and delivers with the retry policy of
// sumo_client.hpp; a 429 (or 503 with Retry-After) pauses *all* sending until the retry time.
// With a spool (SumoConfig::spool) undelivered data survives shutdown and crashes (write_ahead:
// also SIGKILL). flush()/shutdown() never wait past their deadline plus a small margin.
// Delivery is at least once; `dedupId` in each line lets duplicates be recognised.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ilert_sumo/export.hpp"
#include "ilert_sumo/events.hpp"
#include "ilert_sumo/expected.hpp"
#include "ilert_sumo/http_client.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"

namespace ilert_sumo {

/// What enqueue() did with an event.
enum class EnqueueStatus : std::uint8_t {
  accepted,              ///< queued (and, in write_ahead mode, on disk)
  spilled,               ///< queue full, written to the spool (OverflowPolicy::spill); will be sent
  dropped_queue_full,    ///< queue full under block (after the timeout) or drop_newest
  dropped_too_large,     ///< one line larger than the whole queue bound
  dropped_bad_metadata,  ///< unknown MetadataId
  dropped_spool_error,   ///< write_ahead/spill could not write to disk (an I/O error)
  closed,                ///< the sender is shut down
  refused_spool_full,    ///< write_ahead: the spool is at spool.max_bytes; nothing was evicted to make
                         ///< room. Tell the client to retry later (the relay answers 503 + Retry-After)
};
ILERT_SUMO_EXPORT const char* to_string(EnqueueStatus status) noexcept;

/// Handle of a registered metadata set; 0 is the config's default set.
using MetadataId = std::uint32_t;

/// Counts returned by flush() and shutdown(). Over the sender's lifetime, always:
/// enqueued + recovered = delivered + pending + spooled + dropped (see SenderStats).
struct FlushResult {
  /// Events acknowledged by Sumo (lifetime total).
  std::uint64_t delivered = 0;
  /// Events still in memory, not delivered. Always 0 after shutdown: what was still in memory is
  /// then spooled or counted as dropped (dropped_at_shutdown).
  std::uint64_t pending = 0;
  /// Events written to the spool and not yet delivered.
  std::uint64_t spooled = 0;
  /// Events dropped, any reason (lifetime total): refused at enqueue and lost after acceptance.
  std::uint64_t dropped = 0;
  /// Of `dropped`: refused at enqueue (the caller was told; SenderStats::refused_total()).
  std::uint64_t refused = 0;
  /// shutdown only: events this shutdown lost (in memory at the deadline with no spool, or the
  /// spool write failed); 0 when `completed`.
  std::uint64_t lost_at_deadline = 0;
  /// flush: true when nothing enqueued before the call (or recovered from the spool) is still
  /// pending: each such event was delivered or dropped (see `dropped`). shutdown: true when the
  /// shutdown lost nothing: everything was delivered or is on disk (`spooled`).
  bool completed = false;
};

/// A snapshot of the sender's counters. Every event is, at any moment, in exactly one state:
/// enqueued + recovered = delivered_events + dropped_total() + queue_events + spool_backlog,
/// where dropped_total() = refused_total() (told at enqueue) + lost_total() (accepted, then lost).
struct SenderStats {
  /// enqueue()/enqueue_line() calls, whatever they returned, except `closed`.
  std::uint64_t enqueued = 0;
  /// Events found in the spool when the sender started (left by an earlier process), damaged
  /// ones included (those are also counted in dropped_spool_corrupt).
  std::uint64_t recovered = 0;
  std::uint64_t delivered_events = 0;
  std::uint64_t delivered_raw_bytes = 0;
  std::uint64_t delivered_compressed_bytes = 0;
  /// Requests by final HTTP status of each attempt (0 = transport error).
  std::map<int, std::uint64_t> requests_by_status;
  std::uint64_t retries = 0;
  /// Drops by reason. Refused at enqueue (enqueue returned it, the caller knows): queue_full,
  /// too_large, bad_metadata, refused_spool_full, refused_spool_error. Lost after acceptance: all
  /// the others.
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_oldest = 0;
  std::uint64_t dropped_too_large = 0;
  std::uint64_t dropped_permanent_error = 0;   ///< 4xx other than 408/429, no spool to keep them
  std::uint64_t dropped_budget_exhausted = 0;  ///< retry budget ran out, no spool to keep them
  std::uint64_t dropped_spool_evicted = 0;     ///< spool size cap evicted them
  std::uint64_t dropped_spool_corrupt = 0;     ///< damaged spool records found on replay
  std::uint64_t dropped_at_shutdown = 0;       ///< still in memory at the deadline, no spool
  std::uint64_t dropped_bad_metadata = 0;      ///< enqueued with an unknown MetadataId
  std::uint64_t dropped_spool_error = 0;  ///< accepted, then the spool could not be written (failed batch, shutdown)
  std::uint64_t refused_spool_full = 0;   ///< enqueue returned refused_spool_full (write_ahead spool at its cap)
  std::uint64_t refused_spool_error = 0;  ///< enqueue returned dropped_spool_error (write_ahead/spill append failed)
  /// Lost at the shutdown deadline: in memory with no spool (dropped_at_shutdown) or the spool
  /// write failed then (also in dropped_spool_error). Informational: not part of dropped_total().
  std::uint64_t lost_at_deadline = 0;
  /// Events the caller was told about at enqueue (never accepted).
  std::uint64_t refused_total() const noexcept {
    return dropped_queue_full + dropped_too_large + dropped_bad_metadata + refused_spool_full + refused_spool_error;
  }
  /// Events accepted and then lost.
  std::uint64_t lost_total() const noexcept {
    return dropped_oldest + dropped_permanent_error + dropped_budget_exhausted + dropped_spool_evicted +
           dropped_spool_corrupt + dropped_at_shutdown + dropped_spool_error;
  }
  /// All the dropped_*/refused_* counters above, summed (what FlushResult::dropped reports).
  std::uint64_t dropped_total() const noexcept { return refused_total() + lost_total(); }
  /// Events written to the spool (write_ahead: every accepted event) / read back from it.
  std::uint64_t spooled = 0;
  std::uint64_t replayed = 0;
  /// Events now only on disk, waiting to be read back and sent (FlushResult::spooled).
  std::uint64_t spool_backlog = 0;
  /// Current queue content: line bytes, and what they take in memory as the bound counts it (the
  /// lines' allocations, capacity not size, plus each entry's bookkeeping). queue.max_bytes bounds
  /// queue_allocated_bytes.
  std::uint64_t queue_bytes = 0;
  std::uint64_t queue_allocated_bytes = 0;
  std::uint64_t queue_events = 0;
  /// Spool damage found (on start and while reading back): damaged regions, and notices given to
  /// the log callback (damage, evictions, refusals, losses).
  std::uint64_t spool_damaged_regions = 0;
  std::uint64_t notices = 0;
  /// Notices not given to the log callback because too many were pending (counted, not lost).
  std::uint64_t notices_dropped = 0;
  /// When Sumo last acknowledged a request.
  std::optional<std::chrono::system_clock::time_point> last_success;
  /// When an attempt last failed (transport error or a non-2xx answer): failing now when it is
  /// later than last_success.
  std::optional<std::chrono::system_clock::time_point> last_failure;
  /// The last delivery error (redacted), empty if none.
  std::string last_error;
  /// True while sending is paused by a 429/Retry-After.
  bool throttled = false;
};

/// Background sender. Create with SumoSender::create.
class ILERT_SUMO_EXPORT SumoSender {
 public:
  /// Called on the sender thread after each request's final outcome. Must not block for long.
  /// DeliveryReport::first_index counts the events handed to delivery by this sender.
  using ReportCallback = std::function<void(const DeliveryReport&)>;
  /// Called on the sender thread (or by shutdown() after the thread stopped), never under a lock,
  /// for what an operator must see in the log: the first failed delivery attempt (right after it,
  /// not after the retry budget), then at most one "still failing" summary per 60 s with counts,
  /// and "delivery recovered" at the first success after failures (code ok); spool damage
  /// (spool_corrupt), events evicted by the spool cap, the start of refusals because the
  /// write_ahead spool is full (spool_full), refused segment files (symlinks, special files),
  /// events lost at the shutdown deadline. Messages are redacted. At most 256 notices wait; beyond
  /// that they are counted (SenderStats::notices_dropped).
  using LogCallback = std::function<void(const Error& notice)>;

  /// Starts the sender thread (and replays the spool, if any). `http` defaults to libcurl.
  static Expected<std::unique_ptr<SumoSender>> create(FinalizedSumoConfig config,
                                                      std::shared_ptr<HttpClient> http = nullptr,
                                                      ReportCallback on_report = nullptr, LogCallback on_log = nullptr);
  /// Calls shutdown(config.shutdown_timeout) if it was not called.
  ~SumoSender();
  SumoSender(const SumoSender&) = delete;
  SumoSender& operator=(const SumoSender&) = delete;

  /// Registers a metadata set (validated like finalize()); an equal set returns the same id.
  Expected<MetadataId> add_metadata(const SumoMetadata& metadata);

  /// Queues the Sumo line of an event. Thread-safe, never throws.
  EnqueueStatus enqueue(const Event& event, MetadataId metadata = 0) noexcept;
  /// Queues a pre-built line (a '\n' is appended; embedded newlines are escaped). Thread-safe.
  EnqueueStatus enqueue_line(std::string_view line, MetadataId metadata = 0) noexcept;

  /// Sends everything enqueued before the call without waiting for batch age or size, and waits
  /// until it is delivered, or the timeout. flush(0) only starts the sending: it still happens.
  FlushResult flush(std::chrono::milliseconds timeout);
  /// Stops accepting, delivers what it can before the deadline, aborts an in-flight transfer at
  /// the deadline, spools the rest (if a spool is configured) and stops the thread. Idempotent.
  FlushResult shutdown(std::chrono::milliseconds timeout);

  /// A consistent snapshot of the counters.
  SenderStats stats() const;

 private:
  struct Impl;
  explicit SumoSender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ilert_sumo
