// src/sender/sumo_sender.cpp: SumoSender, background delivery with a byte-bounded queue, Sumo-aware
// throttling, deadlines that hold, and the disk spool (spool.hpp).
//
// The parts (src/sender/, plain classes without locks of their own, used under the locks below):
//   MetadataRegistry (metadata_registry.hpp)  the registered metadata sets and their ids
//   SetQueues        (set_queues.hpp)         the queue of each set: readiness, batches, the memory
//                                             bound, oldest-first eviction
//   Ledger           (ledger.hpp)             every event's state; the accounting identity
//   ThrottleRamp     (throttle_ramp.hpp)      the batch byte cap after a 429/503
// What is left here, SenderCore: the lock, admission (enqueue), the thread loop, delivery of a
// batch and its outcome, the spool hand-offs, notices, flush and shutdown.
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
#include "ilert_sumo/sumo_sender.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "delivery/compress.hpp"
#include "delivery/delivery.hpp"
#include "sender/batch_request.hpp"
#include "sender/epochs.hpp"
#include "sender/ledger.hpp"
#include "sender/metadata_registry.hpp"
#include "sender/notices.hpp"
#include "sender/set_queues.hpp"
#include "sender/spool_handoff.hpp"
#include "sender/throttle_ramp.hpp"
#include "spool/spool.hpp"
#include "util/errors.hpp"

namespace ilert_sumo {

const char* to_string(EnqueueStatus status) noexcept {
  switch (status) {
    case EnqueueStatus::accepted: return "accepted";
    case EnqueueStatus::spilled: return "spilled";
    case EnqueueStatus::dropped_queue_full: return "dropped_queue_full";
    case EnqueueStatus::dropped_too_large: return "dropped_too_large";
    case EnqueueStatus::dropped_bad_metadata: return "dropped_bad_metadata";
    case EnqueueStatus::dropped_spool_error: return "dropped_spool_error";
    case EnqueueStatus::closed: return "closed";
    case EnqueueStatus::refused_spool_full: return "refused_spool_full";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;
using detail::make_error;
using detail::SpoolRef;

/// How long shutdown waits past its deadline for the thread to stop after cancelling the
/// transfer, before it gives up on an HttpClient that ignores cancel/deadline.
constexpr std::chrono::milliseconds kHardStopGrace{150};
/// Most line bytes read back from the spool at once.
constexpr std::size_t kReplayChunk = 1024 * 1024;
/// Most notices waiting for the log callback; more are counted in notices_dropped.
constexpr std::size_t kMaxPendingNotices = 256;
/// While Sumo keeps failing, at most one "still failing" notice per this interval.
constexpr std::chrono::seconds kFailureNoticeInterval{60};
/// A producer thread keeps its line render buffer up to this size between events.
constexpr std::size_t kKeepRenderBufferBytes = 256 * 1024;

using Entry = detail::QueueEntry;
using Refusal = detail::Ledger::Refusal;
using Ramp = detail::ThrottleRamp::Outcome;
using detail::EpochTracker;

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

}  // namespace

// =============================================================================================
// The shared state of a sender; the thread holds a reference too (see shutdown's hard stop).

namespace {

class SenderCore {
 public:
  SenderCore(FinalizedSumoConfig config, std::shared_ptr<HttpClient> http, SumoSender::ReportCallback on_report,
             SumoSender::LogCallback on_log, detail::Compressor compressor)
      : config_(std::move(config)),
        cfg_(config_.config()),
        http_(std::move(http)),
        on_report_(std::move(on_report)),
        on_log_(std::move(on_log)),
        plan_(detail::delivery_plan(config_)),
        target_(plan_.target),
        requests_(cfg_, plan_.headers, std::move(compressor)),
        write_ahead_(cfg_.spool.mode == SpoolMode::write_ahead),
        ramp_(cfg_.batch.max_bytes) {
    env_ = detail::default_retry_environment();
    env_.sleep = [this](std::chrono::milliseconds delay) { return abortable_sleep(delay); };
    env_.on_attempt = [this](const detail::AttemptResult& r, std::uint32_t attempt) {
      on_attempt(r, attempt);
      deliver_notices();  // now, not after the batch's final outcome (up to the retry budget later)
    };
    env_.cancel = &cancel_;
  }

  // ---- setup (before the thread starts) ----

  Expected<void> init() {
    intern(cfg_.metadata, false);  // id 0
    if (cfg_.spool.mode != SpoolMode::off && !cfg_.spool.dir.empty()) {
      auto opened = detail::Spool::open(cfg_.spool, [this](std::uint32_t id) { return metadata(id); });
      if (!opened) return opened.error();
      spool_ = std::shared_ptr<detail::Spool>(std::move(opened.value()));
      const detail::SpoolRecovery& rec = spool_->recovery();
      ledger_.recover(rec.records, rec.corrupt);
      st_.spool_damaged_regions = rec.damaged_regions;
      epochs_.add(0, rec.records);
      if (!rec.error.message.empty()) st_.last_error = spool_text(rec.error.to_string());
      std::lock_guard<std::mutex> lk(mu_);
      for (const Error& n : rec.notices) notice_locked(make_error(n.code, spool_text(n.message)));
    }
    return {};
  }

  void start_thread(std::shared_ptr<SenderCore> self) {
    thread_ = std::thread([self] { self->run(); });
  }

  // ---- metadata registry ----

  const SumoMetadata* metadata(std::uint32_t id) const noexcept { return registry_.get(id); }

  /// Registers (or finds) a set (MetadataRegistry::intern, under md_mu_).
  Expected<MetadataId> intern(const SumoMetadata& md, bool user) {
    std::lock_guard<std::mutex> lock(md_mu_);
    return registry_.intern(md, user);
  }

  Expected<MetadataId> add_metadata(const SumoMetadata& md) {
    if (auto valid = validate_metadata(md); !valid) return valid.error();
    return intern(md, true);
  }

  // ---- producers ----

  EnqueueStatus enqueue_event(const Event& event, MetadataId md) noexcept {
    try {
      if (phase_.load(std::memory_order_relaxed) != Phase::running) return EnqueueStatus::closed;
      if (md >= registry_.count()) return push(std::string(), false, md, false);
      // Rendered into this thread's buffer (its capacity stays), then copied once into a string
      // of exactly the line's size: one allocation per event, and the queue, which counts
      // allocations, holds no slack.
      thread_local std::string render_buffer;
      render_buffer.clear();
      const detail::LineFit fit = detail::append_event_line(render_buffer, event, detail::line_budget(cfg_));
      std::string line(render_buffer);
      if (render_buffer.capacity() > kKeepRenderBufferBytes) std::string().swap(render_buffer);
      return push(std::move(line), fit == detail::LineFit::truncated, md, fit == detail::LineFit::too_large);
    } catch (...) {
      return count_failure();
    }
  }

  EnqueueStatus enqueue_line(std::string_view text, MetadataId md) noexcept {
    try {
      if (phase_.load(std::memory_order_relaxed) != Phase::running) return EnqueueStatus::closed;
      if (md >= registry_.count()) return push(std::string(), false, md, false);
      std::string line;
      line.reserve(text.size() + 1);
      const detail::LineFit fit = detail::append_prebuilt_line(line, text, detail::line_budget(cfg_));
      if (line.capacity() > line.size()) line.shrink_to_fit();
      return push(std::move(line), fit == detail::LineFit::truncated, md, fit == detail::LineFit::too_large);
    } catch (...) {
      return count_failure();
    }
  }

  // ---- flush / shutdown / stats ----

  FlushResult flush(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + std::max(timeout, std::chrono::milliseconds(0));
    std::unique_lock<std::mutex> lk(mu_);
    if (stopping()) {
      FlushResult r = ledger_.result();
      r.completed = epochs_.idle();
      return r;
    }
    const std::uint32_t target = epochs_.advance();
    // Urgent until the target epoch is done, even if this call stops waiting first (flush(0)
    // only starts the sending: without this the sender thread could wake after the waiter left
    // and let the batch wait for its age).
    if (!flush_target_ || *flush_target_ < target) flush_target_ = target;
    ++flush_waiters_;
    work_cv_.notify_all();
    // Also wait for the after-batch work in progress (spool acks, which delete fully delivered
    // segments, and the report callback), so when flush returns the flushed events' segments are
    // gone and their reports have been seen.
    done_cv_.wait_until(lk, deadline,
                        [&] { return (epochs_.done_through(target) && activity_ != Activity::reporting) || exited(); });
    --flush_waiters_;
    FlushResult r = ledger_.result();
    r.completed = epochs_.done_through(target);
    return r;
  }

  FlushResult shutdown(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + std::max(timeout, std::chrono::milliseconds(0));
    std::unique_lock<std::mutex> lk(mu_);
    if (shutdown_result_) return *shutdown_result_;
    if (!stopping()) {
      set_phase(Phase::stopping);
      stop_deadline_ = deadline;
      work_cv_.notify_all();
      room_cv_.notify_all();
    } else {
      // Another thread is shutting down: wait for it (bounded by our own deadline).
      done_cv_.wait_until(lk, deadline + kHardStopGrace, [&] { return shutdown_result_.has_value(); });
      if (shutdown_result_) return *shutdown_result_;
      return ledger_.result();
    }
    const std::uint64_t dropped_before = ledger_.dropped_total();
    done_cv_.wait_until(lk, deadline, [&] { return exited(); });
    if (!exited()) {
      // The deadline: abort the in-flight transfer, interrupt any wait.
      set_phase(Phase::giving_up);
      cancel_.store(true, std::memory_order_release);
      work_cv_.notify_all();
      done_cv_.wait_until(lk, deadline + kHardStopGrace, [&] { return exited(); });
    }
    bool join = true;
    if (!exited()) {
      // The HttpClient (or the report callback) ignores cancel and deadline: leave the thread
      // behind (it holds its own reference to this core and touches nothing once it sees
      // it is abandoned), and put what is in memory on disk from here.
      set_phase(Phase::abandoned);
      join = false;
      spool_rest_locked(/*include_inflight=*/activity_ == Activity::delivering);
    }
    FlushResult r = ledger_.result();
    r.lost_at_deadline = ledger_.dropped_total() - dropped_before;
    r.completed = r.lost_at_deadline == 0 && r.pending == 0;
    shutdown_result_ = r;
    done_cv_.notify_all();
    std::thread t = std::move(thread_);
    lk.unlock();
    if (t.joinable()) {
      if (join) {
        t.join();
      } else {
        t.detach();
      }
    }
    // The thread is gone (unless abandoned): what it did not pass to the log callback, pass now.
    if (join) deliver_notices();
    return r;
  }

  std::chrono::milliseconds shutdown_timeout() const noexcept { return cfg_.shutdown_timeout; }

  SenderStats stats() const {
    std::lock_guard<std::mutex> lk(mu_);
    SenderStats s = st_;
    s.queue_bytes = queues_.bytes();
    s.queue_allocated_bytes = queues_.alloc();
    ledger_.fill(s);
    s.notices = notices_.total();
    s.notices_dropped = notices_.dropped();
    s.throttled = ramp_.throttled();
    return s;
  }

 private:
  // ---- lifecycle (under mu_) ----

  Phase phase() const noexcept { return phase_.load(std::memory_order_relaxed); }
  void set_phase(Phase next) noexcept {
    if (next > phase()) phase_.store(next, std::memory_order_relaxed);
  }
  /// shutdown() has begun (every phase after running).
  bool stopping() const noexcept { return phase() != Phase::running; }
  /// The thread is gone, or left behind.
  bool exited() const noexcept { return phase() >= Phase::stopped; }

  // ---- producer side (push under mu_) ----

  EnqueueStatus count_failure() noexcept {
    try {
      std::lock_guard<std::mutex> lk(mu_);
      if (stopping()) return EnqueueStatus::closed;
      ledger_.refuse(Refusal::queue_full);
    } catch (...) {
    }
    return EnqueueStatus::dropped_queue_full;
  }

  EnqueueStatus push(std::string&& line, bool truncated, MetadataId md, bool too_large) {
    const std::size_t cost = detail::entry_cost(line);
    const std::size_t max = cfg_.queue.max_bytes;
    const Clock::time_point now = Clock::now();
    std::unique_lock<std::mutex> lk(mu_);
    if (stopping()) return EnqueueStatus::closed;
    if (md >= registry_.count()) return refuse_locked(Refusal::bad_metadata, EnqueueStatus::dropped_bad_metadata);
    if (too_large || cost > max) return refuse_locked(Refusal::too_large, EnqueueStatus::dropped_too_large);
    if (queues_.alloc() + cost > max) {
      switch (cfg_.queue.overflow) {
        case OverflowPolicy::block: {
          const auto until = now + cfg_.queue.enqueue_timeout;
          ++blocked_producers_;
          room_cv_.wait_until(lk, until, [&] { return stopping() || queues_.alloc() + cost <= max; });
          --blocked_producers_;
          if (stopping()) return EnqueueStatus::closed;  // not counted: the caller learns it was closed
          if (queues_.alloc() + cost > max)
            return refuse_locked(Refusal::queue_full, EnqueueStatus::dropped_queue_full);
          break;
        }
        case OverflowPolicy::drop_newest: return refuse_locked(Refusal::queue_full, EnqueueStatus::dropped_queue_full);
        case OverflowPolicy::drop_oldest:
          if (!evict_oldest_locked(cost)) return refuse_locked(Refusal::queue_full, EnqueueStatus::dropped_queue_full);
          break;
        case OverflowPolicy::spill: {
          if (!spool_) return refuse_locked(Refusal::spool_error, EnqueueStatus::dropped_spool_error);
          const std::uint32_t epoch = epochs_.current();
          detail::HandoffNotes notes;
          auto ref = handoff_.append(*spool_, md, line, /*disk_only=*/true, epoch, notes);
          take_notes_locked(notes);
          if (!ref) return spool_refusal_locked(ref.error());
          spool_refusing_ = false;
          ledger_.spill();
          epochs_.add(epoch, 1);
          wake_sender_locked();
          return EnqueueStatus::spilled;
        }
      }
    }
    Entry e;
    e.epoch = epochs_.current();
    if (write_ahead_ && spool_) {
      detail::HandoffNotes notes;
      auto ref = handoff_.append(*spool_, md, line, /*disk_only=*/false, e.epoch, notes);
      take_notes_locked(notes);
      if (!ref) return spool_refusal_locked(ref.error());
      spool_refusing_ = false;
      e.ref = *ref;
    }
    e.line = std::move(line);
    e.queued = now;
    e.truncated = truncated;
    ledger_.admit(/*written_ahead=*/e.ref.valid());
    const detail::SetQueues::Pushed q = queues_.push(md, std::move(e));
    epochs_.add(epochs_.current(), 1);
    // Wake the sender only when it sleeps without a timer, or when this set now fills a batch.
    bool wake = false;
    if (activity_ == Activity::waiting) {
      if ((q.was_empty && now + cfg_.batch.max_age < sender_wake_) || q.set_bytes >= ramp_.cap() ||
          q.set_events >= cfg_.batch.max_events) {
        wake = true;
        activity_ = Activity::working;
      }
    }
    lk.unlock();
    if (wake) work_cv_.notify_one();
    return EnqueueStatus::accepted;
  }

  /// A spool append at enqueue failed: refused (spool full) or an I/O error. The first refusal of
  /// a run of them is logged.
  EnqueueStatus spool_refusal_locked(const Error& err) {
    st_.last_error = spool_text(err.to_string());
    if (err.code == ErrorCode::spool_full) {
      ledger_.refuse(Refusal::spool_full);
      if (!spool_refusing_) {
        spool_refusing_ = true;
        notice_locked(make_error(ErrorCode::spool_full,
                                 spool_text(err.message + " (further refusals are counted until one is accepted)")));
      }
      return EnqueueStatus::refused_spool_full;
    }
    return refuse_locked(Refusal::spool_error, EnqueueStatus::dropped_spool_error);
  }

  EnqueueStatus refuse_locked(Refusal why, EnqueueStatus status) noexcept {
    ledger_.refuse(why);
    return status;
  }

  // ---- notices for the log callback ----

  /// Queues a notice for the log callback. Its text must be redacted already: deliver()'s errors
  /// are; text from the spool goes through spool_text() first.
  void notice_locked(Error notice) {
    if (notices_.push(std::move(notice))) wake_sender_locked();
  }

  /// Text from the spool (paths, its errors) masked once before it is recorded.
  std::string spool_text(const std::string& text) const { return target_.redactor(text); }

  /// Records what a spool hand-off had to tell.
  void take_notes_locked(detail::HandoffNotes& notes) {
    for (Error& n : notes.notices) notice_locked(make_error(n.code, spool_text(n.message)));
    if (notes.last_error) st_.last_error = spool_text(*notes.last_error);
    if (notes.progress) notify_progress_locked();
    notes = detail::HandoffNotes();
  }

  /// Passes pending notices to the log callback (without mu_).
  void deliver_notices() {
    std::vector<Error> notices;
    {
      std::lock_guard<std::mutex> lk(mu_);
      notices = notices_.take();
    }
    if (!on_log_) return;
    for (const Error& n : notices) {
      try {
        on_log_(n);
      } catch (...) {
      }
    }
  }

  /// drop_oldest: evicts the oldest queued lines (any set, never the in-flight batch) until
  /// `cost` more fits. False when even that is not enough (nothing is evicted then).
  bool evict_oldest_locked(std::size_t cost) {
    std::vector<Entry> evicted;
    if (!queues_.evict_oldest(cost, cfg_.queue.max_bytes, evicted)) return false;
    std::vector<SpoolRef> refs;
    ledger_.evict_oldest(evicted.size());
    for (const Entry& e : evicted) {
      epochs_.finish(e.epoch, 1);
      if (e.ref.valid()) refs.push_back(e.ref);
    }
    if (!refs.empty() && spool_) spool_->ack(refs.data(), refs.size());
    notify_progress_locked();
    return true;
  }

  /// Wakes the sender thread if it is asleep.
  void wake_sender_locked() {
    if (activity_ == Activity::waiting) {
      activity_ = Activity::working;
      work_cv_.notify_one();
    }
  }

  void notify_progress_locked() {
    if (flush_waiters_ > 0) done_cv_.notify_all();
  }

  // ---- the sender thread ----

  void run() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      if (phase() == Phase::abandoned) return;
      if (!notices_.empty()) {
        lk.unlock();
        deliver_notices();
        lk.lock();
        continue;
      }
      const Clock::time_point now = Clock::now();
      if (phase() == Phase::giving_up || (phase() == Phase::stopping && now >= stop_deadline_)) break;

      // 1. Read spooled records back while memory is below half full.
      const std::uint64_t half = cfg_.queue.max_bytes / 2;
      if (!stopping() && ledger_.backlog() > 0 && spool_ && now >= backlog_hold_until_ && queues_.alloc() < half) {
        // Line bytes to read: half of the room, for the entries' own cost (entry_cost).
        const std::size_t budget =
            static_cast<std::size_t>(std::min<std::uint64_t>(kReplayChunk, (half - queues_.alloc()) / 2));
        std::shared_ptr<detail::Spool> spool = spool_;
        lk.unlock();
        std::vector<detail::SpoolRecord> records;
        detail::TagCounts corrupt;
        spool->read_backlog(std::max<std::size_t>(budget, 1), records, corrupt);
        std::vector<MetadataId> ids(records.size(), 0);
        for (std::size_t i = 0; i < records.size(); ++i) {
          if (!records[i].recovered) {
            ids[i] = records[i].metadata;
          } else if (records[i].recovered_metadata) {
            auto id = intern(*records[i].recovered_metadata, false);
            ids[i] = id ? *id : 0;
          }
        }
        lk.lock();
        if (phase() == Phase::abandoned) return;
        detail::HandoffNotes notes;
        handoff_.load(records, ids, corrupt, queues_, Clock::now(), notes);
        take_notes_locked(notes);
        if (records.empty() && corrupt.total == 0) {
          // Our count and the spool's disagree (should not happen): do not spin.
          backlog_hold_until_ = Clock::now() + std::chrono::seconds(1);
        }
        continue;
      }

      // 2. A batch that is ready.
      Clock::time_point next_wake = Clock::time_point::max();
      MetadataId id = 0;
      if (pick_ready_locked(now, id, next_wake)) {
        take_batch_locked(id);
        lk.unlock();
        deliver_inflight();
        lk.lock();
        if (phase() == Phase::abandoned) return;
        continue;
      }
      if (stopping()) break;  // nothing left in memory

      // 3. Interval fsync.
      Clock::time_point sync_due = Clock::time_point::max();
      if (spool_) sync_due = spool_->next_sync_due();
      if (sync_due <= now) {
        std::shared_ptr<detail::Spool> spool = spool_;
        lk.unlock();
        spool->sync_if_due();
        lk.lock();
        if (phase() == Phase::abandoned) return;
        continue;
      }

      // 4. Sleep until something is due or we are woken.
      Clock::time_point wake = std::min(next_wake, sync_due);
      if (ledger_.backlog() > 0 && spool_ && backlog_hold_until_ > now) wake = std::min(wake, backlog_hold_until_);
      activity_ = Activity::waiting;
      sender_wake_ = wake;
      if (wake == Clock::time_point::max()) {
        work_cv_.wait(lk);
      } else {
        work_cv_.wait_until(lk, wake);
      }
      activity_ = Activity::working;
    }
    spool_rest_locked(false);
    set_phase(Phase::stopped);
    done_cv_.notify_all();
  }

  bool pick_ready_locked(Clock::time_point now, MetadataId& out, Clock::time_point& next_wake) const {
    detail::ReadyRule rule;
    rule.urgent = stopping() || flush_waiters_ > 0 || (flush_target_ && !epochs_.done_through(*flush_target_));
    rule.batch_bytes = ramp_.cap();
    rule.batch_events = cfg_.batch.max_events;
    rule.max_age = cfg_.batch.max_age;
    return queues_.pick_ready(now, rule, out, next_wake);
  }

  void take_batch_locked(MetadataId id) {
    inflight_md_ = id;
    queues_.take_batch(id, cfg_.batch.max_events, ramp_.cap(), inflight_);
    ramp_.start_batch();
  }

  /// Sends inflight_ (called without mu_; only this thread touches inflight_ until it re-locks).
  void deliver_inflight() {
    const SumoMetadata* md = metadata(inflight_md_);
    detail::BatchRequests::Built built = requests_.build(inflight_, inflight_md_, md != nullptr ? *md : cfg_.metadata);
    DeliveryReport report = std::move(built.unsent);
    if (!built.request) {
      report.error = built.request.error();
    } else {
      detail::RetryEnvironment env = env_;
      {
        std::lock_guard<std::mutex> lk(mu_);
        env.deadline = stopping() ? stop_deadline_ : Clock::time_point::max();
        activity_ = Activity::delivering;
      }
      report = detail::deliver(*http_, *built.request, target_, env);
    }
    // Acks (a write to the .ack file) and freeing the lines happen after the lock is released,
    // so producers are not held up by them.
    std::vector<Entry>& done = graveyard_;
    std::shared_ptr<detail::Spool> spool;
    {
      std::unique_lock<std::mutex> lk(mu_);
      if (phase() == Phase::abandoned) return;
      activity_ = Activity::working;
      finish_batch_locked(report, done);
      spool = spool_;
      activity_ = Activity::reporting;
    }
    if (spool) {
      acks_.clear();
      for (const Entry& e : done) {
        if (e.ref.valid()) acks_.push_back(e.ref);
      }
      if (!acks_.empty()) spool->ack(acks_.data(), acks_.size());
    }
    done.clear();
    if (on_report_) {
      try {
        on_report_(report);
      } catch (...) {
      }
    }
    std::lock_guard<std::mutex> lk(mu_);
    activity_ = Activity::working;
    if (flush_waiters_ > 0) done_cv_.notify_all();
  }

  /// Closes the epochs of `entries` (consecutive equal epochs in one call).
  void finish_epochs_locked(const std::vector<Entry>& entries) {
    std::size_t i = 0;
    while (i < entries.size()) {
      std::size_t j = i + 1;
      while (j < entries.size() && entries[j].epoch == entries[i].epoch) ++j;
      epochs_.finish(entries[i].epoch, j - i);
      i = j;
    }
  }

  /// Accounts for the outcome of inflight_. Delivered entries are moved to `done` (the caller
  /// acks their spool records and frees them without the lock).
  void finish_batch_locked(const DeliveryReport& report, std::vector<Entry>& done) {
    const std::uint64_t n = inflight_.size();
    // Leaves memory, unless shutdown cut the request off (then it goes back to its queue).
    const bool aborted = !report.delivered && report.error && report.error->code == ErrorCode::aborted;
    ramp_.finish_batch(report.delivered ? Ramp::delivered : aborted ? Ramp::aborted : Ramp::failed);
    if (!aborted) queues_.release(inflight_);
    if (report.delivered) {
      ledger_.deliver(n);
      st_.delivered_raw_bytes += report.raw_bytes;
      st_.delivered_compressed_bytes += report.compressed_bytes;
      st_.last_success = std::chrono::system_clock::now();
      finish_epochs_locked(inflight_);
      done.swap(inflight_);
    } else if (aborted) {
      // Shutdown cut it off: back to the front of its queue; the thread stops and spools it.
      queues_.put_back(inflight_md_, inflight_);
      if (phase() == Phase::stopping) set_phase(Phase::giving_up);
      if (report.error) st_.last_error = report.error->to_string();
      return;
    } else {
      if (report.error) st_.last_error = report.error->to_string();
      const bool permanent =
          classify(report.final_status, std::nullopt) == DeliveryOutcome::permanent && report.final_status != 0;
      if (spool_) {
        detail::HandoffNotes notes;
        handoff_.requeue(*spool_, inflight_md_, inflight_, notes);
        take_notes_locked(notes);
        backlog_hold_until_ =
            Clock::now() + std::max<std::chrono::milliseconds>(cfg_.retry.max_backoff, std::chrono::seconds(1));
      } else {
        ledger_.drop_failed(n, permanent);
        finish_epochs_locked(inflight_);
        done.swap(inflight_);
      }
    }
    inflight_.clear();
    if (blocked_producers_ > 0) room_cv_.notify_all();
    notify_progress_locked();
  }

  /// At the end: what is in memory goes to the spool (or is counted as dropped_at_shutdown), and
  /// the spool is closed.
  void spool_rest_locked(bool include_inflight) {
    std::vector<std::pair<MetadataId, Entry>> rest;
    if (include_inflight) {
      for (Entry& e : inflight_) rest.emplace_back(inflight_md_, std::move(e));
      inflight_.clear();
    }
    queues_.drain(rest);
    detail::HandoffNotes notes;
    handoff_.spool_rest(spool_.get(), rest, notes);
    take_notes_locked(notes);
    if (spool_) {
      spool_->sync_if_due(/*force=*/true);
      spool_.reset();  // closes the files and releases the directory lock
    }
  }

  // ---- deliver() hooks (sender thread) ----

  bool abortable_sleep(std::chrono::milliseconds delay) {
    deliver_notices();  // a retry loop can last minutes: notices do not wait for it
    std::unique_lock<std::mutex> lk(mu_);
    const Clock::time_point until = Clock::now() + delay;
    for (;;) {
      if (phase() >= Phase::giving_up) return false;
      if (stopping() && until > stop_deadline_) return false;  // cannot retry before the deadline
      const Clock::time_point now = Clock::now();
      if (now >= until) return true;
      Clock::time_point wake = until;
      if (spool_) {
        const Clock::time_point due = spool_->next_sync_due();
        if (due <= now) {
          std::shared_ptr<detail::Spool> spool = spool_;
          lk.unlock();
          spool->sync_if_due();
          lk.lock();
          continue;
        }
        wake = std::min(wake, due);
      }
      work_cv_.wait_until(lk, wake);
    }
  }

  void on_attempt(const detail::AttemptResult& r, std::uint32_t attempt) {
    std::lock_guard<std::mutex> lk(mu_);
    ++st_.requests_by_status[r.status];
    if (attempt > 1) ++st_.retries;
    ramp_.on_attempt(r.status, r.retry_after.has_value());
    if (r.error) st_.last_error = r.error->to_string();
    failure_notices_locked(r, Clock::now());
  }

  /// Every attempt is counted in requests_by_status; failures and the recovery become notices
  /// as FailureRun (notices.hpp) says.
  void failure_notices_locked(const detail::AttemptResult& r, Clock::time_point now) {
    if (r.error || r.status < 200 || r.status > 299) st_.last_failure = std::chrono::system_clock::now();
    if (auto notice = failures_.on_attempt(r.status, r.error, now)) notice_locked(std::move(*notice));
  }

 public:
  std::thread thread_;

 private:
  // Immutable after construction.
  FinalizedSumoConfig config_;
  const SumoConfig& cfg_;
  std::shared_ptr<HttpClient> http_;
  SumoSender::ReportCallback on_report_;
  SumoSender::LogCallback on_log_;
  /// What finalize() worked out for delivery (owned by config_): target, Redactor, headers.
  const detail::DeliveryPlan& plan_;
  const detail::DeliveryTarget& target_;
  detail::RetryEnvironment env_;
  // Sender thread only.
  detail::BatchRequests requests_;
  std::vector<SpoolRef> acks_;
  std::vector<Entry> graveyard_;  // finished entries, freed outside the lock
  const bool write_ahead_;

  // Metadata registry: writers hold md_mu_, readers use its lock-free get()/count().
  std::mutex md_mu_;
  detail::MetadataRegistry registry_;

  // Everything below is guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable room_cv_;
  std::condition_variable done_cv_;
  /// The queue of each metadata set; its alloc() (in flight included) is what queue.max_bytes bounds.
  detail::SetQueues queues_;
  std::vector<Entry> inflight_;
  MetadataId inflight_md_ = 0;
  /// Notices waiting for the log callback.
  detail::NoticeQueue notices_{kMaxPendingNotices};
  /// When failed attempts become notices.
  detail::FailureRun failures_{kFailureNoticeInterval};
  /// A run of spool_full refusals is in progress (logged once).
  bool spool_refusing_ = false;
  /// Every event's state (pending, backlog, delivered, dropped by reason): the identity's one home.
  detail::Ledger ledger_;
  /// The other stats (requests, bytes, notices, last error...); stats() adds the ledger's counts.
  SenderStats st_;
  EpochTracker epochs_;
  std::shared_ptr<detail::Spool> spool_;
  /// Moves events between memory and the spool, with their bookkeeping.
  detail::SpoolHandoff handoff_{ledger_, epochs_, cfg_.spool.max_bytes};
  /// The batch byte cap after a 429/503, and SenderStats::throttled.
  detail::ThrottleRamp ramp_;
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

}  // namespace

// =============================================================================================

struct SumoSender::Impl {
  std::shared_ptr<SenderCore> core;
};

SumoSender::SumoSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Expected<std::unique_ptr<SumoSender>> SumoSender::create(FinalizedSumoConfig config, std::shared_ptr<HttpClient> http,
                                                         ReportCallback on_report, LogCallback on_log) {
  try {
    const SumoConfig& cfg = config.config();
    if (cfg.spool.mode != SpoolMode::off && cfg.spool.dir.empty()) {
      return make_error(ErrorCode::invalid_config, "spool.mode needs spool.dir");
    }
    if (cfg.queue.overflow == OverflowPolicy::spill && (cfg.spool.mode == SpoolMode::off || cfg.spool.dir.empty())) {
      return make_error(ErrorCode::invalid_config, "queue.overflow spill needs a spool");
    }
    const detail::DeliveryPlan& plan = detail::delivery_plan(config);
    auto compressor = detail::Compressor::create(plan.codec, plan.compression_level);
    if (!compressor) return compressor.error();
    if (!http) http = std::shared_ptr<HttpClient>(make_curl_http_client(cfg.http));
    auto core = std::make_shared<SenderCore>(std::move(config), std::move(http), std::move(on_report),
                                             std::move(on_log), std::move(compressor.value()));
    if (auto ok = core->init(); !ok) return ok.error();
    core->start_thread(core);
    auto impl = std::make_unique<Impl>();
    impl->core = std::move(core);
    return std::unique_ptr<SumoSender>(new SumoSender(std::move(impl)));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::io, std::string("cannot start the sender: ") + e.what());
  }
}

SumoSender::~SumoSender() {
  if (impl_ && impl_->core) {
    try {
      impl_->core->shutdown(impl_->core->shutdown_timeout());
    } catch (...) {
    }
  }
}

Expected<MetadataId> SumoSender::add_metadata(const SumoMetadata& metadata) {
  return impl_->core->add_metadata(metadata);
}

EnqueueStatus SumoSender::enqueue(const Event& event, MetadataId metadata) noexcept {
  return impl_->core->enqueue_event(event, metadata);
}

EnqueueStatus SumoSender::enqueue_line(std::string_view line, MetadataId metadata) noexcept {
  return impl_->core->enqueue_line(line, metadata);
}

FlushResult SumoSender::flush(std::chrono::milliseconds timeout) { return impl_->core->flush(timeout); }

FlushResult SumoSender::shutdown(std::chrono::milliseconds timeout) { return impl_->core->shutdown(timeout); }

SenderStats SumoSender::stats() const { return impl_->core->stats(); }

}  // namespace ilert_sumo
