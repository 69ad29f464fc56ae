// src/sender/set_queues.cpp: see set_queues.hpp.
#include "sender/set_queues.hpp"

#include <algorithm>

namespace ilert_sumo::detail {

std::size_t heap_bytes(const std::string& s) noexcept {
  const std::size_t cap = s.capacity();
  if (cap < sizeof(std::string)) return 0;  // libstdc++ keeps up to 15 chars inline
  return std::max<std::size_t>(32, (cap + 1 + 8 + 15) & ~std::size_t{15});
}

SetQueues::Set& SetQueues::set(MetadataId md) {
  if (sets_.size() <= md) sets_.resize(std::size_t{md} + 1);
  if (!sets_[md]) sets_[md] = std::make_unique<Set>();
  return *sets_[md];
}

std::size_t SetQueues::size(MetadataId md) const noexcept {
  return md < sets_.size() && sets_[md] ? sets_[md]->entries.size() : 0;
}

SetQueues::Pushed SetQueues::push(MetadataId md, QueueEntry&& e) {
  const std::size_t size = e.line.size();
  const std::size_t cost = entry_cost(e.line);
  Set& q = set(md);
  Pushed p;
  p.was_empty = q.entries.empty();
  q.entries.push_back(std::move(e));
  q.bytes += size;
  q.alloc += cost;
  if (p.was_empty) active_.push_back(md);
  bytes_ += size;
  alloc_ += cost;
  p.set_bytes = q.bytes;
  p.set_events = q.entries.size();
  return p;
}

void SetQueues::put_back(MetadataId md, std::vector<QueueEntry>& entries) {
  Set& q = set(md);
  const bool was_empty = q.entries.empty();
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    q.bytes += it->line.size();
    q.alloc += entry_cost(it->line);
    q.entries.push_front(std::move(*it));
  }
  if (was_empty && !q.entries.empty()) active_.push_back(md);
  entries.clear();
}

bool SetQueues::pick_ready(Clock::time_point now, const ReadyRule& rule, MetadataId& out,
                           Clock::time_point& next_wake) const {
  bool found = false;
  Clock::time_point best = Clock::time_point::max();
  for (MetadataId id : active_) {
    const Set& q = *sets_[id];
    const Clock::time_point first = q.entries.front().queued;
    const Clock::time_point due = first + rule.max_age;
    const bool ready =
        rule.urgent || q.bytes >= rule.batch_bytes || q.entries.size() >= rule.batch_events || now >= due;
    if (ready) {
      if (!found || first < best) {
        best = first;
        out = id;
        found = true;
      }
    } else {
      next_wake = std::min(next_wake, due);
    }
  }
  return found;
}

void SetQueues::take_batch(MetadataId md, std::size_t max_events, std::size_t max_bytes, std::vector<QueueEntry>& out) {
  out.clear();
  Set& q = set(md);
  std::size_t bytes = 0;
  std::size_t alloc = 0;
  while (!q.entries.empty() && out.size() < max_events) {
    const std::size_t size = q.entries.front().line.size();
    if (!out.empty() && bytes + size > max_bytes) break;
    bytes += size;
    alloc += entry_cost(q.entries.front().line);
    out.push_back(std::move(q.entries.front()));
    q.entries.pop_front();
  }
  q.bytes -= bytes;
  q.alloc -= alloc;
  if (q.entries.empty()) {
    auto it = std::find(active_.begin(), active_.end(), md);
    if (it != active_.end()) active_.erase(it);
  }
}

void SetQueues::release(const std::vector<QueueEntry>& taken) noexcept {
  std::uint64_t bytes = 0;
  std::uint64_t alloc = 0;
  for (const QueueEntry& e : taken) {
    bytes += e.line.size();
    alloc += entry_cost(e.line);
  }
  bytes_ -= std::min(bytes_, bytes);
  alloc_ -= std::min(alloc_, alloc);
}

bool SetQueues::evict_oldest(std::size_t cost, std::size_t max, std::vector<QueueEntry>& evicted) {
  std::uint64_t evictable = 0;
  for (MetadataId id : active_) evictable += sets_[id]->alloc;
  if (alloc_ - evictable + cost > max) return false;
  while (alloc_ + cost > max && !active_.empty()) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < active_.size(); ++i) {
      if (sets_[active_[i]]->entries.front().queued < sets_[active_[best]]->entries.front().queued) best = i;
    }
    Set& q = *sets_[active_[best]];
    QueueEntry e = std::move(q.entries.front());
    q.entries.pop_front();
    const std::size_t c = entry_cost(e.line);
    q.bytes -= e.line.size();
    q.alloc -= c;
    bytes_ -= e.line.size();
    alloc_ -= c;
    evicted.push_back(std::move(e));
    if (q.entries.empty()) active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(best));
  }
  return true;
}

void SetQueues::drain(std::vector<std::pair<MetadataId, QueueEntry>>& out) {
  for (MetadataId id : active_) {
    Set& q = *sets_[id];
    while (!q.entries.empty()) {
      out.emplace_back(id, std::move(q.entries.front()));
      q.entries.pop_front();
    }
    q.bytes = 0;
    q.alloc = 0;
  }
  active_.clear();
  bytes_ = 0;
  alloc_ = 0;
}

}  // namespace ilert_sumo::detail
