// src/sender/notices.hpp (private): what the sender tells its log callback, and when.
//
// NoticeQueue: notices wait here until the sender thread (or shutdown) passes them to the log
// callback, outside the sender's lock. At most `max_pending` wait; beyond that they are counted
// as dropped (SenderStats::notices_dropped), never block a producer and never grow memory.
//
// FailureRun: operators see a failing Sumo at once (issue 11, point 4). The first failed attempt
// after a success (or since the start) is a notice right away, long before the batch's final
// outcome; while attempts keep failing, at most one notice per `interval` says how many more
// failed and the latest reason; the first success after failures says how many failed and for
// how long. Time comes in as an argument.
//
// Locking: none of their own; the sender uses them under its mutex mu_.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ilert_sumo/error.hpp"

namespace ilert_sumo::detail {

class NoticeQueue {
 public:
  explicit NoticeQueue(std::size_t max_pending) noexcept : max_(max_pending) {}

  /// Queues `notice`; false when `max_pending` already wait (it is counted as dropped then).
  bool push(Error notice);
  /// Takes every waiting notice, oldest first.
  std::vector<Error> take() noexcept;
  bool empty() const noexcept { return pending_.empty(); }
  /// Notices pushed since the start (queued or dropped): SenderStats::notices.
  std::uint64_t total() const noexcept { return total_; }
  /// Notices dropped because `max_pending` were waiting: SenderStats::notices_dropped.
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::size_t max_;
  std::vector<Error> pending_;
  std::uint64_t total_ = 0;
  std::uint64_t dropped_ = 0;
};

class FailureRun {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FailureRun(std::chrono::seconds interval) noexcept : interval_(interval) {}

  /// One attempt ended at `now` with HTTP `status` (0: none) and `error` (empty on success; the
  /// message is used as the reason). Success is a 2xx without an error. Returns the notice to
  /// give, if any.
  std::optional<Error> on_attempt(int status, const std::optional<Error>& error, Clock::time_point now);

  /// Attempts failed since the last success.
  std::uint64_t failed_attempts() const noexcept { return failed_; }

 private:
  std::chrono::seconds interval_;
  std::optional<Clock::time_point> since_;
  Clock::time_point last_notice_{};
  std::uint64_t failed_ = 0;
  std::uint64_t unreported_ = 0;
};

}  // namespace ilert_sumo::detail
