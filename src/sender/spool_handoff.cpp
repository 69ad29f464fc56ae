// src/sender/spool_handoff.cpp: events between the sender's memory and its spool
// (spool_handoff.hpp).
#include "sender/spool_handoff.hpp"

#include "util/errors.hpp"

namespace ilert_sumo::detail {

Expected<SpoolRef> SpoolHandoff::append(Spool& spool, MetadataId md, std::string_view line, bool disk_only,
                                        std::uint32_t epoch, HandoffNotes& notes) {
  auto ref = spool.append(md, line, disk_only, epoch, evicted_);
  apply_evicted(notes);
  return ref;
}

void SpoolHandoff::apply_evicted(HandoffNotes& notes) {
  if (evicted_.total == 0) return;
  notes.notices.push_back(make_error(
      ErrorCode::io, "spool_evicted: the spool reached its cap (spool.max_bytes " + std::to_string(max_bytes_) +
                         "): " + std::to_string(evicted_.total) + " undelivered event(s) evicted from disk (lost)"));
  ledger_.evict_from_spool(evicted_.total);
  for (const auto& [tag, n] : evicted_.runs) epochs_.finish(tag, n);
  evicted_.clear();
  notes.progress = true;
}

void SpoolHandoff::requeue(Spool& spool, MetadataId md, const std::vector<QueueEntry>& batch, HandoffNotes& notes) {
  // Lines already on disk become backlog again where they are: each event is written once.
  std::vector<SpoolRef> refs;
  std::vector<std::uint32_t> tags;
  std::vector<std::size_t> sizes;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const QueueEntry& e = batch[i];
    if (!e.ref.valid()) continue;
    refs.push_back(e.ref);
    tags.push_back(e.epoch);
    sizes.push_back(e.line.size());
    which.push_back(i);
  }
  std::vector<bool> released;
  std::vector<bool> kept(batch.size(), false);
  if (!refs.empty()) {
    ledger_.release_to_backlog(spool.release(refs.data(), tags.data(), sizes.data(), refs.size(), released));
    for (std::size_t k = 0; k < which.size(); ++k) kept[which[k]] = released[k];
  }
  // The others are appended, in new records.
  std::vector<SpoolItem> items;
  std::vector<std::size_t> index;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (kept[i]) continue;
    items.push_back(SpoolItem{md, batch[i].line, batch[i].epoch});
    index.push_back(i);
  }
  if (items.empty()) return;
  Error err;
  const std::size_t written = spool.append_many(items.data(), items.size(), evicted_, &err);
  apply_evicted(notes);
  ledger_.spool_from_memory(written);
  ledger_.lose_spool_error(items.size() - written, /*at_deadline=*/false);
  for (std::size_t k = written; k < items.size(); ++k) epochs_.finish(batch[index[k]].epoch, 1);
  if (written < items.size()) {
    notes.last_error = err.to_string();
    notes.notices.push_back(
        make_error(err.code, "spool: " + std::to_string(items.size() - written) +
                                 " undelivered event(s) could not be written to the spool (lost): " + err.message));
    notes.progress = true;
  }
}

void SpoolHandoff::spool_rest(Spool* spool, std::vector<std::pair<MetadataId, QueueEntry>>& rest, HandoffNotes& notes) {
  std::vector<SpoolItem> items;
  std::uint64_t on_disk = 0;
  for (const auto& [md, e] : rest) {
    if (e.ref.valid()) {
      ++on_disk;
    } else if (spool != nullptr) {
      items.push_back(SpoolItem{md, e.line, e.epoch});
    }
  }
  ledger_.release_to_backlog(on_disk);  // already on disk: backlog for the next start
  std::uint64_t lost = 0;
  if (spool == nullptr) {
    lost = rest.size() - on_disk;
    ledger_.drop_at_shutdown(lost);
  } else if (!items.empty()) {
    Error err;
    const std::size_t written = spool->append_many(items.data(), items.size(), evicted_, &err);
    apply_evicted(notes);
    ledger_.spool_from_memory(written);
    lost = items.size() - written;
    ledger_.lose_spool_error(lost, /*at_deadline=*/true);
    if (written < items.size()) notes.last_error = err.to_string();
  }
  if (lost > 0) {
    notes.notices.push_back(make_error(
        ErrorCode::closed, "shutdown: " + std::to_string(lost) + " event(s) still in memory at the deadline " +
                               (spool != nullptr ? "could not be written to the spool" : "and no spool is configured") +
                               " (lost)"));
    notes.progress = true;
  }
}

void SpoolHandoff::load(std::vector<SpoolRecord>& records, const std::vector<MetadataId>& ids, const TagCounts& corrupt,
                        SetQueues& queues, std::chrono::steady_clock::time_point now, HandoffNotes& notes) {
  if (corrupt.total > 0) {
    const std::string what =
        "spool_corrupt: " + std::to_string(corrupt.total) + " damaged spool record(s) skipped while reading back";
    notes.notices.push_back(make_error(ErrorCode::spool_corrupt, what + " (lost)"));
    notes.last_error = what;
    ledger_.corrupt_on_replay(corrupt.total);
    for (const auto& [tag, n] : corrupt.runs) epochs_.finish(tag, n);
    notes.progress = true;
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    SpoolRecord& r = records[i];
    QueueEntry e;
    e.ref = r.ref;
    e.epoch = r.tag;
    e.queued = now;
    e.line = std::move(r.line);
    queues.push(ids[i], std::move(e));
  }
  ledger_.replay(records.size());
}

}  // namespace ilert_sumo::detail
