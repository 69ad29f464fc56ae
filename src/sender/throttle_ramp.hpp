// src/sender/throttle_ramp.hpp (private): the sender's batch byte cap after a 429/503.
//
// Sumo answers 429 (or 503 with Retry-After) when a source sends too fast; deliver() then waits
// for the Retry-After and re-sends the same bytes. After a batch that was throttled on any of its
// attempts, the sender sends smaller batches: the byte cap drops to 1/16 of batch.max_bytes (at
// least 16 KiB, never above batch.max_bytes) and doubles with every delivered batch back to
// batch.max_bytes. A batch that failed after a throttle also drops the cap; one cut off by
// shutdown changes nothing. `throttled()` is SenderStats::throttled: the last attempt was
// throttled and its batch is not finished.
//
// Time plays no part (Retry-After is deliver()'s business). Locking: none of its own; the sender
// uses it under its mutex mu_.
#pragma once

#include <algorithm>
#include <cstddef>

namespace ilert_sumo::detail {

class ThrottleRamp {
 public:
  /// Smallest cap while ramping up (unless batch.max_bytes is smaller).
  static constexpr std::size_t kMinRampBytes = 16 * 1024;

  /// How a batch ended.
  enum class Outcome { delivered, failed, aborted };

  /// `max_bytes`: batch.max_bytes, the cap when nothing was throttled.
  explicit ThrottleRamp(std::size_t max_bytes) noexcept : max_(max_bytes), cap_(max_bytes) {}

  /// The cap right after a throttled batch.
  static std::size_t floor(std::size_t max_bytes) noexcept {
    return std::min(max_bytes, std::max(kMinRampBytes, max_bytes / 16));
  }

  /// The byte cap of the next batch.
  std::size_t cap() const noexcept { return cap_; }
  /// The last attempt was throttled (429, or 503 with Retry-After) and its batch is not finished.
  bool throttled() const noexcept { return throttled_; }

  /// A batch was taken (at cap()).
  void start_batch() noexcept { batch_throttled_ = false; }
  /// One attempt of the current batch got `status` (0: transport error).
  void on_attempt(int status, bool has_retry_after) noexcept {
    throttled_ = status == 429 || (status == 503 && has_retry_after);
    if (throttled_) batch_throttled_ = true;
  }
  /// The current batch ended.
  void finish_batch(Outcome outcome) noexcept {
    throttled_ = false;
    switch (outcome) {
      case Outcome::delivered: cap_ = batch_throttled_ ? floor(max_) : std::min(max_, cap_ * 2); break;
      case Outcome::failed:
        if (batch_throttled_) cap_ = floor(max_);
        break;
      case Outcome::aborted: break;
    }
  }

 private:
  std::size_t max_;
  std::size_t cap_;
  bool batch_throttled_ = false;
  bool throttled_ = false;
};

}  // namespace ilert_sumo::detail
