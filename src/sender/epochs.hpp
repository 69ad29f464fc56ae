// src/sender/epochs.hpp (private): what SumoSender::flush() waits for.
//
// Every event the sender holds (in memory or as spool backlog) carries the flush epoch that was
// current when it arrived. flush() starts a new epoch and waits until no event of an older one
// is open (not yet delivered or dropped), so events that arrive while it waits do not hold it up.
// Epochs are counted, not listed: one counter per open epoch, the oldest dropped as soon as it
// reaches zero. Counts for an epoch that is already closed, or not yet opened, are ignored (a
// spool record can carry the tag of an epoch of an earlier run).
//
// Locking: none of its own; the sender uses it under its mutex mu_.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>

namespace ilert_sumo::detail {

class EpochTracker {
 public:
  /// The epoch new events join.
  std::uint32_t current() const noexcept { return base_ + static_cast<std::uint32_t>(counts_.size() - 1); }
  /// `n` events of `epoch` became open.
  void add(std::uint32_t epoch, std::uint64_t n) {
    if (epoch >= base_ && epoch - base_ < counts_.size()) counts_[epoch - base_] += n;
  }
  /// `n` events of `epoch` were delivered or dropped.
  void finish(std::uint32_t epoch, std::uint64_t n) {
    if (epoch < base_ || epoch - base_ >= counts_.size()) return;
    std::uint64_t& c = counts_[epoch - base_];
    c -= std::min(c, n);
    trim();
  }
  /// Starts a new epoch; returns the last one (what a flush waits for).
  std::uint32_t advance() {
    counts_.push_back(0);
    const std::uint32_t target = current() - 1;
    trim();
    return target;
  }
  /// True when no event of `epoch` or older is open.
  bool done_through(std::uint32_t epoch) const noexcept { return base_ > epoch; }
  /// True when nothing at all is open.
  bool idle() const noexcept { return counts_.size() == 1 && counts_.front() == 0; }

 private:
  void trim() {
    while (counts_.size() > 1 && counts_.front() == 0) {
      counts_.pop_front();
      ++base_;
    }
  }
  std::deque<std::uint64_t> counts_{0};
  std::uint32_t base_ = 0;
};

}  // namespace ilert_sumo::detail
