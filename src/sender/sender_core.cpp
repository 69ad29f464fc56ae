// src/sender/sender_core.cpp: SenderCore's lock, admission (enqueue), thread loop, flush and
// shutdown (sender_core.hpp says how the parts fit).
#include "sender/sender_core.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "util/errors.hpp"

namespace ilert_sumo::detail {

SenderCore::SenderCore(FinalizedSumoConfig config, std::shared_ptr<HttpClient> http,
                       SumoSender::ReportCallback on_report, SumoSender::LogCallback on_log, Compressor compressor)
    : config_(std::move(config)),
      cfg_(config_.config()),
      http_(std::move(http)),
      on_report_(std::move(on_report)),
      on_log_(std::move(on_log)),
      target_(delivery_plan(config_).target),
      requests_(cfg_, delivery_plan(config_).headers, std::move(compressor)),
      write_ahead_(cfg_.spool.mode == SpoolMode::write_ahead),
      ramp_(cfg_.batch.max_bytes) {
  env_ = default_retry_environment();
  env_.sleep = [this](std::chrono::milliseconds delay) { return abortable_sleep(delay); };
  env_.on_attempt = [this](const AttemptResult& r, std::uint32_t attempt) {
    on_attempt(r, attempt);
    deliver_notices();  // now, not after the batch's final outcome (up to the retry budget later)
  };
  env_.cancel = &cancel_;
}

Expected<void> SenderCore::init() {
  intern(cfg_.metadata, false);  // id 0
  if (cfg_.spool.mode != SpoolMode::off && !cfg_.spool.dir.empty()) {
    auto opened = Spool::open(cfg_.spool, [this](std::uint32_t id) { return metadata(id); });
    if (!opened) return opened.error();
    spool_ = std::shared_ptr<Spool>(std::move(opened.value()));
    const SpoolRecovery& rec = spool_->recovery();
    ledger_.recover(rec.records, rec.corrupt);
    st_.spool_damaged_regions = rec.damaged_regions;
    epochs_.add(0, rec.records);
    if (!rec.error.message.empty()) st_.last_error = spool_text(rec.error.to_string());
    std::lock_guard<std::mutex> lk(mu_);
    for (const Error& n : rec.notices) notice_locked(make_error(n.code, spool_text(n.message)));
  }
  return {};
}

void SenderCore::start_thread(std::shared_ptr<SenderCore> self) {
  thread_ = std::thread([self] { self->run(); });
}

Expected<MetadataId> SenderCore::intern(const SumoMetadata& md, bool user) {
  std::lock_guard<std::mutex> lock(md_mu_);
  return registry_.intern(md, user);
}

Expected<MetadataId> SenderCore::add_metadata(const SumoMetadata& md) {
  if (auto valid = validate_metadata(md); !valid) return valid.error();
  return intern(md, true);
}

EnqueueStatus SenderCore::enqueue_event(const Event& event, MetadataId md) noexcept {
  try {
    if (stopping()) return EnqueueStatus::closed;  // without the lock: phase_ is atomic
    if (md >= registry_.count()) return push(std::string(), false, md, false);
    // Rendered into this thread's buffer (its capacity stays), then copied once into a string
    // of exactly the line's size: one allocation per event, and the queue, which counts
    // allocations, holds no slack.
    thread_local std::string render_buffer;
    render_buffer.clear();
    const LineFit fit = append_event_line(render_buffer, event, line_budget(cfg_));
    std::string line(render_buffer);
    if (render_buffer.capacity() > kKeepRenderBufferBytes) std::string().swap(render_buffer);
    return push(std::move(line), fit == LineFit::truncated, md, fit == LineFit::too_large);
  } catch (...) {
    return count_failure();
  }
}

EnqueueStatus SenderCore::enqueue_line(std::string_view text, MetadataId md) noexcept {
  try {
    if (stopping()) return EnqueueStatus::closed;  // without the lock: phase_ is atomic
    if (md >= registry_.count()) return push(std::string(), false, md, false);
    std::string line;
    line.reserve(text.size() + 1);
    const LineFit fit = append_prebuilt_line(line, text, line_budget(cfg_));
    if (line.capacity() > line.size()) line.shrink_to_fit();
    return push(std::move(line), fit == LineFit::truncated, md, fit == LineFit::too_large);
  } catch (...) {
    return count_failure();
  }
}

FlushResult SenderCore::flush(std::chrono::milliseconds timeout) {
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

FlushResult SenderCore::shutdown(std::chrono::milliseconds timeout) {
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

SenderStats SenderCore::stats() const {
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

void SenderCore::set_phase(Phase next) noexcept {
  if (next > phase()) phase_.store(next, std::memory_order_relaxed);
}

EnqueueStatus SenderCore::count_failure() noexcept {
  try {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping()) return EnqueueStatus::closed;
    ledger_.refuse(Refusal::queue_full);
  } catch (...) {
  }
  return EnqueueStatus::dropped_queue_full;
}

EnqueueStatus SenderCore::push(std::string&& line, bool truncated, MetadataId md, bool too_large) {
  const std::size_t cost = entry_cost(line);
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
        if (queues_.alloc() + cost > max) return refuse_locked(Refusal::queue_full, EnqueueStatus::dropped_queue_full);
        break;
      }
      case OverflowPolicy::drop_newest: return refuse_locked(Refusal::queue_full, EnqueueStatus::dropped_queue_full);
      case OverflowPolicy::drop_oldest:
        if (!evict_oldest_locked(cost)) return refuse_locked(Refusal::queue_full, EnqueueStatus::dropped_queue_full);
        break;
      case OverflowPolicy::spill: {
        if (!spool_) return refuse_locked(Refusal::spool_error, EnqueueStatus::dropped_spool_error);
        const std::uint32_t epoch = epochs_.current();
        auto ref = spool_append_locked(md, line, /*disk_only=*/true, epoch);
        if (!ref) return spool_refusal_locked(ref.error());
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
    auto ref = spool_append_locked(md, line, /*disk_only=*/false, e.epoch);
    if (!ref) return spool_refusal_locked(ref.error());
    e.ref = *ref;
  }
  e.line = std::move(line);
  e.queued = now;
  e.truncated = truncated;
  ledger_.admit(/*written_ahead=*/e.ref.valid());
  const SetQueues::Pushed q = queues_.push(md, std::move(e));
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

Expected<SpoolRef> SenderCore::spool_append_locked(MetadataId md, std::string_view line, bool disk_only,
                                                   std::uint32_t epoch) {
  HandoffNotes notes;
  auto ref = handoff_.append(*spool_, md, line, disk_only, epoch, notes);
  take_notes_locked(notes);
  if (ref) spool_refusing_ = false;
  return ref;
}

EnqueueStatus SenderCore::spool_refusal_locked(const Error& err) {
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

EnqueueStatus SenderCore::refuse_locked(Refusal why, EnqueueStatus status) noexcept {
  ledger_.refuse(why);
  return status;
}

bool SenderCore::evict_oldest_locked(std::size_t cost) {
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

void SenderCore::wake_sender_locked() {
  if (activity_ == Activity::waiting) {
    activity_ = Activity::working;
    work_cv_.notify_one();
  }
}

void SenderCore::notify_progress_locked() {
  if (flush_waiters_ > 0) done_cv_.notify_all();
}

void SenderCore::run() {
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
      if (!read_back_locked(lk, half)) return;
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
      std::shared_ptr<Spool> spool = spool_;
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

}  // namespace ilert_sumo::detail
