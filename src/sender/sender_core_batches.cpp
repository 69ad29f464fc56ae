// src/sender/sender_core_batches.cpp: SenderCore's work on batches, on the sender thread: reading
// the spool back, picking and sending a batch and accounting for its outcome, the spool at the
// end, the deliver() hooks (abortable sleep, per-attempt stats) and the notices for the log
// callback (sender_core.hpp says how the parts fit).
#include "sender/sender_core.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "util/errors.hpp"

namespace ilert_sumo::detail {

bool SenderCore::read_back_locked(std::unique_lock<std::mutex>& lk, std::uint64_t half) {
  const std::size_t budget =
      static_cast<std::size_t>(std::min<std::uint64_t>(kReplayChunk, (half - queues_.alloc()) / 2));
  std::shared_ptr<Spool> spool = spool_;
  lk.unlock();
  std::vector<SpoolRecord> records;
  TagCounts corrupt;
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
  if (phase() == Phase::abandoned) return false;
  HandoffNotes notes;
  handoff_.load(records, ids, corrupt, queues_, Clock::now(), notes);
  take_notes_locked(notes);
  if (records.empty() && corrupt.total == 0) {
    // Our count and the spool's disagree (should not happen): do not spin.
    backlog_hold_until_ = Clock::now() + std::chrono::seconds(1);
  }
  return true;
}

bool SenderCore::pick_ready_locked(Clock::time_point now, MetadataId& out, Clock::time_point& next_wake) const {
  ReadyRule rule;
  rule.urgent = stopping() || flush_waiters_ > 0 || (flush_target_ && !epochs_.done_through(*flush_target_));
  rule.batch_bytes = ramp_.cap();
  rule.batch_events = cfg_.batch.max_events;
  rule.max_age = cfg_.batch.max_age;
  return queues_.pick_ready(now, rule, out, next_wake);
}

void SenderCore::take_batch_locked(MetadataId id) {
  inflight_md_ = id;
  queues_.take_batch(id, cfg_.batch.max_events, ramp_.cap(), inflight_);
  ramp_.start_batch();
}

void SenderCore::deliver_inflight() {
  const SumoMetadata* md = metadata(inflight_md_);
  BatchRequests::Built built = requests_.build(inflight_, inflight_md_, md != nullptr ? *md : cfg_.metadata);
  DeliveryReport report = std::move(built.unsent);
  if (!built.request) {
    report.error = built.request.error();
  } else {
    RetryEnvironment env = env_;
    {
      std::lock_guard<std::mutex> lk(mu_);
      env.deadline = stopping() ? stop_deadline_ : Clock::time_point::max();
      activity_ = Activity::delivering;
    }
    report = deliver(*http_, *built.request, target_, env);
  }
  // Acks (a write to the .ack file) and freeing the lines happen after the lock is released,
  // so producers are not held up by them.
  std::vector<Entry>& done = graveyard_;
  std::shared_ptr<Spool> spool;
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
  notify_progress_locked();
}

void SenderCore::finish_epochs_locked(const std::vector<Entry>& entries) {
  std::size_t i = 0;
  while (i < entries.size()) {
    std::size_t j = i + 1;
    while (j < entries.size() && entries[j].epoch == entries[i].epoch) ++j;
    epochs_.finish(entries[i].epoch, j - i);
    i = j;
  }
}

void SenderCore::finish_batch_locked(const DeliveryReport& report, std::vector<Entry>& done) {
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
      HandoffNotes notes;
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

void SenderCore::spool_rest_locked(bool include_inflight) {
  std::vector<std::pair<MetadataId, Entry>> rest;
  if (include_inflight) {
    for (Entry& e : inflight_) rest.emplace_back(inflight_md_, std::move(e));
    inflight_.clear();
  }
  queues_.drain(rest);
  HandoffNotes notes;
  handoff_.spool_rest(spool_.get(), rest, notes);
  take_notes_locked(notes);
  if (spool_) {
    spool_->sync_if_due(/*force=*/true);
    spool_.reset();  // closes the files and releases the directory lock
  }
}

bool SenderCore::abortable_sleep(std::chrono::milliseconds delay) {
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
        std::shared_ptr<Spool> spool = spool_;
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

void SenderCore::on_attempt(const AttemptResult& r, std::uint32_t attempt) {
  std::lock_guard<std::mutex> lk(mu_);
  ++st_.requests_by_status[r.status];
  if (attempt > 1) ++st_.retries;
  ramp_.on_attempt(r.status, r.retry_after.has_value());
  if (r.error) st_.last_error = r.error->to_string();
  failure_notices_locked(r, Clock::now());
}

void SenderCore::failure_notices_locked(const AttemptResult& r, Clock::time_point now) {
  if (r.error || r.status < 200 || r.status > 299) st_.last_failure = std::chrono::system_clock::now();
  if (auto notice = failures_.on_attempt(r.status, r.error, now)) notice_locked(std::move(*notice));
}

void SenderCore::notice_locked(Error notice) {
  if (notices_.push(std::move(notice))) wake_sender_locked();
}

void SenderCore::take_notes_locked(const HandoffNotes& notes) {
  for (const Error& n : notes.notices) notice_locked(make_error(n.code, spool_text(n.message)));
  if (notes.last_error) st_.last_error = spool_text(*notes.last_error);
  if (notes.progress) notify_progress_locked();
}

void SenderCore::deliver_notices() {
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

}  // namespace ilert_sumo::detail
