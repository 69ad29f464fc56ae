// src/sender/sender_core.hpp (private): SenderCore, the state every SumoSender shares with its
// thread (the thread holds a reference too; see shutdown's hard stop).
//
// The parts (src/sender/, plain classes without locks of their own, used under the locks below):
//   MetadataRegistry (metadata_registry.hpp)  the registered metadata sets and their ids
//   SetQueues        (set_queues.hpp)         the queue of each set: readiness, batches, the memory
//                                             bound, oldest-first eviction
//   Ledger           (ledger.hpp)             every event's state; the accounting identity
//   ThrottleRamp     (throttle_ramp.hpp)      the batch byte cap after a 429/503
//   EpochTracker     (epochs.hpp)             what flush() waits for
//   NoticeQueue, FailureRun (notices.hpp)     notices for the log callback, and when a failing Sumo
//                                             is told
//   BatchRequests    (batch_request.hpp)      a batch becomes one request, compressed once
//   SpoolHandoff     (spool_handoff.hpp)      every move between memory and the spool
// SenderCore itself is in two files: sender_core.cpp holds the lock, admission (enqueue), the
// thread loop, flush and shutdown; sender_core_batches.cpp the thread's work on batches (reading
// the spool back, sending a batch and its outcome, the spool at the end, the deliver() hooks and
// the notices).
//
// Threads and locks
//   Producers (any thread) call enqueue*(): the line is rendered and fitted to the request cap
//   *before* any lock is taken (delivery.hpp: append_event_line / append_prebuilt_line), then
//   `mu_` is held for O(1) work: policy check, move the line into the queue of its metadata set,
//   the ledger. In write_ahead mode the spool append (one writev) happens under `mu_` too, so the
//   record is on disk before enqueue returns accepted. The sender thread is woken only when it is
//   idle with no timer, or when a set holds a full batch: not once per event.
//   The one sender thread cuts batches (bytes, count, age; one metadata set per batch), builds the
//   body, compresses it once and runs delivery.hpp's deliver() with an abortable sleep (waits on
//   `work_cv_`, so shutdown interrupts it) and the shutdown deadline/cancel flag passed down to the
//   HttpClient. It reads spooled records back when the memory queue is below half full, acks
//   delivered records on the spool, and runs the interval fsync.
//   Lock order: mu_ -> Spool's internal mutex; md_mu_ (guards MetadataRegistry writes) is never
//   held with mu_ by the sender thread; enqueue reads the registry lock-free (its atomics).
//
// Counting: every event is in exactly one state (memory, spool backlog, delivered, dropped by
//   reason), moved only by the Ledger's transitions under `mu_`, so enqueued + recovered =
//   delivered + dropped + pending + spooled holds in every snapshot (asserted in debug builds).
//   flush() waits on epochs: each flush() opens a new epoch and waits until no event of an older
//   epoch is in memory or in the spool backlog.
//
// Throttling: one request at a time. A 429 (or 503 with Retry-After) makes deliver() wait for the
//   Retry-After (no other request is sent meanwhile: the thread is the only sender) and re-send the
//   same compressed bytes while the retry budget lasts. After a batch that was throttled, the
//   ThrottleRamp drops the batch byte cap to 1/16 of batch.max_bytes (at least 16 KiB); it doubles
//   with every delivered batch back to batch.max_bytes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "delivery/compress.hpp"
#include "delivery/delivery.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "sender/batch_request.hpp"
#include "sender/epochs.hpp"
#include "sender/ledger.hpp"
#include "sender/metadata_registry.hpp"
#include "sender/notices.hpp"
#include "sender/set_queues.hpp"
#include "sender/spool_handoff.hpp"
#include "sender/throttle_ramp.hpp"
#include "spool/spool.hpp"

namespace ilert_sumo::detail {

class SenderCore {
 private:
  using Clock = std::chrono::steady_clock;
  using Entry = QueueEntry;
  using Refusal = Ledger::Refusal;
  using Ramp = ThrottleRamp::Outcome;

  /// How long shutdown waits past its deadline for the thread to stop after cancelling the
  /// transfer, before it gives up on an HttpClient that ignores cancel/deadline.
  static constexpr std::chrono::milliseconds kHardStopGrace{150};
  /// Most line bytes read back from the spool at once.
  static constexpr std::size_t kReplayChunk = 1024 * 1024;
  /// Most notices waiting for the log callback; more are counted in notices_dropped.
  static constexpr std::size_t kMaxPendingNotices = 256;
  /// While Sumo keeps failing, at most one "still failing" notice per this interval.
  static constexpr std::chrono::seconds kFailureNoticeInterval{60};
  /// A producer thread keeps its line render buffer up to this size between events.
  static constexpr std::size_t kKeepRenderBufferBytes = 256 * 1024;

  /// Where a sender is in its life; it only moves forward (SenderCore::set_phase).
  ///   running    accepts events; the thread delivers them
  ///   stopping   shutdown() began: enqueue answers closed; the thread sends what is in memory until
  ///              the deadline
  ///   giving_up  the deadline passed (the transfer in flight is cancelled) or shutdown cut a batch
  ///              off: the thread puts what is left on the spool and exits
  ///   stopped    the thread has exited
  ///   abandoned  the thread ignored cancel past the deadline: shutdown spooled what was in memory
  ///              and left the thread behind; it touches nothing more
  enum class Phase : std::uint8_t { running, stopping, giving_up, stopped, abandoned };

  /// What the sender thread is doing (one at a time).
  ///   working     deciding what to do next, reading the spool back, or an interval fsync
  ///   waiting     asleep on work_cv_ (producers wake it only when a batch is ready or it has no timer)
  ///   delivering  sending inflight_ without the lock (deliver() and its retry waits)
  ///   reporting   after a batch: acking its spool records and calling the report callback, without
  ///               the lock (flush waits for this to end)
  enum class Activity : std::uint8_t { working, waiting, delivering, reporting };

 public:
  /// A validated config (SumoSender::create checked the spool settings), the HttpClient, the
  /// callbacks, and the compressor for the plan's codec and level.
  SenderCore(FinalizedSumoConfig config, std::shared_ptr<HttpClient> http, SumoSender::ReportCallback on_report,
             SumoSender::LogCallback on_log, Compressor compressor);

  // ---- setup (before the thread starts) ----

  /// Registers the config's metadata as set 0 and opens the spool (recovering what it holds).
  Expected<void> init();
  /// Starts the sender thread; it keeps `self` (this core) alive as long as it runs.
  void start_thread(std::shared_ptr<SenderCore> self);

  // ---- metadata registry ----

  /// The set with this id, or null (lock-free).
  const SumoMetadata* metadata(std::uint32_t id) const noexcept { return registry_.get(id); }
  /// Registers (or finds) a set (MetadataRegistry::intern, under md_mu_).
  Expected<MetadataId> intern(const SumoMetadata& md, bool user);
  /// SumoSender::add_metadata: validates, then intern().
  Expected<MetadataId> add_metadata(const SumoMetadata& md);

  // ---- producers: SumoSender::enqueue / enqueue_line ----

  EnqueueStatus enqueue_event(const Event& event, MetadataId md) noexcept;
  EnqueueStatus enqueue_line(std::string_view text, MetadataId md) noexcept;

  // ---- SumoSender::flush / shutdown / stats ----

  FlushResult flush(std::chrono::milliseconds timeout);
  FlushResult shutdown(std::chrono::milliseconds timeout);
  std::chrono::milliseconds shutdown_timeout() const noexcept { return cfg_.shutdown_timeout; }
  SenderStats stats() const;

 private:
  // ---- lifecycle (under mu_) ----

  Phase phase() const noexcept { return phase_.load(std::memory_order_relaxed); }
  void set_phase(Phase next) noexcept;
  /// shutdown() has begun (every phase after running).
  bool stopping() const noexcept { return phase() != Phase::running; }
  /// The thread is gone, or left behind.
  bool exited() const noexcept { return phase() >= Phase::stopped; }

  // ---- producer side (push under mu_) ----

  /// An enqueue that threw (allocation): counted as dropped_queue_full.
  EnqueueStatus count_failure() noexcept;
  /// Admission of a rendered line: the policy checks, the overflow policy, the write-ahead append,
  /// the queue of its set, the ledger; wakes the thread when a batch is ready.
  EnqueueStatus push(std::string&& line, bool truncated, MetadataId md, bool too_large);

  /// A producer's line to the spool (disk_only: spilled, else written ahead), the hand-off's notes
  /// recorded; a success ends a run of spool_full refusals.
  Expected<SpoolRef> spool_append_locked(MetadataId md, std::string_view line, bool disk_only, std::uint32_t epoch);

  /// A spool append at enqueue failed: refused (spool full) or an I/O error. The first refusal of
  /// a run of them is logged.
  EnqueueStatus spool_refusal_locked(const Error& err);

  /// Counts a refusal in the ledger and returns `status`.
  EnqueueStatus refuse_locked(Refusal why, EnqueueStatus status) noexcept;

  // ---- notices for the log callback ----

  /// Queues a notice for the log callback. Its text must be redacted already: deliver()'s errors
  /// are; text from the spool goes through spool_text() first.
  void notice_locked(Error notice);

  /// Text from the spool (paths, its errors) masked once before it is recorded.
  std::string spool_text(const std::string& text) const { return target_.redactor(text); }

  /// Records what a spool hand-off had to tell.
  void take_notes_locked(const HandoffNotes& notes);

  /// Passes pending notices to the log callback (without mu_).
  void deliver_notices();

  /// drop_oldest: evicts the oldest queued lines (any set, never the in-flight batch) until
  /// `cost` more fits. False when even that is not enough (nothing is evicted then).
  bool evict_oldest_locked(std::size_t cost);

  /// Wakes the sender thread if it is asleep.
  void wake_sender_locked();

  /// Events left the sender: wakes flush() waiters.
  void notify_progress_locked();

  // ---- the sender thread ----

  /// The thread loop: notices, read back, a ready batch, the interval fsync, sleep; at the end
  /// the rest goes to the spool.
  void run();

  /// Reads spooled records back into memory: line bytes up to half of the room below `half` (the
  /// entries cost about as much again, entry_cost), read without the lock. False when the thread
  /// was abandoned meanwhile.
  bool read_back_locked(std::unique_lock<std::mutex>& lk, std::uint64_t half);

  /// A set with a batch ready (SetQueues::pick_ready; urgent while stopping or flushing).
  bool pick_ready_locked(Clock::time_point now, MetadataId& out, Clock::time_point& next_wake) const;
  /// Takes the batch of set `id` (at the ramp's byte cap) into inflight_.
  void take_batch_locked(MetadataId id);

  /// Sends inflight_ (called without mu_; only this thread touches inflight_ until it re-locks).
  void deliver_inflight();

  /// Closes the epochs of `entries` (consecutive equal epochs in one call).
  void finish_epochs_locked(const std::vector<Entry>& entries);

  /// Accounts for the outcome of inflight_. Delivered entries are moved to `done` (the caller
  /// acks their spool records and frees them without the lock).
  void finish_batch_locked(const DeliveryReport& report, std::vector<Entry>& done);

  /// At the end: what is in memory goes to the spool (or is counted as dropped_at_shutdown), and
  /// the spool is closed.
  void spool_rest_locked(bool include_inflight);

  // ---- deliver() hooks (sender thread) ----

  /// RetryEnvironment::sleep: waits on work_cv_ (shutdown ends it: false), running the
  /// interval fsync meanwhile.
  bool abortable_sleep(std::chrono::milliseconds delay);
  /// RetryEnvironment::on_attempt: stats, the throttle ramp, failure notices.
  void on_attempt(const AttemptResult& r, std::uint32_t attempt);

  /// Every attempt is counted in requests_by_status; failures and the recovery become notices
  /// as FailureRun (notices.hpp) says.
  void failure_notices_locked(const AttemptResult& r, Clock::time_point now);

 public:
  /// The sender thread (shutdown joins it, or detaches it when abandoned).
  std::thread thread_;

 private:
  // Immutable after construction.
  FinalizedSumoConfig config_;
  const SumoConfig& cfg_;
  std::shared_ptr<HttpClient> http_;
  SumoSender::ReportCallback on_report_;
  SumoSender::LogCallback on_log_;
  /// Where requests go and the config's one Redactor: the DeliveryPlan's, owned by config_.
  const DeliveryTarget& target_;
  RetryEnvironment env_;
  // Sender thread only.
  BatchRequests requests_;
  std::vector<SpoolRef> acks_;
  std::vector<Entry> graveyard_;  // finished entries, freed outside the lock
  const bool write_ahead_;

  // Metadata registry: writers hold md_mu_, readers use its lock-free get()/count().
  std::mutex md_mu_;
  MetadataRegistry registry_;

  // Everything below is guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable room_cv_;
  std::condition_variable done_cv_;
  /// The queue of each metadata set; its alloc() (in flight included) is what queue.max_bytes bounds.
  SetQueues queues_;
  std::vector<Entry> inflight_;
  MetadataId inflight_md_ = 0;
  /// Notices waiting for the log callback.
  NoticeQueue notices_{kMaxPendingNotices};
  /// When failed attempts become notices.
  FailureRun failures_{kFailureNoticeInterval};
  /// A run of spool_full refusals is in progress (logged once).
  bool spool_refusing_ = false;
  /// Every event's state (pending, backlog, delivered, dropped by reason): the identity's one home.
  Ledger ledger_;
  /// The other stats (requests, bytes, notices, last error...); stats() adds the ledger's counts.
  SenderStats st_;
  EpochTracker epochs_;
  std::shared_ptr<Spool> spool_;
  /// Moves events between memory and the spool, with their bookkeeping.
  SpoolHandoff handoff_{ledger_, epochs_, cfg_.spool.max_bytes};
  /// The batch byte cap after a 429/503, and SenderStats::throttled.
  ThrottleRamp ramp_;
  Clock::time_point backlog_hold_until_ = Clock::time_point::min();
  Clock::time_point stop_deadline_ = Clock::time_point::max();
  /// What the sender thread is doing (sender_wake_: when it wakes by itself while waiting).
  Activity activity_ = Activity::working;
  int flush_waiters_ = 0;
  std::optional<std::uint32_t> flush_target_;  // the newest epoch a flush asked for
  int blocked_producers_ = 0;
  Clock::time_point sender_wake_ = Clock::time_point::max();
  /// What shutdown() returned (then every later call returns it too).
  std::optional<FlushResult> shutdown_result_;
  /// Where the sender is in its life. Written under mu_ only (set_phase); enqueue reads it
  /// without the lock to refuse fast once stopping.
  std::atomic<Phase> phase_{Phase::running};
  /// Set with Phase::giving_up by shutdown's deadline: deliver() hands it to the HttpClient to
  /// abort the transfer in flight (RetryEnvironment::cancel).
  std::atomic<bool> cancel_{false};
};

}  // namespace ilert_sumo::detail
